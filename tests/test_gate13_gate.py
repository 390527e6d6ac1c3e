"""A rival family's try gated by its value inside the learner's compiled draw
(``JointCB.try_gate``, off by default): a draw of another family than the leader's is played
only when the fraction of the leader's cost it is expected to save a solve, times the solves
the leader's prediction at that context is worth, pays for the try's allowance; else the
round plays the draw within the leader's family, in the same compiled call.  The rule's
numbers against independent references (quadrature, dense NumPy), decisions on constructed
cost histories, the gate off bit for bit the plain draw, and guarded solves that converge."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit import Tuner
from bandit._kernels import joint_scores, joint_select_lcb, played_argmin
from bandit.armset import ArmSet

ARMS = [{"method": "ssor_pcg", "omega": w} for w in (1.2, 1.4, 1.6, 1.8)] + [{"method": "cg"}]
SSOR, CG = [0, 1, 2, 3], 4
CG_COST = 1.0e-3
REPS = 10


def _history():
    """A default learner told: plain CG twice (x = 0 and 1, as cheap as the best ω), the four
    ω four times at 11 contexts in [0, 1] (best ω = 1.6, 10 % noise of a fixed seed)."""
    p = bandit.default_policy(None, ARMS, seed=0)
    rng = np.random.default_rng(1)

    def cost(k, x):
        if k == CG:
            return CG_COST * (1 + x)
        return 1e-3 * (1 + (ARMS[k]["omega"] - 1.6) ** 2) * (1 + x) * math.exp(
            0.1 * rng.standard_normal())

    p.update(CG, cost(CG, 0.0), 0.0)
    p.update(CG, cost(CG, 1.0), 1.0)
    for _ in range(REPS):
        for x in np.linspace(0.0, 1.0, 11):
            for k in SSOR:
                p.update(k, cost(k, float(x)), float(x))
    return p


def _reference_terms(p, arm, lead, x):
    """``(gap, spread, evidence)`` from the model's arrays with dense NumPy: ``φ = ψ ⊗ χ``,
    the log-cost predictions ``θᵀφ``, ``σ̂ sqrt(φ_kᵀPφ_k + φ_lᵀPφ_l)``, ``1 / φ_lᵀPφ_l``."""
    psi = np.asarray(p.features(x))
    phi_k, phi_l = np.kron(psi, p._X[arm]), np.kron(psi, p._X[lead])
    sigma = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
    qk, ql = phi_k @ p.P @ phi_k, phi_l @ p.P @ phi_l
    return (phi_k - phi_l) @ p.theta, sigma * math.sqrt(qk + ql), 1.0 / ql


def _reference_saving(gap, spread, n=400_001):
    """``E[max(0, 1 − e^d)]``, ``d ~ N(gap, spread²)``, by the trapezoidal rule on ±10 σ."""
    d = np.linspace(gap - 10 * spread, gap + 10 * spread, n)
    f = np.maximum(0.0, 1.0 - np.exp(d)) * np.exp(-0.5 * ((d - gap) / spread) ** 2)
    return float(np.trapezoid(f, d) / (spread * math.sqrt(2 * math.pi)))


# -- the rule --------------------------------------------------------------------------------
@pytest.mark.parametrize("gap, spread", [(0.0, 0.3), (0.2, 0.4), (-0.5, 0.1), (1.1, 0.5),
                                         (-2.0, 1.5), (3.0, 0.2)])
def test_the_expected_saving_is_the_lognormal_s_partial_expectation(gap, spread):
    assert ArmSet.expected_saving(gap, spread) == pytest.approx(
        _reference_saving(gap, spread), rel=1e-6, abs=1e-12)


def test_the_expected_saving_without_spread_and_far_in_the_tails():
    assert ArmSet.expected_saving(math.log(0.25), 0.0) == pytest.approx(0.75)
    assert ArmSet.expected_saving(0.3, 0.0) == 0.0
    assert ArmSet.expected_saving(-50.0, 1.0) == pytest.approx(1.0)
    assert ArmSet.expected_saving(50.0, 1.0) == 0.0


@pytest.mark.parametrize("gap, spread, evidence, allowance, pays", [
    (0.0, 0.3, 15.0, 1.5, True),       # a tie ±30 %: 10 % expected, 15 solves: 1.5
    (0.0, 0.3, 14.9, 1.5, False),
    (0.0, 0.3, 0.5, 1.0, False),       # a context not seen yet
    (math.log(0.5), 0.0, 2.0, 1.0, True),  # surely half the cost, seen twice
    (1.1, 0.3, 1e4, 1.5, False),       # surely three times dearer
    (0.0, math.nan, 0.0, 1.0, True),   # nothing to weigh it with: not gated
])
def test_a_try_pays_when_its_expected_saving_times_the_evidence_reaches_its_allowance(
        gap, spread, evidence, allowance, pays):
    assert ArmSet.try_pays(gap, spread, evidence, allowance) is pays


def test_the_allowance_of_a_rival_is_the_guard_s_margin_or_par_for_a_first_try():
    a = ArmSet(ARMS, "ssor_pcg", cost="timed_work")
    assert a.allowance(3.0, proven=True) == 1.5
    assert a.allowance(1.2, proven=True) == 1.2
    assert a.allowance(3.0, proven=False) == 1.0
    a.first_try_at_par = False
    assert a.allowance(3.0, proven=False) == 1.5


# -- the rule inside the compiled draw, against a dense reference ------------------------------
def _dense_draw(theta, P, psi, X, bonus, cap, near, converged, family=None, allow=None,
                sigma=None):
    """The gated draw written out with dense NumPy (φ = ψ ⊗ X_k, φᵀθ, φᵀPφ), the expected
    saving by quadrature; returns ``(arm, leader, margin)``, ``margin`` the value times the
    evidence less the allowance where the gate weighed a rival (NaN where it did not)."""
    K = X.shape[0]
    phis = [np.kron(psi, X[k]) for k in range(K)]
    mu = np.array([f @ theta for f in phis])
    w = np.array([f @ P @ f for f in phis])
    score = mu - bonus * np.sqrt(np.maximum(w, 0.0))
    if cap < math.inf:
        score = np.maximum(score, mu - cap)
    k = int(np.argmin(score))
    if near.size and not near[int(np.argmin(mu)), k]:
        allowed = np.flatnonzero(near[int(np.argmin(mu))])
        k = int(allowed[np.argmin(score[allowed])])
    ok = np.flatnonzero(converged > 0)
    lead = int(ok[np.argmin(mu[ok])]) if ok.size else -1
    if family is None or lead < 0 or family[k] == family[lead]:
        return k, lead, math.nan
    proven = bool((converged[family == family[k]] > 0).any())
    gap, spread = mu[k] - mu[lead], sigma * math.sqrt(w[k] + w[lead])
    margin = _reference_saving(gap, spread) / w[lead] - allow[0 if proven else 1]
    if margin >= 0:
        return k, lead, margin
    same = np.flatnonzero(family == family[lead])
    if near.size:
        same = same[near[same[np.argmin(mu[same])], same]]
    return int(same[np.argmin(score[same])]), lead, margin


@pytest.mark.parametrize("cap, radius", [(math.inf, None), (math.inf, 1), (0.5, 1)])
def test_the_compiled_gate_declines_a_rival_exactly_where_the_rule_says(cap, radius):
    rng = np.random.default_rng(3)
    K, mw, mc = 8, 4, 3
    family = np.array([0, 0, 0, 0, 1, 1, 2, 3])
    pos = np.array([0, 1, 2, 3, 0, 1, 0, 0])
    near = (((family[:, None] != family[None, :]) | (np.abs(pos[:, None] - pos[None, :])
                                                      <= radius))
            if radius is not None else np.zeros((0, 0), dtype=bool))
    allow = np.array([1.5, 1.0])
    seen = {"declined": 0, "allowed": 0}
    for _ in range(400):
        X = rng.standard_normal((K, mw))
        theta = 0.3 * rng.standard_normal(mc * mw)
        L = rng.standard_normal((mc * mw, mc * mw))
        P = L @ L.T * 10.0 ** rng.uniform(-4, 0) / (mc * mw)
        psi = rng.standard_normal(mc)
        converged = rng.integers(0, 3, K)
        sigma = float(rng.uniform(0.05, 0.5))
        bonus = sigma * (0.0 if rng.random() < 0.1 else 1.0)  # β = 0 now and then
        mu, score = np.empty(K), np.empty(K)
        k, lead, margin = _dense_draw(theta, P, psi, X, bonus, cap, near, converged, family,
                                      allow, sigma)
        if abs(margin) < 1e-6:  # a tie to rounding: either answer is the rule's
            continue
        got = joint_select_lcb(theta, P, psi, X, bonus, cap, near, mu, score, converged,
                               False, family, allow, sigma)
        assert got == (k, lead)
        if margin == margin:
            seen["declined" if margin < 0 else "allowed"] += 1
        # without the gate (omitted, or an empty family): the plain draw
        plain = _dense_draw(theta, P, psi, X, bonus, cap, near, converged)[:2]
        assert joint_select_lcb(theta, P, psi, X, bonus, cap, near, mu, score,
                                converged) == plain
        assert joint_select_lcb(theta, P, psi, X, bonus, cap, near, mu, score, converged,
                                False, np.empty(0, np.int64), allow, sigma) == plain
    assert min(seen.values()) >= 20, seen  # both answers were exercised


def test_a_model_of_the_cost_itself_is_not_gated():
    rng = np.random.default_rng(5)
    K, mw, mc = 6, 3, 2
    family = np.array([0, 0, 0, 1, 1, 2])
    for _ in range(50):
        X, theta = rng.standard_normal((K, mw)), rng.standard_normal(mc * mw)
        P = np.eye(mc * mw) * 1e-3
        psi, converged = rng.standard_normal(mc), rng.integers(0, 2, K)
        mu, score = np.empty(K), np.empty(K)
        near = np.zeros((0, 0), dtype=bool)
        plain = joint_select_lcb(theta, P, psi, X, 0.3, 0.5, near, mu, score, converged, True)
        assert joint_select_lcb(theta, P, psi, X, 0.3, 0.5, near, mu, score, converged, True,
                                family, np.array([1e9, 1e9]), 0.3) == plain


# -- the learner's gate on a constructed history ------------------------------------------------
def _tuner(p, gate=True, **kw):
    p.try_gate = gate  # (off by default)
    return Tuner(p, cost="timed_work", **kw)


def _reference_score(p, k, x):
    """The draw's lower confidence bound of arm ``k`` at ``x``, ``θᵀφ − β σ̂ sqrt(φᵀPφ)``."""
    phi = np.kron(np.asarray(p.features(x)), p._X[k])
    sigma = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
    return phi @ p.theta - p.beta * sigma * math.sqrt(phi @ p.P @ phi)


@pytest.mark.parametrize("x, tried", [(0.25, True), (0.5, True), (0.75, True), (0.1, False),
                                      (1.0, False), (1.5, False), (3.0, False)])
def test_the_gate_plays_a_rival_only_where_its_value_pays(x, tried):
    # the learner draws plain CG (proven: allowance 1.5) at every one of these contexts; at
    # 0.25-0.75 it is expected to save 11-13 % of a solve where the leader's prediction is
    # worth 21-23 solves (value x evidence 2.3-3.1); at 0.1 and 1.0, near its own two solves
    # at 0 and 1, less (1.2 and 0.3); beyond 1 the evidence is a few hundredths
    assert _history().select(x) == CG  # without the gate
    p = _history()
    t = _tuner(p)
    assert t.policy.try_gate
    k = p.select(x)  # one compiled call (a scalar context inside the range: joint_decide)
    lead = p.leader(x)[0]
    assert lead in SSOR
    gap, spread, evidence = _reference_terms(p, CG, lead, x)
    assert bool(_reference_saving(gap, spread) * evidence >= 1.5) is tried  # (as said)
    if tried:
        assert k == CG
    else:  # the draw among the ω: the least lower confidence bound next to the predicted
        # best ω (the exploration radius's neighbours)
        psi = np.asarray(p.features(x))
        mu = [np.kron(psi, p._X[j]) @ p.theta for j in SSOR]
        near = [j for j in SSOR if p._near_mask[SSOR[int(np.argmin(mu))], j]]
        assert k == near[int(np.argmin([_reference_score(p, j, x) for j in near]))]


def test_the_allowance_is_the_guard_s_and_a_first_try_s_is_at_par():
    # min(guard, 1.5) leader's solves for a rival whose family has converged, min(guard, 1)
    # for a first try
    a = ArmSet(ARMS, "ssor_pcg", cost="timed_work")
    fam, allow = a.gate_spec(3.0)
    assert list(fam) == [0, 0, 0, 0, 1] and allow == (1.5, 1.0)
    assert a.gate_spec(1.2)[1] == (1.2, 1.0)
    assert a.gate_spec(None) is None  # no guard: a try is not capped, nothing to weigh
    assert ArmSet([1.2, 1.6], "ssor_pcg").gate_spec(3.0) is None  # one family
    p = _history()
    _tuner(p, guard=None)
    assert p.select(3.0) == CG  # not gated without a guard
    p = _history()
    t = _tuner(p, guard=30.0)
    t.policy.gate_tries((p._gate_family, (1e-9, 1e-9)))  # (a try that costs nothing: pays)
    assert p.select(3.0) == CG
    t.policy.gate_tries((p._gate_family, (40.0, 40.0)))
    assert p.select(0.5) != CG  # 3.1 solves' worth of value does not pay 40


def test_the_gate_off_or_unset_draws_bit_for_bit_as_without_it():
    # seeded runs over the study's 13 configurations: the learner with the gate off, with it
    # on but under no guard, and a learner made without the option, side by side with the
    # plain lower-confidence-bound draw written out in NumPy
    from experiments.precond_study import default_grid

    grid = default_grid()
    family = np.array(ArmSet(grid, "ssor_pcg").family)
    ps = [bandit.default_policy(None, grid, seed=0) for _ in range(3)]
    ps[1].try_gate = True
    ps[1].gate_tries(None)
    ps[2].try_gate = True  # on, with families given: draws differ somewhere
    ps[2].gate_tries((family, (1.5, 1.0)))
    rng = np.random.default_rng(2)
    arms = [[], [], []]
    for t in range(250):
        x, noise = float(rng.uniform(0.0, 10.0)), float(rng.standard_normal())
        for p, out in zip(ps, arms):
            k = p.select(x)
            out.append(k)
            if p is ps[0] and t > 0:
                psi = np.asarray(p.features(x))
                mu, score = np.empty(p.n_arms), np.empty(p.n_arms)
                sig = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
                joint_scores(p.theta, p.P, psi, p._X, p.beta * sig, mu, score)
                kk = int(np.argmin(score))
                b = int(np.argmin(mu))
                if not p._near_mask[b, kk]:
                    allowed = np.flatnonzero(p._near_mask[b])
                    kk = int(allowed[np.argmin(score[allowed])])
                assert k == kk
                assert p.leader(x)[0] == int(played_argmin(mu, p.converged_counts))
            g = grid[k]
            slow = 1.0 + 0.4 * abs(g.get("omega", 1.5) - 1.3 - 0.05 * x) + 0.1 * (g["method"]
                                                                                 != "ssor_pcg")
            p.update(k, 1e-3 * slow * (1 + x) * math.exp(0.05 * noise), x)
    assert arms[0] == arms[1]
    assert arms[0] != arms[2]


# -- guarded solves -----------------------------------------------------------------------------
def _system(n=12):
    """A unit-square Laplacian plus identity (SPD) and a right-hand side."""
    L1 = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    A = (sp.eye(n * n) + 5.0 * (sp.kron(L1, sp.eye(n)) + sp.kron(sp.eye(n), L1))).tocsr()
    return A, np.random.default_rng(0).standard_normal(n * n)


@pytest.mark.parametrize("x, gated", [(3.0, True), (0.5, False)])
def test_a_gated_round_is_played_and_told_in_the_leader_s_family_and_converges(x, gated):
    # the learner draws plain CG at both contexts; at x = 3 (never seen) the gate plays the
    # leader's family instead, at x = 0.5 it lets the try run
    A, b = _system()
    for gate in (True, False):
        p = _history()
        t = _tuner(p, gate)
        before = p.counts.copy()
        r = t.solve(A, b, context=x)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * 1.001
        told = np.flatnonzero(p.counts != before)
        assert told.size == 1
        if gate and gated:
            assert told[0] in SSOR and r.arm in SSOR and "explored" not in r.info
        else:  # plain CG tried (and told), whether it converged or the leader finished
            assert told[0] == CG


def test_the_gate_is_saved_with_the_learner_and_a_saved_learner_without_it_loads_off(tmp_path):
    p = _history()
    t = _tuner(p)
    t.save(tmp_path / "t.json")
    q = Tuner.load(tmp_path / "t.json")
    assert q.policy.try_gate and q.policy.select(3.0) in SSOR and p.select(3.0) in SSOR
    state = p.state_dict()
    del state["config"]["try_gate"]  # a learner saved before the option
    assert not type(p).from_state_dict(state).try_gate
    with pytest.raises(ValueError, match="try_gate must be True or False"):
        bandit.JointCB([1.2, 1.6], try_gate="yes")


def test_the_default_learner_gates_over_configuration_arms_and_not_over_omega_arms():
    from bandit.defaults import TRY_GATE

    assert TRY_GATE is True
    assert bandit.default_policy(None, ARMS).try_gate is True
    assert bandit.default_policy("ssor_pcg").try_gate is False  # one family: nothing to gate
    assert bandit.default_policy(None, ARMS, try_gate=False).try_gate is False
    t = Tuner(ARMS, cost="timed_work")  # the default learner over these arms
    assert t.policy.try_gate and t.policy._gate_family.tolist() == [0, 0, 0, 0, 1]
    assert Tuner(ARMS, cost="timed_work", guard=None).policy._gate_family.size == 0
