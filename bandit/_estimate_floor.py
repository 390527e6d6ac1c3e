"""The least error a column total of :mod:`bandit.estimate` is given, whatever its bootstrap
draws show: the floor from the residual spread of an arm's sampled entries shrunk towards
the spread pooled over the arms (:func:`_error_floor`), the spread an arm's plays show on
its unplayed rounds (:func:`_play_spread`) and the error on the contexts its plays never
reached (:func:`_unreached_floor`), with their constants.  All are imported from
:mod:`bandit.estimate`.

The pooled spread itself (:func:`bandit.estimate._pooled_spread`) stays in
:mod:`bandit.estimate`: it reads the switch ``bandit.estimate.TAIL_SPREAD``, which is set
on that module.  So this module imports it from there, and :mod:`bandit.estimate` imports
this one once ``_pooled_spread`` is defined.
"""
from __future__ import annotations

import numpy as np

from ._observed import MIN_PROB, _audit_probs, _completion_probs, _epoch_of
from ._regretdata import RunData
from .estimate import _pooled_spread


#: An arm with fewer effective sampled entries than this and at least this many observed for
#: sure (a deterministic learner's plays) takes the larger of the two residual spreads
#: (:func:`_error_floor`).
SURE_SPREAD_MIN = 10


#: The pooled prior's weight in an arm's residual spread, in entries (:func:`_error_floor`).
PRIOR_ENTRIES = 5.0


def _error_floor(d, m_obs, pi, spread, k, K, T, level, prior=None, share=None, cover=None,
                 dof=False):
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
    pooled relative spread, the
    share of σ̃² the plays show)``, and with ``dof`` also the degrees of freedom of ``σ̃²``
    per arm (:func:`_blend_dof`)."""
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
    if dof:
        df = _blend_dof(n, var, prior, prior_var, n_pool,
                        np.bincount(k[sampled], minlength=K))
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
    by_plays = (certain >= SURE_SPREAD_MIN) & (n < SURE_SPREAD_MIN) & (s_var > sig2)
    sig2 = np.where(by_plays, s_var, sig2)
    if dof:
        # the plays' spread, where it sets σ̃², has their degrees of freedom
        df = np.where(by_plays, np.maximum(certain - 1.0, 1.0), df)
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
    if dof:
        return sd, np.sqrt(sig2), pooled_rel, covered, df
    return sd, np.sqrt(sig2), pooled_rel, covered


#: Level of the variance-ratio test by which an arm's own residual spread must not exceed
#: the pooled one before the pooled spread's degrees of freedom count for it
#: (:func:`_blend_dof`).
RATIO_TEST = 0.05


def _blend_dof(n, var, prior, prior_var, n_pool, count=None):
    """Per arm, the degrees of freedom of the blended residual variance
    ``σ̃² = (n·s² + P·s_p²)/(n + P)`` of :func:`_error_floor` (Welch–Satterthwaite), or
    ``n − 1`` where the arm's own variance is significantly larger than the pooled one.

    ``s²`` (the arm's own, from ``n`` effective sampled entries) has ``n − 1`` degrees of
    freedom and the pooled ``s_p²`` has ``n_pool − 1``; their blend has
    ``σ̃⁴ / ((a s²)²/(n − 1) + (b s_p²)²/(n_pool − 1))``, ``a = n/(n + P)``,
    ``b = P/(n + P)``: about ``n_pool`` where the pooled part dominates, never fewer than
    the arm's own ``n − 1``.  The pooled part stands for the arm only if the arm's residuals
    spread no more than the other arms': where the ratio ``s²/s_p²`` lies above the
    ``1 − RATIO_TEST`` quantile of the ``F(n − 1, n_pool − 1)`` law, the blend would
    understate the arm's spread and the arm's own ``n − 1`` stay (Student's factor as
    before); so they do for an arm with fewer than two sampled entries (``count``; no
    spread of its own at all).  A ratio far below 1 needs no fallback: the blend then
    overstates the arm's spread.

    Examples
    --------
    >>> df = _blend_dof(np.array([2.0, 2.0, 2.0]), np.array([1.0, 1e-6, 400.0]), 5.0,
    ...                 np.ones(3), 100.0)
    >>> [round(float(v), 1) for v in df]     # agrees, far smaller, far larger
    [11.5, 99.0, 1.0]
    """
    from scipy.stats import f as fisher

    n = np.asarray(n, dtype=float)
    var = np.asarray(var, dtype=float)
    prior_var = np.asarray(prior_var, dtype=float)
    own = np.maximum(n - 1.0, 1.0)
    pool = max(float(n_pool) - 1.0, 1.0)
    a, b = n / (n + prior), prior / (n + prior)
    blend = a * var + b * prior_var
    den = (a * var) ** 2 / own + (b * prior_var) ** 2 / pool
    df = np.where(den > 0, blend ** 2 / np.where(den > 0, den, 1.0), own)
    ratio = var / np.maximum(prior_var, 1e-300)
    hi = fisher.ppf(1.0 - RATIO_TEST, own, pool)
    many = n >= 2.0 if count is None else np.asarray(count) >= 2
    agree = many & (prior_var > 0) & (ratio <= hi)
    return np.where(agree, np.maximum(df, own), own)


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


def _noise_floor(data: RunData, t, k, d, m_obs, pi, K, bins=24):
    """Per arm, the Horvitz–Thompson error of its sampled entries at the noise the plays show
    about the model in each context bin: ``√(Σ_i (1 − π_i)/π_i² · ρ²_{b(i)} m_i²)`` over the
    arm's sampled entries ``i`` (``π < 1``), ``m_i`` the entry's prediction and ``ρ²_b`` the
    mean square of the relative residuals of the plays of every arm in the context bin ``b``
    (``bins`` quantile bins of :attr:`RunData.x`).

    The bootstrap's variance is the same sum with each entry's own squared residual ``d_i²``
    in place of its expectation.  Where a round's cost strays far from its context's mean now
    and then (a random medium whose few dearest samples hold most of the residuals' square:
    the top 1 % of rounds 60–70 % of it), an arm audited a few times on the rounds its plays
    avoid has sampled entries that all missed those rounds, with probability near 1: its
    draws, and the spreads pooled from sampled entries, then show neither the rounds nor the
    error their absence makes (its total came out 3–7 of its reported standard errors low).
    The plays see every round, one entry each, so in each context bin they show the noise
    at the rate it occurs; its expectation, given to each sampled entry at that entry's own
    weight, is the error the design leaves.  The noise of one arm's plays stands for every
    arm's: the plays' residuals are of well-fitted models, so the spread is the rounds' own
    variation about the context's mean, not a model's misfit (that is the other floors').

    A play the guard stopped is observed only when completed or drawn by a column audit,
    with probability ``1 − (1 − c)(1 − q)`` (``c``: :func:`bandit.audit.completion_probability`),
    and it is a dear round for its arm: each observed one is weighted by the inverse of that
    probability, and a bin's plays are all of them (the stopped ones not observed included).

    Examples
    --------
    >>> T = 400
    >>> rng = np.random.default_rng(0)
    >>> noise = np.where(rng.random(T) < 0.02, 10.0, 0.0)        # 2 % of rounds cost 11 × more
    >>> d = RunData(paid=1.0 + noise, x=np.zeros(T), arm=np.zeros(T, np.int64),
    ...             p=np.ones(T), played=1.0 + noise, epoch_start=np.zeros(1, np.int64),
    ...             q=np.array([[0.0, 0.01]]), r=np.zeros(1),
    ...             audits={c: np.zeros(0) for c in ("round", "arm", "row", "value",
    ...                     "iterations", "converged", "budget", "p")},
    ...             fail_cost=1e3, n_arms=2)
    >>> t = np.r_[np.arange(T), 7]; k = np.r_[np.zeros(T, np.int64), 1]
    >>> m_obs = np.ones(T + 1); res = np.r_[noise, 0.0]; pi = np.r_[np.ones(T), 0.01]
    >>> sd = _noise_floor(d, t, k, res, m_obs, pi, 2)   # arm 1's one audit missed them
    >>> sd.round(1).tolist(), round(float(np.sqrt(np.mean(noise ** 2)) * np.sqrt(0.99) / 0.01), 1)
    ([0.0, 149.2], 149.2)
    """
    T = data.T
    x = np.asarray(data.x, dtype=float)
    zero = np.zeros(K)
    if T == 0 or t.size == 0 or not np.all(np.isfinite(x)):
        return zero
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, bins + 1)))
    b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(edges.size - 2, 0))
    nb = int(b.max()) + 1
    play = data.arm[t] == k
    tp, kp = t[play], k[play]
    scale = np.maximum(np.abs(m_obs), 1e-12 + 1e-3 * float(np.mean(np.abs(m_obs))))
    rel2 = (d / scale) ** 2
    g = np.ones(tp.size)
    failed = data.failed if data.failed is not None else np.zeros(T, dtype=bool)
    halted = ~np.isfinite(data.played) & ~failed  # plays the guard stopped
    seen = halted[tp]  # observed all the same: completed, or drawn by a column audit
    if seen.any():
        q, _ = _audit_probs(data, tp[seen], kp[seen])
        c = _completion_probs(data, tp[seen], data.p[tp[seen]],
                              None if data.refused is None else ~data.refused[tp[seen]])
        g[seen] = 1.0 / np.maximum(1.0 - (1.0 - c) * (1.0 - q), 1e-12)
    hit = np.zeros(T * K, dtype=bool)
    hit[tp * K + kp] = True
    rounds = np.flatnonzero(halted)
    lost = rounds[~hit[rounds * K + data.arm[rounds]]]  # stopped and never observed
    n_all = (np.bincount(b[tp], minlength=nb) + np.bincount(b[lost], minlength=nb)).astype(float)
    sq = np.bincount(b[tp], g * rel2[play], nb)
    whole = float(sq.sum() / max(n_all.sum(), 1.0))
    rho2 = np.where(n_all >= PLAY_BIN_MIN, sq / np.maximum(n_all, 1.0), whole)
    sampled = pi < 1.0
    w = (1.0 - pi[sampled]) / pi[sampled] ** 2 * rho2[b[t[sampled]]] * m_obs[sampled] ** 2
    return np.sqrt(np.bincount(k[sampled], w, K))
