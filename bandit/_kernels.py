"""Numba kernels for the per-round hot paths (Tsallis normaliser, rank-one ridge, sampling).

They take plain float64 arrays and know nothing about policies, so a round costs a few
microseconds at any ``t`` and each kernel can be checked against a plain NumPy formula.
The try gate of :class:`~bandit.JointCB` (:func:`expected_saving`, :func:`try_pays`,
``_gated_arm``, which the draw calls) is :mod:`bandit._kernels_gate`'s, re-exported here.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels_gate import _gate_value, _gated_arm, expected_saving, try_pays  # noqa: F401
from .features import _basis1

__all__ = ["tsallis_normaliser", "rls_update", "igw_probabilities", "sample_index", "lcb_scores",
           "joint_scores", "played_argmin", "played_model_argmin", "igw_select", "rls_observe",
           "joint_select_lcb", "joint_observe", "joint_predict", "joint_decide", "joint_tell",
           "expected_saving", "try_pays"]


@njit(cache=True)
def tsallis_normaliser(L, eta):
    """Return ``x < min(L)`` with ``sum_k 4 / (eta (L_k - x))**2 == 1``.

    ``f(x) = sum_k 4/(eta (L_k - x))^2 - 1`` is increasing and convex on ``x < min L``, and
    the root lies in ``[min L - 2 sqrt(K)/eta, min L - 2/eta]`` (the left end gives every arm at
    most ``1/K``, the right end gives the leader alone mass 1).  Newton from the right end of a
    convex increasing function never overshoots the root; the bisection fallback only guards
    against rounding, so the normaliser cannot jump past the pole and collapse onto one arm.
    Only differences ``L_k - min L`` enter, so huge raw losses lose no precision.
    """
    K = L.size
    m = L[0]
    for k in range(1, K):
        if L[k] < m:
            m = L[k]
    lo = -2.0 * np.sqrt(K) / eta   # offsets relative to min L
    hi = -2.0 / eta
    x = hi
    for _ in range(200):
        f = -1.0
        df = 0.0
        for k in range(K):
            w = eta * ((L[k] - m) - x)
            f += 4.0 / (w * w)
            df += 8.0 * eta / (w * w * w)
        if f > 0.0:
            hi = x
        else:
            lo = x
        if abs(f) <= 1e-13:
            break
        xn = x - f / df
        if not (lo <= xn <= hi) or xn == x:
            xn = 0.5 * (lo + hi)
        if hi - lo <= 1e-15 * max(1.0, abs(lo)):
            break
        x = xn
    return m + x


@njit(cache=True)
def matvec_rows(P, phi, out):
    """``out = P phi``, each row summed left to right exactly as ``s += P[i, j] * phi[j]``.

    Eight rows are summed side by side: a row alone is one chain of dependent additions
    (without fast-math the compiler may not reorder a sum), so the processor waits on each
    addition's latency; eight independent chains keep it busy.  Every row's sum is the same,
    bit for bit — on the 120 × 120 matrix of :class:`~bandit.JointCB` over 13 configuration
    arms it is 3.2 µs against 9.4 µs a product.
    """
    d = phi.size
    i = 0
    while i + 8 <= d:
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        for j in range(d):
            f = phi[j]
            s0 += P[i, j] * f
            s1 += P[i + 1, j] * f
            s2 += P[i + 2, j] * f
            s3 += P[i + 3, j] * f
            s4 += P[i + 4, j] * f
            s5 += P[i + 5, j] * f
            s6 += P[i + 6, j] * f
            s7 += P[i + 7, j] * f
        out[i] = s0
        out[i + 1] = s1
        out[i + 2] = s2
        out[i + 3] = s3
        out[i + 4] = s4
        out[i + 5] = s5
        out[i + 6] = s6
        out[i + 7] = s7
        i += 8
    while i < d:
        s = 0.0
        for j in range(d):
            s += P[i, j] * phi[j]
        out[i] = s
        i += 1


@njit(cache=True)
def rls_update(P, theta, phi, y):
    """Rank-one (Sherman–Morrison) ridge update of one arm, in place.

    ``P`` is ``(Λ + Σ φφᵀ)⁻¹`` and ``theta = P Σ φ y``; after the call both include ``(phi, y)``,
    exactly as a batch ridge solve on all rows would give (up to rounding).
    """
    d = phi.size
    Pphi = np.empty(d)
    matvec_rows(P, phi, Pphi)
    denom = 1.0
    resid = y
    for i in range(d):
        denom += phi[i] * Pphi[i]
        resid -= phi[i] * theta[i]
    for i in range(d):
        for j in range(d):
            P[i, j] -= Pphi[i] * Pphi[j] / denom
    # theta_new = theta + P_new phi * resid, and P_new phi = Pphi / denom
    for i in range(d):
        theta[i] += Pphi[i] * resid / denom


@njit(cache=True)
def igw_probabilities(yhat, gamma):
    """Inverse-gap weighting (Abe & Long; Foster & Rakhlin's SquareCB), costs minimised.

    ``p_k = 1 / (K + gamma (yhat_k - yhat_min))`` for every arm but the first minimiser, which
    gets the remaining mass (at least ``1/K``).
    """
    K = yhat.size
    best = 0
    for k in range(1, K):
        if yhat[k] < yhat[best]:
            best = k
    p = np.empty(K)
    rest = 1.0
    for k in range(K):
        if k != best:
            p[k] = 1.0 / (K + gamma * (yhat[k] - yhat[best]))
            rest -= p[k]
    p[best] = rest
    return p


@njit(cache=True)
def sample_index(p, u):
    """Index ``k`` with ``cumsum(p)[k-1] <= u < cumsum(p)[k]`` (``u`` uniform in [0, 1))."""
    c = 0.0
    K = p.size
    for k in range(K):
        c += p[k]
        if u < c:
            return k
    for k in range(K - 1, -1, -1):  # rounding left u >= sum(p): take the last arm with mass
        if p[k] > 0.0:
            return k
    return K - 1


@njit(cache=True)
def lcb_scores(theta, P, phi, bonus):
    """``θ_kᵀφ − bonus · sqrt(φᵀ P_k φ)`` for every arm (lower confidence bound on the cost)."""
    K, d = theta.shape
    out = np.empty(K)
    for k in range(K):
        m = 0.0
        w = 0.0
        for i in range(d):
            m += theta[k, i] * phi[i]
            s = 0.0
            for j in range(d):
                s += P[k, i, j] * phi[j]
            w += phi[i] * s
        out[k] = m - bonus * np.sqrt(max(w, 0.0))
    return out


@njit(cache=True)
def smoothed_means(W, sums, counts, n0):
    """Own means shrunk towards the neighbours' kernel-weighted means (see ``SmoothIGW``).

    ``W`` has a zero diagonal; arms without data contribute nothing; an arm with no played
    neighbour falls back to the mean of the played arms' means.
    """
    K = sums.size
    mean = np.zeros(K)
    total = 0.0
    nplayed = 0
    for j in range(K):
        if counts[j] > 0:
            mean[j] = sums[j] / counts[j]
            total += mean[j]
            nplayed += 1
    fallback = total / nplayed if nplayed else np.nan
    out = np.empty(K)
    for k in range(K):
        num = 0.0
        den = 0.0
        for j in range(K):
            if counts[j] > 0:
                num += W[k, j] * mean[j]
                den += W[k, j]
        prior = num / den if den > 0 else fallback
        a = n0 / (1.0 + counts[k])  # the prior fades as the arm gathers its own data
        out[k] = (sums[k] + a * prior) / (counts[k] + a)
    return out


@njit(cache=True)
def joint_scores(theta, P, psi, X, bonus, mu, score):
    """Predictions and lower confidence bounds of every arm under a tensor-product model.

    The features of arm ``k`` at a context are ``φ_k = ψ ⊗ X[k]`` (index ``i·mw + j``), so
    ``μ_k = X[k]ᵀ v`` with ``v_j = Σ_i ψ_i θ_(i,j)``, and the width ``φ_kᵀ P φ_k`` equals
    ``X[k]ᵀ M X[k]`` with ``M_jj' = Σ_ii' ψ_i ψ_i' P_(i,j),(i',j')``: ``O(d² + K mw²)`` per round
    instead of ``O(K d²)`` for ``K`` separate quadratic forms.  Fills ``mu`` and
    ``score = μ − bonus·sqrt(width)`` in place (the widths are skipped when ``bonus == 0``).
    """
    mc = psi.size
    K, mw = X.shape
    v = np.zeros(mw)
    for i in range(mc):
        for j in range(mw):
            v[j] += psi[i] * theta[i * mw + j]
    M = np.zeros((mw, mw))
    if bonus > 0.0:
        # each M[j, j2] sums over (i, i2) in the same order as with j outside i2; with the
        # pair outermost, ψ_i ψ_i2 is formed once per block (4.5 µs against 5.4 for d = 120)
        for i in range(mc):
            for i2 in range(mc):
                s = psi[i] * psi[i2]
                base = i2 * mw
                for j in range(mw):
                    r = i * mw + j
                    for j2 in range(mw):
                        M[j, j2] += s * P[r, base + j2]
    for k in range(K):
        m = 0.0
        w = 0.0
        for j in range(mw):
            m += X[k, j] * v[j]
            s = 0.0
            for j2 in range(mw):
                s += M[j, j2] * X[k, j2]
            w += X[k, j] * s
        mu[k] = m
        score[k] = m - bonus * np.sqrt(max(w, 0.0))


@njit(cache=True)
def played_argmin(pred, counts):
    """Index of the smallest non-NaN ``pred[k]`` with ``counts[k] > 0`` (−1 if none)."""
    best = -1
    for k in range(pred.size):
        if counts[k] > 0 and not np.isnan(pred[k]) and (best < 0 or pred[k] < pred[best]):
            best = k
    return best


@njit(cache=True)
def played_model_argmin(theta, phi, counts):
    """``(k, θ_kᵀφ)`` minimising the linear model over arms with ``counts[k] > 0``
    (``(−1, nan)`` if none); the leader of a per-arm regression without forming every cost."""
    best = -1
    best_y = np.nan
    for k in range(theta.shape[0]):
        if counts[k] <= 0:
            continue
        y = 0.0
        for j in range(phi.size):
            y += theta[k, j] * phi[j]
        if not np.isnan(y) and (best < 0 or y < best_y):
            best = k
            best_y = y
    return best, best_y


@njit(cache=True)
def igw_select(theta, phi, scale, gamma, u, counts):
    """One SquareCB draw: ``ŷ = scale · θφ``, IGW probabilities, the arm for uniform ``u``.

    Returns ``(arm, p, leader, ŷ_leader / scale)``: the same numbers as
    :func:`igw_probabilities` and :func:`sample_index` called in turn, and the played arm
    (``counts > 0``) with the lowest prediction (−1 if none) — in one call, since a round is
    a few microseconds and the Tuner asks for both.
    """
    K, d = theta.shape
    yhat = np.empty(K)
    for k in range(K):
        y = 0.0
        for j in range(d):
            y += theta[k, j] * phi[j]
        yhat[k] = scale * y
    p = igw_probabilities(yhat, gamma)
    lead = played_argmin(yhat, counts)
    return sample_index(p, u), p, lead, yhat[lead] / scale if lead >= 0 else np.nan


@njit(cache=True)
def rls_observe(P, theta, arm, phi, y, censored):
    """Feed ``(phi, y)`` to arm ``arm``'s ridge fit; returns the squared prediction error.

    A censored ``y`` is a lower bound: the target is ``max(y, prediction)``.
    """
    pred = 0.0
    for j in range(phi.size):
        pred += theta[arm, j] * phi[j]
    if censored and pred > y:
        y = pred
    rls_update(P[arm], theta[arm], phi, y)
    return (y - pred) ** 2


#: The mask of :func:`_argmin_first` that masks nothing (a compiled-in constant: a draw
#: allocates no empty mask for it)
_NO_MASK = np.zeros(0, dtype=np.bool_)


@njit(cache=True)
def _argmin_first(values, mask):
    """``np.argmin`` over the entries with ``mask`` set (all if ``mask`` is empty): the first
    smallest, or the first NaN if there is one (NumPy's rule); −1 if none."""
    best = -1
    for k in range(values.size):
        if mask.size and not mask[k]:
            continue
        v = values[k]
        if np.isnan(v):
            return k
        if best < 0 or v < values[best]:
            best = k
    return best


@njit(cache=True)
def joint_select_lcb(theta, P, psi, X, bonus, cap, near_mask, mu, score, converged,
                     cap_ratio=False, family=None, allow=None, sigma=0.0, pick=False):
    """One lower-confidence-bound draw of the joint (context, ω) model, in one call.

    :func:`joint_scores` fills ``mu`` and ``score``; with ``cap`` finite each score is raised
    to at least ``μ − cap`` (``np.maximum``'s rule: NaN wins), or to at least ``cap · μ``
    with ``cap_ratio`` (a model of the cost itself rather than of its logarithm: ``cap`` is
    then ``1/f`` for an optimism of at most a factor ``f``); the arm is the lowest score,
    and when ``near_mask`` (``K × K``; empty: no restriction) does not allow it next to the
    predicted best (lowest ``μ``), the lowest score among the arms it allows.  Returns
    ``(arm, leader)``, the leader the played arm with a converged observation
    (``converged > 0``) of lowest ``μ`` (−1 if none) — the numbers ``np.argmin`` and
    :func:`played_argmin` give, without a Python layer between them: a round follows a solve
    that has pushed those layers out of the caches.

    *The try gate* (``family``: each arm's family, an integer array; omitted or empty: no
    gate; a model of the log-cost only, not with ``cap_ratio``): a drawn arm of another
    family than the leader's is played only when its try pays by the model's own numbers
    (:func:`_gated_arm`, :func:`try_pays`; ``allow`` = the allowance of a rival whose family
    has converged and of one whose family has not, ``sigma`` = ``σ̂``, the noise scale the
    ``bonus`` is ``β`` times); otherwise the draw is the lowest score among the leader's
    family next to its predicted best — in the same call, so a declined rival costs a few
    comparisons, not a second pass over the model.  The widths are read back from the
    uncapped scores (``sqrt(φᵀPφ) = (μ − score)/bonus``; with ``bonus = 0``, recomputed).

    ``pick`` (with the gate, :attr:`bandit.JointCB.gate_pick`): a drawn rival is replaced by
    the rival arm of greatest gate value before it is weighed (:func:`_gated_arm`).
    """
    K = mu.size
    # empty until needed: a view of no entries, not an allocation (a draw allocates only the
    # arrays it fills)
    wide = mu[:0]  # sqrt(φ_kᵀPφ_k), before the cap raises the scores
    joint_scores(theta, P, psi, X, bonus, mu, score)
    gated = False
    if family is not None:  # (a branch Numba drops when the argument is omitted)
        gated = family.size > 0 and not cap_ratio
    if gated:
        wide = np.empty(K)
        if bonus > 0.0:
            for j in range(K):
                wide[j] = (mu[j] - score[j]) / bonus
        else:  # (β = 0: the draw computed no widths)
            m1 = np.empty(K)
            joint_scores(theta, P, psi, X, 1.0, m1, wide)
            for j in range(K):
                wide[j] = m1[j] - wide[j]
    if cap < np.inf:
        for k in range(K):
            lo = mu[k] * cap if cap_ratio else mu[k] - cap
            s = score[k]
            if np.isnan(s) or np.isnan(lo):
                score[k] = np.nan
            elif lo > s:
                score[k] = lo
    k = _argmin_first(score, _NO_MASK)
    if near_mask.size:
        best = _argmin_first(mu, _NO_MASK)
        if not near_mask[best, k]:
            k = _argmin_first(score, near_mask[best])
    lead = played_argmin(mu, converged)
    if family is not None:
        if gated and lead >= 0 and k >= 0:
            k = _gated_arm(k, lead, mu, score, wide, sigma, family, allow, converged,
                           near_mask, pick)
    return k, lead


@njit(cache=True)
def joint_observe(P, theta, psi, X, arm, y, censored, clip, info=None):
    """Feed arm ``arm``'s joint features ``φ = ψ ⊗ X[arm]`` and target ``y`` to the joint ridge
    fit (as :func:`rls_update`); returns the squared prediction error it was fed.

    A censored ``y`` is a lower bound: the target is ``max(y, prediction)``.  The prediction
    is ``np.dot``'s, as NumPy's ``θ @ φ`` computes it.

    Huber clip: a one-step prediction error ``r = y − θᵀφ`` beyond ``clip · sqrt(1 + φᵀPφ)``
    (``clip`` = a multiple of the noise scale, ``sqrt(1 + φᵀPφ)`` the prediction's own spread
    in units of it) is fed as that bound with its sign, to the fit and to the squared error
    alike: one wild reading moves the model and the noise scale no more than a large honest
    one.  An arm the model knows little of has a wide prediction and is not clipped; with
    ``clip = inf``, or no error beyond the bound, the update is :func:`rls_update`'s,
    bit for bit.

    ``info`` (a float array of 2, optional) receives the error before the clip, ``y − θᵀφ``
    (``y`` after censoring), and ``1 + φᵀPφ`` of the model before the update: the
    standardised error that :class:`~bandit.JointCB`'s change test reads, at no extra cost.
    """
    mc = psi.size
    mw = X.shape[1]
    d = mc * mw
    phi = np.empty(d)
    for i in range(mc):
        for j in range(mw):
            phi[i * mw + j] = psi[i] * X[arm, j]
    pred = np.dot(theta, phi)
    if censored and pred > y:
        y = pred
    # the rank-one update of rls_update, with the same arithmetic in the same order
    Pphi = np.empty(d)
    matvec_rows(P, phi, Pphi)
    denom = 1.0
    for i in range(d):
        denom += phi[i] * Pphi[i]
    if info is not None:
        info[0] = y - pred
        info[1] = denom
    bound = clip * np.sqrt(denom)
    if y - pred > bound:
        y = pred + bound
    elif pred - y > bound:
        y = pred - bound
    resid = y
    for i in range(d):
        resid -= phi[i] * theta[i]
    for i in range(d):
        for j in range(d):
            P[i, j] -= Pphi[i] * Pphi[j] / denom
    for i in range(d):
        theta[i] += Pphi[i] * resid / denom
    return (y - pred) ** 2


@njit(cache=True)
def joint_predict(theta, P, psi, X, arm):
    """``(θᵀφ, φᵀPφ)`` of arm ``arm``'s joint features ``φ = ψ ⊗ X[arm]``, in one call.

    The numbers NumPy's ``θ @ φ`` and ``φ @ P @ φ`` give (the same ``np.dot`` products, in
    the same order), without the three NumPy calls and the Python between them: a model of
    the cost itself (:meth:`bandit.JointCB._update_cost`) reads both before its update.
    """
    mc = psi.size
    mw = X.shape[1]
    phi = np.empty(mc * mw)
    for i in range(mc):
        for j in range(mw):
            phi[i * mw + j] = psi[i] * X[arm, j]
    return np.dot(theta, phi), np.dot(np.dot(phi, P), phi)


@njit(cache=True)
def _scalar_features(c, mid, scale, kind, m):
    """The features of a scalar context ``c`` inside its range, as
    :meth:`bandit.features.FeatureMap.__call__` computes them on its fast path:
    ``u = (c/2 − mid)/scale`` clipped to [−1, 1] (Python's ``min(max(u, −1), 1)``: ``u`` is
    kept unless a bound is strictly beyond it), then the 1-D basis of ``kind`` (0 Chebyshev,
    1 monomials, 2 hats) with ``m`` functions."""
    u = (0.5 * c - mid) / scale
    if -1.0 > u:
        u = -1.0
    if 1.0 < u:
        u = 1.0
    return _basis1(u, kind, m)


@njit(cache=True)
def joint_decide(c, mid, scale, kind, m, theta, P, X, bonus, cap, near_mask, mu, score,
                 converged, family, allow, sigma, pick, out):
    """One round's decision of :class:`~bandit.JointCB` at a scalar context, in one call: the
    context's features (:func:`_scalar_features`) and :func:`joint_select_lcb` on them (a
    model of the log-cost; ``family``, ``allow``, ``sigma``: its try gate, ``family`` empty
    for none; ``pick``: :attr:`~bandit.JointCB.gate_pick`).  Returns ``(arm, leader)``,
    leaves the means in ``mu`` and the features in ``out`` (``m`` entries: for the feature
    map's cache, as its own call leaves it).

    The numbers of the three calls it replaces (the features, the draw, the leader), bit for
    bit; what it saves is the Python between them and two dispatches, each paid after a solve
    has pushed them out of the caches.  The features are written into the caller's array
    rather than returned: an array made here is handed to Python with its dtype unpickled on
    every call (``numba.core.serialize._numba_unpickle``, 1-2 µs a draw).
    """
    psi = _scalar_features(c, mid, scale, kind, m)
    k, lead = joint_select_lcb(theta, P, psi, X, bonus, cap, near_mask, mu, score, converged,
                               False, family, allow, sigma, pick)
    out[:] = psi
    return k, lead


@njit(cache=True)
def joint_tell(c, mid, scale, kind, m, P, theta, X, arm, y, censored, clip, info, sigma,
               detect, cusum_up, cusum_down, cap, drift, counts, converged_counts, cost_sums,
               cost, converged):
    """One round's update of :class:`~bandit.JointCB` (a model of the log-cost, a scalar
    context inside its range), in one call.

    The context's features (:func:`_scalar_features`), :func:`joint_observe` of target ``y``
    with the Huber bound ``clip``, the change test's standardised error
    ``z = (y − θᵀφ)/(σ̂ sqrt(1 + φᵀPφ))`` (``sigma`` = ``σ̂``) and, with ``detect``, Page's
    CUSUMs of it both ways (``z`` capped at ``±cap``, drift ``drift``, Python's ``max``/``min``
    rules: a bound replaces a value only when strictly beyond it; a non-finite ``z`` leaves
    them), then the arm's counts and cost sum.  Returns ``(squared error fed, cusum_up,
    cusum_down)``: the numbers :meth:`bandit.JointCB.update`'s general path computes, bit for
    bit, and the alarm is the caller's (``max(cusum_up, cusum_down)`` beyond the limit).
    """
    psi = _scalar_features(c, mid, scale, kind, m)
    e = joint_observe(P, theta, psi, X, arm, y, censored, clip, info)
    if detect:
        z = info[0] / (sigma * np.sqrt(info[1]))
        if np.isfinite(z):
            if -cap > z:
                z = -cap
            if cap < z:
                z = cap
            v = cusum_up + z - drift
            cusum_up = v if v > 0.0 else 0.0
            v = cusum_down - z - drift
            cusum_down = v if v > 0.0 else 0.0
    counts[arm] += 1
    if converged:
        converged_counts[arm] += 1
    cost_sums[arm] += cost
    return e, cusum_up, cusum_down
