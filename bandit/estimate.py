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

This module holds the estimator (:func:`estimate_regret`), its bootstrap of the column
totals, the totals without it (:func:`column_totals`) and every function that reads one of
its switches (``TAIL_SPREAD``, ``UNREACHED_DF`` and the others) or ``_model`` (which tests
replace), all set on this module; the rest is kept in private modules and imported from
here: the parts of the totals (``bandit/_estimate_totals.py``), the floors of their errors
(``bandit/_estimate_floor.py``), the quick estimate that plans audits
(``bandit/_estimate_quick.py``), the observed entries and their probabilities
(``bandit/_observed.py``), Student's factors (``bandit/_student.py``) and the reports of
special cases (``bandit/_estimate_report.py``).
"""
from __future__ import annotations

import math
import numbers
import time

import numpy as np

from ._base import count_of  # noqa: F401 - re-exported
from ._estimate_report import (_exact_report, _fmt_fail, _method_bf, _never_converged,
                               _undefined)
from ._estimate_totals import (_checkpoints, _hajek, _in_sample, _model, _multipliers,
                               _prefix, minimum_weights)
from ._observed import (MIN_PROB, _all_observed, _audit_probs,  # noqa: F401 - re-exported
                        _completion_probs, _converged_counts, _epoch_of, _lower_caps,
                        _observable, _stopped_runs, inclusion_probabilities)
from ._regretdata import RegretEstimate, RegretReport, RunData, format_interval
from ._student import _T95, _small_sample, _t95, student_factor  # noqa: F401 - re-exported
from .audit import COMPLETE, completion_probability  # noqa: F401 - re-exported
from .costmodel import CostModel

__all__ = ["RunData", "CostModel", "RegretEstimate", "RegretReport", "estimate_regret",
           "inclusion_probabilities", "column_totals", "minimum_weights", "format_interval",
           "running_total"]


#: Row audits needed before the instance-optimal estimate gets an interval.
MIN_ROWS = 10
#: Whether an arm's plays show the spread of its residuals on the unplayed rounds of the
#: context bins they cover, and the rounds observed with probability ≥ LIKELY_PI are left out of
#: those a few sampled entries stand for (:func:`_play_spread`, :func:`_error_floor`); False
#: is the estimator before it (``relaxtune bench regret --compare`` measured both then).
PLAYS_SHOW_SPREAD = True
#: Whether a column total's error is at least the Horvitz–Thompson error of its sampled
#: entries at the noise the plays of every arm show about the model in each context bin
#: (:func:`_noise_floor`), rather than at the entries' own residuals alone: where a few rare
#: rounds hold most of the residuals' square, an arm's few audits miss them and its draws
#: show no error.  False is the estimator before it (``relaxtune bench regret --compare``
#: measures both).
NOISE_FLOOR = True
#: Whether an arm audited in full takes the larger of two lower ends of its total — the
#: two-sided total's and that of its costs capped at :data:`bandit.audit.CAP_FACTOR` × what
#: the round paid (a lower bound of it), both at one quantile of the larger of their two
#: deviations in the same bootstrap draws; False is the estimator before it (``relaxtune
#: bench regret --compare`` measured both then).
CAPPED_LOWER_ENDS = True


# --- the estimator ---------------------------------------------------------------------------
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
        floor_sd, _, _, covered, blend_df = _error_floor(d, m[t, k], pi, spread, k, K, T,
                                                         level, share=share, cover=cover,
                                                         dof=True)
        # the contexts a contextual policy's plays never reached are seen by the audits
        # alone, about once: the error there, not the plays' spread, bounds the total's
        unreached, n_pooled = _unreached_floor(data, t, k, d, m[t, k], level, share, dof=True)
        # the rounds' own noise about their context's mean, as every arm's plays show it
        # (they see each round): what an arm's few sampled entries can have missed
        noise = np.zeros(K)
        if NOISE_FLOOR:
            den = self.den[-1]
            noise = np.where(den > 0, self.U[-1] / np.where(den > 0, den, 1.0), 0.0) * \
                _noise_floor(data, t, k, d, m[t, k], pi, K)
        err_sd = floor_sd
        quiet = np.maximum(floor_sd, unreached)  # the floor without the noise
        floor_sd = np.maximum(quiet, noise)
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
        # the error without the noise floor over the error with it (the lower ends' share)
        below = np.maximum(boot_sd, quiet) / np.maximum(np.maximum(boot_sd, floor_sd), 1e-300)
        if POOLED_UPPER_DF:
            # the floor from the residual spread rests on the arm's entries shrunk towards
            # the spread pooled over every arm: where the arm's own spread agrees with the
            # pooled one, Student's factor for the blend's degrees of freedom (mostly the
            # pooled entries'), not for the arm's two or three; the bootstrap's error, which
            # is the arm's own entries alone, keeps the arm's own factor
            f_blend = student_factor(np.maximum(blend_df, 1.0))
            if cover is not None:
                f_blend = np.sqrt(covered * plays ** 2 + (1.0 - covered) * f_blend ** 2)
            f_blend = np.minimum(f_blend, student)
            f_unr = student
            if UNREACHED_DF and n_pooled >= UNREACHED_POOL_MIN:
                pooled = float(student_factor(np.array([n_pooled - 1.0]))[0])
                f_unr = np.minimum(pooled, student)
            # (the noise floor rests on every arm's plays, hundreds a context bin: no factor)
            before = np.maximum(np.maximum(student * boot_sd, f_blend * err_sd),
                                f_unr * unreached)
            target = np.maximum(before, noise)
            student = np.where(flat, student,
                               target / np.maximum(np.maximum(boot_sd, floor_sd), 1e-300))
            below = np.where(flat, quiet / np.maximum(floor_sd, 1e-300),
                             before / np.maximum(target, 1e-300))
        elif UNREACHED_DF and n_pooled >= UNREACHED_POOL_MIN:
            # the floor of the contexts the plays avoided rests on the spread pooled over
            # the audited entries of every arm, not on the arm's own few entries: where it
            # sets the error, Student's factor for the pooled entries' degrees of freedom
            # (the arm's own error keeps the arm's own factor; never more than before)
            pooled = float(student_factor(np.array([n_pooled - 1.0]))[0])
            own = student * np.maximum(boot_sd, err_sd)
            big = np.maximum(own, np.minimum(pooled, student) * unreached)
            student = np.where(unreached > np.maximum(boot_sd, err_sd),
                               big / np.maximum(floor_sd, 1e-300), student)
        self.student = student
        # the parts of the error, kept for the benchmark's decomposition of the width
        self.parts = {"boot": boot_sd, "floor": err_sd, "unreached": unreached,
                      "noise": noise, "flat": flat}
        self.inflate = self.student * np.maximum(
            1.0, floor_sd / np.maximum(boot_sd, 1e-300))
        self._flat = flat
        self.S_end = self.S[-1][None] + self.inflate[None] * dev
        self.sd = np.maximum(self.S_end.std(axis=0), 1e-12 * np.abs(self.S[-1]) + 1e-300)
        # the lower end of a total: Student's factor (for the spread its few sampled entries
        # show) is what holds an upper end whose few audits missed the rare dear rounds;
        # a lower end fails only when the total came out too high — an audit that hit such
        # a round, which the sample's spread then shows
        # The same holds for the noise floor: it stands for the dear rounds the sampled
        # entries missed, which leave a total too low; the lower end keeps the error
        # without it (``below``: that error over the one with it)
        low_student = _lower_student(self.student, spread, k, K)
        self.low_scale = low_student / self.student * np.minimum(below, 1.0)
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
#: Whether the floor of an arm's error from its residual spread (:func:`_error_floor`: the
#: arm's sampled entries shrunk towards the spread pooled over every arm) takes Student's
#: factor for that blend's degrees of freedom (Welch–Satterthwaite, about the pooled
#: entries' number where the pooled part dominates) wherever the arm's own spread agrees
#: with the pooled one by a variance-ratio test (:func:`_blend_dof`), rather than for the
#: arm's own sampled entries; False is the estimator before it (``relaxtune bench regret
#: --compare`` measures both).
POOLED_UPPER_DF = True
#: Audited entries of arms not played on their round needed before their pooled spread's
#: degrees of freedom set the factor (Student's factor for 19 of them is 1.05): with a
#: handful, other arms' residuals say little about how far an arm's model strays on the
#: contexts its plays avoided, and the arm's own factor stays.
UNREACHED_POOL_MIN = 20


#: A dict to receive the parts of the best-fixed interval of the next
#: :func:`estimate_regret` call (``experiments.bench_regret --decompose``), or None.
TRACE = None

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
    # a total is at least its capped part, S_k ≥ L_k: an upper end of S_k centred below the
    # estimate of L_k (a two-sided total whose few audits missed the dear rounds that the
    # capped runs show, or a cost model's extrapolation below 0) is centred at L̂_k instead;
    # never narrower, and with Student's factor of the pooled spread such an arm's upper end
    # had fallen below its own lower end
    S_up = two.S
    if POOLED_UPPER_DF and low_tr is not None and CAPPED_LOWER_ENDS:
        S_up = np.where(full[None], np.maximum(two.S, low_tr.S), two.S)
    neg = -two.dev[:, full & informed]
    cand = np.ones(int(np.sum(full & informed)), dtype=bool)
    c = 0.0
    top = np.inf
    for _ in range(3):  # all arms, then those whose lower end reaches the lowest upper end
        c = float(np.quantile(np.max(neg[:, cand], axis=1), q_end)) if cand.any() else 0.0
        upper = np.where(informed, S_up[-1] + c * two.sd, sure[-1])
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
        high_c = np.minimum(high_c, S_up[:, j] + c * two.prefix_sd(j) if informed[j]
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
        # the comparator is the whole run's arm: its running total is a sum of costs >= 0
        # and cannot decrease, so each checkpoint is at most what every later one says
        # (the last, the estimate, kept); the lower end likewise, which only widens it
        theta = running_total(theta)
        bf_curve = paid_cum - theta
        bf_low = paid_cum - high_c
        bf_high = paid_cum - running_total(low_c)
    else:
        at_bound = False
        bf_curve = paid_cum - running_total(theta_hat)
        bf_low = bf_high = np.full(cps.size, np.nan)
    if TRACE is not None:  # the benchmark's decomposition of the width reads the parts
        TRACE.update(two=two, low_tr=low_tr, upper=upper, low_end=low_end, top=top, c=c,
                     full=full, informed=informed, bare=bare, from_cap=from_cap,
                     S_up=S_up[-1], c_both=c_both, c_two=c_two, sure=sure[-1],
                     low_c=low_c[-1], high_c=high_c[-1], k_hat=k_hat, paid=paid_cum[-1])
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


def running_total(theta) -> np.ndarray:
    """A comparator's running total at the checkpoints, made non-decreasing with its last
    value kept: each checkpoint's at most every later one's (``min`` from the right).

    The regret curve's comparator is the arm of the whole run (as in :func:`bandit.regret`),
    so its running total ``Σ_{t<τ} C[t, k*]`` is a sum of costs ``≥ 0`` and cannot decrease
    from one checkpoint to the next.  The doubly robust prefix totals can (a later sampled
    entry lowers the mean residual that the earlier rounds are corrected by); a later
    checkpoint's estimate is also an estimate of an upper bound of every earlier total, so
    taking the smallest from the right keeps each point an estimate of at least as much
    information and the last point, the report's estimate, as it is.  Applied to the
    interval's lower end of the comparator it only lowers it (wider, still a lower bound).

    Examples
    --------
    >>> running_total(np.array([3.0, 5.0, 4.0, 6.0])).tolist()
    [3.0, 4.0, 4.0, 6.0]
    """
    theta = np.asarray(theta, dtype=float)
    if theta.size == 0:
        return theta.copy()
    # NaN (an undefined comparator) stays NaN: fmin would skip it
    return np.minimum.accumulate(theta[::-1])[::-1]


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


# The floors of a total's error read _pooled_spread (and through it the switch TAIL_SPREAD,
# set on this module), so they are imported once it is defined; the quick estimate uses the
# floors.  Both re-exported: the auditor, the benchmarks and the tests reach them here.
from ._estimate_floor import (LIKELY_PI, PLAY_BIN_MIN, PRIOR_ENTRIES,  # noqa: E402,F401
                              SURE_SPREAD_MIN, _error_floor, _noise_floor, _play_spread,
                              _unreached_floor)
from ._estimate_quick import (PLAN_KNOTS, _censored_rounds, _censored_share,  # noqa: E402,F401
                              _reach, quick_totals)
