"""Audits by need (the switch :data:`bandit.audit.BY_NEED`): column-audit probabilities per
context bin, so that each arm is audited where its plays do not observe it.

A contextual learner plays an arm where it looks good; there its plays observe it, and
elsewhere only column audits can.  The error of an arm's total is mostly on those other
contexts (:func:`bandit.estimate._unreached_floor`: the contexts its plays avoided are seen
by about one audit in a run at a 5 % budget when the audits do not depend on the context).
Here each epoch's per-arm probability ``q_k`` (whatever rule set it: a plan, the anchor,
an even spread) is shared out over :data:`NEED_BINS` quantile bins of the context's first
coordinate, in proportion to what an audit there is worth: weight 1 in a bin the arm's
plays do not cover (fewer than :data:`PLAY_MIN` plays there), :data:`COVERED_NEED` in one
they do, times the square root of the bin's cost level (what its rounds paid), each arm
keeping what its audits are expected to spend and a floor :data:`NEED_FLOOR` of its
probability in every bin (every entry stays observable, and no weight ``1/q`` is far
above the others).

The bins and probabilities are fixed when the epoch starts, from the rounds before it
(:func:`need_bins`), and recorded with it (``Auditor.edges``, ``Auditor.qb``); a round's
probability of auditing arm ``k`` is ``qb[e][context_bin(edges[e], x_t), k]``, a function of
its context and of the past, known to the estimator for every round
(:attr:`bandit.estimate.RunData.qt`).  The draw keeps the geometric skip of the epoch's
largest probability per arm (``q[e]``, the envelope) and thins each drawn arm with
``qb/q`` on the round's bin: each arm is audited with its bin's probability exactly,
independently of the others.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["NEED_BINS", "COVERED_NEED", "NEED_FLOOR", "PLAY_MIN", "context_bin", "coordinate",
           "need_bins", "round_probabilities"]

#: Quantile bins of the context's first coordinate over which an arm's audits are shared.
NEED_BINS = 6
#: Weight of an audit in a bin the arm's plays cover, against 1 where they do not: there
#: the plays show the residuals' spread and the cost model fits them (relative residuals
#: of a few per cent, against 20–50 % for the audits of the contexts it extrapolates to).
COVERED_NEED = 0.25
#: Share of an arm's probability kept in every bin.
NEED_FLOOR = 0.2
#: Plays of an arm in a bin (that counted as observations) from which they cover it.
PLAY_MIN = 3


def coordinate(context) -> float:
    """The coordinate the bins are over: the context's first coordinate (NaN: none), as
    the run's arrays read it (``bandit._report_data.RunArrays``)."""
    if context is None:
        return math.nan
    if type(context) is float or isinstance(context, (int, np.floating, np.integer)):
        return float(context)
    if isinstance(context, list):
        return float(context[0]) if context else math.nan
    flat = np.ravel(np.asarray(context, dtype=float))
    return float(flat[0]) if flat.size else math.nan


def context_bin(edges, x):
    """The bin of ``x`` (a number or an array) among ``edges`` (interior edges, sorted);
    NaN in the last bin."""
    return np.searchsorted(np.asarray(edges, dtype=float), x, side="right")


def need_bins(x, arm, counted, q_arm, bins=NEED_BINS, paid=None):
    """``(edges, qb)``: a column-audit probability per bin and arm that shares each arm's
    ``q_arm[k]`` over the context bins by need (see the module notes), or ``None`` when the
    context does not tell the rounds apart (no context, NaN, or one value).

    Parameters
    ----------
    x : ndarray (T,)
        The first coordinate of each past round's context.
    arm : ndarray of int (T,)
        The arm played.
    counted : ndarray of bool (T,)
        Whether the play observed its arm (converged, at a probability of at least
        :data:`bandit.estimate.MIN_PROB`).
    q_arm : ndarray (K,)
        The epoch's probability of each arm.
    paid : ndarray (T,) or None
        What each round paid (None: every round alike): the context's cost level.  An
        audit in a bin costs about its level ``c_b`` and the error it removes grows with
        the costs there (residuals relative to the cost), so a bin's weight is also
        ``√(c_b/c̄)``, and each arm keeps what its audits are expected to spend, ``q_k``
        times the levels of the rounds it was not observed on.

    Examples
    --------
    >>> x = np.repeat([0.0, 1.0], 50)              # arm 0 played on the first half only
    >>> arm = np.where(x < 0.5, 0, 1)
    >>> edges, qb = need_bins(x, arm, np.ones(100, bool), np.array([0.1, 0.1]), bins=2)
    >>> edges.tolist(), qb.round(3).tolist()        # arm 0 audited where it was not played
    ([1.0], [[0.04, 0.1], [0.1, 0.04]])
    """
    x = np.asarray(x, dtype=float)
    q_arm = np.asarray(q_arm, dtype=float)
    K, T = q_arm.size, x.size
    if T == 0 or not np.all(np.isfinite(x)) or x.min() == x.max():
        return None
    # the quantiles of at most 1,024 of the rounds, picked from their sorted values (a
    # rescaling's cost stays nearly flat; np.quantile cost milliseconds a call)
    sample = np.sort(x[::max(1, T // 1024)])
    edges = np.unique(sample[(np.arange(1, bins) * sample.size) // bins])
    b = context_bin(edges, x)
    nb = edges.size + 1
    n_b = np.bincount(b, minlength=nb).astype(float)
    ok = np.asarray(counted, dtype=bool)
    plays = np.bincount(b[ok] * K + np.asarray(arm)[ok], minlength=nb * K).reshape(nb, K)
    share = plays / np.maximum(n_b, 1.0)[:, None]  # rounds its plays observe it on
    level = np.ones(nb)
    if paid is not None:
        paid = np.asarray(paid, dtype=float)
        good = np.isfinite(paid) & (paid > 0)
        if good.any():
            mean = float(paid[good].mean())
            sums = np.bincount(b[good], paid[good], nb)
            cnt = np.bincount(b[good], minlength=nb)
            level = np.where(cnt > 0, sums / np.maximum(cnt, 1), mean) / mean
    w = np.where(plays >= PLAY_MIN, COVERED_NEED, 1.0) * np.sqrt(level)[:, None]
    # audits spend on the rounds the arm was not observed on, each about its bin's level:
    # what they are expected to spend (q × those rounds' levels) is kept, shared in
    # proportion to w
    rounds = n_b[:, None] * np.maximum(1.0 - share, 0.0) * level[:, None]
    mean_w = (rounds * w).sum(axis=0) / np.maximum(rounds.sum(axis=0), 1e-300)
    qb = q_arm[None] * (NEED_FLOOR + (1.0 - NEED_FLOOR) * w / np.maximum(mean_w, 1e-300)[None])
    return edges, np.minimum(qb, 1.0)


def round_probabilities(x, epoch_start, q, edges, qb):
    """``(T, K)``: the column-audit probability of each arm on each round, from the epochs'
    per-arm probabilities ``q`` and, where an epoch has bins (``edges[e]`` not None), its
    per-bin ones ``qb[e]`` at the round's context ``x`` (0 before the first epoch).

    Examples
    --------
    >>> q = np.array([[0.1, 0.2]])
    >>> round_probabilities(np.array([0.0, 2.0]), np.array([0]), q, [np.array([1.0])],
    ...                     [np.array([[0.3, 0.4], [0.05, 0.06]])]).tolist()
    [[0.3, 0.4], [0.05, 0.06]]
    """
    x = np.asarray(x, dtype=float)
    q = np.asarray(q, dtype=float)
    T = x.size
    K = q.shape[1] if q.ndim == 2 else 0
    out = np.zeros((T, K))
    start = np.asarray(epoch_start, dtype=np.int64)
    if start.size == 0 or T == 0:
        return out
    e = np.searchsorted(start, np.arange(T), side="right") - 1
    for j in np.unique(e[e >= 0]):
        sel = e == j
        if edges[j] is None:
            out[sel] = q[j]
        else:
            out[sel] = np.asarray(qb[j], dtype=float)[context_bin(edges[j], x[sel])]
    return out
