"""The parts of the doubly robust column totals of :mod:`bandit.estimate`: the cross-fitted
cost model (:func:`_model`), the checkpoints of the per-round curves, the bootstrap's
multipliers, prefix sums, the self-normalised correction (:func:`_hajek`) and the weights of
the estimate of the totals' minimum (:func:`minimum_weights`).  Plain functions of a
:class:`~bandit.estimate.RunData` and arrays; all are imported from :mod:`bandit.estimate`,
where the public one is documented.  The totals themselves (``column_totals``) stay there:
they read ``bandit.estimate._model``, which tests replace on that module.
"""
from __future__ import annotations

import math

import numpy as np

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
