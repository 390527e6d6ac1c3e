"""The audit plan's weights: how a tuner's column-audit spending is shared among the arms
(:mod:`bandit.audit`).

Before the first plan a deterministic policy's audits go mostly to the arm it has played most
(:func:`anchor_weights`) and, with the switch :data:`bandit.audit.FOLLOW`, a randomised
policy's to the arms near those it chose (:func:`play_weights`); a plan's probabilities
favour the arms that could be the minimum (:func:`allocate`, :func:`contender_weight`) and
keep a floor for every arm.  Plain functions of arrays: the :class:`bandit.audit.Auditor`
reads the tuner and calls them."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["FLOOR", "ANCHOR", "RADIUS", "LOWER_Z", "anchor_weights", "play_weights", "allocate",
           "contender_weight"]


#: Share of the column-audit budget spread over all arms in proportion to 1/cost (every arm
#: keeps a chance of being audited; the rest goes where the estimate needs it).
FLOOR = 0.2
#: Before the first plan, the share of a deterministic policy's column-audit spending that
#: goes to the arm it has played most (:func:`anchor_weights`); the rest is spread over all
#: arms.
ANCHOR = 0.8
#: Steps in ω order over which an arm's play mass is spread (:func:`play_weights`).
RADIUS = 2
#: An arm is audited as a contender when its total could lie below the smallest one: its
#: own lower end at this many standard errors (the 95 % one-sided quantile of a 90 %
#: interval's lower end) falls below the smallest estimated total.
LOWER_Z = 1.6448536269514722


def anchor_weights(counts, anchor=ANCHOR):
    """Shares of the column-audit spending of a deterministic policy before the first plan
    (they sum to 1): ``1 − anchor`` spread evenly over the arms, ``anchor`` to the arm the
    policy has played most (shared by ties; evenly while nothing was played, or when one arm
    was played on every round: its plays observed all of it).

    A deterministic policy's plays observe its arms for sure on the rounds they are played
    and never elsewhere, so an arm's total is bounded only through its audits on the other
    rounds: with fewer than two, by the certain bound (the failure cost on every round it
    was not observed).  A run of a few hundred rounds buys a dozen audits; spread evenly
    they leave every arm with one or none.  The arm played most is the one the policy
    estimates to be the best; two or more audits of it bound its total, and the smallest
    total is at most that.  The shares depend on past rounds only, so every probability is
    known before its round is played, and every arm keeps a positive one.

    Examples
    --------
    >>> anchor_weights(np.array([30, 10, 0, 0]), 0.8).round(3).tolist()
    [0.85, 0.05, 0.05, 0.05]
    >>> anchor_weights(np.zeros(4), 0.8).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    counts = np.asarray(counts, dtype=float)
    K = counts.size
    even = np.full(K, 1.0 / K)
    if not np.any(counts > 0) or counts.max() == counts.sum():
        return even  # nothing played yet, or one arm on every round (its plays saw it all)
    top = (counts == counts.max()).astype(float)
    return (1.0 - anchor) * even + anchor * top / top.sum()


def _spread_matrix(order, K, radius=RADIUS):
    """``W[i, j]``: the weight of arm ``j``'s play mass on arm ``i`` (:func:`play_weights`);
    None for unrelated arms (``order`` None)."""
    if order is None:
        return None
    rank = np.empty(K, dtype=np.int64)
    rank[np.asarray(order)] = np.arange(K)
    steps = np.abs(rank[:, None] - rank[None, :])
    return np.where(steps < radius, 1.0, np.where(steps == radius, 0.5, 0.0))


def play_weights(mass, order=None, radius=RADIUS, spread=None):
    """Shares (summing to 1) of the column-audit spending that follows the plays: each
    arm's play mass ``mass`` (what the rounds on which the policy chose it paid) spread over
    the arms within ``radius`` steps of it in the order ``order`` (arms in ω order; None:
    unrelated arms, no spreading), with weight 1 within ``radius − 1`` steps and 1/2 at
    ``radius`` (``spread``: that matrix, :func:`_spread_matrix`, made once by the caller).
    Even shares when nothing was paid.

    Examples
    --------
    >>> mass = np.array([0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 0.0])
    >>> play_weights(mass, order=np.arange(7), radius=2).round(3).tolist()
    [0.125, 0.25, 0.25, 0.25, 0.125, 0.0, 0.0]
    >>> play_weights(np.array([0.0, 5.0, 0.0]), order=None).tolist()   # no order: no spreading
    [0.0, 1.0, 0.0]
    """
    mass = np.asarray(mass, dtype=float)
    mass = np.where(mass > 0, mass, 0.0)  # (NaN too; a rescaling's step: no nan_to_num)
    K = mass.size
    W = spread if spread is not None else _spread_matrix(order, K, radius)
    out = mass if W is None else W @ mass
    total = float(out.sum())
    if not total > 0:
        return np.full(K, 1.0 / max(K, 1))
    return out / total


def allocate(est, cost, rate, t, randomised, floor=FLOOR):
    """Column-audit probabilities that spend ``rate`` (cost per round).

    Auditing arm ``k`` with probability ``q_k`` costs ``q_k (1 − s_k) cost_k`` per round
    (``s_k`` the share of rounds it was played and observed: its coin is free there) and
    leaves an error variance of about ``t σ_k² e_k / q_k`` on its column total, ``σ_k`` the
    spread of its model residuals and ``e_k`` the share of that variance audits must remove:
    1 for a deterministic policy; for a randomised one, whose plays already sample the
    arms, ``f_k + (1 − f_k)((1 − ρ_k) + ρ_k (q₀/(q₀ + s_k/ρ_k))²)`` — ``f_k`` the share of
    rounds on which the guard would stop the arm (there its plays tell nothing), ``ρ_k`` the
    share of rounds its plays reach at all (a contextual learner gives a poor arm of a
    context almost no probability there, and such plays do not count), ``q₀`` a typical
    audit probability.
    Minimising ``Σ_k P_k · variance_k`` within the budget gives
    ``q_k ∝ σ_k √(P_k e_k / cost_k)``, ``P_k`` the weight of arm ``k`` in the interval's
    width (:func:`contender_weight`: the larger of its chance of being the best fixed arm
    and its chance of having a lower end below the smallest total): the arms that could be
    the minimum are audited most, and an arm that cannot gets nothing but its share of the
    ``floor``, which is spread over all arms in proportion to 1/cost so that every arm stays
    observable.

    Examples
    --------
    >>> est = {"p_best": np.array([0.6, 0.4, 0.0]), "sigma": np.ones(3),
    ...        "played_share": np.zeros(3), "censored_share": np.zeros(3)}
    >>> q = allocate(est, np.ones(3), 0.05, t=1000, randomised=False)
    >>> bool(q[0] > q[1] > q[2] > 0), round(float(q.sum()), 3)
    (True, 0.05)
    """
    K = est["sigma"].size
    cost = np.maximum(np.asarray(cost, dtype=float), 1e-300)
    share = np.clip(np.nan_to_num(est["played_share"]), 0.0, 1.0)
    spend = np.maximum(1.0 - share, 1e-3) * cost  # per round per unit of q
    sigma = np.nan_to_num(est["sigma"], nan=1.0)
    if randomised:
        f = np.clip(np.nan_to_num(est.get("censored_share", np.zeros(K))), 0.0, 1.0)
        reach = np.clip(np.nan_to_num(est.get("reach", np.ones(K)), nan=1.0), 0.0, 1.0)
        q0 = rate / max(float(np.sum(spend)), 1e-300)
        # plays sample an arm only on the rounds they reach, at its mean probability there
        p_mean = share / np.maximum(reach, 1e-12)
        e = f + (1.0 - f) * ((1.0 - reach) + reach * (q0 / (q0 + p_mean)) ** 2)
    else:
        e = np.ones(K)
    q_floor = _scale(1.0 / spend, spend, floor * rate)
    w = sigma * np.sqrt(np.clip(contender_weight(est), 0.0, 1.0) * e / cost)
    q = _scale(w, spend, (1 - floor) * rate) if np.any(w > 0) else np.zeros(K)
    return np.minimum(q + q_floor, 1.0)


def contender_weight(est):
    """Per arm, how much its total's error widens the interval of the minimum: the larger of
    ``p_best`` (its chance of being the best fixed arm) and
    ``Φ(z − (S_k − min_j S_j)/sd_k)`` (``z`` = :data:`LOWER_Z`), the chance that its own lower
    end falls below the smallest total ``S`` (``sd² = V``, from
    :func:`bandit.estimate.quick_totals`).  The interval's lower end is the smallest of the
    arms' lower ends, so an arm that is not the best but whose total is poorly known — a
    poor arm of every context, seen by a few audits only — widens it as much as the best
    one's error would; its chance of being the best says nothing of that.

    Examples
    --------
    >>> est = {"p_best": np.array([1.0, 0.0, 0.0]), "S": np.array([100.0, 110.0, 200.0]),
    ...        "V": np.array([1.0, 100.0, 1.0])}
    >>> contender_weight(est).round(2).tolist()    # arm 1: 1 sd above, its lower end below
    [1.0, 0.74, 0.0]
    """
    weight = np.asarray(est["p_best"], dtype=float)
    S, V = est.get("S"), est.get("V")
    if S is None or V is None or not np.all(np.isfinite(S)) or not np.all(np.isfinite(V)):
        return weight
    sd = np.sqrt(np.maximum(np.asarray(V, dtype=float), 0.0))
    S = np.asarray(S, dtype=float)
    z = LOWER_Z - (S - np.min(S)) / np.maximum(sd, 1e-300 + 1e-12 * np.abs(S))
    # the normal distribution function (math.erfc: no SciPy import inside a timed plan)
    below = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in z])
    return np.maximum(weight, below)


def _scale(w, cost, rate):
    """``q = min(1, λ w)`` with ``Σ q·cost = rate``, exactly: the arms with the largest ``w``
    saturate at 1 first, and λ follows from the others (``O(K log K)``).

    Examples
    --------
    >>> _scale(np.array([1.0, 1.0, 4.0]), np.ones(3), 1.5).tolist()
    [0.25, 0.25, 1.0]
    """
    w = np.asarray(w, dtype=float)
    cost = np.maximum(np.asarray(cost, dtype=float), 1e-300)
    if rate <= 0 or not np.any(w > 0):
        return np.zeros_like(w)
    if np.sum(cost[w > 0]) <= rate:
        return (w > 0).astype(float)
    order = np.argsort(-w, kind="stable")
    ws, cs = w[order], cost[order]
    sat = np.concatenate([[0.0], np.cumsum(cs)])[:-1]  # cost of saturating the first j
    rest = np.cumsum((ws * cs)[::-1])[::-1]  # Σ w·cost of the others
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(rest > 0, (rate - sat) / np.where(rest > 0, rest, 1.0), np.inf)
        ok = (lam * ws <= 1.0) & (rest > 0)
    j = int(np.argmax(ok)) if ok.any() else w.size
    q = np.minimum(1.0, lam[j] * w) if j < w.size else np.ones_like(w)
    q[order[:j]] = 1.0
    return q
