"""The entries of a run's cost matrix that it observed, and their probabilities
(:mod:`bandit.estimate`): a play's cost, an audit's run, the inclusion probability of each
entry from the policy's probabilities and the audits' plan, and what the observations say
of the run as a whole (every entry observed, an arm stopped at an audit's cap, the arms
that converged, whether every entry could have been observed)."""
from __future__ import annotations

import numpy as np

from ._regretdata import RunData
from .audit import COMPLETE, completion_probability

__all__ = ["MIN_PROB", "inclusion_probabilities"]


def _epoch_of(data: RunData, rounds):
    if data.epoch_start.size == 0:
        return None
    return np.searchsorted(data.epoch_start, rounds, side="right") - 1


def _audit_probs(data: RunData, rounds, arms):
    """``q`` (column) and ``r`` (row) audit probabilities of the given entries (0 before the
    first plan)."""
    rounds = np.asarray(rounds, dtype=np.int64)
    e = _epoch_of(data, rounds)
    if e is None:
        return np.zeros(rounds.size), np.zeros(rounds.size)
    ok = e >= 0
    q = np.zeros(rounds.size)
    r = np.zeros(rounds.size)
    q[ok] = data.q[e[ok], np.asarray(arms)[ok]]
    r[ok] = data.r[e[ok]]
    return q, r


#: With audits, a play counts as an observation only when the policy gave the arm at least
#: this probability: a term ``(C − m)/p`` with a tiny ``p`` is a rare, huge jump whose
#: variance no sample shows, and the audits' floor covers those entries instead.  Without
#: audits every play counts (``p > 0`` for every arm of a randomised policy).
MIN_PROB = 0.005


def inclusion_probabilities(data: RunData, min_prob=None, lower=False):
    """The observed entries of the cost matrix and their probabilities ``π``.

    An entry ``C[t, k]`` is observed when the policy played ``k`` with probability at least
    ``min_prob`` (default :data:`MIN_PROB` with audits, else 0) and the attempt converged
    within its cap, or failed within it (:attr:`RunData.failed`; the entry is then the failure
    cost, as for an audit's failed run) — or was stopped there and then completed by the auditor (probability
    ``c`` = :data:`bandit.audit.COMPLETE` with audits, else 0) —, or when a column audit drew
    ``k`` (the played arm's own solve counts, for free):
    ``π = 1 − (1 − p·[p ≥ min_prob]·([C ≤ cap] + c·[C > cap]))(1 − q)``.

    With ``lower=True`` the entries are ``min(C[t, k], cap_t)`` (:attr:`RunData.cap`): every
    column audit gives one, also when it was capped, and a play counts only when its cost is
    within both caps.  Their totals are lower bounds of the column totals.

    Returns
    -------
    (t, k, value, pi) : ndarrays
        One entry per observed ``C[t, k]`` (rows' capped runs are not entries: they only give
        minima).

    Examples
    --------
    >>> d = RunData(paid=np.array([5.0]), x=np.zeros(1), arm=np.array([0]), p=np.array([0.5]),
    ...             played=np.array([5.0]), epoch_start=np.array([0]),
    ...             q=np.array([[0.2, 0.2]]), r=np.zeros(1),
    ...             audits={"round": np.array([0]), "arm": np.array([1]),
    ...                     "row": np.array([False]), "value": np.array([7.0]),
    ...                     "iterations": np.array([7]), "converged": np.array([True]),
    ...                     "budget": np.array([100]), "cap": np.array([10_000]),
    ...                     "p": np.array([0.5])}, fail_cost=100.0, n_arms=2)
    >>> [v.tolist() for v in inclusion_probabilities(d)]
    [[0, 0], [0, 1], [5.0, 7.0], [0.6, 0.6]]
    """
    K = data.n_arms
    tau = (MIN_PROB if data.epoch_start.size else 0.0) if min_prob is None else min_prob
    failed = data.failed if data.failed is not None else np.zeros(data.T, dtype=bool)
    # a play observes its arm's cost when the attempt converged, and the failure cost when it
    # failed (diverged, broke down, reached maxiter): a failure is what that arm costs there
    tp = np.flatnonzero(np.isfinite(data.played) | failed)
    kp = data.arm[tp]
    vp = np.where(failed[tp], data.fail_cost, data.played[tp])
    pp = data.p[tp]
    pp = np.where(np.isfinite(pp), pp, 1.0)  # unknown (older files): as if deterministic
    pp_eff = np.where(pp >= tau, pp, 0.0)
    a = data.audits
    n = len(a["round"])

    def col(name, dtype):
        return np.asarray(a[name], dtype=dtype)[keep] if n else np.zeros(0, dtype)

    keep = ~np.asarray(a["row"], dtype=bool) if n else np.zeros(0, bool)
    ta, ka = col("round", np.int64), col("arm", np.int64)
    va, ia = col("value", float), col("iterations", np.int64)
    ca, pa = col("converged", bool), col("p", float)
    budget = col("budget", np.int64)
    run_cap = col("cap", np.int64) if "cap" in a else np.full(ta.size, data.maxiter)
    exact = ca | (run_cap >= data.maxiter)  # converged, or failed with the whole maxiter
    # an attempt would have converged within its cap — or, when the run's plays observe
    # failures, failed within it (diverged or broke down early, or its cap was maxiter)
    seen_by_play = (ca | exact) if data.failed is not None else ca
    ok = (seen_by_play & (ia <= budget)).astype(float)
    # a play also observes the entry when its attempt was stopped and then completed (with
    # audits, the epoch's completion probability)
    # (an attempt the guard would not have started, budget 0, is never completed)
    ok = ok + (1.0 - ok) * _completion_probs(data, ta, pa, budget > 0)
    if lower:
        cap_all = _lower_caps(data)
        cap_t = cap_all[ta]
        ok = ok * (exact & (va <= cap_t))  # a play counts within the lower bound's cap only
        # a run stopped at its own cap shows C above it: min(C, cap_t) is at least the smaller
        # of the two caps (a run capped below cap_t gives less than min(C, cap_t): its total
        # is lower still, a lower bound all the same)
        va = np.where(exact, np.minimum(va, cap_t), np.minimum(run_cap, cap_t))
        vp = np.minimum(vp, cap_all[tp])
    else:
        ta, ka, va, ok, pa = ta[exact], ka[exact], va[exact], ok[exact], pa[exact]
    pa = np.where(np.isfinite(pa), pa, 0.0)
    pa_eff = np.where(pa >= tau, pa, 0.0) * ok
    # the union of both sources, one entry per (t, k): a play that also drew its audit coin
    seen = np.zeros(data.T * K, dtype=bool)
    seen[(tp * K + kp)[pp_eff > 0]] = True
    fresh = ~seen[ta * K + ka]
    t = np.concatenate([tp[pp_eff > 0], ta[fresh]])
    k = np.concatenate([kp[pp_eff > 0], ka[fresh]])
    v = np.concatenate([vp[pp_eff > 0], va[fresh]])
    pe = np.concatenate([pp_eff[pp_eff > 0], pa_eff[fresh]])
    q, _ = _audit_probs(data, t, k)
    return t, k, v, 1.0 - (1.0 - pe) * (1.0 - q)


def _lower_caps(data: RunData) -> np.ndarray:
    """The caps of the lower bounds, one per round (:attr:`RunData.cap`; ``maxiter`` when
    the run gives none)."""
    return data.cap if data.cap is not None else np.full(data.T, float(data.maxiter))


def _completion_probs(data: RunData, rounds, p, started=None):
    """Probability that a stopped attempt of an arm played with probability ``p`` on each of
    ``rounds`` would have been completed (0 without audits;
    :func:`bandit.audit.completion_probability`).  ``started``: per entry, whether the
    guard would have started the attempt (False: its set-up alone was over its allowance,
    and the auditor does not complete an attempt the guard did not start); None: all."""
    e = _epoch_of(data, rounds)
    if e is None:
        return np.zeros(len(rounds))
    if data.complete is None:  # files written before completions were budgeted
        c = np.where(e >= 0, COMPLETE, 0.0)
    else:
        c = np.asarray(data.complete, dtype=float)[np.maximum(e, 0)]
        # a deterministic policy favours no arm: its stops are all completed with c
        p = np.where(np.isfinite(p), p, 1.0) if data.randomised else np.zeros(len(rounds))
        c = np.where(e >= 0, completion_probability(p, c), 0.0)
    if started is not None:
        c = np.where(np.asarray(started, dtype=bool), c, 0.0)
    return c


def _stopped_runs(data: RunData) -> np.ndarray:
    """Per arm, whether a column audit of it stopped at a cap below ``maxiter`` without
    converging (its cost there is only known to exceed the cap)."""
    a = data.audits
    out = np.zeros(data.n_arms, dtype=bool)
    if not len(a["round"]) or "cap" not in a:
        return out
    stopped = (~np.asarray(a["row"], dtype=bool) & ~np.asarray(a["converged"], dtype=bool)
               & (np.asarray(a["cap"], dtype=np.int64) < data.maxiter))
    out[np.asarray(a["arm"], dtype=np.int64)[stopped]] = True
    return out


def _all_observed(data: RunData):
    """The cost matrix ``C`` (T, K) when the run observed every entry of it — a one-arm run
    whose solves all converged, or audits of every other arm on every round — else None
    (then there is something to estimate)."""
    T, K = data.T, data.n_arms
    plays = np.isfinite(data.played) if data.failed is None else (
        np.isfinite(data.played) | data.failed)
    if np.count_nonzero(plays) + len(data.audits["round"]) < T * K:
        return None  # too few observations to cover the matrix (the common, cheap case)
    t, k, v, _ = inclusion_probabilities(data, min_prob=0.0)
    C = np.full(T * K, np.nan)
    C[t * K + k] = v
    return None if np.isnan(C).any() else C.reshape(T, K)


def _converged_counts(data: RunData):
    """Per arm, the runs of it that converged (a play whose attempt converged, an audit that
    converged within its cap)."""
    K = data.n_arms
    conv = np.bincount(data.arm[np.isfinite(data.played)], minlength=K)
    a = data.audits
    if len(a["round"]):
        ka = np.asarray(a["arm"], dtype=np.int64)
        conv = conv + np.bincount(ka[np.asarray(a["converged"], dtype=bool)], minlength=K)
    return conv


def _observable(data: RunData) -> bool:
    """Whether every entry ``C[t, k]`` had a positive probability of being observed: an
    audit probability for every arm in every epoch from round 0 on, or, without audits, a
    randomised policy whose probabilities were recorded."""
    if data.epoch_start.size:
        e = _epoch_of(data, np.arange(data.T))
        return bool(np.all(e >= 0) and np.all(data.q[e] > 0))
    return bool(data.randomised and np.all(np.isfinite(data.p)))
