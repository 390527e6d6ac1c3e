"""A drawn rival stands for every rival arm (``JointCB.gate_pick``, with the try gate): the
gate weighs the rival arm of greatest gate value, not the draw's proposal alone.  On a
constructed sequence with two rival families — AMG, placed at the end of the line where the
model's prior is widest, dearer than the leader everywhere, and plain CG, cheaper than the
leader — the default's draw proposes AMG (tried once, it loses) and plain CG is never tried;
with the rule plain CG is tried and then played.  The choice checked against the gate's terms recomputed
with dense NumPy and quadrature, arm by arm."""
import math

import numpy as np
import pytest

import bandit
from bandit._kernels import _gated_arm

ARMS = ([{"method": "ssor_pcg", "omega": w} for w in (1.2, 1.4, 1.6, 1.8)]
        + [{"method": "cg"}, {"method": "amg", "reuse": 20}])
CG, AMG = 4, 5
FAMILY = np.array([0, 0, 0, 0, 1, 2])
STEPS = 150


def _learner(pick, seed):
    p = bandit.default_policy(None, ARMS, seed=seed)
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))  # a guarded Tuner's allowances (proven, first try)
    p.gate_pick = pick
    p.first_pick = False  # the gate's own pick (first tries by the regime: off)
    return p


def _cost(k, x, rng):
    """SSOR-PCG dearer away from ω = 1.5, plain CG 0.6 × the best ω, AMG 1.5 ×; 10 % noise."""
    base = 1e-3 * (1 + x) * math.exp(0.1 * rng.standard_normal())
    if k == CG:
        return 0.6 * base
    if k == AMG:
        return 1.5 * base
    return base * math.exp(4 * (ARMS[k]["omega"] - 1.5) ** 2)


def _run(pick, seed, steps=STEPS, watch=None):
    p = _learner(pick, seed)
    rng = np.random.default_rng(seed + 1)
    plays = []
    for t in range(steps):
        x = (t % 10) / 10 + 0.05  # ten contexts in turn: the leader's evidence grows
        if watch is not None:
            watch(p, x)
        k = p.select(x)
        p.update(k, _cost(k, x, rng), x)
        plays.append(k)
    return plays


@pytest.mark.parametrize("seed", [4, 7, 8])
def test_the_default_gate_never_tries_the_cheaper_rival_and_the_pick_does(seed):
    default = _run(False, seed)
    assert CG not in default and AMG in default  # AMG tried (and lost), CG never
    plays = _run(True, seed)
    assert CG in plays
    assert plays.count(CG) >= 10  # found cheaper, it is then played


def _reference_saving(gap, spread, n=200_001):
    d = np.linspace(gap - 10 * spread, gap + 10 * spread, n)
    f = np.maximum(0.0, 1.0 - np.exp(d)) * np.exp(-0.5 * ((d - gap) / spread) ** 2)
    return float(np.trapezoid(f, d) / (spread * math.sqrt(2 * math.pi)))


def test_the_pick_is_the_rival_of_greatest_gate_value_by_brute_force():
    """Every round of a run with the rule: where the plain draw proposes a rival, the arm
    played is the one a brute force over the rival arms gives (dense φᵀPφ, the saving by
    quadrature, the allowance of a proven or a first try)."""
    checked = []

    def watch(p, x):
        lead = p.leader(x)[0]
        if lead is None:
            return
        psi = np.asarray(p.features(x))
        sigma = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
        phi = [np.kron(psi, p._X[j]) for j in range(len(ARMS))]
        mu = np.array([f @ p.theta for f in phi])
        w = np.array([f @ p.P @ f for f in phi])
        score = mu - p.beta * sigma * np.sqrt(w)
        drawn = int(np.argmin(score))  # the learner's near_mask leaves a rival unrestricted
        if FAMILY[drawn] == FAMILY[lead]:
            return
        value = {}
        for j in np.flatnonzero(FAMILY != FAMILY[lead]):
            proven = p.converged_counts[FAMILY == FAMILY[j]].sum() > 0
            gain = _reference_saving(mu[j] - mu[lead], sigma * math.sqrt(w[j] + w[lead]))
            value[int(j)] = gain / w[lead] / (1.5 if proven else 1.0)
        best = max(value, key=value.get)
        checked.append((drawn, best if value[best] >= 1.0 else None, sorted(value.values())))

    p = _learner(True, 4)
    rng = np.random.default_rng(5)
    n = switched = 0
    for t in range(STEPS):
        x = (t % 10) / 10 + 0.05
        before = len(checked)
        watch(p, x)
        k = p.select(x)
        if len(checked) > before:
            drawn, want, values = checked[-1]
            if len(values) > 1 and values[-1] - values[-2] < 1e-3 * values[-1]:
                pass  # a near tie: the quadrature cannot settle it
            elif want is not None:
                assert k == want
                n += 1
                switched += want != drawn
            else:
                assert FAMILY[k] == FAMILY[p.leader(x)[0]]
                n += 1
        p.update(k, _cost(k, x, rng), x)
    assert n >= 3 and switched >= 1  # some round played a rival other than the proposal


def _brute_force(mu, w, sigma, family, converged, allow, lead, score):
    """The arm the gated draw should play, from the gate's terms recomputed densely: the
    least score; if a rival, the rival of greatest saving × evidence / allowance (quadrature)
    when that reaches 1, else the leader's family's least score; and the default's arm."""
    drawn = int(np.argmin(score))
    if family[drawn] == family[lead]:
        return drawn, drawn
    value = {}
    for j in np.flatnonzero(family != family[lead]):
        proven = converged[family == family[j]].sum() > 0
        gain = _reference_saving(mu[j] - mu[lead], sigma * math.sqrt(w[j] + w[lead]))
        value[int(j)] = gain / w[lead] / (allow[0] if proven else allow[1])
    own = np.flatnonzero(family == family[lead])
    keep = int(own[np.argmin(score[own])])
    best = max(value, key=value.get)
    return (drawn if value[drawn] >= 1.0 else keep), (best if value[best] >= 1.0 else keep)


def test_the_draw_over_n_rounds_against_brute_force():
    """The compiled draw (:func:`bandit._kernels.joint_select_lcb`) on a model fixed by hand
    (one context feature, one indicator column per arm: ``μ = θ``, ``φᵀPφ = P_kk``) whose
    leader's evidence grows as it would round after round (``P_00 = 1/(t + 1)``): AMG (arm 5)
    widest and predicted dear, plain CG (arm 4, never played) narrower and predicted
    cheaper.  The draw proposes AMG every round; the default gate declines it and then,
    once the evidence is large, plays it; it never plays plain CG, the pick plays it."""
    from bandit._kernels import joint_select_lcb

    family = np.array([0, 0, 0, 0, 1, 2])
    converged = np.array([5, 3, 0, 0, 0, 1])  # AMG read once: its family proven
    allow = np.array([1.5, 1.0])
    sigma, beta = 0.2, 1.0
    theta = np.array([0.0, 0.3, 0.5, 0.7, -0.3, 0.5])
    X = np.eye(6)
    psi = np.array([1.0])
    none = np.empty((0, 0), dtype=np.bool_)
    plays = {False: [], True: []}
    for t in range(40):
        P = np.diag([1.0 / (t + 1), 0.5, 0.5, 0.5, 0.25, 36.0])
        w = np.diag(P).copy()
        mu_ref = theta.copy()
        score_ref = mu_ref - beta * sigma * np.sqrt(w)
        want = _brute_force(mu_ref, w, sigma, family, converged, allow, 0, score_ref)
        for pick in (False, True):
            mu, score = np.empty(6), np.empty(6)
            k, lead = joint_select_lcb(theta, P, psi, X, beta * sigma, np.inf, none, mu,
                                       score, converged, False, family, allow, sigma,
                                       pick)
            assert lead == 0
            assert k == want[pick]
            plays[pick].append(k)
    assert set(plays[False][:3]) <= {0, 1, 2, 3} and 5 in plays[False]
    assert CG not in plays[False]
    assert plays[True].count(CG) > 30


def test_kernel_pick_on_hand_made_numbers():
    """Leader arm 0 (family 0); arm 2 (family 2) drawn, wide and predicted dear; arm 1
    (family 1) predicted cheaper with a narrow spread: the pick plays arm 1, the default
    keeps to the leader's family; a rival whose value ties the drawn arm's keeps the draw."""
    family = np.array([0, 1, 2])
    mu = np.array([0.0, -0.5, 0.8])
    wide = np.array([0.3, 0.2, 2.0])  # sqrt(φᵀPφ): the leader's evidence 1/0.09 ≈ 11 solves
    score = mu - wide
    converged = np.array([5, 0, 0])
    allow = np.array([1.5, 1.0])
    none = np.empty((0, 0), dtype=np.bool_)
    args = (mu, score, wide, 0.2, family, allow, converged, none)
    assert _gated_arm(2, 0, *args) == 0
    assert _gated_arm(2, 0, *args, True) == 1
    # by hand: arm 2's saving × evidence below its allowance, arm 1's above
    ev = 1 / 0.09
    s1 = _reference_saving(-0.5, 0.2 * math.sqrt(0.04 + 0.09)) * ev
    s2 = _reference_saving(0.8, 0.2 * math.sqrt(4.0 + 0.09)) * ev
    assert s2 < 1.0 <= s1
    # a rival equal to the drawn arm: the drawn arm stays
    mu2, wide2 = np.array([0.0, -0.5, -0.5]), np.array([0.3, 0.2, 0.2])
    args2 = (mu2, mu2 - wide2, wide2, 0.2, family, allow, converged, none)
    assert _gated_arm(2, 0, *args2, True) == 2


def test_bad_input():
    p = _learner(False, 0)
    assert p.gate_pick is False
    assert bandit.JointCB([1.0, 1.5]).gate_pick is True  # the default
    with pytest.raises(ValueError, match="gate_pick must be True or False"):
        p.gate_pick = "yes"


def test_saved_state_keeps_gate_pick_and_an_older_state_loads_without_it():
    from experiments.precond_study import default_grid

    grid = default_grid()
    for on in (True, False):
        pol = bandit.default_policy(None, grid, seed=1)
        pol.gate_pick = on
        state = pol.state_dict()
        assert state["config"]["gate_pick"] is on
        assert bandit.JointCB.from_state_dict(state).gate_pick is on
    # a state saved before the option had the drawn rival weighed alone
    old = bandit.default_policy(None, grid, seed=1).state_dict()
    del old["config"]["gate_pick"]
    assert bandit.JointCB.from_state_dict(old).gate_pick is False
