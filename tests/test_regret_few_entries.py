"""An arm whose sampled entries count fewer than two effective ones takes the floor's excess
over its bootstrap draws as normal deviations (:data:`bandit.estimate.FEW_ENTRY_FLOOR_DRAWS`);
every other arm's draws are as before: checked against the exact regret of a constructed
run, and bit for bit against the estimator without the rule on a recorded run."""
import numpy as np
import pytest

import bandit
import bandit.estimate as est
from bandit import Tuner
from bandit.estimate import RunData
from experiments.bench_regret import ReplaySolver

OMEGAS = [1.0, 1.2, 1.4, 1.6]


def one_audit_run(T=2000, seed=0):
    """Arm 0 costs 40 on every round, arm 1 48, and arm 1 is played on every round but one
    (probability 0.999).  The cost model is off by ±10 % of each cost at random (both arms).
    Arm 0 is played once (p = 0.5, where the model is exact) and audited once, at
    probability 0.0008, on a round where it cost 37 and the model said 40: a residual of
    −7.5 %, within the model's spread, that the self-normalised correction gives to every
    round of the arm (−6,000 on an exact total of 80,000).  Returns the run, the cost
    matrix and the model."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, T)
    C = np.c_[np.full(T, 40.0), np.full(T, 48.0)]
    m = C / (1.0 + rng.choice([-0.1, 0.1], size=(T, 2)))
    audited, played = 0, 1
    C[audited, 0], m[audited, 0] = 37.0, 40.0
    m[played, 0] = C[played, 0]
    arm = np.ones(T, np.int64)
    arm[played] = 0
    p = np.full(T, 0.999)
    p[played] = 0.5
    paid = C[np.arange(T), arm]
    aud = {"round": np.array([audited]), "arm": np.array([0]), "row": np.zeros(1, bool),
           "value": np.array([37.0]), "iterations": np.array([37]),
           "converged": np.ones(1, bool), "budget": np.full(1, 10_000), "p": np.zeros(1),
           "cap": np.full(1, 10_000)}
    d = RunData(paid=paid, x=x, arm=arm, p=p, played=paid.copy(),
                epoch_start=np.array([0]), q=np.array([[0.0008, 0.0008]]), r=np.zeros(1),
                audits=aud, fail_cost=1e4, n_arms=2, arm_order=np.arange(2),
                randomised=True)
    return d, C, m


def _interval(monkeypatch, seed, on):
    d, C, m = one_audit_run(seed=seed)
    monkeypatch.setattr(est, "_model", lambda data, t, k, v, folds: m.copy())
    monkeypatch.setattr(est, "FEW_ENTRY_FLOOR_DRAWS", on)
    e = est.estimate_regret(d, seed=seed).best_fixed
    return e, d.paid.sum() - C.sum(axis=0).min()


@pytest.mark.parametrize("seed", range(5))
def test_one_audit_within_the_spread_is_covered(monkeypatch, seed):
    """The estimated best arm's total rests on one audit of probability 0.0008 (1.0
    effective entries): its draws barely vary and are skewed, and scaled up to the floor
    their quantile put the lower end of the regret above the exact one (by hand: the
    total 6,000 too low, the regret ~5,000 too high) in each of five seeds; drawn as
    normal deviations of the floor's excess, the interval covers it."""
    e, regret = _interval(monkeypatch, seed, True)
    assert e.low <= regret <= e.high
    before, _ = _interval(monkeypatch, seed, False)
    assert not (before.low <= regret <= before.high)
    assert before.estimate == e.estimate  # the point estimate does not change


def test_only_the_few_entry_arm_changes(monkeypatch):
    """Arm 1 (its plays' many sampled entries) keeps its draws bit for bit; arm 0 (one
    effective entry) takes the normal draws, with the standard deviation of the scaled
    ones (to the draws' sampling error)."""
    d, C, m = one_audit_run(seed=0)
    t, k, v, pi = est.inclusion_probabilities(d)
    cps = np.array([d.T])
    tracks = {}
    for on in (False, True):
        monkeypatch.setattr(est, "FEW_ENTRY_FLOOR_DRAWS", on)
        rng = np.random.default_rng(0)
        X = est._multipliers(rng, (d.T, 400))
        tracks[on] = est._Track(d, t, k, v, pi, m, cps, X, rng)
    old, new = tracks[False], tracks[True]
    assert new.few.tolist() == [True, False]
    np.testing.assert_array_equal(new.S_end[:, 1], old.S_end[:, 1])
    assert new.S_end[:, 0].std() == pytest.approx(old.S_end[:, 0].std(), rel=0.15)
    # the skew the scaled draws had: the quantile of their deviations below the estimate
    # (the upper end of the total) at 0.41 standard deviations, 1.65 normal
    assert -np.quantile(old.dev[:, 0], 0.05) < 0.6 and -np.quantile(new.dev[:, 0], 0.05) > 1.4


def _recorded_run():
    """A TsallisINF run of 600 rounds audited with a 20 % budget: every arm's sampled
    entries count at least two effective ones."""
    rng = np.random.default_rng(5)
    T, K = 600, len(OMEGAS)
    x = rng.uniform(0, 1, T)
    kk = np.arange(K)
    C = 20 + 30 * (kk[None] / (K - 1) - x[:, None]) ** 2 + 2.0 * rng.standard_normal((T, K))
    C = np.round(np.maximum(C, 1)).astype(np.int64)
    tuner = Tuner(bandit.TsallisINF(OMEGAS, seed=5), solver=ReplaySolver(C, 1e-4 * C, OMEGAS),
                  audit_budget=0.2, audit_seed=5)
    for t in range(T):
        tuner.solve(t, None, context=float(x[t]))
    return tuner._run_data()


def test_unchanged_where_every_arm_has_two_effective_entries(monkeypatch):
    """On a recorded run whose every arm rests on two or more effective sampled entries,
    both intervals, their curves and the point estimates are the estimator's without the
    rule, bit for bit."""
    d = _recorded_run()
    t, k, v, pi = est.inclusion_probabilities(d)
    s = pi < 1.0
    w = np.sqrt(1.0 - pi[s]) / pi[s]
    n_eff = np.bincount(k[s], w, d.n_arms) ** 2 / np.bincount(k[s], w * w, d.n_arms)
    assert (n_eff >= 2.0).all(), n_eff
    reps = {}
    for on in (False, True):
        monkeypatch.setattr(est, "FEW_ENTRY_FLOOR_DRAWS", on)
        reps[on] = est.estimate_regret(d, seed=3)
    for name in ("best_fixed", "instance_optimal"):
        a, b = getattr(reps[False], name), getattr(reps[True], name)
        np.testing.assert_array_equal([a.estimate, a.low, a.high], [b.estimate, b.low, b.high])
        for field in ("curve", "curve_low", "curve_high"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert np.isfinite(reps[True].best_fixed.low)
