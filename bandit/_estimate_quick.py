"""The quick estimate of :mod:`bandit.estimate` (:func:`quick_totals`): column totals from one
model fit with normal errors instead of a bootstrap, for planning audits
(:class:`bandit.audit.Auditor`; the progress bar shows the report's estimate, not this one),
and the per-arm shares it reports
(the rounds the guard would stop an arm on, the rounds its plays can observe it on).
Imported from :mod:`bandit.estimate`.
"""
from __future__ import annotations

import math

import numpy as np

from ._estimate_floor import _error_floor
from ._observed import MIN_PROB, inclusion_probabilities
from ._regretdata import RunData
from ._student import _small_sample
from .costmodel import CostModel


def _censored_rounds(data: RunData):
    """Per arm, the estimated number of rounds on which the guard would stop it (cost above
    its cap) — its plays that were stopped, each standing for ``1/p`` rounds; its plays
    tell nothing there, only audits do — and the typical cost there (the root mean square
    of what those rounds paid, at least the cap)."""
    cens = ~np.isfinite(data.played)
    p = np.where(np.isfinite(data.p) & (data.p > 0), data.p, 1.0)
    K = data.n_arms
    count = np.bincount(data.arm[cens], 1.0 / p[cens], K)
    n = np.bincount(data.arm[cens], minlength=K)
    scale = np.sqrt(np.bincount(data.arm[cens], data.paid[cens] ** 2, K) / np.maximum(n, 1))
    return count, scale


def _reach(data: RunData):
    """Per arm, the share of rounds on which a play of it counts as an observation (its
    probability at least :data:`MIN_PROB` with audits): ``Σ 1/p`` over its plays that count
    estimates that number of rounds without bias.  On the other rounds — for a contextual
    learner, the contexts where the arm is poor — only audits can observe it."""
    if data.T == 0:
        return np.zeros(data.n_arms)
    tau = MIN_PROB if data.epoch_start.size else 0.0
    p = np.where(np.isfinite(data.p), data.p, 1.0)
    ok = np.isfinite(data.played) & (p >= tau) & (p > 0)
    R = np.bincount(data.arm[ok], 1.0 / p[ok], data.n_arms)
    return np.clip(R / data.T, 0.0, 1.0)


def _censored_share(data: RunData):
    """Per arm, the share of its cost paid on rounds where the guard would stop it (at
    least: what those rounds paid, against the cost of its observed plays), both counted
    ``1/p`` times."""
    count, scale = _censored_rounds(data)
    seen = np.isfinite(data.played)
    p = np.where(np.isfinite(data.p) & (data.p > 0), data.p, 1.0)
    mass = np.bincount(data.arm[seen], data.played[seen] / p[seen], data.n_arms)
    stopped = count * scale
    return np.where(stopped > 0, stopped / np.maximum(stopped + mass, 1e-300), 0.0)


#: Knots of the quick estimate's cost model (the report's model has 24).  With the unknowns
#: ordered arm by arm the fit's band is 2 × knots wide, so fewer knots make a plan cheaper,
#: but six (measured on heat2d, where plans run) planned worse audits: wider intervals for
#: three of five learners.
PLAN_KNOTS = 12


def quick_totals(data: RunData, draws=256) -> dict:
    """A cheap estimate for planning audits: the column totals of
    :func:`estimate_regret` from one model fit (column sums over grouped rounds, residuals
    of the observed entries cross-fitted over 2 folds) with normal errors instead of a
    bootstrap.

    Returns
    -------
    dict
        ``S`` (K,) column totals and ``V`` (K,) their variances (the larger of the
        linearised Horvitz–Thompson variance and the pooled-spread floor), ``regret``
        (``Σ paid − max(min S, 0)``: at most what was paid) and ``at_bound`` (``min S < 0``:
        the regret is that bound, not an estimate), ``p_best`` (K,) the share of normal draws in which each arm has
        the smallest total, ``mean_cost`` (K,) the model's mean cost per round,
        ``played_share`` (K,) how often each arm was played and observed, ``row_cost``
        the expected cost of a row audit (every other arm capped at the round's minimum),
        ``sigma`` (K,) the spread of each arm's residuals (shrunk towards the pooled one),
        ``censored_share`` (K,) the estimated share of rounds on which the guard stops
        the arm (:func:`_censored_rounds`), and ``reach`` (K,) the share of rounds on which
        the policy's plays could observe the arm (:func:`_reach`).
    """
    T, K = data.T, data.n_arms
    t, k, v, pi = inclusion_probabilities(data)
    fit = np.isfinite(v) & (v < data.fail_cost)
    if T == 0 or not fit.any():
        nan = np.full(K, np.nan)
        return {"S": nan, "V": nan, "regret": math.nan, "at_bound": False,
                "p_best": np.full(K, 1.0 / K),
                "mean_cost": nan, "played_share": np.zeros(K), "row_cost": math.nan,
                "sigma": nan}
    model = CostModel(data.x, K, order=data.arm_order, knots=PLAN_KNOTS)
    # residuals of the observed entries, each from the fit on the other half of the rounds;
    # column sums from the mean of the two fits
    m_obs = np.empty(t.size)
    half = (t // 16) % 2
    thetas = []
    for f in (0, 1):
        train = fit & (half != f)
        thetas.append(model.fit(t[train if train.any() else fit], k[train if train.any() else fit],
                                v[train if train.any() else fit]))
        sel = half == f
        m_obs[sel] = model.predict_at(thetas[-1], t[sel], k[sel])
    counts, pred = model.grouped(0.5 * (thetas[0] + thetas[1]))
    col = counts @ pred  # Σ_t m_tk
    d = v - m_obs
    num = np.bincount(k, d / pi, K)
    den = np.bincount(k, 1.0 / pi, K)
    mean = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    S = col + T * mean
    lin = (d - mean[k]) / pi
    V = T ** 2 * np.bincount(k, lin * lin * np.clip(1.0 - pi, 0.0, 1.0), K) / np.maximum(
        den, 1.0) ** 2
    spread = np.sqrt(np.clip(1.0 - pi, 0.0, 1.0)) / pi
    level = np.sqrt((counts @ (pred * pred)) / T)
    floor_sd, sigma, _, _ = _error_floor(d, m_obs, pi, spread, k, K, T, level)
    V = np.maximum(V, floor_sd ** 2) * _small_sample(spread, k, K) ** 2
    rng = np.random.default_rng(T)  # a function of the data: planning is reproducible
    z = S[None] + rng.standard_normal((draws, K)) * np.sqrt(V)[None]
    p_best = np.bincount(np.argmin(z, axis=1), minlength=K) / draws
    played = np.isfinite(data.played)
    share = np.bincount(data.arm[played], minlength=K) / T
    row = float(counts @ pred.min(axis=1)) * (K - 1) / T
    # no arm costs less than 0, so the regret is at most what was paid: a column total below
    # 0 (residuals of a few audits of tiny probability) had made the bar show more
    low = float(S.min())
    return {"S": S, "V": V, "regret": float(data.paid.sum() - max(low, 0.0)),
            "at_bound": low < 0.0, "p_best": p_best,
            "mean_cost": col / T, "played_share": share, "row_cost": row,
            "sigma": sigma, "censored_share": _censored_share(data), "reach": _reach(data)}
