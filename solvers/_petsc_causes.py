"""Why a PETSc solve failed, as the Numba backend says it (:func:`solvers.petsc.solve`'s
``info["cause"]``): empty rows of ``A`` where ``b`` does not vanish,
a plain KSPCG stopped by ``dtol`` in the transient of a convergent solve, a KSPCG that
broke down on a matrix or preconditioner that is not positive definite.  Each is
collective: every rank reads its own rows and the verdict is reduced over the ranks.
Importable from :mod:`solvers.petsc` as before.
"""
from __future__ import annotations

import math

import numpy as np

from ._petsc_ksp import PETSc


def _empty_rows(mat, bv, tol) -> str:
    """:func:`solvers._causes._empty_rows_cause` for a PETSc ``Mat`` and ``Vec`` (collective):
    each rank reads its own rows; the floor ``‖b_E‖`` over the empty rows, their count and
    the first where ``b`` does not vanish are reduced over the ranks.  A Mat type that
    cannot hand out its rows gives ``""``."""
    from mpi4py import MPI

    from ._causes import empty_rows_message

    comm = mat.getComm().tompi4py()
    lo = mat.getOwnershipRange()[0]
    try:
        ai, _, av = mat.getValuesCSR()
        rows = np.repeat(np.arange(ai.size - 1), np.diff(ai))
        empty = np.bincount(rows, weights=np.abs(av), minlength=ai.size - 1) == 0.0
    except PETSc.Error:
        empty = np.zeros(0, dtype=bool)
    lb = bv.getArray(readonly=True)
    be = lb[empty] if empty.size == lb.size else lb[:0]
    top = comm.allreduce(float(np.abs(be).max()) if be.size else 0.0, op=MPI.MAX)
    if not top > 0.0:
        return ""
    floor = top * math.sqrt(comm.allreduce(float(np.sum((be / top) ** 2)), op=MPI.SUM))
    if not floor > tol:
        return ""
    mine = np.flatnonzero(empty & (lb != 0.0)) if be.size else np.zeros(0, dtype=int)
    first = comm.allreduce(int(lo + mine[0]) if mine.size else mat.getSize()[0], op=MPI.MIN)
    value = comm.allreduce(float(lb[first - lo]) if mine.size and lo + mine[0] == first
                           else 0.0, op=MPI.SUM)
    count = comm.allreduce(int(np.count_nonzero(empty)), op=MPI.SUM)
    return empty_rows_message(count, first, value, floor, tol)


def _diagonal_range(mat) -> tuple:
    """``(row of the smallest, smallest, largest)`` diagonal entry of a PETSc ``Mat``
    (collective)."""
    d = mat.getDiagonal()
    try:
        lo_row, lo = d.min()
        hi = d.max()[1]
    finally:
        d.destroy()
    return int(lo_row), float(lo), float(hi)


def _diagonal_spread(mat, dtol) -> str:
    """:func:`solvers._causes._transient_growth` for a PETSc ``Mat`` (collective): why a plain
    KSPCG stopped by ``dtol`` may be the transient of a convergent solve, or ``""``."""
    from ._causes import diagonal_spread_cause

    return diagonal_spread_cause(*_diagonal_range(mat), dtol,
                                 "options={'pc_type': 'jacobi'}")


#: PETSc's reasons for a CG-type breakdown on a matrix or preconditioner that is not positive
#: definite (KSPCG's ``pᵀAp <= 0`` and ``rᵀz <= 0``).
_INDEFINITE = ("DIVERGED_INDEFINITE_MAT", "DIVERGED_INDEFINITE_PC")


def _indefinite(mat, kind, iteration, reason) -> str:
    """:func:`solvers._causes.breakdown_cause` for a PETSc ``Mat`` (collective): why KSPCG
    stopped with ``reason`` (one of :data:`_INDEFINITE`)."""
    from ._causes import breakdown_cause

    return breakdown_cause(kind, iteration, *_diagonal_range(mat),
                           preconditioned=reason == "DIVERGED_INDEFINITE_PC")
