"""A rival family's try gated by its value (ArmSet.try_gate, off by default: measured, not
adopted): a draw of another family than the leader's is tried only when the fraction of the
leader's cost it is expected to save a solve, times the solves the leader's prediction at
that context is worth, pays for the try's allowance; else the round plays the policy's draw
within the leader's family.  Decisions on constructed cost histories."""
import math

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit import Tuner
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


# -- what the learner says a try may buy -----------------------------------------------------
def _reference_score(p, k, x):
    """The draw's lower confidence bound of arm ``k`` at ``x``, ``θᵀφ − β σ̂ sqrt(φᵀPφ)``."""
    phi = np.kron(np.asarray(p.features(x)), p._X[k])
    sigma = math.sqrt((p.sq_err + 0.1) / (p.t - p.forgotten + 1))
    return phi @ p.theta - p.beta * sigma * math.sqrt(phi @ p.P @ phi)


@pytest.mark.parametrize("x", [0.5, 1.0, 3.0])
def test_the_learner_s_try_terms_are_its_predictions_their_spread_and_the_evidence(x):
    p = _history()
    p.select(x)  # (the round's draw widens the range to x first)
    lead, _ = p.leader(x)
    assert lead in SSOR
    got = p.try_terms(CG, lead, x)  # read from the round's draw
    assert got == pytest.approx(_reference_terms(p, CG, lead, x), rel=1e-9, abs=1e-12)
    other = 0.25  # a context the round did not draw at: computed afresh
    assert p.try_terms(CG, lead, other) == pytest.approx(_reference_terms(p, CG, lead, other),
                                                         rel=1e-9, abs=1e-12)
    score = [_reference_score(p, k, other) for k in SSOR]
    assert p.draw_within(SSOR, other) == int(np.argmin(score))


def test_the_evidence_grows_with_the_solves_seen_at_a_context_and_is_small_beyond_them():
    p = _history()
    p.select(0.5)
    lead = p.leader(0.5)[0]
    at_half = p.try_terms(CG, lead, 0.5)[2]
    p.select(3.0)  # outside every context seen
    far = p.try_terms(CG, lead, 3.0)[2]
    assert far < 0.1 < 10.0 < at_half
    q = bandit.default_policy(None, ARMS, seed=0)
    assert q.try_terms(CG, 0, 0.5) is None  # no cost yet: nothing to say


# -- the gate's decision on that history -----------------------------------------------------
def _tuner(p, gate=True):
    t = Tuner(p, cost="timed_work")
    t._arms.try_gate = gate  # (off by default: measured, not adopted)
    return t


@pytest.mark.parametrize("x, tried", [(0.5, True), (1.0, False), (3.0, False)])
def test_the_gate_tries_a_rival_only_where_its_value_pays(x, tried):
    # plain CG, proven (allowance 1.5): at x = 0.5 expected to save 13 % of a solve where the
    # leader's prediction is worth ~23 solves; at x = 1.0 2.5 % (its two solves were there
    # and at 0); x = 3 was never seen (evidence ~0.02)
    p = _history()
    t = _tuner(p)
    p.select(x)
    lead = p.leader(x)[0]
    gap, spread, evidence = _reference_terms(p, CG, lead, x)
    assert bool(_reference_saving(gap, spread) * evidence >= 1.5) is tried  # (as said)
    got = t._gate(CG, lead, x)
    if tried:
        assert got == CG
    else:  # the policy's own draw among the ω: the least lower confidence bound next to the
        # predicted best (here, every ω of the four)
        assert got == int(np.argmin([_reference_score(p, k, x) for k in SSOR]))
    t._arms.try_gate = False  # switched off: every draw is tried
    assert t._gate(CG, lead, x) == CG
    assert Tuner(_history(), cost="timed_work")._arms.try_gate is False  # the default


def test_a_gated_round_is_played_and_told_in_the_leader_s_family_and_converges():
    # a unit-square Laplacian plus identity (SPD); the learner draws plain CG at x = 3, a
    # context never seen
    n = 12
    L1 = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    A = (sp.eye(n * n) + 5.0 * (sp.kron(L1, sp.eye(n)) + sp.kron(sp.eye(n), L1))).tocsr()
    b = np.random.default_rng(0).standard_normal(n * n)
    for gate in (True, False):
        p = _history()
        assert p.select(3.0) == CG and p.leader(3.0)[0] in SSOR
        t = _tuner(p, gate)
        before = p.counts.copy()
        r = t.solve(A, b, context=3.0)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * 1.001
        told = np.flatnonzero(p.counts != before)
        assert told.size == 1
        if gate:
            assert told[0] in SSOR and r.arm in SSOR and "explored" not in r.info
        else:  # plain CG tried (and told), whether it converged or the leader finished
            assert told[0] == CG
