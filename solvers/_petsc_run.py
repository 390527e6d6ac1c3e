"""A PETSc solve's KSP runs (:func:`solvers.petsc.solve`): KSPSolve until the *true* residual
meets the tolerance, continued after a residual gap, and a failed solve's best iterate replayed
(as the Numba kernels return theirs)."""
from __future__ import annotations

import math

import numpy as np

from . import _kernels as _K
from ._petsc_ksp import CONVERGED_CODE, MAXIT_CODE, STAGNATED_CODE


def _run(op, solver, b, x, omega, *, tol, rtol, atol, maxiter, dtol, nonzero_guess):
    """KSPSolve until the *true* residual meets the tolerance; returns ``(its, code, ‖r‖,
    kept)``, ``kept`` the iteration of the ``x`` returned (a failed solve's best iterate).

    KSPCG tests its recursive residual; if that claims convergence but ``‖b − A x‖`` does not
    (a residual gap), the solve continues from ``x`` — as the Numba kernel does — and the
    iterations add up.
    """
    if solver.reverse:
        rb = solver.reversed_rhs(b)
        rx = solver.op.mat.createVecRight()
        rx.array[:] = x.getArray(readonly=True)[::-1]
        try:
            out = _run_plain(solver.op, solver, rb, rx, omega, tol=tol, rtol=rtol, atol=atol,
                             maxiter=maxiter, dtol=dtol, nonzero_guess=nonzero_guess)
            x.array[:] = rx.getArray(readonly=True)[::-1]
        finally:
            rx.destroy()
        return out
    return _run_plain(op, solver, b, x, omega, tol=tol, rtol=rtol, atol=atol, maxiter=maxiter,
                      dtol=dtol, nonzero_guess=nonzero_guess)


_TIGHTENINGS = 4  # continuations with a tightened tolerance after a false convergence


def _run_plain(op, solver, b, x, omega, *, tol, rtol, atol, maxiter, dtol, nonzero_guess):
    """:func:`_run` on the numbering ``solver`` runs in; returns ``(its, code, ‖r‖, kept)``,
    ``kept`` the iteration of the ``x`` returned (a failed solve returns its best iterate)."""
    if maxiter == 0:
        rnorm = op.residual_norm(b, x)
        return 0, CONVERGED_CODE if rnorm <= tol else MAXIT_CODE, rnorm, 0
    start = solver.keep_start(x) if nonzero_guess else None  # (None: the start is zero)
    its, code = solver.run(b, x, omega, tol=tol, rtol=rtol, atol=atol, maxiter=maxiter,
                           dtol=dtol, nonzero_guess=nonzero_guess)
    rnorm = op.residual_norm(b, x)
    if solver.python_test:  # Richardson + SOR: its test has the true residual of every sweep
        return _sor_best(op, solver, b, x, omega, start, its, code, rnorm, tol=tol, rtol=rtol,
                         atol=atol, dtol=dtol)
    if code > 0 and rnorm <= tol:
        return its, code, rnorm, its  # converged at once: the common case
    # each run's start and tolerance factor, and the smallest norm a run monitored:
    # (norm, run, iteration within the run, iterations before the run)
    runs = [(start, 1.0)]
    best = _monitored_best(solver, its, 0, 0, (math.inf, 0, 0, 0))
    # A KSP that tests another residual than b - A x (PCEISENSTAT tests the residual of its
    # transformed system) can declare convergence again at once from x: the continuation
    # then asks for the true gap's ratio more, a few times, before giving up.
    factor, tightenings = 1.0, 0
    # a residual gap at rounding level repeats: stagnated after STALL_CHECKS continuations in
    # a row that did not halve the best true residual (as the Numba kernels)
    ref, stalls = math.inf, 0
    try:
        while code > 0 and rnorm > tol and its < maxiter:
            ref, stalls = (rnorm, 0) if rnorm < _K.PROGRESS * ref else (ref, stalls + 1)
            if stalls >= _K.STALL_CHECKS:
                code = STAGNATED_CODE
                break
            runs.append((x.copy(), factor))  # (continuations are few: at most a handful)
            more, code = solver.run(b, x, omega, tol=tol, rtol=rtol * factor,
                                    atol=atol * factor, maxiter=maxiter - its, dtol=dtol,
                                    nonzero_guess=True)
            best = _monitored_best(solver, more, len(runs) - 1, its, best)
            if more == 0:
                if code <= 0 or tightenings == _TIGHTENINGS:
                    break  # the true residual cannot get below tol from here
                factor *= 0.5 * tol / rnorm
                tightenings += 1
                continue
            its += more
            rnorm = op.residual_norm(b, x)
        if code > 0 and rnorm > tol and its >= maxiter:
            code = MAXIT_CODE
        kept = its
        value, run, k, offset = best
        if not rnorm <= tol and value < rnorm and offset + k < its:
            # a failed solve returns its best iterate: replayed from the start of its run
            # (KSPs are deterministic), kept if its true residual is not above the last's
            rnorm, kept = _replay(op, solver, b, x, omega, runs[run], k, rnorm, its,
                                  offset + k, tol=tol, rtol=rtol, atol=atol, dtol=dtol)
    finally:
        for v, _ in runs[1:]:  # (runs[0]'s start is the solver's work Vec)
            v.destroy()
    return its, code, rnorm, kept


def _sor_best(op, solver, b, x, omega, start, its, code, rnorm, *, tol, rtol, atol, dtol):
    """A failed Richardson + SOR solve returns its best sweep (``solvers._kernels``): replayed
    from the start (``start``, or zero) up to the sweep its test recorded, kept if its true
    residual is not above the last's.  Returns ``(its, code, ‖r‖, kept)``."""
    st = solver._state
    best_it, best = st.best_it, st.best
    if code > 0 or not best_it < its or not best < rnorm < math.inf:
        return its, code, rnorm, its
    rnorm, kept = _replay(op, solver, b, x, omega, (start, 1.0), best_it, rnorm, its, best_it,
                          tol=tol, rtol=rtol, atol=atol, dtol=dtol)
    return its, code, rnorm, kept


def _monitored_best(solver, its, run, offset, best):
    """``best`` or, if smaller, the smallest norm the last run of ``solver`` monitored (``its``
    iterations), as ``(norm, run, iteration within the run, offset)``."""
    h = solver.history()[:its + 1]
    if h.size:
        k = int(np.argmin(h))
        if h[k] < best[0]:
            return float(h[k]), run, k, offset
    return best


def _replay(op, solver, b, x, omega, run, k, rnorm, its, at, *, tol, rtol, atol, dtol):
    """Run ``k`` iterations again from ``run`` = (start, tolerance factor); keep that iterate
    (returns its true residual and ``at``) unless its true residual is above the last's
    ``rnorm`` (then ``x`` is the last again: ``rnorm, its``)."""
    start, factor = run
    last = x.copy()
    try:
        if start is None:
            x.set(0.0)
        else:
            start.copy(x)
        if k:
            solver.run(b, x, omega, tol=tol, rtol=rtol * factor, atol=atol * factor,
                       maxiter=k, dtol=dtol, nonzero_guess=True)
        again = op.residual_norm(b, x)
        if again <= rnorm:
            return again, at
        last.copy(x)
        return rnorm, its
    finally:
        last.destroy()
