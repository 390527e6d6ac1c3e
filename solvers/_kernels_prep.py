"""Value passes of the prepared operator (Numba).

A simulation re-assembles the same stencil every step, so a new matrix usually has the previous
one's sparsity pattern.  Comparing that pattern and redoing everything that depends on the
values — the finite check, the diagonal and its inverse, the symmetry check, the two triangles —
is then one compiled call (:func:`refresh_values`) with index arrays computed once for the
pattern.  At a few hundred unknowns a solve takes tens of microseconds, so doing this work as a
handful of NumPy calls (each a few microseconds of overhead) would cost more than the solve
itself; from 10⁴ unknowns on what counts is how many times the matrix is read and written:
the new index arrays and values are read once, the split copy written once and read once
more for the symmetry and the diagonal.  A loop whose solvers read only the CSR arrays (CG,
Jacobi-PCG) needs no split copy: :func:`check_values` makes the same checks in one pass over
the index arrays and values, and :func:`place_values` places them if a solver asks later.
"""
import math

import numba
import numpy as np

from ._kernels import scaled_norm  # noqa: F401  (the solvers' norm of b, ``_checks``)


@numba.njit(cache=True)
def split_pattern(indptr, indices, lp, li, lk, up, ui, uk, lnear_k, unear_k, finish):
    """Pattern of the split triangles (``CSROperator.split_triangles``).

    The *far* triangles — strictly lower entries left of ``a_{i,i−1}``, strictly upper entries
    right of ``a_{i,i+1}`` — as CSR pointers ``lp``/``up``, columns ``li``/``ui`` and their
    positions ``lk``/``uk`` in ``data``; ``lnear_k[i]``/``unear_k[i]`` are the positions of
    ``a_{i,i−1}``/``a_{i,i+1}`` (−1 if not stored); ``finish[i]`` is the row's last stored
    column, at least ``i`` (when SOR's in-sweep residual of the row is final).  Returns the two
    far counts.  The values are then placed by :func:`refresh_values`, so a new matrix on
    the same pattern costs no search.
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


#: ``1/d`` is finite exactly for ``|d| > 2⁻¹⁰²⁴`` (the next subnormal above it is ``2⁻⁵⁰``
#: relatively larger, so its inverse rounds below the largest double); a diagonal entry at or
#: below it is as unusable as a zero for the solvers that divide by ``a_ii``.
TINY_DIAGONAL = 2.0 ** -1024
#: Diagonal entries below this magnitude are counted with the values' checks: a system with
#: one runs its kernels in IEEE arithmetic, without the flush of subnormal results
#: (``solvers._fpmode``).
SMALL_DIAGONAL = 2.0 ** -400

# |v| is v's bits without the sign bit; from the bits of +inf on it is NaN or Inf
ABS_BITS = np.uint64(0x7FFFFFFFFFFFFFFF)
INF_BITS = np.uint64(0x7FF0000000000000)


@numba.njit(cache=True)
def refresh_values(new_indptr, new_indices, src, indptr, indices, slot, values, umirror,
                   lonely_lower, inv_diag):
    """:func:`refresh_values_kept` without the test for unchanged values: the values are
    always placed and checked (``(pattern differs, non-finite entries, max |a_ij|,
    max |a_ij − a_ji|, first zero-or-missing diagonal row, how many, first negative row,
    how many, diagonal entries below SMALL_DIAGONAL)``)."""
    out = refresh_values_kept(new_indptr, new_indices, src, indptr, indices, slot, values,
                              umirror, lonely_lower, inv_diag, False)
    return out[0], out[1], out[3], out[4], out[5], out[6], out[7], out[8], out[9]


@numba.njit(cache=True)
def refresh_values_kept(new_indptr, new_indices, src, indptr, indices, slot, values, umirror,
                        lonely_lower, inv_diag, keep):
    """A re-assembled matrix taken into a prepared operator, in one compiled call: its pattern
    compared with the operator's, every value checked, placed and its symmetric pair compared,
    the diagonal inverted and checked.

    ``new_indptr``/``new_indices``/``src`` are the new CSR arrays (any integer dtypes, ``src``
    float64 and contiguous; sizes already equal to the operator's), ``indptr``/``indices`` the
    operator's canonical pattern.  First one pass over the index arrays compares them with the
    pattern — integer operations only, so the loop vectorises; when the pattern differs
    nothing is written.  Then one pass over the values looks at each value's bits (``|v|`` is
    ``v``'s bits without the sign bit; it is NaN or Inf from the bits of +Inf on, and finite
    magnitudes order as their bits do) and places it, ``values[slot[k]] = src[k]``, in the
    buffer ``[far lower | far upper | a_{i,i−1} | a_{i,i+1} | diagonal | 0]`` (``n`` rows;
    ``nl``, ``nu`` far entries: ``values.size = nl + nu + 3n + 1``; slots of entries the pattern
    does not store are never written and hold 0): the values are read once, where a bit test
    before the placement read them twice (the refresh of a 10⁶-unknown matrix, whose arrays
    come from memory, is 10–17 % faster so).  With a non-finite value the buffer is left
    partly written (the caller marks the operator unusable); otherwise :func:`finish_values`
    compares the pairs and checks the diagonal.

    ``keep``: ``values`` and ``inv_diag`` hold the operator's current values, placed and
    checked by an earlier call that raised nothing (the caller kept its results).  The values
    are then first compared, bit for bit, with their places in the buffer, up to the first
    that differs (:func:`_placed_already`), and if one does all are placed as above.  When
    every value equals its place — the same matrix solved again — the buffer, ``inv_diag``
    and every check's result are those of the earlier call, so neither the placement nor the
    pairs and the diagonal are redone (the pattern is compared all the same).  Bits, not
    values, are compared: ``-0.0`` against ``0.0`` and any NaN count as changed.

    Returns ``(pattern differs, non-finite entries, unchanged, max |a_ij|, max |a_ij − a_ji|,
    first zero-or-missing diagonal row, how many, first negative row, how many, diagonal
    entries below SMALL_DIAGONAL)``; the rest is computed only when the pattern is the same,
    some value changed (or not ``keep``) and every value finite (else the last seven are 0
    and −1).
    """
    diff = np.int64(0)
    for i in range(indptr.size):
        diff |= np.int64(new_indptr[i]) ^ np.int64(indptr[i])
    for k in range(indices.size):  # no early exit, so it vectorises
        diff |= np.int64(new_indices[k]) ^ np.int64(indices[k])
    if diff != 0:
        return True, 0, False, 0.0, 0.0, -1, 0, -1, 0, 0
    bits = src.view(np.uint64)
    if keep and _placed_already(bits, slot, values.view(np.uint64)):
        return False, 0, True, 0.0, 0.0, -1, 0, -1, 0, 0
    top = _place(bits, src, slot, values)
    if top >= INF_BITS:  # some value is NaN or Inf: count them (the error names how many)
        nonfinite = 0
        for k in range(src.size):
            nonfinite += (bits[k] & ABS_BITS) >= INF_BITS
        return False, nonfinite, False, 0.0, 0.0, -1, 0, -1, 0, 0
    nonfinite = 0
    n = inv_diag.size
    nu = umirror.size
    nl = values.size - 3 * n - 1 - nu
    lnear = values[nl + nu:nl + nu + n]
    unear = values[nl + nu + n:nl + nu + 2 * n]
    diagonal = values[nl + nu + 2 * n:nl + nu + 3 * n]
    worst, first_bad, n_bad, first_neg, n_neg, n_small = finish_values(
        diagonal, lnear, unear, values[nl:nl + nu], values, umirror, lonely_lower, inv_diag)
    amax = np.array([top]).view(np.float64)[0]
    return False, nonfinite, False, amax, worst, first_bad, n_bad, first_neg, n_neg, n_small


@numba.njit(cache=True, inline="always")
def _place(bits, src, slot, values):
    """``values[slot[k]] = src[k]`` for every value, and the largest ``|src[k]|``'s bits
    (``>= INF_BITS`` exactly when some value is NaN or Inf).  The largest is kept as four
    running maxima, over every fourth value each, and no count of non-finite values is
    kept: one maximum and a count made each value wait on the previous one's compare (at
    n = 10⁴, a 5-point matrix's placement took 42 µs so, 35 µs now: the stores' own
    time)."""
    t0 = t1 = t2 = t3 = np.uint64(0)
    m = src.size
    k = 0
    while k + 3 < m:
        t0 = max(t0, bits[k] & ABS_BITS)
        t1 = max(t1, bits[k + 1] & ABS_BITS)
        t2 = max(t2, bits[k + 2] & ABS_BITS)
        t3 = max(t3, bits[k + 3] & ABS_BITS)
        values[slot[k]] = src[k]
        values[slot[k + 1]] = src[k + 1]
        values[slot[k + 2]] = src[k + 2]
        values[slot[k + 3]] = src[k + 3]
        k += 4
    for k in range(k, m):
        t0 = max(t0, bits[k] & ABS_BITS)
        values[slot[k]] = src[k]
    return max(max(t0, t1), max(t2, t3))


@numba.njit(cache=True, inline="never")
def _placed_already(bits, slot, placed) -> bool:
    """Whether every value's bits equal those at its place in the buffer (stops at the first
    that does not: a re-assembled matrix differs from its first entry on).  A call of its own,
    not inlined: inlined, its loop made LLVM compile the placement loop after it about a
    third slower (90 against 56 µs at n = 10⁴)."""
    for k in range(bits.size):
        if placed[slot[k]] != bits[k]:
            return False
    return True


@numba.njit(cache=True, inline="always")
def finish_values(diagonal, lnear, unear, ud, values, umirror, lonely_lower, inv_diag):
    """After the values are placed (:func:`refresh_values`): ``inv_diag`` (0 where the diagonal is zero, missing or too small to invert: ``|a_ii| <= TINY_DIAGONAL``),
    the diagonal's problems and the largest ``|a_ij − a_ji|``.

    Every mirror pair is met once: ``a_{i,i−1}`` with ``a_{i−1,i}`` (``lnear[i]``,
    ``unear[i−1]``; 0 where not stored), every far upper entry ``ud[m]`` with its mirror
    ``values[umirror[m]]`` (in the far lower triangle, or a slot that stays 0 when it is not
    stored), and the far lower entries without a stored mirror (``lonely_lower``, positions
    in ``values``) with 0 — the same maximum as ``_kernels.asymmetry_from_mirror``.  Returns
    ``(max |a_ij − a_ji|, first zero-or-missing diagonal row, how many, first negative row,
    how many, how many entries below SMALL_DIAGONAL)`` (rows −1 if none).  Every value must
    be finite.
    """
    # The maximum is kept on the bits of |a_ij − a_ji| (finite magnitudes order as their bits
    # do; a difference that overflows is +Inf, whose bits are above them; every value is
    # finite, so no NaN): an integer maximum LLVM vectorises, where a maximum of doubles is a
    # chain of dependent compares (four such chains had taken 10.0 µs at n = 10⁴ on heat3d,
    # 6.7 on the bits).
    n = diagonal.size
    w = np.float64(lnear[0]).view(np.uint64) & ABS_BITS
    for i in range(1, n):
        w = max(w, np.float64(lnear[i] - unear[i - 1]).view(np.uint64) & ABS_BITS)
    for m in range(ud.size):
        w = max(w, np.float64(ud[m] - values[umirror[m]]).view(np.uint64) & ABS_BITS)
    for m in range(lonely_lower.size):
        w = max(w, np.float64(values[lonely_lower[m]]).view(np.uint64) & ABS_BITS)
    worst = np.uint64(w).view(np.float64)
    first_bad, n_bad, first_neg, n_neg, n_small = _diagonal_checks(diagonal, inv_diag)
    return worst, first_bad, n_bad, first_neg, n_neg, n_small


@numba.njit(cache=True, inline="always")
def _diagonal_checks(diagonal, inv_diag):
    """``inv_diag`` (0 where ``|a_ii| <= TINY_DIAGONAL``) and ``(first zero-or-missing
    diagonal row, how many, first negative row, how many, how many below SMALL_DIAGONAL)``
    (rows −1 if none) of a diagonal whose entries are all finite: the diagonal's part of
    :func:`finish_values` and :func:`check_values`."""
    n = diagonal.size
    n_bad = 0
    n_neg = 0
    n_small = 0
    for i in range(n):  # branch-free: vectorises
        d = diagonal[i]
        bad = not abs(d) > TINY_DIAGONAL  # zero, or 1/d overflows
        inv_diag[i] = 1.0 / d if not bad else 0.0
        n_bad += bad
        n_neg += d < 0.0
        n_small += abs(d) < SMALL_DIAGONAL
    first_bad = -1
    first_neg = -1
    if n_bad or n_neg:
        for i in range(n):
            if first_bad < 0 and not abs(diagonal[i]) > TINY_DIAGONAL:
                first_bad = i
            if first_neg < 0 and diagonal[i] < 0.0:
                first_neg = i
    return first_bad, n_bad, first_neg, n_neg, n_small


@numba.njit(cache=True)
def check_values(new_indptr, new_indices, src, indptr, indices, partner, lonely, diag_ptr,
                 has_diagonal, diagonal, inv_diag):
    """Every check of :func:`refresh_values` read off the CSR values themselves, without
    placing them in the split triangles (for solvers that read only ``A``'s CSR arrays and
    its diagonal: CG, Jacobi-PCG): the pattern compared, every value checked finite, the
    largest ``|a_ij|`` and ``|a_ij − a_ji|``, the diagonal copied into ``diagonal``, inverted
    into ``inv_diag`` and checked.

    ``partner[k]`` is the position in ``src`` of entry ``k``'s mirror (``k`` itself for a
    diagonal entry and for an entry whose mirror is not stored); ``lonely`` the positions of
    the entries whose mirror is not stored (compared with 0).  One pass over the index arrays
    and the values compares the pattern, takes ``max |a_ij|`` and ``max |a_ij − a_ji|`` — the
    mirror is read from ``src`` again, a gather from lines the pass reads anyway — as running
    maxima of the bits (``|x|``'s bits order as ``|x|`` does for finite ``x``, and +Inf's
    bits above them), which LLVM vectorises where a maximum of doubles waits on each
    compare: at n = 10⁴ the pass costs about what the placement alone cost.  Every pair is
    met twice (``|a_ij − a_ji| = |a_ji − a_ij|`` exactly): the same maximum as
    :func:`finish_values`.  Then ``diagonal[i] = src[diag_ptr[i]]`` (0 where
    ``has_diagonal[i]`` is false) and :func:`_diagonal_checks`.  Nothing is written when the
    pattern differs or some value is NaN or Inf.

    Returns what :func:`refresh_values` returns: ``(pattern differs, non-finite entries,
    max |a_ij|, max |a_ij − a_ji|, first zero-or-missing diagonal row, how many, first
    negative row, how many, diagonal entries below SMALL_DIAGONAL)``.
    """
    diff = np.int64(0)
    for i in range(indptr.size):
        diff |= np.int64(new_indptr[i]) ^ np.int64(indptr[i])
    bits = src.view(np.uint64)
    top = np.uint64(0)
    worst = np.uint64(0)
    for k in range(src.size):  # no branch, no early exit: it vectorises
        diff |= np.int64(new_indices[k]) ^ np.int64(indices[k])
        top = max(top, bits[k] & ABS_BITS)
        worst = max(worst, np.float64(src[k] - src[partner[k]]).view(np.uint64) & ABS_BITS)
    if diff != 0:
        return True, 0, 0.0, 0.0, -1, 0, -1, 0, 0
    if top >= INF_BITS:  # some value is NaN or Inf: count them (the error names how many)
        nonfinite = 0
        for k in range(src.size):
            nonfinite += (bits[k] & ABS_BITS) >= INF_BITS
        return False, nonfinite, 0.0, 0.0, -1, 0, -1, 0, 0
    for m in range(lonely.size):
        worst = max(worst, bits[lonely[m]] & ABS_BITS)
    for i in range(diagonal.size):
        diagonal[i] = src[diag_ptr[i]] if has_diagonal[i] else 0.0
    first_bad, n_bad, first_neg, n_neg, n_small = _diagonal_checks(diagonal, inv_diag)
    return (False, 0, np.uint64(top).view(np.float64), np.uint64(worst).view(np.float64),
            first_bad, n_bad, first_neg, n_neg, n_small)


@numba.njit(cache=True)
def place_values(src, slot, values):
    """``values[slot[k]] = src[k]`` for every value: the split triangles of values that
    :func:`check_values` has checked (no check)."""
    m = src.size
    k = 0
    while k + 3 < m:
        values[slot[k]] = src[k]
        values[slot[k + 1]] = src[k + 1]
        values[slot[k + 2]] = src[k + 2]
        values[slot[k + 3]] = src[k + 3]
        k += 4
    for k in range(k, m):
        values[slot[k]] = src[k]


@numba.njit(cache=True)
def compressed_problem(indptr, indices, minor):
    """The first problem of a CSR/CSC index structure (any integer dtypes, compared without
    casting): ``(0, 0, 0)`` if ``indptr`` starts at 0, never decreases and ends within
    ``indices``, and every index lies in ``[0, minor)``; else ``(1, position, value)`` for a
    bad start or decrease of ``indptr``, ``(2, end, 0)`` for an end beyond ``indices``,
    ``(3, 0, index)`` for an index out of range (the smallest or the largest).  The common,
    valid case is two branch-free passes (a flag and a minimum and maximum: they vectorise);
    only a problem is searched for."""
    down = False
    for i in range(1, indptr.size):
        down |= indptr[i] < indptr[i - 1]
    if indptr[0] != 0 or down:
        if indptr[0] != 0:
            return 1, 0, np.int64(indptr[0])
        for i in range(1, indptr.size):
            if indptr[i] < indptr[i - 1]:
                return 1, i, np.int64(indptr[i])
    end = np.int64(indptr[indptr.size - 1])
    if end > indices.size:
        return 2, end, 0
    if end == 0:
        return 0, 0, 0
    lo = indices[0]
    hi = indices[0]
    for k in range(1, end):
        j = indices[k]
        lo = min(lo, j)
        hi = max(hi, j)
    if lo < 0:
        return 3, 0, np.int64(lo)
    if hi >= minor:
        return 3, 0, np.int64(hi)
    return 0, 0, 0


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
    """``(first zero-or-missing row, how many, first negative row, how many)``; −1 if none.
    An entry too small to invert (``|a_ii| <= TINY_DIAGONAL``) counts as zero."""
    first_bad = -1
    n_bad = 0
    first_neg = -1
    n_neg = 0
    for i in range(diagonal.size):
        d = diagonal[i]
        if not has_diag[i] or not abs(d) > TINY_DIAGONAL:
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
def check_rhs(b, x0, out):
    """``(non-finite entries of b, Σ b², non-finite entries of x0)`` in one call: the checks of
    a solve's right-hand side and start (``x0`` empty when there is none); ``out``, unless
    empty, receives a copy of ``x0`` in the same pass (a solve's start vector for the cost of
    reading ``x0`` once).

    ``Σ b²`` is summed in order, one add after the other (the norm every solver reports; a
    sum in another order would round differently), so its loop waits on the latency of each
    add; ``x0``'s check and copy run in the same loop, in the shadow of that chain, instead of
    in a loop of their own after it.
    """
    bad_b = 0
    sumsq = 0.0
    bad_x = 0
    n = b.size
    if x0.size == n and n and out.size == n:
        for i in range(n):
            v = b[i]
            bad_b += not np.isfinite(v)
            sumsq += v * v
            w = x0[i]
            bad_x += not np.isfinite(w)
            out[i] = w
    elif x0.size == n and n:
        for i in range(n):
            v = b[i]
            bad_b += not np.isfinite(v)
            sumsq += v * v
            bad_x += not np.isfinite(x0[i])
    else:  # no x0 (or sizes the caller refuses anyway)
        for i in range(n):
            v = b[i]
            bad_b += not np.isfinite(v)
            sumsq += v * v
        copy = out.size > 0
        for i in range(x0.size):
            v = x0[i]
            bad_x += not np.isfinite(v)
            if copy:
                out[i] = v
    return bad_b, sumsq, bad_x


@numba.njit(cache=True)
def beyond(v, bound) -> bool:
    """Whether some entry of ``v`` is not within ``[-bound, bound]`` (beyond it, or NaN), in
    one pass over ``v``.  No early exit, so the loop vectorises: at 10⁴ entries it costs
    about as much as reading them, where ``v.max()`` and ``v.min()`` had cost two passes and
    two calls (3–4 times as much, Zen 3)."""
    out = False
    for i in range(v.size):
        out |= not abs(v[i]) <= bound
    return out

