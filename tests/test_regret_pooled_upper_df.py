"""Student's factor of the floor from an arm's residual spread, in ``Tuner.regret()``,
against exact regrets on small cost matrices of a policy with known probabilities: where
the arm's few audits agree with the spread pooled over every arm (a variance-ratio test),
the factor is that of the blended spread's degrees of freedom (Welch–Satterthwaite), not
that of the arm's own two or three audits (:data:`bandit.estimate.POOLED_UPPER_DF`)."""
import numpy as np
from scipy import stats

from bandit import estimate
from bandit._estimate_floor import RATIO_TEST, _blend_dof
from bandit.estimate import estimate_regret
from regret_runs import audited_run


def one_arm_run(seed, T=3000, K=6, q=0.0015, p_play=1.0, heavy=False):
    """A policy that plays arm 0 on every round (with probability ``p_play``; the rest of
    the probability spread over the other arms, below the estimator's MIN_PROB so such
    plays do not count), costs that vary threefold along the context ``x`` (uniform in
    [0, 1]) with an arm factor (arm 2 the cheapest, 30 % below arm 0, arm 3 close behind
    it) and 10 % log-normal noise (``heavy``: also one round in twenty at 2.5 × the cost,
    for every arm); every arm audited with probability ``q`` a round — about four audits
    of each arm, the only observations of arms 1–5.  Returns the run's data and its cost
    matrix."""
    rng = np.random.default_rng(seed)
    x = rng.random(T)
    factor = np.array([1.0, 1.2, 0.7, 0.73, 0.85, 1.3])[:K]
    C = 50.0 * (1.0 + 2.0 * x[:, None]) * factor[None] * np.exp(
        0.1 * rng.standard_normal((T, K)))
    if heavy:
        C = C * np.where(rng.random((T, K)) < 0.05, 2.5, 1.0)
    C = np.round(C)
    P = np.full((T, K), (1.0 - p_play) / (K - 1))
    P[:, 0] = p_play
    arm = np.array([rng.choice(K, p=P[t]) for t in range(T)]) if p_play < 1 else \
        np.zeros(T, dtype=int)
    rows = np.arange(T)
    rounds, arms = np.nonzero(rng.random((T, K)) < q)
    return audited_run(C, x, arm, P[rows, arm], rounds, arms, P[rounds, arms], q,
                       randomised=p_play < 1), C


def intervals(seeds, pooled, **kw):
    old = estimate.POOLED_UPPER_DF
    estimate.POOLED_UPPER_DF = pooled
    try:
        out = []
        for seed in seeds:
            data, C = one_arm_run(seed, **kw)
            exact = float(data.paid.sum() - C.sum(axis=0).min())
            bf = estimate_regret(data, seed=seed).best_fixed
            out.append((exact, bf.estimate, bf.low, bf.high))
        return np.array(out)
    finally:
        estimate.POOLED_UPPER_DF = old


def test_pooled_degrees_of_freedom_narrow_the_interval_and_it_still_covers():
    """A deterministic policy (every play observed for sure): arms 1–5 are seen by about
    four audits each, the best two (arms 2 and 3) among them; their residuals' spread is
    the one pooled over all of them, so the blend of an arm's own spread with the pooled
    one has some ten to fifty degrees of freedom, not three.  Over 20 runs the 90 %
    interval covers the exact regret (about +40 % of the best total: the policy plays a
    worse arm) in at least 85 % of the runs both ways, no interval is wider, and the
    median one is at least 5 % narrower (measured: 20 of 20 covered both ways, the median
    half-width 0.87 → 0.77 × the exact regret, the median ratio of the widths 0.90)."""
    before = intervals(range(20), pooled=False)
    after = intervals(range(20), pooled=True)
    for res in (before, after):
        exact, _, low, high = res.T
        assert np.all(exact > 0)
        assert np.mean((low <= exact) & (exact <= high)) >= 0.85
    ratio = (after[:, 3] - after[:, 2]) / (before[:, 3] - before[:, 2])
    assert np.all(ratio <= 1.0 + 1e-9)
    assert np.median(ratio) <= 0.95
    # the point estimate does not move far: the same totals, their weights from draws
    # without Student's factor
    assert np.median(np.abs(after[:, 1] - before[:, 1]) / after[:, 0]) < 0.1


def test_a_randomised_policy_with_known_probabilities_still_covered():
    """The same costs, arm 0 played with probability 0.999 (the others' 0.0002 each, below
    the estimator's MIN_PROB): the 90 % interval covers the exact regret in at least 85 %
    of 20 runs with the pooled degrees of freedom (19 of 20 both ways when measured), and
    without the noise floor of the plays (:data:`bandit.estimate.NOISE_FLOOR`) is nowhere
    wider (with it, one run of 20 is 3 % wider: the floor's wider upper ends let another
    arm's lower end in)."""
    after = intervals(range(20), pooled=True, p_play=0.999)
    exact, _, low, high = after.T
    assert np.mean((low <= exact) & (exact <= high)) >= 0.85
    old = estimate.NOISE_FLOOR
    estimate.NOISE_FLOOR = False
    try:
        before = intervals(range(20), pooled=False, p_play=0.999)
        after = intervals(range(20), pooled=True, p_play=0.999)
    finally:
        estimate.NOISE_FLOOR = old
    assert np.all(after[:, 3] - after[:, 2] <= before[:, 3] - before[:, 2] + 1e-6)


def test_heavy_tails_that_few_audits_miss_still_covered():
    """One round in twenty costs 2.5 × for every arm: three audits of an arm often miss
    them all, and its sample then shows less spread than the pooled one (the variance-ratio
    test keeps the arm's own factor where it is far less) or about as much.  The 90 %
    interval with the pooled degrees of freedom covers the exact regret in at least 85 %
    of 20 runs."""
    res = intervals(range(20), pooled=True, heavy=True)
    exact, _, low, high = res.T
    assert np.mean((low <= exact) & (exact <= high)) >= 0.85


def test_blend_dof_is_welch_satterthwaite_and_the_ratio_test_falls_back():
    """The blend ``(n s² + P s_p²)/(n + P)``'s degrees of freedom against the
    Welch–Satterthwaite formula written out, and the variance-ratio test against scipy's
    F law: an arm whose own spread lies above the law's ``1 − RATIO_TEST`` quantile, or
    that has one sampled entry, keeps its own ``n − 1``; one far below the pooled spread
    takes the blend's (the blend then overstates its spread)."""
    n = np.array([2.0, 3.0, 5.0, 3.0, 3.0, 1.0])
    var = np.array([1.2, 0.5, 2.0, 1e-4, 50.0, 0.0])
    pv = np.ones(6)
    P, N = 5.0, 60.0
    count = np.array([2, 3, 5, 3, 3, 1])
    got = _blend_dof(n, var, P, pv, N, count)
    own = np.maximum(n - 1, 1)
    a, b = n / (n + P), P / (n + P)
    ws = (a * var + b * pv) ** 2 / ((a * var) ** 2 / own + (b * pv) ** 2 / (N - 1))
    hi = stats.f.ppf(1 - RATIO_TEST, own, N - 1)
    agree = (var <= hi) & (count >= 2)
    assert agree.tolist() == [True, True, True, True, False, False]
    expect = np.where(agree, np.maximum(ws, own), own)
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    assert got[3] > 50  # the pooled entries' degrees of freedom, nearly all of them
    # never fewer degrees of freedom than the arm's own, so never a larger factor
    assert np.all(got >= own)
