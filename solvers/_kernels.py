"""Numba kernels over raw CSR arrays.

Every function here takes raw arrays plus vectors and scalars and knows nothing about matrix
objects, validation or option names (see ``solvers/_api.py`` for that).  The matrix comes as
the full CSR arrays ``(indptr, indices, data)`` (SpMV, residuals, CG) and, for SOR, also as the
split triangles of ``CSROperator.split_triangles`` — the far lower and upper entries in CSR
``(lp, li, ld)`` and ``(up, ui, ud)``, the neighbours ``a_{i,i−1}``, ``a_{i,i+1}`` as dense
``lnear``, ``unear`` — with the diagonal and its inverse as dense ``diag``, ``inv_diag``.
Column indices are sorted within each row and every row stores its diagonal
(``CSROperator`` guarantees both).

Index arrays are *unsigned* (uint32, or uint64 for huge matrices) and loop bounds are cast to
``np.uintp``: Numba must assume a signed index may be negative and emits a wrap-around test on
every ``x[indices[k]]``; with unsigned indices there is none, and the SpMV runs at scipy's
speed (``relaxtune bench kernels`` measures both).

This module holds what every solver kernel shares: the status codes, the stagnation
constants, SpMV, residuals and norms, and the replay and stagnation helpers inlined into each
solve.  The kernels themselves are in modules of their own, re-exported here so that callers
reach them as ``_kernels.NAME``: SOR in ``_kernels_sor``, CG in ``_kernels_cg``, the one-pass
analyses of a CSR matrix in ``_kernels_csr`` (and, imported from there directly, SSOR-PCG in
``_kernels_ssor``, Jacobi- and IC(0)-PCG in ``_kernels_pcg``, the value passes of a prepared
operator in ``_kernels_prep``, Lanczos in ``_kernels_spectral``).

Status codes returned by the solvers (mapped to ``SolveResult.reason`` by the wrappers):
0 converged, 1 maxiter, 2 breakdown (pᵀAp <= 0 or rᵀz <= 0), 3 diverged, 4 stagnated.

Failed solves return their best iterate
---------------------------------------
Every solver tracks, at the cost of a comparison per iteration, the smallest residual norm it
monitors and the iteration that had it (iterate 0, the start, included): the recursive
residual of the CG kernels (the true one where a residual-gap check computed it), SOR's exact
in-sweep residual or, on a sweep that only bounds it, the upper bound.  A solve that stops
without converging at an iterate other than that best one *replays* itself from the start
(saved during the first pass over the matrix, which reads ``x`` anyway) up to the best
iteration, inside the same compiled call: the iterations are deterministic, so the replay ends
on exactly the best iterate, and a converged solve pays nothing — no copy of ``x`` per
iteration.  Of the last and the replayed iterate the one with the smaller true residual is
returned (a recursive residual can be below the true one).

The replay loop is written out in each of the six solvers (SOR, CG, both SSOR-PCG forms,
Jacobi- and IC(0)-PCG; ``tests/test_replay_all_solvers.py`` holds all six to the same contract
against dense reference iterations).  A shared driver was built and measured, old
and new kernels side by side in one process (pinned, AMD EPYC family 25 model 1 VM, load
average about 15), and was not kept:

* the run passed as a value to a compiled driver: Numba refuses to cache any solve that does
  this ("uses dynamic globals"), and the driver's own cache entry never matches in a new
  process (its key holds the run's identity in that process) — a compile per process;
* the driver inlined into each solve in Numba's IR (``inline="always"``), calling the run as
  ``run(*head, cap, *tail)`` with each run's own arguments, and recomputing the caller's start
  residual of Jacobi- and IC(0)-PCG before a replay: cached, bit-identical results, per
  iteration 0.99 to 1.01 times these copies at n = 10⁴ and 10⁵ (a byte-identical copy of
  them loaded elsewhere in memory: 0.98 to 1.01), but the cold compile of the six solves took
  1.01, 1.03, 1.09 and 1.07 times as long (process CPU seconds 20.3 to 21.7 before, four
  interleaved pairs in fresh caches, all four slower);
* one argument order for every run (cap and a replay flag first) changes every run's machine
  code (register allocation): CG 1.02 times per iteration at n = 10⁴ and 10⁵; with the flag
  last and the start residual recomputed inside the Jacobi and IC(0) runs, IC(0)-PCG was
  1.09 times at n = 10⁴.

Keep the six copies alike: the test above fails for any solver whose replay differs.

Stagnation (status 4)
---------------------
A tolerance below what double precision can reach for the system (about
``u·‖|b| + |A| |x|‖``, ``u = 2⁻⁵³``; e.g. rtol 1e-12 on a system of condition 4e9) is never
met; before this status such a solve ran to ``maxiter``.  The kernels stop it early:

* CG kernels: the recursive residual keeps falling below the floor while the true one stays
  on it, so the residual-gap check fires (the recursion claims convergence, ``b − A x``
  vetoes it).  Once it has fired, the true residual is also checked every
  :data:`STAGNATION_WINDOW` iterations after the last check (a drifted recursion may take long
  to claim convergence again), and the solve has stagnated when :data:`STALL_CHECKS` checks in
  a row did not bring the true residual below :data:`PROGRESS` times the best of the earlier
  checks, or when the residual has grown :data:`GROWTH` times above that best.  A solve whose
  recursion never claims convergence falsely is never stopped so: no converging solve is.
* SOR, whose residual is exact, has no such check: it has stagnated when its residual has not
  fallen below :data:`PROGRESS` times its reference over :data:`SOR_WINDOW` sweeps *and*
  the best residual is within :data:`FLOOR_FACTOR` of the rounding level
  ``u·‖|b| + |A| |x|‖`` of the current iterate, and so is the current residual (a slowly
  diverging SOR grows its iterate until that level passes its best residual; one or two
  passes over the matrix per window without progress: a slow but converging SOR, far above
  that level, is never stopped).
"""
import math

import numba
import numba.extending
import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import cgutils


CONVERGED, MAXITER, BREAKDOWN, DIVERGED, STAGNATED = 0, 1, 2, 3, 4
#: A meaningful improvement of the residual (see the module docstring, "Stagnation").
PROGRESS = 0.5
#: Residual-gap checks in a row without progress after which a CG kernel has stagnated.
STALL_CHECKS = 3
#: Once a residual-gap check of a CG kernel has fired, the true residual is checked again at
#: least every STAGNATION_WINDOW iterations (a recursion that has drifted below the true
#: residual may take long to claim convergence again).
STAGNATION_WINDOW = 50
#: Sweeps without progress after which SOR tests whether its best residual is at rounding level
#: (a pass over the matrix: once per SOR_WINDOW sweeps of a slow solve, 0.5% of its time).
#: Read by the wrappers at every call and passed to the kernels: a benchmark that must time
#: exactly ``maxiter`` sweeps under a tolerance it never meets sets it beyond ``maxiter``.
SOR_WINDOW = 200
#: Growth over the best true residual after which a CG kernel whose residual-gap check has
#: fired has stagnated (CG's residual may grow by up to √κ(A) in exact arithmetic, but from a
#: level the recursion has already been shown not to reach, growth is rounding).
GROWTH = 1e3
#: SOR has stagnated only with its best residual below FLOOR_FACTOR·u·‖|b| + |A| |x|‖ (observed
#: floors: 0.3 to 6 times u·‖|b| + |A| |x|‖).
FLOOR_FACTOR = 100.0
# An unstable iteration (e.g. SOR with a bad ω on a non-SPD matrix) is stopped once the residual
# has grown this much over its start (the solvers' default ``dtol``), well before x overflows, so
# the returned iterate stays finite.
DIVERGENCE_FACTOR = 1e12


U1 = np.uintp(1)

#: Matrix entries a solver kernel processes between two looks for a pending signal (Ctrl-C,
#: SIGTERM): about 10–50 ms of iterations on one core; a look costs about 0.03 µs.  A kernel
#: counts ``nnz + n`` per iteration and calls :func:`look_for_signals` when the count passes
#: this, so a solve of a small system never looks (2²⁴ entries is 30 000 iterations at
#: n = 100).  A kernel had looked at none: Ctrl-C waited for the whole run, up to
#: ``maxiter`` iterations (2 s after the signal on a 2.3 s SOR run at n = 90 000).  SOR, CG and
#: SSOR-PCG (both kernels) look at the start of their loops; Jacobi-PCG at the end of its loop
#: (at the start it ran 3-6 % slower per iteration); IC(0)-PCG between chunks of about this
#: many entries of its loop (``_kernels_pcg._ic0_steps``; a look at the end of the loop ran it
#: about 1 % slower at n = 10⁴).  See docs/guarantees.md for the measurements.
SIGNAL_WORK = 1 << 24


@numba.extending.intrinsic
def _check_signals(typingctx):
    """``PyErr_CheckSignals()`` from compiled code, the GIL first handed to any thread waiting
    for it (``PyEval_SaveThread``/``PyEval_RestoreThread``); an exception a handler raises
    leaves the compiled function as a Python exception (Numba's status for "an exception is
    set"), as from Python code.

    The look was an object-mode block calling an empty Python function: the block was compiled
    on a process's first look (100–170 ms inside whichever solve looked first, not cached with
    the kernels), and a handler could run inside Numba's Python helpers for the block, whose
    exception the compiled code did not pass on (``SystemError: ... returned a result with an
    exception set``).  This calls the C API the interpreter itself uses between bytecodes:
    nothing compiled at run time, nothing in Python between the signal and the handler.  The
    GIL is handed over as the block's Python code had done (a thread waiting to run — a timer,
    a progress bar's monitor — gets its turn every look, not only when the kernel returns)."""
    sig = numba.types.void()

    def codegen(context, builder, signature, args):
        ptr = llvm_ir.IntType(8).as_pointer()
        module = builder.module
        save = cgutils.get_or_insert_function(module, llvm_ir.FunctionType(ptr, []),
                                              "PyEval_SaveThread")
        back = cgutils.get_or_insert_function(
            module, llvm_ir.FunctionType(llvm_ir.VoidType(), [ptr]), "PyEval_RestoreThread")
        check = cgutils.get_or_insert_function(
            module, llvm_ir.FunctionType(llvm_ir.IntType(32), []), "PyErr_CheckSignals")
        builder.call(back, [builder.call(save, [])])
        failed = builder.icmp_signed("<", builder.call(check, []),
                                     llvm_ir.Constant(llvm_ir.IntType(32), 0))
        with builder.if_then(failed, likely=False):
            context.call_conv.return_exc(builder)
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True)
def look_for_signals():
    """Run the Python signal handlers pending in the main thread, from inside a kernel: an
    exception they raise (``KeyboardInterrupt``, the command line's SIGTERM) leaves the kernel
    as it would leave Python code.  The kernels never modify the caller's ``x0`` or ``b``, so
    a run stopped so leaves nothing half-written that the caller owns.  (In another thread no
    handler runs: Python runs them in the main thread only.)

    Examples
    --------
    >>> look_for_signals()  # nothing pending: returns at once
    """
    _check_signals()

#: Sums of squares in [SUMSQ_LO, inf) give a norm correct to rounding; outside (entries beyond
#: about 1e154, or all below about 1e-135 where the squares lose digits to underflow) the norm
#: is computed again with the entries scaled by a power of two (``residual_norm_scaled``).
#: Every solve of an ordinary system stays on the plain sum: the same bits as without the
#: check.
SUMSQ_LO = 2.0 ** -900
#: the unit roundoff of double precision (``_kernels_sor.UNIT_ROUNDOFF``, re-exported below)
_UNIT = 2.0 ** -53


@numba.njit(cache=True)
def scaled_norm(v):
    """``‖v‖`` without overflow or underflow: the entries are scaled by the power of two that
    brings ``max |v_i|`` into [0.5, 1) (exact), squared and summed, and the root is scaled back
    (the idea of LAPACK's ``dnrm2``, in two passes); ``inf`` or NaN if ``v`` holds one (a NaN
    residual must not read as 0).  Defined here, not in ``_kernels_prep``, and called from
    :func:`residual`: imported from another module into it, the same call changed the
    rounding of ``residual``'s plain sum (other bits for ordinary solves)."""
    amax = 0.0
    for i in range(v.size):
        if not abs(v[i]) <= amax:  # NaN propagates
            amax = abs(v[i])
    if amax == 0.0 or not np.isfinite(amax):
        return amax
    e = math.frexp(amax)[1]
    acc = 0.0
    for i in range(v.size):
        t = math.ldexp(v[i], -e)
        acc += t * t
    return math.ldexp(np.sqrt(acc), e)


@numba.njit(cache=True, inline="always")
def _row(indptr, i):
    return np.uintp(indptr[i]), np.uintp(indptr[i + 1])


@numba.njit(cache=True)
def spmv(indptr, indices, data, x, y):
    """``y = A x``."""
    n = indptr.size - 1
    for i in range(n):
        st, en = _row(indptr, i)
        s = 0.0
        for k in range(st, en):
            s += data[k] * x[indices[k]]
        y[i] = s


@numba.njit(cache=True)
def residual(indptr, indices, data, x, b, r):
    """``r = b - A x``; returns ``‖r‖``."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        for k in range(st, en):
            s -= data[k] * x[indices[k]]
        r[i] = s
        acc += s * s
    if SUMSQ_LO <= acc < np.inf:
        return np.sqrt(acc)
    return scaled_norm(r)  # the squares over- or underflowed (or r has NaN)


@numba.njit(cache=True)
def confirm(indptr, indices, data, x, b, r):
    """``r = b - A x``; returns ``(‖r‖, u·‖|b| + |A| |x|‖)``: the residual norm (the same bits
    as :func:`residual`) and its rounding level, in one pass.

    A CG-type kernel confirms a claimed convergence with it: a computed residual below the
    tolerance certifies ``x`` only where that level is below the tolerance too.  Above it, the
    computed ``b − A x`` may have lost ``b`` to cancellation — SSOR-PCG on an inconsistent
    singular system (``[[2, 2], [2, 2]]``, ``b = [1, −1]``) had stepped to
    ``x ≈ ±1.5e16`` along the null vector, where ``A x`` rounds to ``b``'s neighbourhood of
    ``|A| |x| ≈ 6e16`` and the residual read 0 — and the solve stops as stagnated
    (:func:`uncertified`)."""
    n = indptr.size - 1
    acc = 0.0
    lev = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        a = abs(s)
        for k in range(st, en):
            v = data[k] * x[indices[k]]
            s -= v
            a += abs(v)
        r[i] = s
        acc += s * s
        lev += a * a
    if SUMSQ_LO <= acc < np.inf:
        rnorm = np.sqrt(acc)
    else:
        rnorm = scaled_norm(r)  # the squares over- or underflowed (or r has NaN)
    if lev < np.inf:
        return rnorm, _UNIT * np.sqrt(lev)
    return rnorm, _UNIT * rounding_scale(indptr, indices, data, x, b)


@numba.njit(cache=True)
def residual_bound(indptr, indices, data, x, b, rnorm, level):
    """An upper bound of the exact ``‖b − A x‖`` given its computed ``rnorm`` and rounding
    ``level`` (``u·‖|b| + |A| |x|‖``): ``rnorm + (m + 1)·level``, ``m`` the longest row (each
    entry of ``b − A x`` summed in ``m + 1`` roundings).  Failure path only."""
    return rnorm + (_longest_row(indptr) + 1) * level


@numba.njit(cache=True, inline="always")
def _longest_row(indptr):
    """The most entries of a row (``m`` of the rounding bounds)."""
    m = 0
    for i in range(indptr.size - 1):
        m = max(m, indptr[i + 1] - indptr[i])
    return m


@numba.njit(cache=True, inline="always")
def uncertified(rnorm, level, tol):
    """Whether a residual ``rnorm <= tol`` of :func:`confirm` does not certify its iterate:
    its rounding ``level`` is above ``tol`` (a tolerance the iterate cannot be checked
    against; the kernel stops as stagnated, reporting the level as the residual)."""
    return rnorm <= tol and level > tol


@numba.njit(cache=True)
def residual_keep(indptr, indices, data, x, b, r, xs):
    """``r = b - A x`` and ``xs = x`` (the start a failed solve replays from); returns ``‖r‖``."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        for k in range(st, en):
            s -= data[k] * x[indices[k]]
        r[i] = s
        xs[i] = x[i]
        acc += s * s
    return np.sqrt(acc)


@numba.njit(cache=True)
def residual_norm_keep(indptr, indices, data, x, b, xs):
    """``‖b - A x‖`` and ``xs = x`` (the start a failed solve replays from)."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        for k in range(st, en):
            s -= data[k] * x[indices[k]]
        xs[i] = x[i]
        acc += s * s
    return np.sqrt(acc)


@numba.njit(cache=True, inline="always")
def _abs_row(indptr, indices, data, x, b, i):
    """``|b_i| + Σ_j |a_ij| |x_j|``."""
    st, en = _row(indptr, i)
    s = abs(b[i])
    for k in range(st, en):
        s += abs(data[k]) * abs(x[indices[k]])
    return s


@numba.njit(cache=True)
def rounding_scale(indptr, indices, data, x, b):
    """``‖|b| + |A| |x|‖``: times ``u = 2⁻⁵³``, the size of the rounding errors of
    ``b − A x`` — the residual level below which no solver can be asked to go."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        s = _abs_row(indptr, indices, data, x, b, i)
        acc += s * s
    if SUMSQ_LO <= acc < np.inf:
        return np.sqrt(acc)
    # the squares over- or underflowed (a system whose |A| |x| is near 1e200): once more,
    # scaled by a power of two from the largest row sum
    amax = 0.0
    for i in range(n):
        s = _abs_row(indptr, indices, data, x, b, i)
        if not s <= amax:  # NaN propagates
            amax = s
    if amax == 0.0 or not np.isfinite(amax):
        return amax
    e = math.frexp(amax)[1]
    acc = 0.0
    for i in range(n):
        s = _abs_row(indptr, indices, data, x, b, i)
        t = math.ldexp(s, -e)
        acc += t * t
    return math.ldexp(np.sqrt(acc), e)


@numba.njit(cache=True, inline="always")
def gap_check(t, ref, stalls):
    """A residual-gap check found the true residual ``t`` above the tolerance: returns the
    new ``(ref, stalls)`` — ``ref`` the best true residual of such checks (``inf`` before
    the first), ``stalls`` the checks in a row without progress (see "Stagnation")."""
    if t < PROGRESS * ref:
        return t, 0
    return ref, stalls + 1


@numba.njit(cache=True, inline="always")
def stalled(rnorm, ref, stalls, it, mark):
    """The stagnation test of a CG kernel after an iteration: returns ``(mark, stagnated)``.
    ``mark`` is the iteration of the last residual-gap check, or the current one before any
    (``ref = inf``): once a check has fired, the true residual is checked again every
    ``STAGNATION_WINDOW`` iterations after the last check even if the recursion does not
    claim convergence (a recursion that has drifted below the true residual can fall on
    slowly for long), and the solve has stagnated after ``STALL_CHECKS`` checks in a row
    without progress or once the residual is ``GROWTH`` times above the best check's."""
    if ref == np.inf:
        return it, False
    return mark, (stalls >= STALL_CHECKS or rnorm > GROWTH * ref)


@numba.njit(cache=True, inline="always")
def replay_due(status, it, best_it, best, rnorm):
    """Whether a finished solve must replay to its best iterate: it did not converge, it
    stopped elsewhere, and the best is smaller than the last's (finite: a residual out of
    range is reported by the caller as it was)."""
    return status != CONVERGED and best_it < it and best < rnorm < np.inf


@numba.njit(cache=True, inline="always")
def diverged_norm(indptr, indices, data, x, b, rnorm):
    """The norm a CG-type kernel reports when it stops as diverged: a recursive residual norm
    whose squares overflowed (``inf``: residual entries beyond about 1e154, e.g. the first
    steps on ``D A D`` with ``D`` near 1e±100, every iterate finite) is replaced by the true
    residual's, computed scaled — a finite norm, so the best iterate is replayed as after any
    divergence."""
    if rnorm == np.inf:
        return residual_norm(indptr, indices, data, x, b)
    return rnorm


@numba.njit(cache=True)
def stash(indptr, indices, data, x, b, start, last):
    """``last = x``, ``x = start``; returns an upper bound of ``‖b − A x_last‖`` (before a
    replay): its computed value plus the rounding that value may hide (:func:`residual_bound`,
    a change in the last digits for an ordinary iterate), so that a last iterate whose
    computed residual was lost to cancellation (``x`` far along a null vector of an
    inconsistent singular system, :func:`confirm`) is not kept over the best iterate."""
    rlast = residual_norm(indptr, indices, data, x, b)
    level = _UNIT * rounding_scale(indptr, indices, data, x, b)
    rlast = residual_bound(indptr, indices, data, x, b, rlast, level)
    last[:] = x
    x[:] = start
    return rlast


@numba.njit(cache=True)
def pick(indptr, indices, data, x, b, last, rlast, best_it, it):
    """After a replay: keep the replayed ``x`` if its true residual is not above ``rlast``
    (the last iterate's, held in ``last``), else restore the last; returns
    ``(‖b − A x‖, iteration of x)``."""
    t = residual_norm(indptr, indices, data, x, b)
    if t <= rlast:
        return t, best_it
    x[:] = last
    return rlast, it


@numba.njit(cache=True)
def residual_margin(indptr, indices, data, x, b):
    """``(‖b − A x‖, (m + 1)·u·‖|b| + |A| |x|‖)`` in one pass over the matrix
    (:func:`confirm`): the computed residual norm (the same bits as :func:`residual_norm`) and
    how far the exact one may lie from it (``m`` the longest row; :func:`residual_bound`).  Where the margin is below half the computed norm,
    that norm is within a factor 1.5 of the exact one; otherwise the computed residual is
    rounding noise, and only ``norm + margin`` bounds the exact one.  Failure path only."""
    t, level = confirm(indptr, indices, data, x, b, np.empty(indptr.size - 1))
    return t, (_longest_row(indptr) + 1) * level


@numba.njit(cache=True)
def settle(indptr, indices, data, x, b, start, status, rnorm, kept):
    """The last word of a failed solve on the iterate it returns: returns ``(rnorm, kept)``.

    A solve picks its best iterate by the residuals it computed; on an inconsistent singular
    system an iterate far along a null vector can read a residual that is only rounding noise
    (``b − A x`` lost to cancellation, :func:`confirm`) and be kept as the best.  Unless the
    returned ``x`` is the start or its computed residual is certified (above twice its margin,
    :func:`residual_margin`), its upper bound ``norm + margin`` is compared with the start's:
    where the start's is smaller, ``x`` is set back to the start (``kept = 0``).  A converged
    solve returns at the first comparison; a failed one pays one or two passes."""
    if status == CONVERGED or kept == 0:
        return rnorm, kept
    t, e = residual_margin(indptr, indices, data, x, b)
    if e <= 0.5 * t:
        return rnorm, kept
    t0, e0 = residual_margin(indptr, indices, data, start, b)
    if t0 + e0 < t + e:
        x[:] = start
        return t0, 0
    return rnorm, kept


@numba.njit(cache=True)
def residual_norm(indptr, indices, data, x, b):
    """``‖b - A x‖`` (the residual itself is not stored); correct for any finite residual:
    when the plain sum of squares over- or underflows, a second, scaled computation
    (:func:`residual_norm_scaled`)."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        for k in range(st, en):
            s -= data[k] * x[indices[k]]
        acc += s * s
    if SUMSQ_LO <= acc < np.inf:
        return np.sqrt(acc)
    return residual_norm_scaled(indptr, indices, data, x, b)


@numba.njit(cache=True)
def residual_norm_scaled(indptr, indices, data, x, b):
    """``‖b − A x‖`` without overflow or underflow in the sum of squares (two passes: the
    largest |r_i|, then the squares of r scaled by a power of two); for the rare systems whose
    scale is far from 1 (see ``_api``)."""
    n = indptr.size - 1
    amax = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        for k in range(st, en):
            s -= data[k] * x[indices[k]]
        if not abs(s) <= amax:  # NaN propagates
            amax = abs(s)
    if amax == 0.0 or not np.isfinite(amax):
        return amax
    e = math.frexp(amax)[1]
    acc = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        for k in range(st, en):
            s -= data[k] * x[indices[k]]
        t = math.ldexp(s, -e)
        acc += t * t
    return math.ldexp(np.sqrt(acc), e)


# The solvers' kernels, kept in modules of their own (SOR, CG, the CSR analyses); imported here
# last because they take the status codes and shared helpers above, and re-exported so that
# every caller keeps reaching them as ``_kernels.NAME``.
from ._kernels_cg import CG_WORK_VECTORS, _cg_run, _spmv_dot, cg_solve  # noqa: E402,F401
from ._kernels_csr import (analyse_csr, asymmetry_from_mirror,  # noqa: E402,F401
                           mirror_positions)
from ._kernels_sor import (SOR_WORK_VECTORS, SWITCH, UNIT_ROUNDOFF,  # noqa: E402,F401
                           _sor_in_sweep_error, _sor_run, _sor_sweep, _sor_sweep_bound,
                           sor_bound_norm, sor_lower_bound, sor_solve, sor_sweeps)
