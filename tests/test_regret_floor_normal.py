"""The part of a column total's error that only its floor shows, in ``Tuner.regret()``'s
bootstrap: a normal deviation of the missing size added to the draws, not the draws' own
shape scaled up (:data:`bandit.estimate.FLOOR_NORMAL`).  A few sampled entries under
Mammen's two-point multipliers give draws of a handful of values; scaled twentyfold, their
one-sided quantile had been 0.55 standard deviations where a normal's is 1.64, and the
upper end of the smallest total fell short of it.  An option, off by default: measured and
not adopted (docs/regret_measurements.md)."""
import numpy as np
from scipy import stats

from bandit import estimate
from bandit.estimate import estimate_regret
from regret_runs import audited_run


def two_epoch_run(seed, T=3000, K=6):
    """A deterministic policy that plays arm 0 on every round (observed for sure), costs
    that vary threefold along the context ``x`` (uniform in [0, 1]) with an arm factor (arm
    2 the cheapest, 30 % below arm 0) and 10 % log-normal noise; every arm audited with
    probability 0.004 a round in the first 300 rounds and 0.0004 after (two epochs): a
    couple of sampled entries per arm, of weights ten times apart.  Returns the run's data
    and its cost matrix."""
    rng = np.random.default_rng(seed)
    x = rng.random(T)
    factor = np.array([1.0, 1.2, 0.7, 0.73, 0.85, 1.3])[:K]
    C = np.round(50.0 * (1.0 + 2.0 * x[:, None]) * factor[None]
                 * np.exp(0.1 * rng.standard_normal((T, K))))
    arm = np.zeros(T, dtype=int)
    rows = np.arange(T)
    q = np.where(rows[:, None] < 300, 0.004, 0.0004) * np.ones((1, K))
    rounds, arms = np.nonzero(rng.random((T, K)) < q)
    return audited_run(C, x, arm, np.ones(T), rounds, arms, np.zeros(rounds.size),
                       np.array([[0.004] * K, [0.0004] * K]), randomised=False,
                       epoch_start=(0, 300)), C


def test_draws_set_by_the_floor_have_normal_quantiles():
    """Every arm whose floor is at least 3 × its bootstrap error (17 arms over 10 runs):
    the 5 % and 95 % quantiles of its standardised deviations are within 0.25 of the
    normal law's (measured: −1.74…−1.53 and 1.51…1.74; scaling the draws up gave −2.61 to
    −0.56 and 0.51 to 2.32)."""
    z = stats.norm.ppf(0.95)
    seen = 0
    for seed in range(10):
        data, _ = two_epoch_run(seed)
        trace = {}
        estimate.TRACE = trace
        estimate.FLOOR_NORMAL = True
        try:
            estimate_regret(data, seed=seed, n_boot=2000)
        finally:
            estimate.TRACE = None
            estimate.FLOOR_NORMAL = False
        two = trace["two"]
        ratio = two.parts["floor"] / np.maximum(two.parts["boot"], 1e-300)
        for j in np.flatnonzero((ratio >= 3.0) & ~two.parts["flat"]):
            seen += 1
            lo, hi = np.quantile(two.dev[:, j], [0.05, 0.95])
            assert abs(lo + z) < 0.25 and abs(hi - z) < 0.25, (seed, j, lo, hi)
    assert seen >= 10


def test_the_interval_covers():
    """Over 20 runs the 90 % interval covers the exact regret (about +20 % of the best
    total: arm 0 is played, arm 2 is the best) in at least 85 % of them, with the normal
    part and without (measured: 19 of 20 both ways, the median half-width 1.047 and 1.042
    × the exact regret)."""
    for flag in (True, False):
        estimate.FLOOR_NORMAL = flag
        try:
            hits = []
            for seed in range(20):
                data, C = two_epoch_run(seed)
                exact = float(data.paid.sum() - C.sum(axis=0).min())
                bf = estimate_regret(data, seed=seed).best_fixed
                hits.append(bf.low <= exact <= bf.high)
        finally:
            estimate.FLOOR_NORMAL = False
        assert np.mean(hits) >= 0.85
