"""Audits within their budget on short runs whose other arms are dear, and the estimators
honest about the runs the budget stopped."""
import numpy as np
import pytest

import bandit
from bandit import Tuner
from bandit.audit import Auditor, capped_cap
from bandit.estimate import RunData, estimate_regret, inclusion_probabilities
from experiments.bench_regret import ReplaySolver

OMEGAS = [round(1.0 + 0.05 * k, 2) for k in range(20)]


def dear_arms(T=100, seed=0):
    """A short sequence like Picard iterations of a nonlinear diffusion on a 60 × 60 grid:
    the last ω costs about 350 iterations a system, ω = 1 about 25 times more (SOR's
    iterations grow like 1/(1 − ρ), so they fall geometrically in ω here), with 10 % noise."""
    rng = np.random.default_rng(seed)
    base = 350 * np.exp(0.3 * rng.standard_normal(T))
    ratio = 25.0 ** (1 - np.arange(len(OMEGAS)) / (len(OMEGAS) - 1))
    C = base[:, None] * ratio[None] * np.exp(0.1 * rng.standard_normal((T, len(OMEGAS))))
    return np.minimum(np.round(C), 10_000).astype(np.int64)


def run(C, seed, budget=0.05):
    policy = bandit.default_policy("sor", OMEGAS, seed=seed)
    tuner = Tuner(policy, solver=ReplaySolver(C, 1e-6 * C, OMEGAS), audit_budget=budget,
                  audit_seed=seed)
    for t in range(C.shape[0]):
        tuner.solve(t, None)
    return tuner


def test_short_run_with_dear_arms_spends_about_its_budget():
    """100 rounds, the default (deterministic) learner, a 5 % budget, arms up to 25 times
    dearer than the tuned solve: an audit run in full cost the budget of hundreds of rounds
    (a third to half of the solve time went to audits).  Capped at what the budget has
    accrued (at least 3 × the round's solve), the audits spend about the budget: at most
    1.5 × on average over seeds and 3 × in any one run (one capped run is 3 % of a run of
    100 rounds)."""
    C = dear_arms()
    used = np.array([run(C, seed).summary()["audits"]["budget_used"] for seed in range(8)])
    assert used.mean() <= 1.5 * 0.05, used
    assert used.max() <= 3 * 0.05, used


def test_stopped_arms_are_not_the_estimated_best_and_the_interval_covers():
    """On the same runs the arms whose audits the budget stopped are known by lower bounds
    only: the estimated best fixed arm is one whose audits all ran to the end (or a played
    one), and the 90 % interval covers the exact regret."""
    C = dear_arms()
    for seed in (0, 2):  # (audit seeds whose runs have audits the budget stopped)
        tuner = run(C, seed)
        a = tuner.audits
        stopped = set(a["arm"][~a["converged"] & (a["cap"] < tuner.maxiter)].tolist())
        assert stopped  # the case under test: some audits were stopped by their cap
        bf = tuner.regret().best_fixed
        exact = float(tuner.history["iterations"].sum() - C.sum(axis=0).min())
        assert bf.comparator_arm not in stopped
        assert bf.low <= exact <= bf.high


def _audits(rounds, arms, values, converged, caps, budget=10_000):
    n = len(rounds)
    return {"round": np.asarray(rounds), "arm": np.asarray(arms), "row": np.zeros(n, bool),
            "value": np.asarray(values, float), "iterations": np.asarray(values),
            "converged": np.asarray(converged, bool), "budget": np.full(n, budget),
            "cap": np.asarray(caps), "p": np.zeros(n)}


def test_an_arm_seen_cheap_once_and_stopped_elsewhere_is_not_the_best():
    """Arm 1 costs 1000 on every round but 50 on one; its audits ran on 20 rounds, the one
    cheap round to the end, the others stopped at a cap of 300 (the failure cost is
    recorded).  Its exact observations are a sample of its cheap rounds only, so a
    two-sided total from them says 50 a round: an arm whose costs above the cap were never
    observable must be known by its lower bound only, and the played arm (100 a round) is
    the best fixed arm, with an interval that covers the exact regret, 0."""
    T, K = 200, 2
    C = np.column_stack([np.full(T, 100), np.full(T, 1000)])
    C[7, 1] = 50
    rounds = np.arange(7, T, 10)
    aud = _audits(rounds, np.ones(rounds.size, int),
                  np.where(rounds == 7, 50.0, 1e4), rounds == 7,
                  np.full(rounds.size, 300))
    d = RunData(paid=np.full(T, 100.0), x=np.arange(T, dtype=float), arm=np.zeros(T, np.int64),
                p=np.ones(T), played=np.full(T, 100.0), epoch_start=np.array([0]),
                q=np.array([[0.1, 0.1]]), r=np.zeros(1), audits=aud, fail_cost=1e4,
                n_arms=K, arm_order=np.arange(K), randomised=False,
                cap=np.full(T, 300.0), full=np.ones((1, K), bool))
    rep = estimate_regret(d).best_fixed
    assert rep.comparator_arm == 0
    assert rep.low - 1e-6 <= 0.0 <= rep.high + 1e-6  # (to rounding: arm 0 is known exactly)
    assert abs(rep.estimate) < 1e-6


def test_lower_bound_of_a_run_stopped_below_the_rounds_cap_is_its_own_cap():
    """A run stopped at 120 iterations, below the round's lower-bound cap of 300, shows only
    ``C > 120``: its entry in the lower bounds is 120, never the round's cap (which would be
    an upper value, not a lower bound)."""
    T, K = 3, 2
    aud = _audits([1], [1], [1e4], [False], [120])
    d = RunData(paid=np.full(T, 100.0), x=np.arange(T, dtype=float), arm=np.zeros(T, np.int64),
                p=np.ones(T), played=np.full(T, 100.0), epoch_start=np.array([0]),
                q=np.array([[0.5, 0.5]]), r=np.zeros(1), audits=aud, fail_cost=1e4,
                n_arms=K, randomised=False, cap=np.full(T, 300.0))
    t, k, v, pi = inclusion_probabilities(d, lower=True)
    got = dict(zip(zip(t.tolist(), k.tolist()), v.tolist()))
    assert got[(1, 1)] == 120.0
    assert got[(1, 0)] == 100.0  # the played arm, exact and below the cap


@pytest.mark.parametrize("left, paid, want", [(5_000.0, 100, 5_000), (100.0, 100, 300),
                                              (-50.0, 200, 600), (50_000.0, 100, 10_000)])
def test_column_cap_is_what_the_budget_accrued_and_did_not_spend(left, paid, want):
    """The cap of a column run: the budget accrued minus what audits spent, at least
    3 × the round's iterations, at most ``maxiter``."""
    aud = Auditor(4, 0.1)
    aud.solved, aud.spent = 100_000.0, 10_000.0 - left
    assert aud.column_cap(0, paid, 10_000) == want
    assert want >= capped_cap(paid, 10_000)
    aud.solved = None  # a cost not in iterations: no budget cap
    assert aud.column_cap(0, paid, 10_000) == 10_000


def test_point_estimate_is_not_pulled_by_arms_known_from_the_model_alone():
    """A deterministic learner played the two cheapest arms (the dearer of them on the first
    fifth of the rounds) and a few audits ran
    three of the other 19 arms once each (a short run at a 5 % budget): the arms sampled
    fewer than twice have totals known from the cost model alone, with deviations of a
    pooled error widened by Student's factor for one observation — wide and symmetric, so a
    dear arm is "the minimum" in many draws.  Weighted by those draws, the point estimate
    was tens of solves' worth below the exact regret (0 here: the played arm is the best
    fixed arm); from the arms whose error the draws describe — here the estimated best
    alone — it is close to it.  The interval is unchanged."""
    C = dear_arms()
    T, K = C.shape
    arm = np.where(np.arange(T) < T // 5, K - 2, K - 1)
    paid = C[np.arange(T), arm].astype(float)
    aud = _audits([15, 49, 56], [1, 8, 3], C[[15, 49, 56], [1, 8, 3]], [True] * 3,
                  [10_000] * 3)
    d = RunData(paid=paid, x=np.arange(T, dtype=float), arm=arm, p=np.ones(T),
                played=paid.copy(), epoch_start=np.array([0]),
                q=np.full((1, K), 0.00225), r=np.zeros(1), audits=aud, fail_cost=1e4,
                n_arms=K, arm_order=np.arange(K), randomised=False,
                cap=np.ceil(3 * paid), full=np.ones((1, K), bool))
    rep = estimate_regret(d).best_fixed
    exact = paid.sum() - C.sum(axis=0).min()
    assert rep.comparator_arm == K - 1
    assert rep.low <= exact <= rep.high
    assert abs(rep.estimate - exact) <= 0.05 * paid.sum(), (rep.estimate, exact)


def test_estimated_best_arm_is_one_that_was_observed():
    """The same short run, but the budget stopped the audits of the dear arms at 3 × the
    round's solve: the only exact costs are those of the two played arms, and the cost
    model, fitted on those two arms alone, extrapolates a flat total to ω = 1 (25 times
    dearer).  The estimated best fixed arm is one with observations, not an arm whose total
    is the model's extrapolation alone, and the point estimate is close to the exact
    regret."""
    C = dear_arms()
    T, K = C.shape
    arm = np.where(np.arange(T) < T // 5, K - 2, K - 1)
    paid = C[np.arange(T), arm].astype(float)
    rounds, arms = np.array([15, 49, 56, 73]), np.array([1, 8, 3, 1])
    caps = np.ceil(3 * paid[rounds]).astype(int)
    aud = _audits(rounds, arms, np.full(4, 1e4), [False] * 4, caps)
    d = RunData(paid=paid, x=np.arange(T, dtype=float), arm=arm, p=np.ones(T),
                played=paid.copy(), epoch_start=np.array([0]),
                q=np.full((1, K), 0.00225), r=np.zeros(1), audits=aud, fail_cost=1e4,
                n_arms=K, arm_order=np.arange(K), randomised=False,
                cap=np.ceil(3 * paid), full=np.ones((1, K), bool))
    rep = estimate_regret(d).best_fixed
    exact = paid.sum() - C.sum(axis=0).min()
    assert rep.comparator_arm in (K - 2, K - 1)
    assert rep.low <= exact <= rep.high
    assert abs(rep.estimate - exact) <= 0.05 * paid.sum(), (rep.estimate, exact)
