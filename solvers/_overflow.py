"""The error of a solve whose iterates left double range (:func:`out_of_range`), and, for SOR,
the row that makes its sweeps overflow whatever ω (:func:`_sor_row_ratio`).  On the failure
path only: a solve that converges never reaches this module's code."""
from __future__ import annotations

import math

import numpy as np

from ._result import IterateOverflowError


def out_of_range(name, rnorm, b_norm, op=None):
    """The error of a solve whose residual is not finite even computed scaled (the kernels'
    norms fall back to a scaled sum when the squares overflow, so a residual near 1e200 of
    finite iterates is reported, not refused): an entry of ``x`` or of ``b − A x`` is itself
    inf or NaN — the start's residual overflowed, or a first step did (the solution is out of
    range), which a failed solve's ``dtol`` cannot stop before overflow; the two look alike to
    the caller of the kernel, so both are named.  For SOR (``op`` given) a row whose
    off-diagonal entries dwarf its diagonal entry is named instead where there is one: its
    sweeps multiply ``x`` by that ratio whatever ω, and had been told of an ``x0`` out of
    proportion (from ``x0 = 0``) and of a nearly singular ``A`` (of an ordinary solution)."""
    shown = "not a number (NaN)" if math.isnan(rnorm) else f"{rnorm}, out of double range"
    row = _sor_row_ratio(op) if op is not None else None
    if row is not None:
        i, ratio, diag = row
        times = (f"{ratio:.3e} times" if math.isfinite(ratio) else
                 f"more than 1.8e308 times")  # (off-diagonal sum / a_ii overflowed)
        return IterateOverflowError(
            f"{name} cannot solve this system: its sweeps overflowed double precision (the "
            f"residual ‖b − A x‖ is {shown}; ‖b‖ = {b_norm:.3e}): in row {i} the off-diagonal "
            f"entries sum to {times} |a_ii| = {diag:.3e}, so a sweep can multiply x "
            f"by about that much there, whatever ω (scaling the rows does not change SOR's "
            f"iterates). SOR cannot solve a matrix so far from diagonally dominant: use a "
            f"direct solver, or cg/ssor_pcg if A is symmetric positive definite")
    return IterateOverflowError(
        f"{name} cannot solve from this start: the residual ‖b − A x‖ = {rnorm} is out of "
        f"double range (‖b‖ = {b_norm:.3e}): an entry of x or of b − A x is itself beyond "
        "double precision, not only its square; either x0 is out of proportion with b (b − A "
        "x0 overflows: pass a smaller x0 or none), or an iterate overflows double precision "
        "(the solution, or a CG step towards it, is out of range: A is nearly singular at its "
        "scale, e.g. a diagonal entry 1e-320; rescale A or b)")


#: A row whose off-diagonal entries sum to more than this times its diagonal entry is named
#: as the cause of an SOR sweep that overflowed (:func:`out_of_range`): beyond 2⁵³ the
#: diagonal entry is below the rounding of the row's other entries.
_SOR_RATIO = 2.0 ** 53


def _sor_row_ratio(op):
    """``(row, ratio, |a_ii|)`` of the row with the largest ``Σ_{j≠i} |a_ij| / |a_ii|``
    when that ratio exceeds :data:`_SOR_RATIO`, else ``None``.  Vectorised, on the failure
    path only; ``op`` is the solved operator (scaled by a power of two if at all, which
    leaves the ratio unchanged and the entry scaled back)."""
    try:
        indptr, indices, data = op.indptr, op.indices, op.data
        n = len(indptr) - 1
        rows = np.repeat(np.arange(n), np.diff(indptr))
        ends = int(indptr[-1])
        cols, vals = indices[:ends], np.abs(data[:ends])
        on = cols == rows
        diag = np.zeros(n)
        np.add.at(diag, rows[on], vals[on])
        off = np.zeros(n)
        np.add.at(off, rows[~on], vals[~on])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(diag > 0, off / diag, 0.0)
        i = int(np.argmax(ratio))
        if not ratio[i] > _SOR_RATIO:
            return None
        return i, float(ratio[i]), math.ldexp(float(diag[i]), getattr(op, "_shift", 0))
    except Exception:  # the generic message stands
        return None
