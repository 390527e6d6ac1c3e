"""The instance-optimal estimate and the certain bounds of :mod:`bandit.estimate`.

* **Instance-optimal** ``Σ_t min_k C[t, k]``: with ``μ_t`` the round's minimum of the cost
  model's predictions (each cost observed on the round in place of the model's prediction of
  that entry), ``Î = Σ_t μ_t + T · mean over row-audited rounds of (M_t − μ_t)`` (weights
  ``1/r_t``, self-normalised), ``M_t`` the round's exact minimum found by a row audit (every
  arm run, capped at the running minimum).  With fewer than
  :data:`bandit.estimate.MIN_ROWS` row audits it is labelled biased and has no interval.
* **Certain bounds**: an arm sampled fewer than twice (the others observed for sure: a
  deterministic learner's plays) has no spread of residuals to bound its total by on the
  rounds it was not observed, so its upper bound is the certain one, its observed costs plus
  the failure cost on every other round (:func:`certain_bound`, :func:`sampled_enough`); on
  a run shorter than the cost model's cross-fitting its lower bound is the certain one too,
  its observed costs and 0 on every other round (:func:`certain_lower`): the two ends of
  one certain interval.

:func:`bandit.estimate.estimate_regret` calls these; they read its observations
(:class:`bandit.estimate.RunData`, :func:`bandit.estimate.inclusion_probabilities`).
"""
from __future__ import annotations

import numpy as np

from .estimate import (MIN_ROWS, RegretEstimate, RunData, _audit_probs, _epoch_of,
                       _multipliers, student_factor)

__all__ = ["instance_optimal", "certain_bound", "certain_lower", "sampled_enough"]


# --- instance-optimal ----------------------------------------------------------------------
def instance_optimal(data: RunData, t, k, v, m, have_model, cps, paid_cum, rng, alpha, level,
                     n_boot) -> RegretEstimate:
    """The regret against the instance-optimal choice: the cost model's per-round minimum
    ``μ_t``, corrected by the mean error on the row-audited rounds, with a basic bootstrap
    interval (``rng``'s multipliers, ``n_boot`` draws) when there are at least
    :data:`~bandit.estimate.MIN_ROWS` row audits and every round could have been one.

    ``t, k, v`` are the observed entries (:func:`bandit.estimate.inclusion_probabilities`),
    ``m`` the cross-fitted model's predictions (T, K), ``have_model`` whether it could be
    fitted, ``cps`` the checkpoints of the curves and ``paid_cum`` the cost paid up to each.
    """
    from scipy import sparse

    T = data.T
    rounds, M_row, r = _row_minima(data, t, v)
    if have_model:
        # an observed entry is known: its cost, not the model's guess, enters the row minimum
        # (else a one-arm run, whose every entry is observed, had a regret above 0)
        known = m.copy()
        known[t, k] = np.inf
        np.minimum.at(known, (t, k), v)
        mu = known.min(axis=1)
    else:
        mu = np.full(T, np.inf)
        np.minimum.at(mu, t, v)
    mu = np.where(np.isfinite(mu), mu, data.paid)  # nothing known: what was paid
    use = r > 0
    rounds, M_row, r = rounds[use], M_row[use], r[use]
    delta = M_row - mu[rounds]
    w = 1.0 / r
    base = np.cumsum(mu)[cps - 1]
    n_rows = int(rounds.size)
    # an interval from fewer rows than MIN_ROWS would only show their own spread
    unbiased_io = have_model and n_rows >= MIN_ROWS and _row_observable(data)
    io_low = io_high = np.full(cps.size, np.nan)
    if have_model and n_rows:
        # the mean correction per round, Σ w δ / Σ w, times the rounds so far (self-normalised:
        # with few rows a Horvitz–Thompson sum would jump by 1/r per row)
        blk_r = np.searchsorted(cps, rounds, side="right")
        cw = np.cumsum(np.bincount(blk_r, w, cps.size + 1)[:cps.size])
        cwd = np.cumsum(np.bincount(blk_r, w * delta, cps.size + 1)[:cps.size])
        corr = np.where(cw > 0, cwd / np.where(cw > 0, cw, 1.0), 0.0)
        I_hat = base + cps * corr
    else:
        I_hat = base
    # a total below 0 is one no choice can have: a few row audits of small probability found
    # minima far below the model's on rounds it thought dear, and their mean correction,
    # times every round, outweighed the model; clipped, the point estimate would say the
    # comparator costs nothing and the regret is all that was paid — the report says so
    # instead of presenting it as an estimate
    at_bound = bool(paid_cum[-1] > 0) and bool(I_hat[-1] < 0.0)
    I_hat = np.maximum(I_hat, 0.0)  # a sum of per-round minima of costs >= 0
    io_curve = paid_cum - I_hat
    if unbiased_io:
        # positive weights of mean 1 (a row observed for sure does not vary)
        W = 1.0 + _multipliers(rng, (n_rows, n_boot)) * np.sqrt(
            np.clip(1.0 - r, 0.0, 1.0))[:, None]
        onehot = sparse.csr_matrix((np.ones(n_rows), (blk_r, np.arange(n_rows))),
                                   shape=(cps.size + 1, n_rows))
        bw = np.cumsum((onehot @ (W * w[:, None]))[:cps.size], axis=0).T
        bwd = np.cumsum((onehot @ (W * (w * delta)[:, None]))[:cps.size], axis=0).T
        I_star = base + cps * np.where(bw > 0, bwd / np.where(bw > 0, bw, 1.0), 0.0)
        # Student's factor for the few rows behind the mean
        f = student_factor(max(n_rows - 1.0, 1.0))
        I_star = I_hat + f * (I_star - I_hat)
        q = np.quantile(I_star, [alpha, 1 - alpha], axis=0)
        # the comparator's total is >= 0: the regret at most what was paid
        io_low = np.minimum(paid_cum - (2 * I_hat - q[0]), paid_cum)
        io_high = np.minimum(paid_cum - (2 * I_hat - q[1]), paid_cum)
    return RegretEstimate("instance_optimal", float(io_curve[-1]), float(io_low[-1]),
                          float(io_high[-1]), level,
                          _method_io(n_rows, unbiased_io, have_model, n_boot, at_bound),
                          unbiased_io, cps, io_curve, io_low, io_high, None, at_bound)


def _row_minima(data: RunData, t_obs, v_obs):
    """Rounds with a row audit, their exact minimum cost, and the row probability."""
    a = data.audits
    if not len(a["round"]):
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    row = np.asarray(a["row"], dtype=bool)
    rounds = np.unique(np.asarray(a["round"], dtype=np.int64)[row])
    if rounds.size == 0:
        return rounds, np.zeros(0), np.zeros(0)
    M = np.full(rounds.size, np.inf)
    # exact values of the round: the played arm, column audits and row runs that converged
    pos = np.searchsorted(rounds, t_obs)
    hit = (pos < rounds.size) & (rounds[np.minimum(pos, rounds.size - 1)] == t_obs)
    np.minimum.at(M, pos[hit], v_obs[hit])
    rt = np.asarray(a["round"], dtype=np.int64)[row]
    rv = np.asarray(a["value"], dtype=float)[row]
    rc = np.asarray(a["converged"], dtype=bool)[row]
    pos = np.searchsorted(rounds, rt[rc])
    np.minimum.at(M, pos, rv[rc])
    M = np.minimum(M, data.fail_cost)  # every arm failed: the failure cost
    _, r = _audit_probs(data, rounds, np.zeros(rounds.size, dtype=np.int64))
    return rounds, M, r


def _row_observable(data: RunData) -> bool:
    if data.T == 0 or data.epoch_start.size == 0:
        return False
    e = _epoch_of(data, np.arange(data.T))
    return bool(np.all(e >= 0) and np.all(data.r[e] > 0))


def _method_io(n_rows, unbiased, have_model, n_boot, at_bound=False):
    if not have_model:
        return "nothing observed yet"
    return _method_io_text(n_rows, unbiased, n_boot) + (
        "; no point estimate: the corrected sum of per-round minima came out below 0, which "
        "no choice costs (too few row audits for this run: a larger audit_budget helps), so "
        "the estimate is put at its bound, the cost paid" if at_bound else "")


def _method_io_text(n_rows, unbiased, n_boot):
    if not unbiased:
        rows = f", corrected by {n_rows} row audits (fewer than {MIN_ROWS})" if n_rows else (
            " (no row audits)")
        return ("cost model's per-round minimum, the costs observed on the round in place of its "
                "predictions"
                f"{rows}: biased, no interval")
    return (f"cost model's per-round minimum, the costs observed on the round in place of its "
            f"predictions, corrected by the mean error on {n_rows} row audits (every arm run, "
            f"capped at the running minimum; self-normalised, consistent); basic bootstrap "
            f"interval over {n_boot} weighted draws")


# --- certain bounds --------------------------------------------------------------------------
def sampled_enough(sampled_arms, K) -> np.ndarray:
    """Per arm, whether it has at least two *sampled* entries (``π < 1``; ``sampled_arms``
    holds the arm of each).

    An arm with fewer (the others certain: a deterministic policy's plays) has no spread of
    residuals on the rounds it was not played to bound its total by — none at all, or one
    residual, which stands for every such round and whose spread does not exist (Student's
    factor at ``n − 1 = 0``) — so its upper end is the certain one (:func:`certain_bound`).

    Examples
    --------
    >>> sampled_enough(np.array([0, 0, 2]), 3).tolist()
    [True, False, False]
    """
    return np.bincount(sampled_arms, minlength=K) >= 2


def certain_bound(data: RunData, t, k, v, cps):
    """Per checkpoint and arm, a certain upper bound of the column total: the observed
    costs plus :attr:`RunData.fail_cost` (what a failed run costs, the most any entry can
    cost) for every entry not observed.

    Examples
    --------
    >>> d = RunData(paid=np.array([5.0, 4.0]), x=np.zeros(2), arm=np.array([0, 0]),
    ...             p=np.ones(2), played=np.array([5.0, 4.0]), epoch_start=np.array([0]),
    ...             q=np.ones((1, 2)), r=np.zeros(1), audits={}, fail_cost=100.0, n_arms=2)
    >>> certain_bound(d, np.array([0, 1]), np.array([0, 0]), np.array([5.0, 4.0]),
    ...             np.array([1, 2])).tolist()
    [[5.0, 100.0], [9.0, 200.0]]
    """
    K = data.n_arms
    blk = np.searchsorted(cps, t, side="right")  # the first checkpoint that counts the entry
    n = cps.size + 1
    seen = np.cumsum(np.bincount(blk * K + k, v, n * K).reshape(n, K), axis=0)[:cps.size]
    count = np.cumsum(np.bincount(blk * K + k, minlength=n * K).reshape(n, K), axis=0)
    return seen + (cps[:, None] - count[:cps.size]) * data.fail_cost


def certain_lower(data: RunData, t, k, v, cps):
    """Per checkpoint and arm, a certain lower bound of the column total: the observed
    costs (an entry observed twice counted once, at its larger value) and 0 — the least any
    entry can cost — for every entry not observed.

    Examples
    --------
    >>> d = RunData(paid=np.array([5.0, 4.0]), x=np.zeros(2), arm=np.array([0, 0]),
    ...             p=np.ones(2), played=np.array([5.0, 4.0]), epoch_start=np.array([0]),
    ...             q=np.ones((1, 2)), r=np.zeros(1), audits={}, fail_cost=100.0, n_arms=2)
    >>> certain_lower(d, np.array([0, 1]), np.array([0, 0]), np.array([5.0, 4.0]),
    ...               np.array([1, 2])).tolist()
    [[5.0, 0.0], [9.0, 0.0]]
    """
    C = np.zeros((data.T, data.n_arms))
    ok = np.isfinite(v)
    np.maximum.at(C, (t[ok], k[ok]), v[ok])
    return np.cumsum(C, axis=0)[cps - 1]
