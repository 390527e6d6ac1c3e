"""A rival family's try gated by its value (ArmSet.try_gate): a draw of another family than
the leader's is tried only when the most it may save a solve, times the solves the leader's
prediction at that context is worth, pays for the try's allowance; else the round plays the
policy's draw within the leader's family.  Decisions on constructed cost histories."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit import Tuner
from bandit.armset import ArmSet

ARMS = [{"method": "ssor_pcg", "omega": w} for w in (1.2, 1.4, 1.6, 1.8)] + [{"method": "cg"}]
SSOR, CG = [0, 1, 2, 3], 4


def _history():
    """A default learner told: plain CG twice (x = 0 and 1, as cheap as the best ω), the four
    ω four times at 11 contexts in [0, 1] (best ω = 1.6, 10 % noise of a fixed seed)."""
    p = bandit.default_policy(None, ARMS, seed=0)
    rng = np.random.default_rng(1)

    def cost(k, x):
        if k == CG:
            return 1.0e-3 * (1 + x)
        return 1e-3 * (1 + (ARMS[k]["omega"] - 1.6) ** 2) * (1 + x) * math.exp(
            0.1 * rng.standard_normal())

    p.update(CG, cost(CG, 0.0), 0.0)
    p.update(CG, cost(CG, 1.0), 1.0)
    for _ in range(4):
        for x in np.linspace(0.0, 1.0, 11):
            for k in SSOR:
                p.update(k, cost(k, float(x)), float(x))
    return p


def _reference_terms(p, arm, lead, x):
    """``(optimistic, evidence)`` from the model's arrays with dense NumPy: ``φ = ψ ⊗ χ``,
    the lower confidence bound ``μ − βσ̂√(φᵀPφ)`` (within ``explore_within``) back in cost
    units, and ``1 / φᵀPφ`` of the leader."""
    psi = np.asarray(p.features(x))
    phi_k, phi_l = np.kron(psi, p._X[arm]), np.kron(psi, p._X[lead])
    mu = phi_k @ p.theta
    sigma = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
    low = max(mu - p.beta * sigma * math.sqrt(phi_k @ p.P @ phi_k), mu - p._cap)
    return p.unit * (math.exp(low) - 0.01), 1.0 / (phi_l @ p.P @ phi_l)


# -- the rule --------------------------------------------------------------------------------
@pytest.mark.parametrize("optimistic, predicted, evidence, allowance, pays", [
    (0.5, 1.0, 3.0, 1.5, True),       # half the cost at best, 3 solves' worth: 1.5 >= 1.5
    (0.5, 1.0, 2.9, 1.5, False),      # 1.45 < 1.5
    (0.9, 1.0, 20.0, 1.5, True),      # 10 % of 20 solves: 2 leader's solves
    (0.95, 1.0, 20.0, 1.5, False),    # 5 % of 20: 1
    (0.2, 1.0, 0.5, 1.0, False),      # a context not seen yet: 0.4 < 1
    (-3.0, 1.0, 1.0, 1.0, True),      # a bound below 0: the saving is at most the whole cost
    (-3.0, 1.0, 0.99, 1.0, False),
    (1.2, 1.0, 1e6, 1.0, False),      # no saving possible
    (0.5, math.nan, 0.0, 1.0, True),  # no prediction to weigh it against: not gated
])
def test_a_try_pays_when_its_best_saving_times_the_evidence_reaches_its_allowance(
        optimistic, predicted, evidence, allowance, pays):
    assert ArmSet.try_pays(optimistic, predicted, evidence, allowance) is pays


def test_the_allowance_of_a_rival_is_the_guard_s_margin_or_par_for_a_first_try():
    a = ArmSet(ARMS, "ssor_pcg", cost="timed_work")
    assert a.allowance(3.0, proven=True) == 1.5
    assert a.allowance(1.2, proven=True) == 1.2
    assert a.allowance(3.0, proven=False) == 1.0
    a.first_try_at_par = False
    assert a.allowance(3.0, proven=False) == 1.5


# -- what the learner says a try may buy -----------------------------------------------------
@pytest.mark.parametrize("x", [0.5, 1.0, 3.0])
def test_the_learner_s_try_terms_are_its_confidence_bound_and_the_leader_s_evidence(x):
    p = _history()
    p.select(x)  # (the round's draw widens the range to x first)
    lead, _ = p.leader(x)
    assert lead in SSOR
    got = p.try_terms(CG, lead, x)  # read from the round's draw
    want = _reference_terms(p, CG, lead, x)
    assert got == pytest.approx(want, rel=1e-9)
    other = 0.25  # a context the round did not draw at: computed afresh
    assert p.try_terms(CG, lead, other) == pytest.approx(_reference_terms(p, CG, lead, other),
                                                         rel=1e-9)
    score = [_reference_terms(p, k, lead, other)[0] for k in SSOR]
    assert p.draw_within(SSOR, other) == int(np.argmin(score))


def test_the_evidence_grows_with_the_solves_seen_at_a_context_and_is_small_beyond_them():
    p = _history()
    p.select(0.5)
    lead = p.leader(0.5)[0]
    at_half = p.try_terms(CG, lead, 0.5)[1]
    p.select(30.0)  # far outside every context seen
    far = p.try_terms(CG, lead, 30.0)[1]
    assert far < 0.1 < 1.0 < at_half
    q = bandit.default_policy(None, ARMS, seed=0)
    assert q.try_terms(CG, 0, 0.5) is None  # no cost yet: nothing to say


# -- the gate's decision on that history -----------------------------------------------------
def _tuner(p):
    return Tuner(p, cost="timed_work")


@pytest.mark.parametrize("x, tried", [(0.5, True), (1.0, False), (3.0, False), (30.0, False)])
def test_the_gate_tries_a_rival_only_where_its_value_pays(x, tried):
    # x = 0.5: CG may save 39 % of a solve where the leader's prediction is worth ~10 solves;
    # x = 1.0: 6 % at best; x = 3 and 30: contexts never seen (evidence ~0.02)
    p = _history()
    t = _tuner(p)
    p.select(x)
    lead, pred = p.leader(x)
    optimistic, evidence = _reference_terms(p, CG, lead, x)
    assert bool((1 - optimistic / pred) * evidence >= 1.5) is tried  # the history is as described
    got = t._gate(CG, lead, pred, x)
    if tried:
        assert got == CG
    else:  # the policy's own draw among the ω: the least lower confidence bound next to the
        # predicted best (here, every ω of the four)
        score = np.full(5, np.inf)
        for k in SSOR:
            low, _ = _reference_terms(p, k, lead, x)
            score[k] = low
        assert got in SSOR and got == int(np.argmin(score[SSOR]))
    t._arms.try_gate = False  # switched off: every draw is tried
    assert t._gate(CG, lead, pred, x) == CG


def test_a_gated_round_is_played_and_told_in_the_leader_s_family_and_converges():
    # a unit-square Laplacian plus identity (SPD); the learner draws plain CG at x = 30
    n = 12
    L1 = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    A = (sp.eye(n * n) + 5.0 * (sp.kron(L1, sp.eye(n)) + sp.kron(sp.eye(n), L1))).tocsr()
    b = np.random.default_rng(0).standard_normal(n * n)
    for gate in (True, False):
        p = _history()
        assert p.select(30.0) == CG  # the draw at a context never seen: plain CG
        t = _tuner(p)
        t._arms.try_gate = gate
        before = p.counts.copy()
        r = t.solve(A, b, context=30.0)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * 1.001
        told = np.flatnonzero(p.counts != before)
        assert told.size == 1
        if gate:
            assert told[0] in SSOR and r.arm in SSOR and "explored" not in r.info
        else:  # plain CG tried (and told), whether it converged or the leader finished
            assert told[0] == CG
