"""The unpreconditioned CG kernel (Numba) and its fused product ``q = A p``, ``pᵀq``.

Plain functions over raw CSR arrays with unsigned indices, as everything in
``solvers._kernels``, which holds the status codes, the stagnation constants, the residual
and stagnation helpers this kernel shares with the other solvers, and the notes on the replay
of a failed solve; re-exported there.
"""
import numba
import numpy as np

from ._kernels import (BREAKDOWN, CONVERGED, DIVERGED, MAXITER, STAGNATED, STAGNATION_WINDOW,
                       confirm, residual_bound, uncertified,
                       _row, diverged_norm, gap_check, pick, replay_due, residual,
                       residual_keep, stalled, stash, SIGNAL_WORK, look_for_signals, settle)


@numba.njit(cache=True)
def _spmv_dot(indptr, indices, data, p, q):
    """``q = A p``; returns ``pᵀq``."""
    n = indptr.size - 1
    pq = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = 0.0
        for k in range(st, en):
            s += data[k] * p[indices[k]]
        q[i] = s
        pq += p[i] * s
    return pq


#: Rows of scratch space :func:`cg_solve` takes (``work``): three for the iteration, the start
#: and the last iterate (a failed solve's replay, see the module docstring).
CG_WORK_VECTORS = 5


@numba.njit(cache=True)
def cg_solve(indptr, indices, data, x, b, tol, maxiter, dtol, work):
    """Unpreconditioned CG in place on ``x``; returns ``(iterations, ‖r‖, status, iteration
    of the returned x)``.

    Stopping uses the recursive residual; when it claims convergence the true residual
    ``b − A x`` is computed and, if the two disagree (residual gap), the iteration continues
    from the true residual instead of returning an ``x`` that misses the tolerance.  Repeated
    gaps without progress stop it as stagnated, and a failed solve returns its best iterate
    (module docstring).  ``work``: scratch space of at least ``CG_WORK_VECTORS`` rows of
    ``n``, kept by the caller between solves (fresh vectors are first touched page by page on
    every call).
    """
    # one call site of the run for the solve and its replay (see _kernels_ssor.ssor_pcg_solve)
    cap = maxiter
    first = (0, 0.0, CONVERGED, 0)
    rlast = 0.0
    for attempt in range(2):
        it, rnorm, status, best_it, best = _cg_run(indptr, indices, data, x, b, tol, cap, dtol,
                                                   work)
        if attempt == 1:
            rnorm, kept = pick(indptr, indices, data, x, b, work[4], rlast, first[3], first[0])
            rnorm, kept = settle(indptr, indices, data, x, b, work[3], first[2], rnorm, kept)
            return first[0], rnorm, first[2], kept
        if not replay_due(status, it, best_it, best, rnorm):
            rnorm, kept = settle(indptr, indices, data, x, b, work[3], status, rnorm, it)
            return it, rnorm, status, kept
        first = (it, rnorm, status, best_it)
        rlast = stash(indptr, indices, data, x, b, work[3], work[4])
        cap = best_it
    return first[0], rnorm, first[2], first[0]  # (not reached)


@numba.njit(cache=True)
def _cg_run(indptr, indices, data, x, b, tol, maxiter, dtol, work):
    """The iterations of :func:`cg_solve`; returns ``(iterations, ‖r‖, status, best
    iteration, its residual norm)`` and saves the start in ``work[3]``."""
    n = b.size
    r = work[0]
    q = work[1]
    rnorm = residual_keep(indptr, indices, data, x, b, r, work[3])
    if rnorm <= tol:
        return 0, rnorm, CONVERGED, 0, rnorm
    limit = dtol * rnorm
    best, best_it = rnorm, 0
    ref, stalls, mark = np.inf, 0, 0
    rr = rnorm * rnorm
    p = work[2]
    p[:] = r
    it = 0
    polled, step = 0, indices.size + b.size
    while it < maxiter:
        polled += step  # a look for Ctrl-C every SIGNAL_WORK entries
        if polled >= SIGNAL_WORK:
            polled = 0
            look_for_signals()
        pq = _spmv_dot(indptr, indices, data, p, q)
        if not pq > 0.0:
            return it, rnorm, BREAKDOWN, best_it, best
        alpha = rr / pq
        acc = 0.0
        for i in range(n):
            x[i] += alpha * p[i]
            ri = r[i] - alpha * q[i]
            r[i] = ri
            acc += ri * ri
        it += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol or it - mark >= STAGNATION_WINDOW:
            rnorm, level = confirm(indptr, indices, data, x, b, r)
            if uncertified(rnorm, level, tol):  # below the rounding level of x: unconfirmed
                return (it, residual_bound(indptr, indices, data, x, b, rnorm, level),
                        STAGNATED, best_it, best)
            if rnorm <= tol:
                return it, rnorm, CONVERGED, it, rnorm
            acc = rnorm * rnorm
            ref, stalls = gap_check(rnorm, ref, stalls)
            mark = it
        elif not rnorm <= limit:
            return (it, diverged_norm(indptr, indices, data, x, b, rnorm), DIVERGED, best_it,
                    best)
        if rnorm < best:
            best, best_it = rnorm, it
        mark, stuck = stalled(rnorm, ref, stalls, it, mark)
        if stuck:
            return it, rnorm, STAGNATED, best_it, best
        beta = acc / rr
        rr = acc
        for i in range(n):
            p[i] = r[i] + beta * p[i]
    return it, rnorm, MAXITER, best_it, best
