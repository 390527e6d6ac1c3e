"""Value passes of the prepared operator (Numba).

A simulation re-assembles the same stencil every step, so a new matrix usually has the previous
one's sparsity pattern.  Everything that depends on its values — the finite check, the diagonal
and its inverse, the symmetry check, the two triangles — is then one pass over ``nnz`` values
with index arrays computed once for the pattern.  At a few hundred unknowns a solve takes tens
of microseconds, so doing this work as a handful of NumPy calls (each a few microseconds of
overhead) would cost more than the solve itself.
"""
import math

import numba
import numpy as np

from ._kernels import asymmetry_from_mirror


@numba.njit(cache=True)
def split_pattern(indptr, indices, lp, li, lk, up, ui, uk, lnear_k, unear_k, finish):
    """Pattern of the split triangles (``CSROperator.split_triangles``).

    The *far* triangles — strictly lower entries left of ``a_{i,i−1}``, strictly upper entries
    right of ``a_{i,i+1}`` — as CSR pointers ``lp``/``up``, columns ``li``/``ui`` and their
    positions ``lk``/``uk`` in ``data``; ``lnear_k[i]``/``unear_k[i]`` are the positions of
    ``a_{i,i−1}``/``a_{i,i+1}`` (−1 if not stored); ``finish[i]`` is the row's last stored
    column, at least ``i`` (when SOR's in-sweep residual of the row is final).  Returns the two
    far counts.  The values
    are then gathers (:func:`gather_split`), so a new matrix on the same pattern costs no
    search.
    """
    n = indptr.size - 1
    nl = 0
    nu = 0
    lp[0] = 0
    up[0] = 0
    for i in range(n):
        lnear_k[i] = -1
        unear_k[i] = -1
        finish[i] = i
        for k in range(np.uintp(indptr[i]), np.uintp(indptr[i + 1])):
            j = np.intp(indices[k])
            if j > finish[i]:
                finish[i] = j
            if j < i - 1:
                li[nl] = j
                lk[nl] = k
                nl += 1
            elif j == i - 1:
                lnear_k[i] = k
            elif j == i + 1:
                unear_k[i] = k
            elif j > i + 1:
                ui[nu] = j
                uk[nu] = k
                nu += 1
        lp[i + 1] = nl
        up[i + 1] = nu
    return nl, nu


@numba.njit(cache=True, inline="always")
def _gather_split(data, lk, uk, lnear_k, unear_k, ld, lnear, ud, unear):
    for m in range(lk.size):
        ld[m] = data[lk[m]]
    for m in range(uk.size):
        ud[m] = data[uk[m]]
    for i in range(lnear_k.size):
        k = lnear_k[i]
        lnear[i] = data[k] if k >= 0 else 0.0
        k = unear_k[i]
        unear[i] = data[k] if k >= 0 else 0.0


@numba.njit(cache=True)
def gather_split(data, lk, uk, lnear_k, unear_k, ld, lnear, ud, unear):
    """Values of the split triangles from the positions of :func:`split_pattern` (0 where a
    first off-diagonal is not stored)."""
    _gather_split(data, lk, uk, lnear_k, unear_k, ld, lnear, ud, unear)


@numba.njit(cache=True)
def refresh_values(src_indptr, src_indices, src_data, indptr, indices, diag_ptr, has_diag, mirror,
                   lk, uk, lnear_k, unear_k, data, diagonal, inv_diag, ld, lnear, ud, unear):
    """If ``src`` has the pattern ``(indptr, indices)``, copy its values into ``data`` and redo
    every value-dependent array, all in one call.

    Fills ``diagonal``/``inv_diag`` (0 where missing or zero) and, when the split pattern's
    positions are given (non-empty ``lnear_k``), the split triangles (:func:`gather_split`).
    Returns ``(same pattern,
    nonfinite, asymmetry, diagonal problems)``; ``asymmetry`` is ``max |a_ij − a_ji| / max |a_ij|``
    from the ``mirror`` positions, or −1 when ``mirror`` is empty (not computed), and the last
    item is :func:`diagonal_problems`.  When the patterns differ the outputs hold garbage and
    must be discarded.
    """
    if (src_data.size != data.size or src_indices.size != indices.size
            or src_indptr.size != indptr.size):
        return False, 0, -1.0, (-1, 0, -1, 0)
    for i in range(indptr.size):
        if np.int64(src_indptr[i]) != np.int64(indptr[i]):
            return False, 0, -1.0, (-1, 0, -1, 0)
    nonfinite = 0
    for k in range(src_data.size):  # the column check and the copy in one loop
        if np.int64(src_indices[k]) != np.int64(indices[k]):
            return False, 0, -1.0, (-1, 0, -1, 0)
        v = np.float64(src_data[k])
        if not np.isfinite(v):
            nonfinite += 1
        data[k] = v
    for i in range(diagonal.size):
        d = data[diag_ptr[i]] if has_diag[i] else 0.0
        diagonal[i] = d
        inv_diag[i] = 1.0 / d if d != 0.0 else 0.0
    if lnear_k.size:
        _gather_split(data, lk, uk, lnear_k, unear_k, ld, lnear, ud, unear)
    problems = diagonal_problems(has_diag, diagonal)
    if mirror.size == 0 or nonfinite:
        return True, nonfinite, -1.0, problems
    return True, nonfinite, asymmetry_from_mirror(data, mirror), problems


@numba.njit(cache=True)
def sor_mirror_pattern(lk, uk, mirror, positions):
    """Positions in ``data`` of the mirrors ``a_ij`` of the far lower entries ``a_ji`` (``lk``),
    −1 where not stored; returns whether every far upper entry (``uk``) has a stored mirror —
    the condition for SOR's lower bound (``_kernels.sor_lower_bound``)."""
    for m in range(lk.size):
        positions[m] = mirror[lk[m]]
    for m in range(uk.size):
        if mirror[uk[m]] < 0:
            return False
    return True


@numba.njit(cache=True)
def gather_or_zero(data, positions, out, same_as):
    """``out[m] = data[positions[m]]``, 0 where the position is −1; returns whether ``out``
    equals ``same_as`` entry for entry (then the caller can use ``same_as`` instead)."""
    same = out.size == same_as.size
    for m in range(positions.size):
        k = positions[m]
        v = data[k] if k >= 0 else 0.0
        out[m] = v
        if same and v != same_as[m]:
            same = False
    return same


@numba.njit(cache=True)
def diagonal_problems(has_diag, diagonal):
    """``(first zero-or-missing row, how many, first negative row, how many)``; −1 if none."""
    first_bad = -1
    n_bad = 0
    first_neg = -1
    n_neg = 0
    for i in range(diagonal.size):
        d = diagonal[i]
        if not has_diag[i] or d == 0.0:
            if first_bad < 0:
                first_bad = i
            n_bad += 1
        elif d < 0.0:
            if first_neg < 0:
                first_neg = i
            n_neg += 1
    return first_bad, n_bad, first_neg, n_neg


@numba.njit(cache=True)
def copy_finite(src, out):
    """``out[:] = src``; returns ``(number of non-finite entries, Σ src²)``.

    ``Σ src²`` overflows for entries beyond about 1e154 and underflows below about 1e-154;
    the caller then takes the norm from :func:`scaled_norm`.
    """
    nonfinite = 0
    sumsq = 0.0
    for i in range(src.size):
        v = src[i]
        if not np.isfinite(v):
            nonfinite += 1
        out[i] = v
        sumsq += v * v
    return nonfinite, sumsq


@numba.njit(cache=True)
def finite_sumsq(v):
    """``(number of non-finite entries, Σ v²)`` (:func:`copy_finite` without the copy)."""
    nonfinite = 0
    sumsq = 0.0
    for i in range(v.size):
        x = v[i]
        if not np.isfinite(x):
            nonfinite += 1
        sumsq += x * x
    return nonfinite, sumsq


@numba.njit(cache=True)
def scaled_norm(v):
    """``‖v‖`` without overflow or underflow: the entries are scaled by the power of two that
    brings ``max |v_i|`` into [0.5, 1) (exact), squared and summed, and the root is scaled back
    (the idea of LAPACK's ``dnrm2``, in two passes)."""
    amax = 0.0
    for i in range(v.size):
        amax = max(amax, abs(v[i]))
    if amax == 0.0:
        return 0.0
    e = math.frexp(amax)[1]
    acc = 0.0
    for i in range(v.size):
        t = math.ldexp(v[i], -e)
        acc += t * t
    return math.ldexp(np.sqrt(acc), e)
