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

The replay loop is written out in each of the six solvers (SOR and CG here, both SSOR-PCG
forms, Jacobi- and IC(0)-PCG; ``tests/test_replay_all_solvers.py`` holds all six to the same
contract against dense reference iterations).  A shared driver was built and measured, old
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
  ``u·‖|b| + |A| |x|‖`` (one pass over the matrix per window without progress: a slow but
  converging SOR, far above that level, is never stopped).
"""
import math

import numba
import numpy as np


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

#: Sums of squares in [SUMSQ_LO, inf) give a norm correct to rounding; outside (entries beyond
#: about 1e154, or all below about 1e-135 where the squares lose digits to underflow) the norm
#: is computed again with the entries scaled by a power of two (``residual_norm_scaled``).
#: Every solve of an ordinary system stays on the plain sum: the same bits as without the
#: check.
SUMSQ_LO = 2.0 ** -900


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
    """``last = x``, ``x = start``; returns ``‖b − A x_last‖`` (before a replay)."""
    rlast = residual_norm(indptr, indices, data, x, b)
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


@numba.njit(cache=True, fastmath={"contract"})
def _sor_sweep(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish, ring, x, b, omega):
    """One forward SOR sweep in place; returns ``‖b − A x‖²`` of the new iterate.

    During the sweep row ``i`` sees new values left of the diagonal and old values right of it,
    so with ``σ_i = b_i - Σ_{j≠i} a_ij x_j`` (as seen in the sweep) and
    ``δ_j = x_j^new - x_j^old`` the residual of the new iterate is
    ``r_i = σ_i - a_ii x_i^new - Σ_{j>i} a_ij δ_j``, where ``σ_i - a_ii x_i^new`` equals
    ``((1 - ω)/ω) a_ii δ_i``.  The sum is final once the sweep has passed the row's last column
    (``finish[p]``, at least ``p``), so rows are finished with a lag of at most the bandwidth;
    ``ring`` (a power-of-two length larger than the bandwidth, zeroed by the caller) holds the
    lagged ``δ``, which keeps it in cache.

    The matrix comes as the split triangles (``CSROperator.split_triangles``): a sweep is
    latency-bound (row ``i`` waits for ``x[i−1]``), so everything else is summed first and the
    ``x[i−1]`` term enters last through one FMA (``fastmath={"contract"}`` only: NaN and inf
    must survive) whose coefficient ``a_{i,i−1}`` comes from a dense array, as does
    ``a_{i,i+1}``; no row tests which of its columns it stores.  Reading the far entries'
    shorter index arrays also streams fewer bytes than the full CSR would.
    """
    n = b.size
    mask = np.uintp(ring.size - 1)
    theta = (1.0 - omega) / omega
    acc = 0.0
    p = 0
    prev = 0.0
    for i in range(n):
        w = omega * inv_diag[i]
        s = b[i]
        if i + 1 < n:
            s -= unear[i] * x[i + 1]
        for k in range(np.uintp(up[i]), np.uintp(up[i + 1])):
            s -= ud[k] * x[ui[k]]
        st = np.uintp(lp[i])
        en = np.uintp(lp[i + 1])
        if en > st:
            s -= ld[st] * x[li[st]]
            for k in range(st + U1, en):
                s -= ld[k] * x[li[k]]
        xo = x[i]
        xn = ((1.0 - omega) * xo + w * s) - (w * lnear[i]) * prev
        x[i] = xn
        prev = xn
        ring[np.uintp(i) & mask] = xn - xo
        while p <= i and finish[p] <= i:
            r = theta * diag[p] * ring[np.uintp(p) & mask]
            if p + 1 < n:
                r -= unear[p] * ring[np.uintp(p + 1) & mask]
            for k in range(np.uintp(up[p]), np.uintp(up[p + 1])):
                r -= ud[k] * ring[ui[k] & mask]
            acc += r * r
            p += 1
    return acc


@numba.njit(cache=True, fastmath={"contract"})
def sor_sweeps(lp, li, ld, lnear, up, ui, ud, unear, inv_diag, x, b, omega, sweeps):
    """``sweeps`` forward SOR sweeps in place on ``x``, without any stopping test (a smoother).

    The row update of :func:`_sor_sweep` and nothing else; the benchmarks time it as the floor
    of an SOR iteration (the sweep without its stopping test).
    """
    n = b.size
    for _ in range(sweeps):
        prev = 0.0
        for i in range(n):
            w = omega * inv_diag[i]
            s = b[i]
            if i + 1 < n:
                s -= unear[i] * x[i + 1]
            for k in range(np.uintp(up[i]), np.uintp(up[i + 1])):
                s -= ud[k] * x[ui[k]]
            st = np.uintp(lp[i])
            en = np.uintp(lp[i + 1])
            if en > st:
                s -= ld[st] * x[li[st]]
                for k in range(st + U1, en):
                    s -= ld[k] * x[li[k]]
            xn = ((1.0 - omega) * x[i] + w * s) - (w * lnear[i]) * prev
            x[i] = xn
            prev = xn


@numba.njit(cache=True, fastmath={"contract"})
def _sor_sweep_bound(lp, li, ld, lmir, lnear, up, ui, ud, unear, diag, inv_diag, ring, x, b,
                     omega):
    """One forward SOR sweep in place; returns ``(Σ w_i², Σ_j δ_j c_j)`` for
    :func:`sor_lower_bound` instead of the exact residual.

    The row update is :func:`_sor_sweep`'s, term for term (bit-identical iterates).  With
    ``δ_i = x_i^new − x_i^old`` and ``w_i = a_ii δ_i`` (kept in ``ring``), row ``j`` also forms
    ``c_j = Σ_{i<j} a_ij w_i``: the coefficients ``a_ij`` (``i < j``) are the *mirrors* of row
    ``j``'s lower entries — ``a_{j−1,j}`` is ``unear[j−1]``, the far ones are ``lmir`` (aligned
    with ``ld``) — so ``c_j`` shares the lower loop's indices and reads only ``w`` of rows the
    sweep has just written, without a second pass over the upper triangle.
    """
    n = b.size
    mask = np.uintp(ring.size - 1)
    ww = 0.0
    sd = 0.0
    prev = 0.0
    wprev = 0.0  # w_{i−1}
    uprev = 0.0  # a_{i−1,i}
    for i in range(n):
        w = omega * inv_diag[i]
        s = b[i]
        un = unear[i]
        if i + 1 < n:
            s -= un * x[i + 1]
        for k in range(np.uintp(up[i]), np.uintp(up[i + 1])):
            s -= ud[k] * x[ui[k]]
        c = uprev * wprev
        st = np.uintp(lp[i])
        en = np.uintp(lp[i + 1])
        if en > st:
            j = li[st]
            s -= ld[st] * x[j]
            c += lmir[st] * ring[j & mask]
            for k in range(st + U1, en):
                j = li[k]
                s -= ld[k] * x[j]
                c += lmir[k] * ring[j & mask]
        xo = x[i]
        xn = ((1.0 - omega) * xo + w * s) - (w * lnear[i]) * prev
        x[i] = xn
        prev = xn
        d = xn - xo
        wi = diag[i] * d
        ring[np.uintp(i) & mask] = wi
        ww += wi * wi
        sd += d * c
        wprev = wi
        uprev = un
    return ww, sd


@numba.njit(cache=True)
def sor_bound_norm(lp, lmir, up, ui, ud, unear, inv_diag):
    """``ν = √(‖U D⁻¹‖₁ ‖U D⁻¹‖∞) ≥ ‖ |U D⁻¹| ‖₂`` (``U`` the strict upper triangle), rounded
    up; the columns of ``U`` are read from the lower mirrors ``lmir`` (every far upper entry must
    have one)."""
    n = inv_diag.size
    rmax = 0.0
    cmax = 0.0
    for i in range(n):
        r = 0.0
        if i + 1 < n:
            r = abs(unear[i]) * abs(inv_diag[i + 1])
        for k in range(np.uintp(up[i]), np.uintp(up[i + 1])):
            r += abs(ud[k]) * abs(inv_diag[ui[k]])
        c = abs(unear[i - 1]) if i > 0 else 0.0
        for k in range(np.uintp(lp[i]), np.uintp(lp[i + 1])):
            c += abs(lmir[k])
        c *= abs(inv_diag[i])
        rmax = max(rmax, r)
        cmax = max(cmax, c)
    return np.sqrt(rmax * cmax) * (1.0 + 1e-12)


UNIT_ROUNDOFF = 2.0 ** -53
# SOR tests exactly from the sweep whose predicted residual (last estimate times its last
# contraction) is below SWITCH·tol: the decisive test is then almost always the in-sweep one
SWITCH = 2.0


@numba.njit(cache=True)
def _sor_in_sweep_error(diag, x, omega):
    """A bound on how far the in-sweep residual ``θ D δ − U δ`` of :func:`_sor_sweep` can be
    from ``b − A x`` for the stored iterate: the stored ``x_i^new`` is rounded (a few units of
    ``u |x_i|``), so ``b − A x`` differs by ``A ε``, ``|ε| ≤ u |x|`` — a residual's own
    rounding level, ``u ‖|A| |x|‖``, about ``u ‖D x‖`` on a matrix whose diagonal
    outweighs its rows — and ``θ = (1 − ω)/ω`` multiplies that rounding once more (ω < 1/2:
    ``|θ| > 1``).  ``8 u (|θ| + 1) ‖D x‖``.  A tolerance near that level (a badly scaled
    system, ``D A D`` with ``D`` over twelve decades) is confirmed on ``b − A x``, which the
    in-sweep value can undercut by orders of magnitude there.  One pass over two vectors,
    once per converged solve."""
    acc = 0.0
    for i in range(x.size):
        t = diag[i] * x[i]
        acc += t * t
    return 8.0 * UNIT_ROUNDOFF * (abs((1.0 - omega) / omega) + 1.0) * np.sqrt(acc)


@numba.njit(cache=True)
def sor_lower_bound(ww, sd, omega, nu, terms):
    """``(β, μ)``: a lower and an upper bound on ``‖b − A x‖`` after a sweep of
    :func:`_sor_sweep_bound` that returned ``(ww, sd)``.

    **Claim.**  ``β ≤ ‖r‖ ≤ μ`` for ``r = θ D δ − U δ``, ``θ = (1 − ω)/ω``, the residual of the new
    iterate as the exact in-sweep test (:func:`_sor_sweep`) assembles it from the same ``δ``
    (with ``x^new = x^old + δ`` it is ``b − A x^new`` exactly: ``b − A x^old = (D/ω + L) δ``, so
    ``b − A x^new = (D/ω + L − A) δ``).  ``β`` is also below the norm that test computes in
    floating point.

    **Proof.**  Let ``w = D δ`` (the computed ``w_i``).  By Cauchy–Schwarz ``‖r‖ ≥ |wᵀr| / ‖w‖``,
    and ``wᵀr = θ Σ_i w_i a_ii δ_i − Σ_i w_i Σ_{j>i} a_ij δ_j = θ ‖w‖² − Σ_j δ_j c_j`` with
    ``c_j = Σ_{i<j} a_ij w_i`` — exchanging the order of the double sum is the whole trick: the
    inner sum of row ``j`` runs over its lower neighbours, which the sweep has just updated.
    Rounding: every sum has at most ``terms`` (``nnz + 2n``) terms, so with
    ``γ = 2·terms·u`` (``u = 2⁻⁵³``) the computed ``θ ww − sd`` is within
    ``γ (|θ| ‖w‖² + |δ|ᵀ|U|ᵀ|w|)`` of ``wᵀr``, and ``|δ|ᵀ|U|ᵀ|w| ≤ ν ‖w‖²`` with
    ``ν ≥ ‖|U D⁻¹|‖₂`` (:func:`sor_bound_norm`); the same ``γ (|θ| + ν) ‖w‖`` bounds how far the
    exact test's computed norm can fall below ``‖r‖``.  Subtracting both slacks (and a factor
    ``1 − γ`` for ``√ww`` and the division) keeps ``β`` below either.  Upper bound:
    ``‖r‖ ≤ |θ| ‖D δ‖ + ‖U D⁻¹‖ ‖D δ‖ ≤ (|θ| + ν) ‖w‖``.  ``tests/test_sor_bound.py`` checks both
    against dense residuals on random matrices.

    How tight: the in-sweep residual ``D δ / ω`` and the new residual are nearly parallel when
    ω is below the optimal ω (the error is dominated by one smooth mode), so ``β ≈ ‖r‖``; above
    it the directions rotate and ``β`` is looser (a few times smaller), which costs only an
    earlier exact test.  NaN in ``ww`` or ``sd`` gives NaN bounds (the caller then tests
    exactly).
    """
    norm_w = np.sqrt(ww)
    if norm_w == 0.0:  # x did not move: r = θ D δ − U δ = 0
        return 0.0, 0.0
    theta = (1.0 - omega) / omega
    gamma = 2.0 * terms * UNIT_ROUNDOFF
    scale = (abs(theta) + nu) * norm_w
    slack = 1.01 * gamma * scale
    beta = (abs(theta * ww - sd) / norm_w) * (1.0 - gamma) - 2.0 * slack
    mu = scale * (1.0 + 4.0 * gamma) + slack
    return beta, mu


@numba.njit(cache=True)
def sor_solve(indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish,
              ring, lmir, use_bound, x, b, omega, tol, maxiter, dtol, window, work):
    """Forward SOR sweeps until ``‖b - A x‖ <= tol``; updates ``x`` in place.

    Stops at the first iterate whose residual meets ``tol``, exactly.  A sweep either assembles
    the exact residual of its iterate inside the sweep (:func:`_sor_sweep`, which reads the
    upper triangle a second time to finish each row) or, when ``use_bound`` (every far upper
    entry has a stored mirror; ``lmir`` holds their values), only a lower and an upper bound
    on it (:func:`_sor_sweep_bound`, :func:`sor_lower_bound`, a few operations per row): a
    lower bound above ``tol`` proves "not converged" without the exact residual, an upper
    bound below the divergence limit proves "not diverged".  Exact sweeps are used for the first sweep and whenever the last estimate
    and its contraction predict convergence at the next sweep; a bound sweep that proves
    neither gets the exact residual ``b − A x`` by a separate pass.  Iterates and iteration
    counts are those of the exact test on every sweep.

    Stops as diverged once ``‖r‖ > dtol·‖r_0‖`` (or ‖r‖ is NaN), as stagnated as the module
    docstring says.  A solve that does not converge returns its best iterate (module
    docstring; ``window``: :data:`SOR_WINDOW`; ``work``: two rows of ``n``, the start and the
    last iterate).  Returns
    ``(iterations, residual_norm, status, iteration of the returned x)``; the norm is exact
    except for a divergence found by the lower bound (the caller recomputes it).
    """
    # one call site of the run for the solve and its replay (see _kernels_ssor.ssor_pcg_solve)
    cap = maxiter
    first = (0, 0.0, CONVERGED, 0)
    rlast = 0.0
    for attempt in range(2):
        it, rnorm, status, best_it, best = _sor_run(
            indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish,
            ring, lmir, use_bound, x, b, omega, tol, cap, dtol, window, work[0])
        if attempt == 1:
            rnorm, kept = pick(indptr, indices, data, x, b, work[1], rlast, first[3], first[0])
            return first[0], rnorm, first[2], kept
        if not replay_due(status, it, best_it, best, rnorm):
            return it, rnorm, status, it
        first = (it, rnorm, status, best_it)
        rlast = stash(indptr, indices, data, x, b, work[0], work[1])
        cap = best_it
    return first[0], rnorm, first[2], first[0]  # (not reached)


@numba.njit(cache=True)
def _sor_run(indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish,
             ring, lmir, use_bound, x, b, omega, tol, maxiter, dtol, window, start):
    """The sweeps of :func:`sor_solve`; returns ``(iterations, residual_norm, status,
    best iteration, its residual norm or upper bound)`` and saves the start in ``start``."""
    rnorm = residual_norm_keep(indptr, indices, data, x, b, start)
    if rnorm <= tol:
        return 0, rnorm, CONVERGED, 0, rnorm
    limit = dtol * rnorm
    ring[:] = 0.0  # a finished row may read the slot of a neighbour it does not store (× 0)
    terms = float(indices.size + 2 * b.size)
    nu = -1.0  # computed on the first bound sweep
    exact = True
    known = True  # rnorm is the exact residual norm of the current x
    est = rnorm  # the last residual estimate (exact norm or lower bound) and its contraction
    best = rnorm  # the smallest exact residual or upper bound seen, and its iteration
    best_it = 0
    ref = rnorm  # stagnation: the residual of the last progress, and its iteration
    mark = 0
    status = MAXITER
    it = 0
    while it < maxiter:
        it += 1
        if exact:
            rnorm = np.sqrt(_sor_sweep(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag,
                                       finish, ring, x, b, omega))
            known = True
            # a stop on the in-sweep residual is confirmed by b − A x where that residual may
            # be off by the tolerance or more (_sor_in_sweep_error): a tolerance near the
            # rounding level of b − A x, where the in-sweep value had read 1e-9 for an iterate
            # whose exact residual was 1.6e-5; below ω = 1/2 the rounding of x^new times
            # (1 − ω)/ω > 1 (small ω: an update below half an ulp of x gives δ = 0 and
            # "r = 0"); and overflow of θ a_ii (tiny ω: "r = ∞" while the residual did not
            # grow)
            if rnorm <= tol and rnorm + _sor_in_sweep_error(diag, x, omega) <= tol:
                return it, rnorm, CONVERGED, it, rnorm
            # also catches NaN, and an in-sweep sum of squares that overflowed (residual
            # entries beyond 1e154: residual_norm computes that norm scaled)
            if rnorm <= tol or not rnorm <= limit or rnorm == np.inf:
                rnorm = residual_norm(indptr, indices, data, x, b)
                if rnorm <= tol:
                    return it, rnorm, CONVERGED, it, rnorm
                if not rnorm <= limit:
                    return it, rnorm, DIVERGED, best_it, best
            if rnorm < best:
                best, best_it = rnorm, it
            q = min(1.0, rnorm / est)
            est = rnorm
            exact = not use_bound or est * q <= SWITCH * tol
        else:
            if nu < 0.0:
                nu = sor_bound_norm(lp, lmir, up, ui, ud, unear, inv_diag)
            ww, sd = _sor_sweep_bound(lp, li, ld, lmir, lnear, up, ui, ud, unear, diag,
                                      inv_diag, ring, x, b, omega)
            beta, mu = sor_lower_bound(ww, sd, omega, nu, terms)
            if beta > tol and mu <= limit:  # not converged, not diverged (NaN fails both)
                known = False
                if mu < best:
                    best, best_it = mu, it
                q = min(1.0, beta / est)
                est = beta
            else:
                if beta > limit:
                    return it, beta, DIVERGED, best_it, best
                rnorm = residual_norm(indptr, indices, data, x, b)
                known = True
                if rnorm <= tol:
                    return it, rnorm, CONVERGED, it, rnorm
                if not rnorm <= limit:
                    return it, rnorm, DIVERGED, best_it, best
                if rnorm < best:
                    best, best_it = rnorm, it
                q = min(1.0, rnorm / est)
                est = rnorm
            if est * q <= SWITCH * tol:
                exact = True
                ring[:] = 0.0
        if est < PROGRESS * ref:
            ref, mark = est, it
        elif it - mark >= window:
            # no progress for a window: stagnated if the best is at rounding level, else a
            # slow solve (checked again a window later)
            if best <= FLOOR_FACTOR * UNIT_ROUNDOFF * rounding_scale(indptr, indices, data,
                                                                     x, b) < np.inf:
                status = STAGNATED
                break
            mark = it
    if not known:  # the last sweep was a bound sweep: report the exact residual
        rnorm = residual_norm(indptr, indices, data, x, b)
    return it, rnorm, status, best_it, best


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


#: Rows of scratch space :func:`sor_solve` takes (``work``): the start and the last iterate
#: (a failed solve's replay to its best sweep).
SOR_WORK_VECTORS = 2

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
            return first[0], rnorm, first[2], kept
        if not replay_due(status, it, best_it, best, rnorm):
            return it, rnorm, status, it
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
    while it < maxiter:
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
            rnorm = residual(indptr, indices, data, x, b, r)
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


@numba.njit(cache=True)
def analyse_csr(indptr, indices, data, diag_ptr, has_diag, diagonal):
    """One pass over a CSR matrix: fills the diagonal arrays; returns
    ``(canonical, nonfinite, bandwidth)``.

    ``canonical`` is false when some row's column indices are not strictly increasing (unsorted
    or duplicated); ``bandwidth`` (``max_i last column − i``) is only meaningful when canonical.
    """
    n = indptr.size - 1
    canonical = True
    nonfinite = 0
    bandwidth = 0
    for i in range(n):
        st, en = _row(indptr, i)
        prev = -1
        for k in range(st, en):
            j = np.intp(indices[k])
            if j <= prev:
                canonical = False
            prev = j
            v = data[k]
            if not np.isfinite(v):
                nonfinite += 1
            if j == i:
                diag_ptr[i] = k
                has_diag[i] = True
                diagonal[i] = v
        if prev - i > bandwidth:
            bandwidth = prev - i
    return canonical, nonfinite, bandwidth


@numba.njit(cache=True)
def mirror_positions(indptr, indices, mirror):
    """``mirror[k]`` = position of entry ``(j, i)`` for entry ``k = (i, j)``, or −1 if it is not
    stored (canonical CSR).  Rows are visited in order, so the mirrors of row ``i``'s upper
    entries are met in increasing ``i`` within row ``j``: one cursor per row walks its lower
    part once."""
    n = indptr.size - 1
    cur = indptr[:-1].copy()
    for k in range(mirror.size):
        mirror[k] = -1
    for i in range(n):
        st, en = _row(indptr, i)
        for k in range(st, en):
            j = np.intp(indices[k])
            if j == i:
                mirror[k] = k
                continue
            if j < i:
                continue
            c = np.uintp(cur[j])
            jend = np.uintp(indptr[j + 1])
            while c < jend and np.intp(indices[c]) < i:
                c += U1
            if c < jend and np.intp(indices[c]) == i:
                mirror[k] = c
                mirror[c] = k
                c += U1
            cur[j] = c


@numba.njit(cache=True)
def asymmetry_from_mirror(data, mirror):
    """``max |a_k − a_mirror(k)| / max |a_k|`` (a missing mirror, −1, counts as 0)."""
    worst = 0.0
    scale = 0.0
    for k in range(data.size):
        v = data[k]
        if abs(v) > scale:
            scale = abs(v)
        m = mirror[k]
        d = abs(v - data[m]) if m >= 0 else abs(v)
        if d > worst:
            worst = d
    return worst / scale if scale > 0.0 else 0.0
