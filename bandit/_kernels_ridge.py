"""Numba kernels that re-express a ridge fit in new feature coordinates (``rescale_ridge``).

Plain loops instead of BLAS calls: the matrices are small (``d ≤ a few hundred``), and a
multithreaded BLAS on a busy machine turned a 120 × 120 inverse into 60 ms of spinning threads
instead of 0.2 ms.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["spd_inverse", "refit"]


@njit(cache=True)
def spd_inverse(M):
    """Inverse of a symmetric positive definite matrix by Cholesky (the upper triangle is
    mirrored first; a non-positive pivot is lifted to a tiny multiple of the diagonal's largest
    entry, so a matrix positive definite up to rounding still inverts).

    Every entry is the sum of the textbook loops (``L_ij = (M_ij − Σ_k<j L_ik L_jk)/L_jj``, then
    ``L⁻¹`` column by column, then ``L⁻ᵀ L⁻¹``), its terms added in the same order, one by
    one; the loops only run over many entries at once (the entries of a column of ``L``, of a
    row of ``L⁻¹``, of a row of the product), each with its own running sum, on rows stored
    contiguously (``L`` kept transposed), so they vectorise without reordering a sum: the
    same bits as the entry-by-entry loops, in a fraction of their time (each of those sums was
    one chain of dependent subtractions, the inverse's and the product's read down columns).
    """
    d = M.shape[0]
    top = 0.0
    for i in range(d):
        top = max(top, abs(M[i, i]))
    floor = 1e-14 * max(top, 1e-300)
    # U = Lᵀ: U[k, i] = L[i, k], so a column of L is a contiguous row of U
    U = np.zeros((d, d))
    s = np.empty(d)
    for j in range(d):
        for i in range(j, d):
            s[i] = 0.5 * (M[i, j] + M[j, i])
        t = s[j:]
        for k in range(j):
            u = U[k, j]
            row = U[k, j:]
            for i in range(t.size):
                t[i] -= row[i] * u
        p = s[j]
        piv = np.sqrt(p if p > floor else floor)
        U[j, j] = piv
        for i in range(j + 1, d):
            U[j, i] = s[i] / piv
    # Li = L⁻¹ (lower triangular), row by row: Li[i, j] = (−Σ_{j≤k<i} L[i, k] Li[k, j])/L[i, i]
    Li = np.zeros((d, d))
    for i in range(d):
        for j in range(i):
            s[j] = 0.0
        for k in range(i):
            a = U[k, i]
            row = Li[k, :k + 1]
            for j in range(row.size):
                s[j] -= a * row[j]
        diag = U[i, i]
        for j in range(i):
            Li[i, j] = s[j] / diag
        Li[i, i] = 1.0 / diag
    # M⁻¹ = L⁻ᵀ L⁻¹: out[i, j] = Σ_{k≥j} Li[k, i] Li[k, j] (j ≥ i), k increasing
    out = np.empty((d, d))
    for i in range(d):
        for j in range(i, d):
            s[j] = 0.0
        t = s[i:]
        for k in range(i, d):
            a = Li[k, i]
            row = Li[k, i:k + 1]
            for j in range(row.size):
                t[j] += a * row[j]
        for j in range(i, d):
            out[i, j] = s[j]
            out[j, i] = s[j]
    return out


@njit(cache=True)
def refit(P, theta, S, pen):
    """``(P', θ')`` for features ``S φ``: ``A = P⁻¹``, ``G = A − pen``, ``b = A θ``,
    ``P' = (S G Sᵀ + pen)⁻¹``, ``θ' = P' S b`` (``pen``: the scaled penalty matrix)."""
    d = P.shape[0]
    A = spd_inverse(P)
    b = A @ theta
    G = A - pen
    SG = np.zeros((d, d))
    for i in range(d):
        for k in range(d):
            s = S[i, k]
            if s != 0.0:
                for j in range(d):
                    SG[i, j] += s * G[k, j]
    # S G Sᵀ over the non-zero entries of S's rows only, in their order: S = kron(S_context,
    # I) has a few a row (6 of 120 for the default learner), and a skipped term S[j, k] = 0
    # adds ±0 to a sum that starts at +0 and so is never −0: the same bits as the sum over
    # every k, in a twentieth of its d³ multiply-adds (a widening of the context range on
    # every few rounds of a drifting context paid them)
    cols = np.empty((d, d), np.int64)
    count = np.zeros(d, np.int64)
    for j in range(d):
        c = 0
        for k in range(d):
            if S[j, k] != 0.0:
                cols[j, c] = k
                c += 1
        count[j] = c
    An = pen.copy()
    for i in range(d):
        for j in range(d):
            acc = 0.0
            for c in range(count[j]):
                k = cols[j, c]
                acc += SG[i, k] * S[j, k]
            An[i, j] += acc
    Pn = spd_inverse(An)
    Sb = np.zeros(d)
    for i in range(d):
        for k in range(d):
            Sb[i] += S[i, k] * b[k]
    th = np.zeros(d)
    for i in range(d):
        for k in range(d):
            th[i] += Pn[i, k] * Sb[k]
    return Pn, th
