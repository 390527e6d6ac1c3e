"""A PETSc solve's right-hand side at a safe scale (:func:`solvers.petsc.solve`): ``b`` far
from norm 1 is solved as ``A (2^s x) = 2^s b``, exactly the same iterations, and ``x`` and its
residual norm are brought back (as on the Numba path, ``solvers._api``)."""
from __future__ import annotations

import math

import numpy as np

from ._checks import check_unscaled
from ._petsc_ksp import PETSc


# b is solved as given when 2^-100 <= ‖b‖ <= 2^100, else scaled by a power of two (as on the
# Numba path, solvers._api)
_NORM_LO, _NORM_HI = 2.0 ** -100, 2.0 ** 100


def _ldexp(vec, e, src=None):
    """``vec = 2**e · src`` (default ``src = vec``), exactly.  Written through the array, not
    ``VecScale``: a copied or scaled Vec carries its cached norms along, and an overflowed
    cached norm would stay ``inf``."""
    with np.errstate(over="ignore", under="ignore"):
        vec.setArray(np.ldexp((vec if src is None else src).getArray(readonly=True), e))


def _safe_norm(vec):
    """``‖vec‖`` without overflow or underflow (scaled by its largest entry when needed)."""
    amax = float(vec.norm(PETSc.NormType.INFINITY))
    if amax == 0.0 or not np.isfinite(amax) or 2.0 ** -400 <= amax <= 2.0 ** 400:
        return float(vec.norm()) if amax else 0.0
    e = math.frexp(amax)[1]
    tmp = vec.duplicate()
    _ldexp(tmp, -e, vec)
    out = math.ldexp(float(tmp.norm()), e)
    tmp.destroy()
    return out


def _unscale(op, b, x, converged, rnorm, scale, b_norm, rtol, atol, shift=0):
    """Undo the scaling of ``x``; the residual norm of the original system, in the caller's
    units (see ``solvers._api._unscale``: a solution that double precision cannot hold
    raises).  ``op`` and ``b`` are the caller's; the system solved was ``op`` scaled down by
    ``2**shift`` (``PetscOperator.scaled_down``) and ``b`` by ``2**(scale − shift)``."""
    _ldexp(x, -scale)
    if not np.isfinite(x.norm(PETSc.NormType.INFINITY)):
        raise ValueError(f"the solution of this system overflows double precision "
                         f"(‖b‖ = {b_norm:.3e}): rescale A or b")
    r = op.mat.createVecLeft()
    op.mat.mult(x, r)
    r.aypx(-1.0, b)
    actual = _safe_norm(r)
    r.destroy()
    return check_unscaled(actual, converged, rnorm, scale, b_norm, rtol, atol, shift)
