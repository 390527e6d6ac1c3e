"""The residual floor of a system (:func:`solvers.spectral.residual_floor`,
:func:`solvers.spectral.null_floor`): a lower bound on ``‖b − A x‖`` over every ``x`` from the
null vectors of ``Aᵀ`` that are known (each connected component's indicator when the columns
sum to zero, its ``d⁻¹`` for a row-scaled one), on the Numba path and, collectively, on the
PETSc backend; and :data:`NULL_ROWS`, the tolerance of a zero row or column sum that the
spectral estimate (:func:`solvers.spectral.estimate_spectrum`) shares.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._operator import prepare


#: Rows summing to zero within this share of the largest absolute row sum make the estimate's
#: ``mu_min`` exactly 0: ``A·1 = 0`` (a pure Neumann or graph Laplacian) is a null vector,
#: which 40 Lanczos steps resolve only on small matrices (``mu_min ≈ 2.5e-8`` on a 20 × 20
#: Neumann Laplacian, 1e-7 on 32 × 32) — too far from 0 for a caller to tell it singular.
NULL_ROWS = 1e-12


#: Entries of largest magnitude outside [2^-_SUM_RANGE, 2^_SUM_RANGE] are scaled into [1/2, 1)
#: before rows or columns are summed (:func:`unit_scaled`).
_SUM_RANGE = 500


def unit_shift(data) -> int:
    """The power of two ``k`` that :func:`unit_scaled` multiplies ``data`` by (0: none)."""
    top = float(np.abs(data).max()) if data.size else 0.0
    if not (top > 0.0 and math.isfinite(top)) or 2.0 ** -_SUM_RANGE <= top <= 2.0 ** _SUM_RANGE:
        return 0
    return -math.frexp(top)[1]


def unit_scaled(data):
    """``data`` times the power of two that brings its largest magnitude into [1/2, 1) when
    that magnitude lies outside [2⁻⁵⁰⁰, 2⁵⁰⁰]; else ``data`` itself (no copy).

    For the tests of zero row or column sums: near the double range (a Laplacian times 4e307,
    every entry finite) a row's absolute sum overflows to inf, and every finite row sum then
    passed for zero within :data:`NULL_ROWS` of it — a nonsingular matrix was taken for a
    singular one.  A power of two rounds nothing, so the verdicts are the unit-scale matrix's.

    >>> unit_scaled(np.array([4e307, -1e307]))
    array([ 0.89002954, -0.22250739])
    """
    shift = unit_shift(data)
    return np.ldexp(data, shift) if shift else data


def petsc_in_range(A, norm):
    """A petsc4py ``Mat`` whose row or column sums do not overflow: ``A`` itself when its
    ``norm`` (its largest absolute row or column sum) is finite, else a copy of it scaled by
    2⁻⁶⁴, exactly (collective when the norm is not finite, which every rank then sees)."""
    if math.isfinite(norm):
        return A
    scaled = A.copy()
    scaled.scale(2.0 ** -64)
    return scaled


def _components(indptr, indices, data, n):
    """Connected components of the graph of a CSR pattern's non-zero entries (scipy):
    ``(count, labels)``."""
    from scipy.sparse.csgraph import connected_components

    g = sp.csr_matrix((data != 0.0, indices, indptr), shape=(n, n))
    g.eliminate_zeros()
    count, labels = connected_components(g, directed=False)
    return count, labels


def residual_floor(A, b) -> tuple[float, int]:
    """A lower bound on ``‖b − A x‖`` over every ``x``, from the null vectors of ``Aᵀ`` that
    are known: ``(floor, components)``, ``(0.0, 0)`` when none is.

    When the columns of ``A`` sum to zero (``1ᵀA = 0`` within :data:`NULL_ROWS`, as a pure
    Neumann or graph Laplacian's do), the indicator ``1_c`` of each connected component of
    ``A``'s graph is a null vector of ``Aᵀ``: ``1_cᵀ(b − A x) = 1_cᵀ b`` for every ``x``, so
    the residual keeps ``b``'s projection on them, ``floor = sqrt(Σ_c (Σ_{i∈c} b_i)² / n_c)``.
    A floor above the stopping rule's ``max(rtol·‖b‖, atol)`` proves that no solver and no
    parameter can converge: ``A x = b`` is inconsistent.  One pass over ``A``'s entries
    (two, with the components, only when the columns sum to zero).

    Parameters
    ----------
    A : sparse matrix, ndarray, CSROperator, or the PETSc backend's operator
        On the PETSc backend the check is collective; when the columns sum to zero it uses
        the constant vector only (the components of a distributed graph are not known there):
        a weaker bound.  The row-scaled case (:func:`null_floor`) gathers the matrix on
        rank 0 when its rows sum to zero.
    b : array_like or petsc4py Vec
        Of ``A``'s size, finite (else ``ValueError``).

    Examples
    --------
    >>> from solvers import gallery
    >>> import scipy.sparse as sp
    >>> N = sp.csr_matrix([[1.0, -1.0], [-1.0, 1.0]])       # 1ᵀN = 0
    >>> residual_floor(N, [1.0, 1.0])                       # mean 1: ‖r‖ >= √2 for any x
    (1.4142135623730951, 1)
    >>> residual_floor(N, [1.0, -1.0])                      # consistent
    (0.0, 1)
    >>> residual_floor(gallery.laplacian_2d(4), np.ones(16))  # regular: nothing known
    (0.0, 0)
    """
    floor, count, _ = null_floor(A, b)
    return floor, count


def null_floor(A, b) -> tuple[float, int, str]:
    """:func:`residual_floor` and which null vectors of ``Aᵀ`` it used: ``(floor,
    components, kind)``, ``kind`` ``"columns"`` (``1ᵀA = 0``: each component's indicator),
    ``"rows"`` (``A = diag(d)·S``, ``S`` symmetric with zero row sums: each component's
    ``d⁻¹``) or ``""`` (none known).

    A Neumann or graph Laplacian whose rows were scaled (by cell volumes, a density, a time
    step per row) has ``A·1 = 0`` but columns that do not sum to zero; its null vector of
    ``Aᵀ`` is ``d⁻¹``, with ``d`` read off the ratios ``a_ji / a_ij`` of its entries
    (:func:`solvers._kernels_null.row_scaling`) and checked: ``Aᵀ d⁻¹ = 0`` within
    :data:`NULL_ROWS` of each column's absolute sum.  The residual then keeps
    ``sqrt(Σ_c (d_c⁻ᵀ b)² / ‖d_c⁻¹‖²)``.  Tried only when the columns do not sum to zero and
    the rows do (one more pass over ``A``; then a transpose and the graph pass).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> N = sp.csr_matrix([[1.0, -1.0], [-1.0, 1.0]])
    >>> null_floor(sp.diags([2.0, 1.0]) @ N, [2.0, 1.0])  # = diag(2, 1)·N: 2·(1/2) + 1·1 ≠ 0
    (1.7888543819998317, 1, 'rows')
    >>> null_floor(sp.diags([2.0, 1.0]) @ N, [2.0, -1.0])  # b = A (1, 0): consistent
    (0.0, 1, 'rows')
    """
    mat = getattr(A, "mat", None) if type(A).__module__ == "solvers.petsc" else A
    if type(mat).__module__.startswith("petsc4py"):
        from ._mpi_exchange import held_interrupts

        # collective on several ranks: a Ctrl-C reaching one rank is raised once every rank
        # has made these reductions (it had left the others inside them)
        with held_interrupts(mat.getComm().getSize() if mat else 1):
            floor, count = _residual_floor_petsc(mat, b)
            if count:
                return floor, count, "columns"
            return _row_scaled_floor_petsc(mat, b)
    op = prepare(A)
    b = np.asarray(b, dtype=np.float64).ravel()
    if b.shape != (op.n,):  # (a b of another length had been read as consistent)
        raise ValueError(f"b has {b.size} entries, expected {op.n} to match A")
    if not np.all(np.isfinite(b)):  # (a NaN had made the floor 0: "consistent")
        raise ValueError("b contains NaN or Inf")
    data = unit_scaled(op.data)  # (sums of entries near the double range overflowed)
    cols = np.bincount(op.indices, weights=data, minlength=op.n)
    scale = np.bincount(op.indices, weights=np.abs(data), minlength=op.n).max()
    if not np.abs(cols).max() <= NULL_ROWS * scale:
        return _row_scaled_floor(op, b)
    count, labels = _components(op.indptr, op.indices, op.data, op.n)
    return _floor(labels, count, np.ones(op.n), b), int(count), "columns"


def _floor(labels, count, y, b) -> float:
    """``sqrt(Σ_c (y_cᵀ b)² / ‖y_c‖²)`` over the components ``labels`` (``y_c``: ``y`` on
    component ``c``, zero elsewhere: orthogonal null vectors of ``Aᵀ``)."""
    sums = np.bincount(labels, weights=y * b, minlength=count)
    sizes = np.bincount(labels, weights=y * y, minlength=count)
    top = np.abs(sums).max()
    if not top > 0.0:  # (also the scale below: b of 1e200 would overflow its squares)
        return 0.0
    return float(top * math.sqrt(np.sum((sums / top) ** 2 / sizes)))


def _row_scaled_floor(op, b) -> tuple[float, int, str]:
    """The ``"rows"`` case of :func:`null_floor` (``(0.0, 0, "")`` when it does not apply)."""
    from ._kernels_null import row_scaling

    n, indptr, indices, data = op.n, op.indptr, op.indices, unit_scaled(op.data)
    a = sp.csr_matrix((data, indices, indptr), shape=(n, n), copy=False)
    one = np.ones(n)
    if not np.all(np.abs(a @ one) <= NULL_ROWS * abs(a) @ one):  # A·1 ≠ 0: not D·S
        return 0.0, 0, ""
    rows = np.repeat(np.arange(n), np.diff(indptr))
    t = a.T.tocsr()
    t.sort_indices()
    if not (np.array_equal(t.indptr, indptr) and np.array_equal(t.indices, indices)):
        return 0.0, 0, ""  # (a pattern that is not symmetric)
    with np.errstate(all="ignore"):
        d, labels, count, ok = row_scaling(indptr, indices, data,
                                           np.ascontiguousarray(t.data, dtype=np.float64), n)
        y = 1.0 / d
        if not ok or not np.all(np.isfinite(y)):
            return 0.0, 0, ""
        y /= np.abs(y).max()
        col = np.bincount(indices, weights=data * y[rows], minlength=n)
        size = np.bincount(indices, weights=np.abs(data * y[rows]), minlength=n)
    if not np.all(np.abs(col) <= NULL_ROWS * size):  # the ratios disagree around a cycle
        return 0.0, 0, ""
    return _floor(labels, int(count), y, b), int(count), "rows"


def _row_scaled_floor_petsc(A, b) -> tuple[float, int, str]:
    """The ``"rows"`` case of :func:`null_floor` for a petsc4py ``Mat`` (collective).

    The local rows of every rank are tested for ``A·1 = 0`` (within :data:`NULL_ROWS` of
    each row's absolute sum); only when every rank's do — a singular matrix whose columns do
    not sum to zero — are the rows and ``b`` gathered on rank 0, which runs the Numba path's
    check (:func:`_row_scaled_floor`: ``d`` read off the ratios ``a_ji / a_ij`` needs the
    transposed entries, which a distributed matrix keeps on other ranks) and sends the
    result to every rank.  Called on a failure path only (the Tuner's refusal of an
    inconsistent system); a Mat type without CSR access gives ``(0.0, 0, "")``."""
    from ._api import _petsc

    PETSc = _petsc().PETSc
    comm = A.getComm().tompi4py()
    try:
        ai, aj, av = A.getValuesCSR()
        ok = True
    except PETSc.Error:  # a Mat type that cannot hand out its rows
        ai, aj, av, ok = np.zeros(1, dtype=np.int64), np.zeros(0, np.int64), np.zeros(0), False
    counts = np.diff(ai)
    with np.errstate(all="ignore"):
        rows = np.repeat(np.arange(counts.size), counts)
        scaled = unit_scaled(np.asarray(av))  # (sums near the double range overflowed)
        sums = np.bincount(rows, weights=scaled, minlength=counts.size)
        size = np.bincount(rows, weights=np.abs(scaled), minlength=counts.size)
        ok = ok and bool(np.all(np.abs(sums) <= NULL_ROWS * size))
    if not comm.allreduce(int(ok), op=_mpi_min()):  # A·1 ≠ 0 somewhere: not diag(d)·S
        return 0.0, 0, ""
    start = A.getOwnershipRange()[0]
    local_b = (b.getArray(readonly=True) if isinstance(b, PETSc.Vec)
               else np.asarray(b, dtype=np.float64).ravel()[start:start + counts.size])
    parts = comm.gather((start + rows, np.asarray(aj), np.asarray(av), np.array(local_b)),
                        root=0)
    result = (0.0, 0, "")
    if comm.Get_rank() == 0:
        try:
            n = A.getSize()[0]
            r, c, v, bb = (np.concatenate(x) for x in zip(*parts))
            whole = sp.csr_matrix((v, (r, c)), shape=(n, n))
            result = _row_scaled_floor(prepare(whole), bb)
        except (ValueError, TypeError):  # a matrix the Numba path refuses: nothing known
            result = (0.0, 0, "")
    floor, count, kind = comm.bcast(result, root=0)
    return float(floor), int(count), str(kind)


def _mpi_min():
    from mpi4py import MPI

    return MPI.MIN


def _residual_floor_petsc(A, b) -> tuple[float, int]:
    """:func:`residual_floor` of a petsc4py ``Mat`` and ``Vec`` (collective): the constant
    vector only (the row-scaled case: :func:`_row_scaled_floor_petsc`)."""
    from ._api import _petsc

    PETSc = _petsc().PETSc
    one, cols = A.createVecs()
    one.set(1.0)
    A.multTranspose(one, cols)  # 1ᵀA, collectively
    scale = A.norm(PETSc.NormType.NORM_1)  # the largest absolute column sum
    if not math.isfinite(scale):  # (entries near the double range: every column sum passed
        A = petsc_in_range(A, scale)  # for zero against it)
        A.multTranspose(one, cols)
        scale = A.norm(PETSc.NormType.NORM_1)
    null = cols.norm(PETSc.NormType.INFINITY) <= NULL_ROWS * scale
    n = one.getSize()
    one.destroy()
    cols.destroy()
    if not null:
        return 0.0, 0
    return abs(b.sum()) / math.sqrt(n), 1
