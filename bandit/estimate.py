"""Regret of a run whose full cost matrix is unknown: doubly robust estimates with intervals.

A run knows what it paid each round, ``paid_t``, but only some entries ``C[t, k]`` of the cost
matrix (cost of arm ``k`` alone on system ``t``): the arm it played (when its attempt
converged, or failed: then the entry is the failure cost) and the arms an audit ran.  Each entry is observed with a probability known when
the round is played,

``π_tk = 1 − (1 − p_tk·[C_tk ≤ b_tk]) (1 − q_tk)``,

``p_tk`` the policy's probability of playing ``k`` (0 or 1 for a deterministic policy),
``b_tk`` the iteration cap the guard would have given ``k`` (an attempt above it is stopped,
so it is not an observation of ``C_tk``), and ``q_tk`` the audit's probability of running
``k`` (its own coin, drawn after the play).  With a cost model ``m_tk`` fitted on *other*
rounds (cross-fitting), the doubly robust column total

``Ŝ_k = Σ_t m_tk + Σ_{observed (t, k)} (C_tk − m_tk) / π_tk``

is unbiased for ``S_k = Σ_t C_tk`` whatever the model's error (the model only lowers the
variance), and ``Σ_t paid_t − min_k Ŝ_k`` estimates the regret against the best fixed arm
(biased high: the point estimate weighs the candidates' totals by their chance of being the
smallest, :func:`minimum_weights`, among the arms sampled at least twice and the estimated
best).  An arm a column audit stopped at its cap (an arm far from the best, or the budget's
cap on a run the budget had not accrued) is known by a lower bound of its total only.
The instance-optimal comparator ``Σ_t min_k C_tk`` is estimated the same way from row
audits (every arm run on a round, capped at the running minimum), with
``μ_t = min(min_k m_tk, costs observed on round t)`` as the model.

Intervals: a multiplier (wild) bootstrap over rounds draws the estimation error of every
total — each observed term ``(C − m)/π`` times ``√(1 − π)`` times a mean-zero, unit-variance
multiplier shared by the terms of one round — so its variance is the Horvitz–Thompson
variance ``Σ (C − m)² (1 − π)/π²``.  The interval of the minimum ``θ = min_k S_k`` takes
each end at ``1 − α/2``: the lower end ``min_k (Ŝ_k − c_k sd_k)`` from each arm's own
one-sided bootstrap quantile (it lies below ``θ`` whenever the best arm's own bound holds),
the upper end ``min_k (Ŝ_k + c sd_k)`` from the quantile of the largest one-sided deviation
among the arms that could be the minimum (every arm's bound at once).  An arm's error is at
least what its residuals' spread implies for the rounds it was not observed for sure (the
spread its plays show where they cover the context, :func:`_play_spread`; elsewhere its
audits'), and on
the contexts a contextual learner's plays avoided, what the few audits expected there can
tell (:func:`_unreached_floor`).  A regret whose comparator is made of failed runs (no arm
converged, or the best fixed arm only failed) is undefined: NaN, the method says why.  The
instance-optimal estimate and the certain bounds are in :mod:`bandit._optimal`.  Everything
here works on plain arrays (:class:`RunData`); the :class:`bandit.Tuner` builds them from its
history and audits.
"""
from __future__ import annotations

import math
import numbers
import time

import numpy as np

from ._base import count_of  # noqa: F401 - re-exported
from ._estimate_report import (_exact_report, _fmt_fail, _method_bf, _never_converged,
                               _undefined)
from ._observed import (MIN_PROB, _all_observed, _audit_probs, _completion_probs,
                        _converged_counts, _epoch_of, _lower_caps, _observable, _stopped_runs,
                        inclusion_probabilities)
from ._regretdata import RegretEstimate, RegretReport, RunData, format_interval
from ._student import _T95, _small_sample, _t95  # noqa: F401 - re-exported
from .audit import COMPLETE, completion_probability  # noqa: F401 - re-exported
from .costmodel import CostModel

__all__ = ["RunData", "CostModel", "RegretEstimate", "RegretReport", "estimate_regret",
           "inclusion_probabilities", "column_totals", "minimum_weights", "format_interval"]


#: Row audits needed before the instance-optimal estimate gets an interval.
MIN_ROWS = 10
#: An arm with fewer effective sampled entries than this and at least this many observed for
#: sure (a deterministic learner's plays) takes the larger of the two residual spreads
#: (:func:`_error_floor`).
SURE_SPREAD_MIN = 10
#: Whether an arm's plays show the spread of its residuals on the unplayed rounds of the
#: context bins they cover, and the rounds observed with probability ≥ LIKELY_PI are left out of
#: those a few sampled entries stand for (:func:`_play_spread`, :func:`_error_floor`); False
#: is the estimator before it (``relaxtune bench regret --compare`` measured both then).
PLAYS_SHOW_SPREAD = True
#: Whether an arm audited in full takes the larger of two lower ends of its total — the
#: two-sided total's and that of its costs capped at :data:`bandit.audit.CAP_FACTOR` × what
#: the round paid (a lower bound of it), both at one quantile of the larger of their two
#: deviations in the same bootstrap draws; False is the estimator before it (``relaxtune
#: bench regret --compare`` measured both then).
CAPPED_LOWER_ENDS = True


# --- the estimator ---------------------------------------------------------------------------
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


#: Whether the residual spreads pooled over the arms (:func:`_error_floor`,
#: :func:`_unreached_floor`) are root mean squares, which weigh the tail of the relative
#: residuals, rather than robust ones (1.4826 × the median absolute deviation), which do
#: not; False is the estimator before it (``relaxtune bench regret --compare`` measured
#: both then).
TAIL_SPREAD = True


def _pooled_spread(rel):
    """The spread of relative residuals pooled over arms: their root mean square about
    their mean (:data:`TAIL_SPREAD`), else 1.4826 × their median absolute deviation.

    The pooled spread stands for the residuals of the rounds an arm was not observed on,
    and a total's error is a sum over those rounds: its variance is the residuals' mean
    square, tail included.  A robust spread measures the bulk alone — residuals of 1 % on
    nineteen rounds in twenty and of 40 % on the twentieth have a median absolute
    deviation of 0 but a root mean square of about 9 % — so with many audits (Student's factor
    near 1) the interval missed the tail's share of the total.

    Examples
    --------
    >>> rel = np.r_[np.full(95, 0.01), np.full(5, 0.4)]
    >>> round(_pooled_spread(rel), 3)
    0.085
    """
    rel = np.asarray(rel, dtype=float)
    if rel.size == 0:
        return 0.0
    if TAIL_SPREAD:
        return float(np.sqrt(np.mean((rel - rel.mean()) ** 2)))
    return 1.4826 * float(np.median(np.abs(rel - np.median(rel))))


def _error_floor(d, m_obs, pi, spread, k, K, T, level, prior=None, share=None, cover=None):
    """Per arm, the error of the self-normalised correction implied by a residual spread
    ``σ̃_k`` shrunk towards a pooled one: ``U_k · σ̃_k / √max(n_k, 1)`` with ``n_k`` the
    effective number of sampled entries (weights ``√(1 − π)/π``) and ``U_k`` the number of
    rounds not observed for sure (``T`` minus entries with ``π = 1``).

    The pooled spread is relative (the spread of ``residual/prediction`` over every arm's
    entries, :func:`_pooled_spread`) times the arm's typical predicted cost ``level_k``: costs differ by
    orders of magnitude between arms, their relative errors much less.  An arm with fewer
    than :data:`SURE_SPREAD_MIN` sampled entries and at least that many observed for sure
    (a deterministic learner's plays) takes at least the spread of the latter's residuals:
    a few audits can all miss its rare dear rounds.  ``share`` (K,)
    scales it for capped costs: the share of rounds on which the model puts the arm below
    the cap (elsewhere a capped cost is the cap and its residual 0).  ``cover``, the
    output of :func:`_play_spread`: on the share of the unplayed rounds its plays cover
    the spread blends theirs in (weighed by their degrees of freedom), and rounds observed
    with probability ≥ :data:`LIKELY_PI` are not among the ``U_k``.  Returns ``(sd, σ̃,
    pooled relative spread, the share of σ̃² the plays show)``."""
    w = spread
    sampled = w > 0
    sw = np.bincount(k[sampled], w[sampled], K)
    sw2 = np.bincount(k[sampled], w[sampled] ** 2, K)
    n = np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), 0.0)
    mean = np.bincount(k[sampled], w[sampled] * d[sampled], K) / np.maximum(sw, 1e-300)
    var = np.bincount(k[sampled], w[sampled] * (d[sampled] - mean[k[sampled]]) ** 2, K) / \
        np.maximum(sw, 1e-300)
    # the pooled spread comes from the sampled entries (they stand for the unobserved
    # rounds; the played ones the model fits best), blended with a 10 % error while few
    rel = d / np.maximum(np.abs(m_obs), 1e-12 + 1e-3 * np.mean(np.abs(m_obs)) if d.size else 1.0)
    rs = rel[sampled]
    n_pool = float(np.sum(n))
    spread_rel = _pooled_spread(rs)
    pooled_rel = (n_pool * spread_rel + 10.0 * 0.1) / (n_pool + 10.0)
    prior_var = (pooled_rel * level) ** 2 * (np.ones(K) if share is None else share)
    prior = PRIOR_ENTRIES if prior is None else prior
    sig2 = (n * var + prior * prior_var) / (n + prior)
    # an arm's few audits can all miss its rare dear rounds (costs of 3, 12 and 40
    # iterations in turn, with no context to tell them apart: four audits of 3, 3, 4 and
    # 13); the entries observed for sure — a deterministic learner's plays of it, often
    # hundreds — show how far its costs stray from the model, so while it has fewer than
    # SURE_SPREAD_MIN sampled entries their spread bounds the sampled one from below (it
    # can only widen the interval; with more, the sample shows its own spread)
    certain = np.bincount(k[~sampled], minlength=K)
    s_mean = np.bincount(k[~sampled], d[~sampled], K) / np.maximum(certain, 1)
    s_var = np.bincount(k[~sampled], (d[~sampled] - s_mean[k[~sampled]]) ** 2, K) / \
        np.maximum(certain - 1, 1)
    sig2 = np.where((certain >= SURE_SPREAD_MIN) & (n < SURE_SPREAD_MIN),
                    np.maximum(sig2, s_var), sig2)
    covered = np.zeros(K)  # the share of sig2 that the plays show
    if cover is not None:
        # on the unplayed rounds whose context bin the arm's plays cover, their residuals
        # (reweighted to those rounds' bins: :func:`_play_spread`) show the spread, with
        # many more degrees of freedom than a few audits; elsewhere the spread above
        p_var, frac, nu = cover
        mixed = (nu * p_var + n * sig2) / np.maximum(nu + n, 1e-300)
        new = np.where(nu > 0, frac * mixed + (1.0 - frac) * sig2, sig2)
        covered = np.where(nu > 0, frac * mixed / np.maximum(new, 1e-300), 0.0)
        sig2 = new
    unknown = T - certain
    if cover is not None:
        # the rounds the few sampled entries stand for: neither observed for sure nor
        # observed with a probability of at least LIKELY_PI (a contextual policy's plays,
        # p ≈ 0.99: their own Horvitz–Thompson error is in the bootstrap draws, and counting
        # them among the rounds a handful of audits stand for had doubled the floor)
        unknown = unknown - np.bincount(k[sampled & (pi >= LIKELY_PI)], minlength=K)
    sd = unknown * np.sqrt(sig2 / np.maximum(n, 1.0))
    return sd, np.sqrt(sig2), pooled_rel, covered


#: Plays of an arm in a context bin needed before their residuals stand for the arm's
#: unplayed rounds of that bin (:func:`_play_spread`).
PLAY_BIN_MIN = 3
#: Entries observed with at least this probability stand for themselves (a weight 1/π of at
#: most 1.11): a contextual learner's plays, p ≈ 0.99.  They are not among the rounds a few
#: sampled entries stand for in :func:`_error_floor` (their own error is in the bootstrap
#: draws).  At 0.5, the plays of a non-contextual learner's best arm (p ≈ 0.7–0.9) took the
#: floor away, and its bootstrap alone missed an expensive round's worth (Tsallis-INF on the
#: low-variance offsets, seed 11).
LIKELY_PI = 0.9


def _play_spread(data: RunData, t, k, d, K, bins=24):
    """Per arm, the spread of the cost model's residuals on the rounds it was not played,
    from its plays: ``(variance (K,), share of those rounds it covers (K,), degrees of
    freedom (K,))``.

    A policy chooses an arm from the context and its past, never from the round's cost, so
    within a context bin (``bins`` quantile bins of :attr:`RunData.x`) the residual of a
    played round and of an unplayed one come from the same law.  Each play's residual
    (cross-fitted, as every prediction) is weighted by the arm's unplayed rounds of its bin
    over its plays there, so that the plays stand for the unplayed rounds' bins; only
    bins with at least :data:`PLAY_BIN_MIN` plays count (the others, and the bins the plays
    avoided, are seen by audits alone: :func:`_unreached_floor`).  A contextual learner
    plays the best arm on hundreds of rounds spread over its contexts, and audits it a few
    times: the plays show how well the model fits it where it was not played, the audits
    only correct the model's mean there."""
    T = data.T
    x = np.asarray(data.x, dtype=float)
    zero = np.zeros(K)
    if T == 0 or t.size == 0 or not np.all(np.isfinite(x)):
        return zero, zero, zero
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, bins + 1)))
    b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(edges.size - 2, 0))
    nb = int(b.max()) + 1
    play = data.arm[t] == k
    tp, kp, dp = t[play], k[play], d[play]
    cell = b[tp] * K + kp
    n_play = np.bincount(cell, minlength=nb * K).reshape(nb, K)
    n_un = np.bincount(b, minlength=nb)[:, None] - n_play
    cover = n_play >= PLAY_BIN_MIN
    ratio = np.where(cover, n_un / np.maximum(n_play, 1), 0.0)
    w = ratio.ravel()[cell]
    sw = np.bincount(kp, w, K)
    sw2 = np.bincount(kp, w * w, K)
    mean = np.bincount(kp, w * dp, K) / np.maximum(sw, 1e-300)
    var = np.bincount(kp, w * (dp - mean[kp]) ** 2, K) / np.maximum(sw, 1e-300)
    nu = np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), 0.0)
    frac = np.where(cover, n_un, 0).sum(axis=0) / np.maximum(n_un.sum(axis=0), 1)
    return var, frac, nu


class _Track:
    """Doubly robust column totals of one kind of entries (exact costs, or costs capped for
    lower bounds), with their bootstrap.

    ``Ŝ_k(τ) = Σ_{t<τ} m_tk + Σ_sure (C − m) + U·(Σ (C − m)/π)/(Σ 1/π)``: entries observed
    for sure (``π = 1``) replace the model on their rounds, and the other ``U`` rounds before
    ``τ`` get the mean residual of the sampled entries (``π < 1``) of arm ``k`` before ``τ``:
    the correction is self-normalised (Hajek), so one entry with a tiny ``π`` moves a total by
    at most ``U`` times its own residual.  In a bootstrap draw every entry's
    weight ``1/π`` is multiplied by ``1 + ξ·√(1 − π)`` (an entry observed for sure does not
    vary), one multiplier ``ξ`` per round and draw.  The draws cannot show a spread of
    residuals an arm was never seen to have (one audit: no spread at all), so each arm's
    deviations are scaled up to at least the error implied by the residual spread pooled over
    the arms (:func:`_error_floor`), then by Student's factor (:func:`_small_sample`).
    """

    def __init__(self, data, t, k, v, pi, m, cps, X, rng, share=None):
        from scipy import sparse

        T, K = data.T, data.n_arms
        self.cps, self.T = cps, T
        d = v - m[t, k]
        spread = np.sqrt(np.clip(1.0 - pi, 0.0, 1.0)) / pi
        # an entry observed for sure (π = 1: a deterministic policy's play) is known, not a
        # sample: it takes the model's place on its own round; the self-normalised mean
        # correction stands for the other rounds only, from the sampled entries (π < 1)
        sure = spread == 0
        self.base = np.cumsum(m, axis=0)[cps - 1] + _prefix(np.where(sure, d, 0.0), t, k, T, K,
                                                            cps)
        self.U = cps[:, None] - _prefix(sure.astype(float), t, k, T, K, cps)
        self.num = _prefix(np.where(sure, 0.0, d / pi), t, k, T, K, cps)
        self.den = _prefix(np.where(sure, 0.0, 1.0 / pi), t, k, T, K, cps)
        self.S = self.base + _hajek(self.num, self.den, self.U)  # (checkpoints, K)
        nz = spread > 0
        self._t, self._k, self._w, self._dw = t[nz], k[nz], spread[nz], (d * spread)[nz]
        self.X = X
        An = sparse.csr_matrix((self._dw, (self._k, self._t)), shape=(K, T))
        Ad = sparse.csr_matrix((self._w, (self._k, self._t)), shape=(K, T))
        S_end = self.base[-1][None] + _hajek(self.num[-1][None] + (An @ X).T,
                                             self.den[-1][None] + (Ad @ X).T, self.U[-1][None])
        level = np.sqrt(np.mean(m * m, axis=0))
        cover = _play_spread(data, t, k, d, K) if PLAYS_SHOW_SPREAD else None
        floor_sd, _, _, covered = _error_floor(d, m[t, k], pi, spread, k, K, T, level,
                                               share=share, cover=cover)
        # the contexts a contextual policy's plays never reached are seen by the audits
        # alone, about once: the error there, not the plays' spread, bounds the total's
        unreached, n_pooled = _unreached_floor(data, t, k, d, m[t, k], level, share, dof=True)
        err_sd = floor_sd
        floor_sd = np.maximum(floor_sd, unreached)
        boot_sd = S_end.std(axis=0)
        dev = S_end - self.S[-1][None]
        flat = boot_sd <= 1e-6 * floor_sd  # the draws do not vary: normal deviations instead
        floor_sd = np.broadcast_to(floor_sd, (K,))
        if flat.any():
            # of the floor's size, in the cost unit (a unit deviation would be a whole second
            # on solves of microseconds with cost="time")
            dev[:, flat] = rng.standard_normal(
                (X.shape[1], int(flat.sum()))) * floor_sd[flat]
            boot_sd = np.where(flat, floor_sd, boot_sd)
        self._floor = floor_sd
        # Student's factor for the spread the audits alone show, and for the part the
        # plays show (their degrees of freedom added), weighed by their shares of it
        student = _small_sample(spread, k, K)
        if cover is not None:
            plays = _small_sample(spread, k, K, extra=cover[2])
            student = np.sqrt(covered * plays ** 2 + (1.0 - covered) * student ** 2)
        if UNREACHED_DF and n_pooled >= UNREACHED_POOL_MIN:
            # the floor of the contexts the plays avoided rests on the spread pooled over
            # the audited entries of every arm, not on the arm's own few entries: where it
            # sets the error, Student's factor for the pooled entries' degrees of freedom
            # (the arm's own error keeps the arm's own factor; never more than before)
            pooled = float(_t95(np.array([n_pooled - 1.0]))[0]) / 1.6448536269514722
            own = student * np.maximum(boot_sd, err_sd)
            big = np.maximum(own, np.minimum(pooled, student) * unreached)
            student = np.where(unreached > np.maximum(boot_sd, err_sd),
                               big / np.maximum(floor_sd, 1e-300), student)
        self.student = student
        self.inflate = self.student * np.maximum(
            1.0, floor_sd / np.maximum(boot_sd, 1e-300))
        self._flat = flat
        self.S_end = self.S[-1][None] + self.inflate[None] * dev
        self.sd = np.maximum(self.S_end.std(axis=0), 1e-12 * np.abs(self.S[-1]) + 1e-300)
        # the lower end of a total: Student's factor (for the spread its few sampled entries
        # show) is what holds an upper end whose few audits missed the rare dear rounds;
        # a lower end fails only when the total came out too high — an audit that hit such
        # a round, which the sample's spread then shows
        low_student = _lower_student(self.student, spread, k, K)
        self.low_scale = low_student / self.student
        self.sd_low = self.sd * self.low_scale
        # signed standardised deviations of the draws (the bootstrap's picture of Ŝ − S)
        self.dev = (self.S_end - self.S[-1][None]) / self.sd[None]

    def prefix_sd(self, j):
        """Bootstrap error of arm ``j``'s total at every checkpoint."""
        from scipy import sparse

        cps = self.cps
        sel = self._k == j
        blk = np.searchsorted(cps, self._t[sel], side="right")
        shape = (cps.size + 1, self.T)
        Mn = sparse.csr_matrix((self._dw[sel], (blk, self._t[sel])), shape=shape)
        Md = sparse.csr_matrix((self._w[sel], (blk, self._t[sel])), shape=shape)
        pn = self.num[:, j][:, None] + np.cumsum(Mn @ self.X, axis=0)[:cps.size]
        pd = self.den[:, j][:, None] + np.cumsum(Md @ self.X, axis=0)[:cps.size]
        draws = self.base[:, j][:, None] + _hajek(pn, pd, self.U[:, j][:, None])
        if self._flat[j]:  # no variation in the draws: the floor, growing with the rounds
            return self.inflate[j] * self._floor[j] * cps / self.T
        return self.inflate[j] * draws.std(axis=1)

    def prefix_sd_low(self, j):
        """The error of arm ``j``'s total at every checkpoint for its lower end."""
        return self.prefix_sd(j) * self.low_scale[j]


#: Whether the lower end of a column total takes Student's factor for the degrees of
#: freedom of the spread it rests on — the arm's sampled entries plus the pooled prior's
#: weight (:func:`_error_floor`, ``prior=5``) — rather than for the arm's sampled entries
#: alone, which the upper ends keep (:func:`_lower_student`); and the point estimate takes
#: each total at least at its capped part's estimate.  False is the previous estimator
#: (``relaxtune bench regret --compare`` measures both).
POOLED_LOWER_DF = True
#: The pooled prior's weight in an arm's residual spread, in entries (:func:`_error_floor`).
PRIOR_ENTRIES = 5.0


def _lower_student(student, spread, k, K):
    """Per arm, the small-sample factor of the lower end of its total (at most ``student``,
    the upper end's).

    Student's factor for an arm's own few sampled entries is what holds the *upper* end of
    its total: a few audits can all miss its rare dear rounds, the total then comes out too
    low and the sample shows none of the spread that would have said so.  A lower end fails
    the other way — the total came out too high — and that takes a sampled entry from those
    dear rounds, whose residual is then in the sample and in its spread (the bootstrap's
    skewed draws put it on the high side).  What is left uncertain there is the spread
    itself, which is the arm's entries shrunk towards the spread pooled over every arm with
    the weight of :data:`PRIOR_ENTRIES` entries (:func:`_error_floor`): its degrees of
    freedom are the arm's effective entries plus that weight.  The lower end of the
    minimum, ``min_k (Ŝ_k − c_k sd_k)``, is then set less often by a poor arm seen by two
    audits (Student's factor 3.8 for two, 1.3 with the prior's weight)."""
    if not POOLED_LOWER_DF:
        return student
    return np.minimum(student, _small_sample(spread, k, K, extra=np.full(K, PRIOR_ENTRIES)))


#: Whether Student's factor of an arm's error, where the floor of the contexts its plays
#: avoided sets it (:func:`_unreached_floor`), is that of the spread pooled over every
#: arm's audited entries (at least :data:`UNREACHED_POOL_MIN` of them) rather than that of
#: the arm's own sampled entries; False is the estimator before it (``relaxtune bench
#: regret --compare`` measures both).
UNREACHED_DF = True
#: Audited entries of arms not played on their round needed before their pooled spread's
#: degrees of freedom set the factor (Student's factor for 19 of them is 1.05): with a
#: handful, other arms' residuals say little about how far an arm's model strays on the
#: contexts its plays avoided, and the arm's own factor stays.
UNREACHED_POOL_MIN = 20


def _unreached_floor(data: RunData, t, k, d, m_obs, level, share=None, bins=24, dof=False):
    """Per arm, the error of its total on the rounds whose context its plays never reached.

    A contextual policy plays an arm where it looks good: there its plays observe it (with
    the probability ``p`` they had), elsewhere only the column audits can, and there the
    model's prediction is an extrapolation from the contexts where the arm was played.  The
    self-normalised correction pools every entry, so its spread and its effective number of
    entries come from the plays — hundreds of entries, all from the contexts where the arm
    is cheap and the model fits it — while on the ``U_k`` rounds whose context lies in a
    bin (``bins`` quantile bins of :attr:`RunData.x`) that the arm's plays avoided (none
    there, although its plays spread evenly would put three or more there) the audits expect to observe it only ``n_k = Σ q_tk`` times (about once in a run of 5,000
    rounds at a 5 % budget).  That part's error is ``U_k σ_a level_k/√max(n_k, 1)``, with
    ``σ_a`` the spread (:func:`_pooled_spread`) of the relative residuals of the audited entries of arms not
    played on their round (pooled over arms, blended with a 10 % error while few) and
    ``level_k`` the arm's typical predicted cost.  0 without audits (the plays are then the
    only observations, and their probabilities the design).  With ``dof``, also the number
    of audited entries that spread is pooled from (its degrees of freedom, for Student's
    factor: :data:`UNREACHED_DF`)."""
    K, T = data.n_arms, data.T
    e = _epoch_of(data, np.arange(T))
    if e is None or T == 0:
        return (np.zeros(K), 0.0) if dof else np.zeros(K)
    x = np.asarray(data.x, dtype=float)
    p = np.where(np.isfinite(data.p), data.p, 1.0)
    ok = np.isfinite(data.played) & (p >= MIN_PROB) & (p > 0)
    n_plays = np.bincount(data.arm[ok], minlength=K)[:K]
    # each arm's bins as fine as its plays allow: ``bins`` quantile bins, fewer (at least 2)
    # for an arm played fewer than 3 × bins times, so that its plays spread evenly would
    # put about 3 in each (a run of a few hundred rounds plays its arms a few dozen times:
    # with 24 bins no bin of theirs could count as avoided)
    res = np.clip(n_plays // 3, 2, bins)
    out = np.zeros((T, K), dtype=bool)  # rounds each arm's plays did not reach
    for nb_k in np.unique(res[n_plays >= 6]):
        arms = np.flatnonzero((res == nb_k) & (n_plays >= 6))
        edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, nb_k + 1)))
        b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(edges.size - 2, 0))
        nb = int(b.max()) + 1
        plays = np.bincount(b[ok] * K + data.arm[ok], minlength=nb * K).reshape(nb, K)
        # a bin the plays avoided: none there, although the arm's plays spread evenly over
        # the rounds would put at least 3 there (P = e⁻³ by chance); an arm played a few
        # times leaves bins empty by chance, and the model fits them from the neighbouring
        # plays
        even = np.bincount(b, minlength=nb)[:, None] * plays.sum(axis=0)[None] / T
        out[:, arms] = ((plays == 0) & (even >= 3.0))[b][:, arms]
    q = np.where((e >= 0)[:, None], data.q[np.maximum(e, 0)], 0.0)
    U = out.sum(axis=0).astype(float)
    n = (q * out).sum(axis=0)
    other = data.arm[t] != k  # audit observations of arms the round did not play
    rel = d[other] / np.maximum(np.abs(m_obs[other]),
                                1e-12 + 1e-3 * np.mean(np.abs(m_obs)) if d.size else 1.0)
    na = float(rel.size)
    spread = _pooled_spread(rel)
    sig2 = (na * spread ** 2 + 10.0 * 0.1 ** 2) / (na + 10.0)
    if share is not None:
        sig2 = sig2 * share
    out = U * np.sqrt(sig2) * level / np.sqrt(np.maximum(n, 1.0))
    return (out, na) if dof else out


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


def _hajek(num, den, n):
    """``n · num/den`` where ``den > 0``, else 0 (no observation: no correction)."""
    ok = den > 0
    return np.where(ok, n * num / np.where(ok, den, 1.0), 0.0)


#: the largest bootstrap array ``estimate_regret`` makes (rounds × draws × 8 bytes)
_BOOT_BYTES = 2 * 2**30


def estimate_regret(data: RunData, *, level=0.9, n_boot=200, seed=0, folds=4,
                    checkpoints=100, unit="iterations") -> RegretReport:
    """Regret against the best fixed arm and the instance-optimal choice, with intervals.

    Parameters
    ----------
    data : RunData
    level : float
        Confidence level of the intervals (two-sided).
    n_boot : int
        Bootstrap draws.
    seed : int
        Seed of the bootstrap's multipliers (the result is a function of the data and seed).
    folds : int
        Cross-fitting folds of the cost model (blocks of 16 rounds, interleaved).
    checkpoints : int
        Points of the per-round curves.

    Returns
    -------
    RegretReport
    """
    # the instance-optimal estimate and the certain bounds live in bandit._optimal, which
    # builds on this module's observations
    from ._optimal import certain_bound, certain_lower, instance_optimal, sampled_enough

    t0 = time.perf_counter()
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, numbers.Real) or not (
            0.0 < level < 1.0):
        raise ValueError(f"level must be a number strictly between 0 and 1, got {level!r}")
    if isinstance(n_boot, (bool, np.bool_)) or not isinstance(n_boot, numbers.Integral) or (
            n_boot < 10):
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    n_boot = int(n_boot)
    T, K = data.T, data.n_arms
    # the bootstrap holds a rounds × draws array of float64 (several, for the curves): refuse
    # what would not fit rather than ask the allocator for it
    need = 8.0 * max(T, 1) * n_boot
    if need > _BOOT_BYTES:
        raise ValueError(
            f"n_boot={n_boot} draws over {T} rounds would need {need / 2**30:.1f} GiB per "
            f"bootstrap array (at most {_BOOT_BYTES / 2**30:.0f} GiB); a 90 % interval's ends "
            f"are exact to well under its width with a few hundred draws (the default 200)")
    if T == 0:
        empty = np.zeros(0)
        none = [RegretEstimate(c, 0.0, math.nan, math.nan, level, "no rounds yet", False,
                               empty.astype(np.int64), empty, empty, empty)
                for c in ("best_fixed", "instance_optimal")]
        return RegretReport(*none, 0.0, unit, 0, {"report_seconds": time.perf_counter() - t0})
    cps = _checkpoints(T, checkpoints)
    paid_cum = np.cumsum(data.paid)[cps - 1]
    conv = _converged_counts(data)
    if not conv.any():
        # every run failed: no arm's cost of reaching the tolerance is known, and charging
        # each comparator entry the failure cost (maxiter) while the run paid the few
        # iterations its failures took gave regrets of minus millions
        where = 'the 1 round' if T == 1 else f'any of the {T} rounds'
        if data.solved:
            # the fallback chain solved some rounds: "every run failed" was false there
            # (a Tuner with maxiter 1 whose fallback ω = 1 solved a diagonal system)
            rounds = "round that converged did" if data.solved == 1 else \
                "rounds that converged did"
            why = (f"undefined: neither the arm the learner chose nor an audit converged in "
                   f"{where}; the {data.solved} {rounds} so through the fallback chain, whose "
                   "runs are not observations of the arms' costs, so")
        else:
            why = f"undefined: no arm converged in {where} (every run failed), so"
        why += (" no arm's cost of reaching the tolerance is known; the failure cost "
                f"({_fmt_fail(data, unit)} per failed run) is a penalty, not a cost to compare "
                "what the run paid with")
        return RegretReport(*(_undefined(c, why, cps, level) for c in
                              ("best_fixed", "instance_optimal")),
                            float(data.paid.sum()), unit, T,
                            {"report_seconds": time.perf_counter() - t0})
    C = _all_observed(data)
    if C is not None:
        return _exact_report(data, C, cps, paid_cum, level, unit, t0, conv)
    t, k, v, pi = inclusion_probabilities(data)
    m = _model(data, t, k, v, folds)
    have_model = bool(np.isfinite(m).all())
    if not have_model:
        m = np.zeros((T, K))
    rng = np.random.default_rng(seed)
    alpha = (1.0 - level) / 2.0
    # --- best fixed arm ---------------------------------------------------------------------
    X = _multipliers(rng, (T, n_boot))
    two = _Track(data, t, k, v, pi, m, cps, X, rng)
    full = data.full.all(axis=0) if data.full is not None and data.full.size else np.ones(K, bool)
    # an arm a column audit stopped at its cap (the budget's, when the budget had not accrued
    # its full run) is known by lower bounds only: its costs above the caps could not be
    # observed, so a two-sided total would leave them out and make it look cheaper than it is
    full = full & ~_stopped_runs(data)
    # two-sided totals Ŝ_k for arms audited in full in every epoch; lower bounds L_k ≤ S_k
    # (costs capped at cap_t, the audits of the other arms) for the rest
    from_cap = ~full
    low_tr = None
    if from_cap.any() or CAPPED_LOWER_ENDS:
        tl, kl, vl, pil = inclusion_probabilities(data, lower=True)
        cap_all = _lower_caps(data)[:, None]
        below = np.mean(m < cap_all, axis=0)  # where a capped cost tells anything
        low_tr = _Track(data, tl, kl, vl, pil, np.minimum(m, cap_all), cps, X, rng,
                        share=np.maximum(below, 0.01))
    # the minimum θ = min_k S_k of K noisy totals, each end at 1 − α/2:
    # * lower end min_k (Ŝ_k − c_k sd_k), c_k arm k's own one-sided bootstrap quantile: it is
    #   at most Ŝ_k* − c_k* sd_k* ≤ S_k* = θ whenever the best arm's own bound holds, so no
    #   correction for the number of arms is needed;
    # * upper end min_k (Ŝ_k + c sd_k) ≥ θ needs every candidate's bound at once: c is the
    #   quantile of the largest one-sided deviation among the arms that could be the minimum
    #   (those whose lower end reaches the lowest upper end).
    q_end = 1.0 - alpha
    c_two = np.quantile(two.dev, q_end, axis=0)
    low_end = two.S[-1] - c_two * two.sd_low
    c_both = None
    if low_tr is not None:
        c_cap = np.quantile(low_tr.dev, q_end, axis=0)
        low_end = np.where(from_cap, low_tr.S[-1] - c_cap * low_tr.sd_low, low_end)
    if low_tr is not None and CAPPED_LOWER_ENDS:
        # an arm audited in full has two lower bounds of its total S_k: the two-sided total's
        # lower end, and the lower end of its capped total L_k = Σ min(C, cap_t) ≤ S_k, whose
        # spread is that of costs cut at 3 × what the round paid (a poor arm's dear rounds,
        # which a few audits see or miss by chance, no longer widen it).  The larger of the
        # two, each at the quantile c of the larger of the arm's two standardised deviations
        # in the same draws, is above S_k only when one of them deviates by more than c: at
        # most α/2, as for one bound
        c_both = np.quantile(np.maximum(two.dev, low_tr.dev), q_end, axis=0)
        low_end = np.where(from_cap, low_end, np.maximum(two.S[-1] - c_both * two.sd_low,
                                                         low_tr.S[-1] - c_both * low_tr.sd_low))
    # arms sampled fewer than twice take the certain upper bound (bandit._optimal)
    informed = sampled_enough(two._k, K)
    sure = certain_bound(data, t, k, v, cps)  # (checkpoints, K)
    # a run shorter than the cross-fitting's blocks fits the cost model on the very rounds it
    # predicts: its residuals are ~0, so neither the bootstrap nor the floor sees its error,
    # and an arm sampled fewer than twice has a total that is the model's extrapolation from
    # another arm (1 round of SSOR-PCG: every ω put at the played ω = 1's 32 iterations, the
    # best ω took 21; the interval [0, 6] missed the exact regret 11).  Its lower end is then
    # the certain one: its observed costs and 0 on every other round
    bare = _in_sample(T, folds) & ~informed
    floor_c = certain_lower(data, t, k, v, cps) if bare.any() else None
    if bare.any():
        low_end = np.where(bare, floor_c[-1], low_end)
    neg = -two.dev[:, full & informed]
    cand = np.ones(int(np.sum(full & informed)), dtype=bool)
    c = 0.0
    top = np.inf
    for _ in range(3):  # all arms, then those whose lower end reaches the lowest upper end
        c = float(np.quantile(np.max(neg[:, cand], axis=1), q_end)) if cand.any() else 0.0
        upper = np.where(informed, two.S[-1] + c * two.sd, sure[-1])
        top = float(np.min(upper[full])) if full.any() else np.inf
        cand = low_end[full & informed] <= top
    # an arm's lower end is at most its upper end: an arm observed for sure on every round
    # (no error) has both at its total, and rounding must not put its lower end above the
    # lowest upper end, which would leave no arm to take the ends from
    low_end = np.where(full, np.minimum(low_end, upper), low_end)
    # the estimated best fixed arm is one with an exact observation when there is one: the
    # total of an arm never observed is the cost model's extrapolation alone (fitted on two
    # played arms, it puts ω = 1 at their cost), which no residual corrects
    seen = full & (np.bincount(k, minlength=K) > 0)
    pick = seen if seen.any() else full
    k_hat = int(np.flatnonzero(pick)[np.argmin(two.S[-1][pick])]) if pick.any() else -1
    low_c = np.full(cps.size, np.inf)
    high_c = np.full(cps.size, np.inf)
    for j in np.flatnonzero(low_end <= top):  # the arms whose lower end reaches the upper end
        if bare[j]:
            low_c = np.minimum(low_c, floor_c[:, j])
        elif from_cap[j]:
            low_c = np.minimum(low_c, low_tr.S[:, j] - c_cap[j] * low_tr.prefix_sd_low(j))
        elif c_both is not None:
            low_c = np.minimum(low_c, np.maximum(
                two.S[:, j] - c_both[j] * two.prefix_sd_low(j),
                low_tr.S[:, j] - c_both[j] * low_tr.prefix_sd_low(j)))
        else:
            low_c = np.minimum(low_c, two.S[:, j] - c_two[j] * two.prefix_sd_low(j))
    cf = np.flatnonzero(full & (low_end <= top))
    for j in cf:
        high_c = np.minimum(high_c, two.S[:, j] + c * two.prefix_sd(j) if informed[j]
                            else sure[:, j])
    # costs are >= 0, so is every column total: a model far off (costs that drop to 0) can
    # push a doubly robust total below it, never the comparator (the regret is at most paid)
    low_c = np.maximum(low_c, 0.0)
    high_c = np.maximum(high_c, 0.0)
    theta_hat = np.maximum(two.S[:, k_hat], 0.0) if k_hat >= 0 else np.full(cps.size, np.nan)
    unbiased_bf = have_model and _observable(data)
    if unbiased_bf and k_hat >= 0:
        # the smallest total is biased low; the point estimate weighs the candidates' totals
        # by their chance of being the smallest (in draws without Student's factor, which
        # widens the interval but is no part of the totals' error), among the arms whose
        # error the draws describe: an arm sampled fewer than twice has a total from the
        # cost model and deviations of a pooled error widened by Student's factor for one
        # observation — wide and symmetric, a device for the interval's width, in which a
        # dear arm is the smallest in many draws (the estimated best arm always takes part)
        cw = cf[informed[cf] | (cf == k_hat)]
        # a total is at least its part below the caps, L_k ≤ S_k: a two-sided total
        # estimated below the capped one is known to be low (its few audits missed the
        # dear rounds that the capped runs show), and the interval's lower end says so
        S_pt = two.S
        if low_tr is not None and CAPPED_LOWER_ENDS and POOLED_LOWER_DF:
            S_pt = np.where(full[None], np.maximum(two.S, low_tr.S), two.S)
        w = minimum_weights(S_pt[-1][cw], (two.S_end[:, cw] - two.S[-1][cw][None])
                            / two.student[cw][None]) if cw.size else np.zeros(0)
        theta = S_pt[:, cw] @ w if cw.size else theta_hat
        # a weighted total below 0 is a total no arm can have: a few audits of tiny
        # probability (residuals divided by π ≈ 0.002) outweighed the model; clipped, the
        # point estimate would say the comparator costs nothing and the regret is all that
        # was paid — the report says so instead of presenting it as an estimate
        at_bound = bool(cw.size) and bool(paid_cum[-1] > 0) and bool(theta[-1] < 0.0)
        theta = np.clip(theta, low_c, high_c)
        bf_curve = paid_cum - theta
        bf_low = paid_cum - high_c
        bf_high = paid_cum - low_c
    else:
        at_bound = False
        bf_curve = paid_cum - theta_hat
        bf_low = bf_high = np.full(cps.size, np.nan)
    failed = np.bincount(k[v >= data.fail_cost], minlength=K)  # runs that failed in full
    if k_hat >= 0 and failed[k_hat] and not conv[k_hat]:
        # its observed entries are all the failure cost, a penalty (an arm stopped by the
        # guard did not fail: its cost is above the cap; an arm never run is the model's
        # guess, labelled as such by the method)
        bf = _undefined("best_fixed", _never_converged(data, k_hat, failed[k_hat], unit), cps,
                        level, k_hat)
    else:
        bf = RegretEstimate("best_fixed", float(bf_curve[-1]), float(bf_low[-1]),
                            float(bf_high[-1]), level,
                            _method_bf(data, unbiased_bf, have_model, n_boot,
                                       int(np.sum(~informed[cf])), at_bound,
                                       int(np.sum(bare))), unbiased_bf,
                            cps, bf_curve, bf_low, bf_high, k_hat, at_bound)
    io = instance_optimal(data, t, k, v, m, have_model, cps, paid_cum, rng, alpha, level,
                          n_boot)
    return RegretReport(bf, io, float(data.paid.sum()), unit, T,
                        {"report_seconds": time.perf_counter() - t0})


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


def __getattr__(name):
    # the certain interval's ends live together in bandit._optimal (which imports this
    # module); ``bandit.estimate.certain_bound`` and ``certain_lower`` keep working
    if name in ("certain_bound", "certain_lower"):
        from . import _optimal

        return getattr(_optimal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _in_sample(T, folds) -> bool:
    """Whether :func:`_model` fits the rounds it predicts (no fold of 16-round blocks has
    another fold to learn from): its residuals then show none of its error."""
    return folds <= 1 or T <= 16


#: Knots of the quick estimate's cost model (the report's model has 24).  With the unknowns
#: ordered arm by arm the fit's band is 2 × knots wide, so fewer knots make a plan cheaper,
#: but six (measured on heat2d, where plans run) planned worse audits: wider intervals for
#: three of five learners.
PLAN_KNOTS = 12


def quick_totals(data: RunData, draws=256) -> dict:
    """A cheap estimate for planning audits and for progress bars: the column totals of
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
