"""PCG with a preconditioner applied from Python (a user's :class:`solvers.precond.Preconditioner`
subclass that overrides only ``apply``): the loop :meth:`Preconditioner._solve` runs by
default, with the same steps, stopping rule, residual-gap guard, stagnation test and replay of
a failed solve as the native kernels (``_kernels_pcg``).  Re-exported by
:mod:`solvers.precond`.
"""
from __future__ import annotations

import math

import numpy as np

from . import _kernels as K
from . import _kernels_pcg as KP


def _pcg_loop(op, apply, x, b, r, rnorm, tol, maxiter, dtol):
    """PCG with a preconditioner applied from Python (``apply(r, z)``), the same steps,
    stopping rule, residual-gap guard, stagnation test and best iterate of a failed solve as
    the native kernels (``_kernels_pcg``); returns ``(iterations, ‖r‖, status, iteration of
    the returned x)``."""
    start = x.copy()
    it, rnorm, status, best_it, best = _pcg_run(op, apply, x, b, r, rnorm, tol, maxiter, dtol)
    kept = it
    if status != K.CONVERGED and best_it < it and best < rnorm < math.inf:
        last = np.empty_like(x)
        rlast = K.stash(op.indptr, op.indices, op.data, x, b, start, last)
        r0 = K.residual(op.indptr, op.indices, op.data, x, b, r)
        _pcg_run(op, apply, x, b, r, r0, tol, best_it, dtol)
        rnorm, kept = K.pick(op.indptr, op.indices, op.data, x, b, last, rlast, best_it, it)
    return it, rnorm, status, kept


def _pcg_run(op, apply, x, b, r, rnorm, tol, maxiter, dtol):
    """The iterations of :func:`_pcg_loop`; returns ``(iterations, ‖r‖, status, best
    iteration, its residual norm)``."""
    n = b.size
    limit = dtol * rnorm
    z = np.empty(n)
    q = np.empty(n)
    apply(r, z)
    rz = KP.dot(r, z)
    if not rz > 0.0:
        return 0, rnorm, K.BREAKDOWN, 0, rnorm
    p = z.copy()
    best, best_it = rnorm, 0
    ref, stalls, mark = math.inf, 0, 0
    it = 0
    while it < maxiter:
        pq = KP.spmv_dot(op.indptr, op.indices, op.data, p, q)
        if not pq > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        alpha = rz / pq
        rnorm = math.sqrt(KP.update(alpha, x, p, r, q))
        it += 1
        if rnorm <= tol or it - mark >= K.STAGNATION_WINDOW:
            rnorm, level = K.confirm(op.indptr, op.indices, op.data, x, b, r)
            if K.uncertified(rnorm, level, tol):  # below the rounding level of x: unconfirmed
                return (it, K.residual_bound(op.indptr, op.indices, op.data, x, b, rnorm, level),
                        K.STAGNATED, best_it, best)
            if rnorm <= tol:
                return it, rnorm, K.CONVERGED, it, rnorm
            ref, stalls = (rnorm, 0) if rnorm < K.PROGRESS * ref else (ref, stalls + 1)
            mark = it
        elif not rnorm <= limit:  # also NaN
            return it, rnorm, K.DIVERGED, best_it, best
        if rnorm < best:
            best, best_it = rnorm, it
        if ref == math.inf:
            mark = it
        elif stalls >= K.STALL_CHECKS or rnorm > K.GROWTH * ref:
            return it, rnorm, K.STAGNATED, best_it, best
        apply(r, z)
        rz_new = KP.dot(r, z)
        if not rz_new > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        KP.direction(p, z, rz_new / rz)
        rz = rz_new
    return it, rnorm, K.MAXITER, best_it, best
