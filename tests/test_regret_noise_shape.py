"""The noise floor's shape for the upper ends of column totals (:data:`bandit.estimate.NOISE_SHAPE`,
:func:`bandit._estimate_floor._noise_draws`), against exact values: the draws have the
floor's variance and the skew of the plays' residuals, and on a run whose rare dear rounds
the best arm's sampled entries miss (a policy of known probabilities), the interval covers
the exact regret."""
import sys
from pathlib import Path

import numpy as np

from bandit import estimate
from bandit._estimate_floor import _noise_draws, _noise_floor
from bandit.estimate import estimate_regret

sys.path.insert(0, str(Path(__file__).parent))
from test_regret_noise_floor import dear_rounds_run  # noqa: E402


def test_draws_have_the_floors_variance_and_the_residuals_skew():
    """One context bin, plays' relative residuals 0 on 49 rounds in 50 and 10 on the 50th;
    arm 1 sampled on three rounds (π = 0.1, 0.1, 0.05).  The sum
    ``Σ √(1 − π)/π · m · r*`` has the variance ``Σ (1 − π)/π² m² · Var r`` and the skew
    ``Σ a³ μ₃ / (Σ a² σ²)^{3/2}`` of independent draws ``r*``."""
    from bandit.estimate import RunData

    T = 500
    noise = np.where(np.arange(T) % 50 == 0, 10.0, 0.0)
    d = RunData(paid=1.0 + noise, x=np.zeros(T), arm=np.zeros(T, np.int64), p=np.ones(T),
                played=1.0 + noise, epoch_start=np.zeros(1, np.int64),
                q=np.array([[0.0, 0.05]]), r=np.zeros(1),
                audits={c: np.zeros(0) for c in ("round", "arm", "row", "value",
                                                 "iterations", "converged", "budget", "p")},
                fail_cost=1e3, n_arms=2)
    pis = np.array([0.1, 0.1, 0.05])
    mm = np.array([1.0, 2.0, 1.0])
    t = np.r_[np.arange(T), 3, 7, 11]
    k = np.r_[np.zeros(T, np.int64), 1, 1, 1]
    res = np.r_[noise, 0.0, 0.0, 0.0]
    m_obs = np.r_[np.ones(T), mm]
    pi = np.r_[np.ones(T), pis]
    z = _noise_draws(d, t, k, res, m_obs, pi, 2, 200_000, np.random.default_rng(1))
    assert not z[:, 0].any()
    a = np.sqrt(1.0 - pis) / pis * mm
    r = noise  # the plays' relative residuals (predictions 1)
    mu, var = r.mean(), r.var()
    mu3 = np.mean((r - mu) ** 3)
    skew = np.sum(a ** 3) * mu3 / (np.sum(a ** 2) * var) ** 1.5
    assert abs(float(np.mean(z[:, 1] ** 3)) - skew) < 0.05 * skew
    assert abs(float(z[:, 1].std()) - 1.0) < 1e-9
    # the floor is the same sum at the bin's mean square (about 0, not its mean)
    floor = _noise_floor(d, t, k, res, m_obs, pi, 2)[1]
    assert abs(floor - np.sqrt(np.sum(a ** 2) * np.mean(r ** 2))) < 1e-9 * floor


def test_rare_dear_rounds_are_covered():
    """Arm 0 played with probability 0.5 and the others with 0.1 each (the cheapest, arm 2,
    among them), on one round in a hundred every arm costs 60 × more: arm 2's about 300
    plays and 12 audits hit 3 of the 30 dear rounds on average and none in a few runs.  Over
    40 runs the interval misses the exact regret once without the shape (at the regret's
    lower end: the comparator's upper end low), in none with it."""
    out = {}
    old = estimate.NOISE_SHAPE
    try:
        for shape in (True, False):
            estimate.NOISE_SHAPE = shape
            rows = []
            for seed in range(40):
                data, C = dear_rounds_run(seed, p_play=0.5, factor=60.0)
                exact = float(data.paid.sum() - C.sum(axis=0).min())
                bf = estimate_regret(data, seed=seed).best_fixed
                rows.append((exact, bf.low, bf.high))
            out[shape] = np.array(rows)
    finally:
        estimate.NOISE_SHAPE = old
    for shape, r in out.items():
        assert np.all(r[:, 0] <= r[:, 2]), shape  # never above: the lower ends are kept
    assert np.all(out[True][:, 1] <= out[True][:, 0])
    assert np.any(out[False][:, 1] > out[False][:, 0])
    # the comparator's lower ends are kept: the regret's upper end moves only where a higher
    # lowest upper end let another arm's lower end in, and then up
    assert np.all(out[True][:, 2] >= out[False][:, 2] - 1e-9 * np.abs(out[False][:, 2]))
