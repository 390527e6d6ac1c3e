"""A plan's totals without the cost model (:func:`mini_totals`): what the Auditor plans
from when a plan of :func:`bandit.estimate.quick_totals` does not fit the budget (the switch
:data:`bandit.audit.MINI_PLAN`).

A plan (:meth:`bandit.audit.Auditor._plan`) reads the run's column totals and their errors
to find the arms that could be the minimum (:func:`bandit.audit.contender_weight`), and
spends most of the column audits on them.  Its cost model's two fits and some fifteen
passes over the run cost about 0.5 ms plus 0.2 µs per round read, more than 10 % of a 5 %
budget of solves of tens of microseconds: there no plan fits, and the audits stay spread
evenly over the arms, most of their iterations on arms several times dearer than the best.
This estimate is a few array passes over the run (tens of microseconds at 5,000 rounds):
each arm's mean cost in each of :data:`MINI_BINS` quantile bins of the context, from its
plays and audits weighed by ``1/π``, and where an arm was not observed in a bin, the
log-cost interpolated along the arms in ω order from the arms observed there, with a
large relative error (:data:`MINI_GAP_SPREAD`).  It only decides which arms are audited
how often; every arm keeps a positive probability and the estimator's totals stay
unbiased whatever it says.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._observed import MIN_PROB
from ._regretdata import RunData

__all__ = ["mini_totals", "mini_price", "MINI_BINS", "MINI_GAP_SPREAD", "MINI_SPREAD"]

#: Quantile bins of the context in :func:`mini_totals`.
MINI_BINS = 8
#: Relative error of an arm's mean cost in a bin where it was not observed (its log-cost
#: interpolated from the arms observed there): large, so that an arm whose total rests on
#: such guesses stays a contender unless it is far from the best.
MINI_GAP_SPREAD = 0.5
#: Relative error of an observed bin mean per unit of ``1/√n`` (``n`` its effective entries),
#: at least: one entry shows no spread.
MINI_SPREAD = 0.3


def mini_totals(data: RunData, bins=MINI_BINS, draws=256) -> dict:
    """Column totals and their variances for planning audits, without a cost model.

    Per arm ``k`` and context bin ``b`` (``bins`` quantile bins of :attr:`RunData.x`, from
    at most 512 of its rounds), the self-normalised mean of the costs observed there —
    plays whose probability ``p`` was at least :data:`bandit.estimate.MIN_PROB` (with
    audits), and column audits that converged on rounds that did not choose their arm —
    each weighed by ``1/π``, ``π = 1 − (1 − p)(1 − q)``, times the bin's rounds; its
    relative error ``max(spread, MINI_SPREAD)/√n`` (``n`` its effective entries).  A bin
    where the arm was not observed takes the log-cost interpolated along the arms (in ω
    order) from those observed there, flat beyond the outermost ones (what the run paid
    on average when none was), with the relative error :data:`MINI_GAP_SPREAD`.  The
    variance of a total adds the bins' ``(n_b · error_b)²``; ``p_best`` is the share of
    ``draws`` normal draws in which an arm has the smallest total.  One compiled pass
    (:func:`_mini_kernel`).

    Returns
    -------
    dict
        The keys :func:`bandit.audit.allocate` and :func:`bandit.audit.contender_weight`
        read: ``S``, ``V``, ``p_best``, ``sigma``, ``mean_cost``, ``played_share``,
        ``censored_share``, ``reach``.

    Examples
    --------
    >>> T, K = 400, 3
    >>> x = np.linspace(0.0, 1.0, T)
    >>> C = np.stack([10 + 0 * x, 12 + 0 * x, 30 + 0 * x], axis=1)   # arm 0 the best
    >>> arm = np.arange(T) % K
    >>> audits = {"round": np.zeros(0, np.int64), "arm": np.zeros(0, np.int64),
    ...           "row": np.zeros(0, bool), "value": np.zeros(0),
    ...           "iterations": np.zeros(0, np.int64), "converged": np.zeros(0, bool),
    ...           "budget": np.zeros(0), "cap": np.zeros(0), "p": np.zeros(0)}
    >>> d = RunData(paid=C[np.arange(T), arm], x=x, arm=arm, p=np.full(T, 1 / 3),
    ...             played=C[np.arange(T), arm], epoch_start=np.zeros(1, np.int64),
    ...             q=np.full((1, K), 0.01), r=np.zeros(1), audits=audits, fail_cost=1e4,
    ...             n_arms=K, arm_order=np.arange(K))
    >>> (mini_totals(d)["S"] / T).round(6).tolist()
    [10.0, 12.0, 30.0]
    """
    T, K = data.T, data.n_arms
    x = np.asarray(data.x, dtype=float)
    if T == 0 or K == 0 or not np.all(np.isfinite(x)):
        nan = np.full(K, np.nan)
        return {"S": nan, "V": nan, "p_best": np.full(K, 1.0 / max(K, 1)), "sigma": nan,
                "mean_cost": nan, "played_share": np.zeros(K), "censored_share": np.zeros(K),
                "reach": np.ones(K)}
    q = np.asarray(data.q, dtype=float)
    starts = np.asarray(data.epoch_start, dtype=np.int64)
    if starts.size == 0 or q.size == 0:  # no audits: plays alone, every weight 1/p
        starts, q, tau = np.zeros(1, np.int64), np.zeros((1, K)), 0.0
    else:
        tau = MIN_PROB
    a = data.audits
    order = np.arange(K) if data.arm_order is None else data.arm_order

    def c(v, dtype):  # one compiled specialisation: contiguous arrays of one dtype
        return np.ascontiguousarray(v, dtype=dtype)

    S, V, p_best, share, reach, stop = _mini_kernel(
        c(x, float), c(data.arm, np.int64), c(data.p, float), c(data.played, float),
        c(data.paid, float), c(starts, np.int64), c(q, float), c(a["round"], np.int64),
        c(a["arm"], np.int64), c(a["row"], np.bool_), c(a["converged"], np.bool_),
        c(a["value"], float), c(a["p"], float), c(order, np.int64), int(bins), float(tau),
        MINI_SPREAD, MINI_GAP_SPREAD, int(draws))
    mean_cost = S / T
    return {"S": S, "V": V, "p_best": p_best, "sigma": MINI_SPREAD * mean_cost,
            "mean_cost": mean_cost, "played_share": share, "censored_share": stop,
            "reach": reach}


@njit(cache=True)
def _mini_kernel(x, arm, p, played, paid, starts, q, ra, ka, row, conv, va, pa, order, bins,
                 tau, spread, gap_spread, draws):
    """The compiled body of :func:`mini_totals`: ``(S, V, p_best, played share, reach,
    censored share)``."""
    T, K = x.size, q.shape[1]
    # bin edges at the quantiles of at most 512 of the contexts
    stride = max(1, T // 512)
    sample = np.sort(x[::stride])
    ns = sample.size
    edges = np.empty(bins - 1)
    for i in range(1, bins):
        edges[i - 1] = sample[min(ns - 1, (i * ns) // bins)]
    b_of = np.searchsorted(edges, x, side="right")
    n_b = np.zeros(bins)
    for t in range(T):
        n_b[b_of[t]] += 1.0
    sw = np.zeros((bins, K))
    sw2 = np.zeros((bins, K))
    swv = np.zeros((bins, K))
    swvv = np.zeros((bins, K))
    share = np.zeros(K)
    reach = np.zeros(K)
    stop = np.zeros(K)
    e = 0
    for t in range(T):
        while e + 1 < starts.size and starts[e + 1] <= t:
            e += 1
        k = arm[t]
        pt = p[t] if np.isfinite(p[t]) else 1.0
        if not np.isfinite(played[t]):
            if pt > 0:
                stop[k] += 1.0 / pt
            continue
        share[k] += 1.0
        if pt <= 0 or pt < tau:
            continue
        reach[k] += 1.0 / pt
        pi = 1.0 - (1.0 - pt) * (1.0 - q[e, k])
        w = 1.0 / pi
        v = played[t]
        b = b_of[t]
        sw[b, k] += w
        sw2[b, k] += w * w
        swv[b, k] += w * v
        swvv[b, k] += w * v * v
    for i in range(ra.size):
        t, k = ra[i], ka[i]
        if row[i] or not conv[i] or t >= T or arm[t] == k:
            continue
        e = np.searchsorted(starts, t, side="right") - 1
        e = max(e, 0)
        pk = pa[i] if np.isfinite(pa[i]) else 0.0
        pk = min(max(pk, 0.0), 1.0)
        pi = 1.0 - (1.0 - pk) * (1.0 - q[e, k])
        if pi <= 0:
            continue
        w = 1.0 / pi
        v = va[i]
        b = b_of[t]
        sw[b, k] += w
        sw2[b, k] += w * w
        swv[b, k] += w * v
        swvv[b, k] += w * v * v
    level = 0.0
    for t in range(T):
        level += paid[t]
    level /= T
    mean = np.zeros((bins, K))
    rel = np.zeros((bins, K))
    logc = np.empty((bins, K))
    pos = np.empty((bins, K), np.int64)
    n_obs = np.zeros(bins, np.int64)
    for b in range(bins):
        m = 0
        for j in range(K):  # the arms observed in this bin, in ω order
            k = order[j]
            if sw[b, k] > 0:
                mu = swv[b, k] / sw[b, k]
                mean[b, k] = mu
                var = max(swvv[b, k] / sw[b, k] - mu * mu, 0.0)
                n = sw[b, k] * sw[b, k] / sw2[b, k]
                r = np.sqrt(var) / mu if mu > 0 else spread
                rel[b, k] = max(r, spread) / np.sqrt(max(n, 1.0))
                logc[b, m] = np.log(max(mu, 1e-300))
                pos[b, m] = j
                m += 1
        n_obs[b] = m
    # the error of an interpolated log-cost, measured on the observed arms: each interior
    # one predicted from its two observed neighbours (root mean square over the bins; the
    # gap spread while fewer than 5 such checks)
    se, ne = 0.0, 0
    for b in range(bins):
        for i in range(1, n_obs[b] - 1):
            f = (pos[b, i] - pos[b, i - 1]) / (pos[b, i + 1] - pos[b, i - 1])
            err = logc[b, i] - ((1.0 - f) * logc[b, i - 1] + f * logc[b, i + 1])
            se += err * err
            ne += 1
    gap = np.sqrt((se + 5.0 * gap_spread ** 2) / (ne + 5.0))
    for b in range(bins):
        m = n_obs[b]
        for j in range(K):
            k = order[j]
            if sw[b, k] > 0:
                continue
            if m == 0:
                mean[b, k] = level
                rel[b, k] = gap_spread
                continue
            if m == 1 or (pos[b, 0] < j < pos[b, m - 1]):
                if m == 1:
                    lc, steps = logc[b, 0], abs(j - pos[b, 0])
                else:
                    i = 0
                    while pos[b, i + 1] < j:
                        i += 1
                    f = (j - pos[b, i]) / (pos[b, i + 1] - pos[b, i])
                    lc = (1.0 - f) * logc[b, i] + f * logc[b, i + 1]
                    steps = 1
            elif j < pos[b, 0]:  # beyond the outermost observed arms: their log-slope
                slope = (logc[b, 1] - logc[b, 0]) / (pos[b, 1] - pos[b, 0])
                steps = pos[b, 0] - j
                lc = logc[b, 0] - min(slope, 0.0) * steps
            else:
                slope = (logc[b, m - 1] - logc[b, m - 2]) / (pos[b, m - 1] - pos[b, m - 2])
                steps = j - pos[b, m - 1]
                lc = logc[b, m - 1] + max(slope, 0.0) * steps
            mean[b, k] = np.exp(lc)
            # an extrapolation errs more the further it reaches
            rel[b, k] = min(gap * np.sqrt(steps), 1.0)
    S = np.zeros(K)
    V = np.zeros(K)
    for b in range(bins):
        for k in range(K):
            S[k] += n_b[b] * mean[b, k]
            V[k] += (n_b[b] * rel[b, k] * mean[b, k]) ** 2
    np.random.seed(T)  # a function of the data: planning is reproducible
    wins = np.zeros(K)
    sd = np.sqrt(V)
    # only arms within four standard errors of the smallest upper bound can win a draw
    # (a chance below 1e-4 each): the draws are the kernel's dearest part
    top = np.inf
    for k in range(K):
        top = min(top, S[k] + 4.0 * sd[k])
    cand = np.flatnonzero(S - 4.0 * sd <= top)
    for _ in range(draws):
        best, kb = np.inf, cand[0]
        for k in cand:
            z = S[k] + np.random.standard_normal() * sd[k]
            if z < best:
                best, kb = z, k
        wins[kb] += 1.0
    for k in range(K):
        share[k] /= T
        reach[k] = min(reach[k] / T, 1.0)
        stop[k] = min(stop[k] / T, 1.0)
    return S, V, wins / draws, share, reach, stop


_PRICE = {}


def mini_price(K):
    """``(fixed, per round, per row read)``: the CPU seconds of a mini plan's computation
    (:func:`mini_totals` and :func:`bandit.audit.allocate`) on a run of 64 rounds, what
    each round of history adds (from one of 2,048 rounds), on synthetic runs of ``K`` arms
    (the least of three each, after a first call that loads the kernel), and what
    converting one logged round into the run's arrays costs (:func:`_row_price`); measured
    once per process and number of arms.  What a mini plan is priced at before it is made
    (:meth:`bandit.audit.Auditor._mini_plan`)."""
    if K in _PRICE:
        return _PRICE[K]
    import time

    from ._audit_plan import allocate
    from ._audit_price import synthetic_run

    def cost(data):
        best = np.inf
        for i in range(4):
            cpu = time.process_time()
            est = mini_totals(data)
            allocate(est, est["mean_cost"], 0.05, data.T, True)
            if i:  # (the first loads the kernel)
                best = min(best, time.process_time() - cpu)
        return best

    small, big = cost(synthetic_run(K, 64)), cost(synthetic_run(K, 2048))
    _PRICE[K] = (small, max(big - small, 0.0) / (2048 - 64), _row_price())
    return _PRICE[K]


class _Rows:
    """What :class:`bandit._report_data.RunArrays` reads of a tuner: its log rows."""

    _paid, cost = None, "iterations"

    def __init__(self, log):
        self._log = log


def _row_price(n=1024):
    """CPU seconds per round of bringing the run's arrays up to date
    (:class:`bandit._report_data.RunArrays`), on ``n`` rows of a Tuner's log (the least of
    three)."""
    import time

    from ._report_data import RunArrays

    row = (0, 1.0, 5, 0.1, 0.5, True, 5.0, False, -1, 1.0, -1, 100)
    best = np.inf
    for _ in range(3):
        log = [row] * n
        cpu = time.process_time()
        RunArrays().update(_Rows(log))
        best = min(best, time.process_time() - cpu)
    return best / n
