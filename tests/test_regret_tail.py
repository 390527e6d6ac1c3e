"""The residual spread pooled over arms weighs the tail of the residuals: an arm whose costs
are within 1 % of the model on most of the rounds its plays avoided and 40 % above it on a
few is known there by its audits, and the error they leave is the tail's, not the bulk's."""
import math

import numpy as np
import pytest

from bandit import estimate
from bandit.estimate import RunData, _pooled_spread, _unreached_floor, inclusion_probabilities


def heavy_tailed_run(seed, T=2000, q=0.03, tail=0.05, big=0.4):
    """A deterministic learner plays arm 0 on the left half of the contexts and arm 1 on the
    right; every arm costs 100 · (1 + ε), ε ~ N(0, 1 %) plus 40 % on 5 % of the rounds (the
    rounds' relative residuals have a robust spread of about 1 % and a
    standard deviation of 8.8 %); column audits draw each arm with probability ``q`` on
    the rounds it was not played (about 30 of arm 0 on the right half)."""
    rng = np.random.default_rng(seed)
    K = 3
    x = rng.uniform(0, 1, T)
    eps = 0.01 * rng.standard_normal((T, K)) + big * (rng.random((T, K)) < tail)
    C = 100.0 * (1.0 + eps)
    arm = np.where(x < 0.5, 0, 1)
    # every audit converged, within caps and budgets far above its cost
    rounds, arms = np.nonzero((rng.random((T, K)) < q) & (np.arange(K)[None] != arm[:, None]))
    value = C[rounds, arms]
    audits = dict(round=rounds, arm=arms, value=value, iterations=np.round(value),
                  row=value < 0, converged=value > 0, p=0 * value,
                  budget=np.full(value.size, 10_000), cap=np.full(value.size, 10_000))
    played = C[np.arange(T), arm]
    d = RunData(paid=played, x=x, arm=arm, p=np.ones(T), played=played,
                epoch_start=np.array([0]), q=np.full((1, K), q), r=np.zeros(1), audits=audits,
                fail_cost=10_000.0, n_arms=K, arm_order=np.arange(K), randomised=False)
    return d, C


def unreached_coverage(seeds, tail_spread):
    """Share of runs in which arm 0's total over the rounds its plays avoided (the right
    half), estimated from its audits there (the model, 100, plus their mean residual on
    every such round), is within 1.645 × the floor of the exact total."""
    old = estimate.TAIL_SPREAD
    estimate.TAIL_SPREAD = tail_spread
    try:
        hits = 0
        for seed in seeds:
            d, C = heavy_tailed_run(seed)
            t, k, v, pi = inclusion_probabilities(d)
            level = np.full(d.n_arms, 100.0)
            f = _unreached_floor(d, t, k, v - 100.0, np.full(t.size, 100.0), level)
            right = d.x >= 0.5
            seen = (k == 0) & right[t]
            est = right.sum() * (100.0 + np.mean(v[seen] - 100.0))
            hits += abs(est - C[right, 0].sum()) <= 1.6448536269514722 * f[0]
    finally:
        estimate.TAIL_SPREAD = old
    return hits / len(seeds)


def test_the_floor_of_the_contexts_an_arms_plays_avoided_covers_a_heavy_tailed_total():
    """With 30 audits where its plays never went, arm 0's total there has an error of
    1000 rounds × 8.8 / √30 ≈ 1,600 (the tail's spread); a robust spread of the pooled
    residuals (1 %, blended with the 10 % prior error: about 3 %) implied a third of it
    and the interval covered the exact total in 42 % of the runs (92 % now).  The root mean
    square of the pooled residuals sees the tail, as the level says."""
    seeds = range(60)
    assert unreached_coverage(seeds, tail_spread=True) >= 0.85
    assert unreached_coverage(seeds, tail_spread=False) < 0.75  # the previous spread


def test_pooled_spread_against_numpy_on_a_heavy_tailed_sample():
    """The root mean square about the mean (numpy's population standard deviation) with
    the tail, the robust spread (1.4826 × the median absolute deviation) without it."""
    rng = np.random.default_rng(0)
    rel = 0.01 * rng.standard_normal(4000) + 0.4 * (rng.random(4000) < 0.05)
    assert _pooled_spread(rel) == pytest.approx(float(np.std(rel)), rel=1e-12)
    assert _pooled_spread(rel) == pytest.approx(math.sqrt(0.01 ** 2 + 0.4 ** 2 * 0.05 * 0.95),
                                                rel=0.1)
    old = estimate.TAIL_SPREAD
    estimate.TAIL_SPREAD = False
    try:
        mad = 1.4826 * float(np.median(np.abs(rel - np.median(rel))))
        assert _pooled_spread(rel) == pytest.approx(mad, rel=1e-12)
        assert _pooled_spread(rel) < 0.02  # the bulk alone
    finally:
        estimate.TAIL_SPREAD = old
    assert _pooled_spread(np.zeros(0)) == 0.0
