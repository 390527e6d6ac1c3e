"""The doubly robust column totals of :mod:`bandit.estimate` without their intervals: the
cross-fitted cost model (:func:`_model`), the checkpoints of the per-round curves, the
bootstrap's multipliers, prefix sums and the self-normalised correction (:func:`_hajek`),
the totals themselves (:func:`column_totals`) and the weights of the estimate of their
minimum (:func:`minimum_weights`).  Plain functions of a :class:`~bandit.estimate.RunData`
and arrays; all are imported from :mod:`bandit.estimate`, where the public ones are
documented.
"""
from __future__ import annotations

import math

import numpy as np

from ._observed import inclusion_probabilities
from ._regretdata import RunData
from .costmodel import CostModel


def _checkpoints(T, n=100):
    if T == 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.linspace(0, T, min(n, T) + 1).round().astype(np.int64)[1:])


def _model(data: RunData, t, k, v, folds):
    """Predictions ``m[t, k]`` for every round and arm, cross-fitted over ``folds`` folds of
    blocks of 16 rounds (a round's prediction never uses that round's observations)."""
    model = CostModel(data.x, data.n_arms, order=data.arm_order)
    T = data.T
    m = np.empty((T, data.n_arms))
    fit = np.isfinite(v) & (v < data.fail_cost)  # failures are not costs to extrapolate
    if not fit.any():
        m[:] = np.nan
        return m
    if folds <= 1:
        m[:] = model.predict(model.fit(t[fit], k[fit], v[fit]))
        return m
    fold_of = (np.arange(T) // 16) % folds
    for f in range(folds):
        train = fit & (fold_of[t] != f)
        rows = np.flatnonzero(fold_of == f)
        if rows.size == 0:
            continue
        if not train.any():
            train = fit
        m[rows] = model.predict(model.fit(t[train], k[train], v[train]), rows)
    return m


def _multipliers(rng, shape):
    """Mean 0, variance 1 and skewness 1 (Mammen's two-point law): the error of a sum of
    Horvitz–Thompson terms is skewed like its few large terms."""
    s5 = math.sqrt(5.0)
    lo, hi = -(s5 - 1) / 2, (s5 + 1) / 2
    u = rng.random(shape, dtype=np.float32)
    return np.where(u < (s5 + 1) / (2 * s5), lo, hi)


def _prefix(values, rounds, cols, T, K, cps):
    """``out[c, j] = Σ values`` over terms of column ``j`` with round ``< cps[c]``."""
    dense = np.zeros((T, K))
    np.add.at(dense, (rounds, cols), values)
    return np.cumsum(dense, axis=0)[cps - 1]


def _hajek(num, den, n):
    """``n · num/den`` where ``den > 0``, else 0 (no observation: no correction)."""
    ok = den > 0
    return np.where(ok, n * num / np.where(ok, den, 1.0), 0.0)


def _in_sample(T, folds) -> bool:
    """Whether :func:`_model` fits the rounds it predicts (no fold of 16-round blocks has
    another fold to learn from): its residuals then show none of its error."""
    return folds <= 1 or T <= 16


def column_totals(data: RunData, folds=4) -> np.ndarray:
    """The doubly robust column totals ``Ŝ_k`` of :func:`estimate_regret` (K,), without
    the bootstrap: the cross-fitted model's total, the residuals of the entries observed for
    sure (``π = 1``) on their rounds, and on the other rounds the self-normalised mean
    residual of the sampled entries (weights ``1/π``).  Consistent for ``Σ_t C[t, k]``
    whatever the model (unbiased up to the self-normalisation's ``O(1/n)``).

    Examples
    --------
    >>> d = RunData(paid=np.array([5.0, 4.0]), x=np.zeros(2), arm=np.array([0, 1]),
    ...             p=np.ones(2), played=np.array([5.0, 4.0]), epoch_start=np.array([0]),
    ...             q=np.ones((1, 2)), r=np.zeros(1),
    ...             audits={"round": np.array([0, 1]), "arm": np.array([1, 0]),
    ...                     "row": np.zeros(2, bool), "value": np.array([7.0, 6.0]),
    ...                     "iterations": np.array([7, 6]), "converged": np.ones(2, bool),
    ...                     "budget": np.full(2, 100), "cap": np.full(2, 100),
    ...                     "p": np.zeros(2)}, fail_cost=100.0, n_arms=2)
    >>> column_totals(d).round(6).tolist()      # every entry observed: the exact totals
    [11.0, 11.0]
    """
    T, K = data.T, data.n_arms
    t, k, v, pi = inclusion_probabilities(data)
    m = _model(data, t, k, v, folds) if T else np.zeros((0, K))
    if not np.isfinite(m).all():
        m = np.zeros((T, K))
    d = v - m[t, k]
    sure = pi >= 1.0  # observed for sure: known; the mean correction is for the other rounds
    known = np.bincount(k[sure], d[sure], K)
    u = T - np.bincount(k[sure], minlength=K)
    s = ~sure
    return m.sum(axis=0) + known + _hajek(np.bincount(k[s], d[s] / pi[s], K),
                                          np.bincount(k[s], 1.0 / pi[s], K), u)


def minimum_weights(totals, deviations):
    """Weights of the estimate ``Σ_k w_k Ŝ_k`` of the smallest of ``K`` totals: ``w_k`` is the
    share of draws ``Ŝ + δ`` (``deviations`` δ, one row per draw) in which arm ``k`` has the
    smallest total.

    The smallest estimated total ``min_k Ŝ_k`` is biased low (the arm that looks best is
    more often one whose error is negative); subtracting a bootstrap estimate of that bias
    overcorrects when the arms' errors are large, and does so most when the minimum is
    clear to the eye but not to the draws.  The weighted estimate (D'Eramo, Restelli and
    Nuara, "Estimating the maximum expected value through Gaussian approximation", ICML
    2016, here for a minimum) lies between ``min_k Ŝ_k`` (biased low) and the mean of the
    candidates, and weighs each candidate by how well the minimum is determined: an arm
    that is the smallest in every draw takes all the weight, and there is no correction.

    Examples
    --------
    >>> S = np.array([100.0, 130.0])
    >>> minimum_weights(S, np.array([[1.0, -1.0], [-1.0, 1.0]])).tolist()   # clear minimum
    [1.0, 0.0]
    >>> minimum_weights(S, np.array([[20.0, -20.0], [-20.0, 20.0]])).tolist()  # a tie
    [0.5, 0.5]
    """
    totals = np.asarray(totals, dtype=float)
    deviations = np.asarray(deviations, dtype=float)
    if deviations.shape[0] == 0:
        w = np.zeros(totals.size)
        w[np.argmin(totals)] = 1.0
        return w
    best = np.argmin(totals[None] + deviations, axis=1)
    return np.bincount(best, minlength=totals.size) / deviations.shape[0]
