"""Preconditioned CG kernels: Jacobi, incomplete Cholesky IC(0), and the pieces of a PCG loop
whose preconditioner is applied outside Numba (pyamg's multigrid cycle).

Like ``solvers/_kernels.py`` these are plain functions over raw CSR arrays with unsigned index
arrays; they know nothing about matrix objects or option names (``solvers/precond.py`` and
``solvers/_api.py`` validate and call them).  Status codes are those of ``_kernels``.

IC(0) factor layout
-------------------
``A ≈ L Lᵀ`` with ``L`` lower triangular on the pattern of ``tril(A)`` (zero fill-in).  The
factor is stored for the two triangular solves of ``M⁻¹ r = L⁻ᵀ L⁻¹ r`` in the same *split*
layout as ``CSROperator.split_triangles``: the strictly lower part of ``L`` as far entries
(``j < i − 1``, CSR ``lp, li, ld``) plus a dense ``lnear[i] = l_{i,i−1}`` (0 when the matrix
does not store ``a_{i,i−1}``), and the strictly upper part of ``Lᵀ`` likewise (``tp, ti, td``,
``tnear[i] = l_{i+1,i}``).  Both are *row-scaled* by ``1/l_ii`` so a row of a solve is
``v_i = r_i/l_ii − Σ_j l̃_ij v_j``: a triangular solve is latency-bound (row ``i`` waits for
``v_{i∓1}``), and with the scaling and the dense neighbour coefficient that chain is one FMA per
row.  ``fastmath={"contract"}`` only, so NaN and inf keep their meaning for the breakdown tests.
"""
import numba
import numpy as np

from ._kernels import (BREAKDOWN, CONVERGED, DIVERGED, MAXITER, STAGNATED, STAGNATION_WINDOW,
                       confirm, residual_bound, uncertified,
                       STALL_CHECKS, diverged_norm, gap_check, pick, replay_due, residual,
                       residual_keep, stalled, stash, SIGNAL_WORK, look_for_signals, settle)

U1 = np.uintp(1)
CONTRACT = {"contract"}
#: Status of a chunk of IC(0)-PCG iterations that ended at its last iteration
#: (``_ic0_steps``): the run looks for signals and goes on.
RUNNING = -1


# -- IC(0): pattern, factorisation, scaling ----------------------------------------------------

@numba.njit(cache=True)
def transpose_pattern(lp, li, tp, ti, tmap):
    """``(tp, ti)``: CSR of the transpose of the far lower pattern ``(lp, li)``, i.e. the far
    upper pattern of ``Lᵀ``; ``tmap[m]`` is the far-lower slot entry ``m`` comes from.  Rows are
    visited in order, so columns come out sorted."""
    n = lp.size - 1
    for j in range(n + 1):
        tp[j] = 0
    for m in range(li.size):
        tp[np.intp(li[m]) + 1] += 1
    for j in range(n):
        tp[j + 1] += tp[j]
    nxt = np.empty(n, dtype=np.int64)
    for j in range(n):
        nxt[j] = tp[j]
    for i in range(n):
        for m in range(np.uintp(lp[i]), np.uintp(lp[i + 1])):
            j = np.intp(li[m])
            pos = nxt[j]
            ti[pos] = i
            tmap[pos] = m
            nxt[j] = pos + 1


@numba.njit(cache=True)
def ic0_factor(data, diag_ptr, lp, li, lk, lnear_k, shift, lf, lnear_f, inv_ldiag, mark):
    """Zero fill-in incomplete Cholesky of ``A + shift·diag(A)`` on the pattern of ``tril(A)``.

    Row by row (up-looking): for each stored ``(i, j)``, ``j < i``, in increasing ``j``,
    ``l_ij = (a_ij − Σ_k l_ik l_jk) / l_jj`` over the columns ``k < j`` stored in both rows, then
    ``l_ii = √(a_ii(1 + shift) − Σ_j l_ij²)``.  ``mark[k]`` (all −1 on entry and on return) holds
    the slot of row ``i``'s far entry in column ``k``, so each inner product walks row ``j`` once
    with a lookup per entry.  Unscaled values go to ``lf`` (far) and ``lnear_f``, ``1/l_ii`` to
    ``inv_ldiag``.

    Returns ``(row, work)``: ``row`` is −1, or the first row whose pivot
    ``a_ii(1 + shift) − Σ_j l_ij²`` is not positive (breakdown; outputs of later rows are
    garbage), and ``work`` the number of multiply–adds and lookups performed.
    """
    n = lp.size - 1
    work = 0
    for i in range(n):
        st = np.uintp(lp[i])
        en = np.uintp(lp[i + 1])
        for m in range(st, en):
            mark[li[m]] = m
        dsum = 0.0
        # far entries then the near one: increasing column, so every l_ik with k < j is final
        for m in range(st, en + U1):
            if m < en:
                j = np.intp(li[m])
                s = data[lk[m]]
            else:
                if lnear_k[i] < 0:
                    lnear_f[i] = 0.0
                    break
                j = i - 1
                s = data[lnear_k[i]]
            jst = np.uintp(lp[j])
            jen = np.uintp(lp[j + 1])
            for mm in range(jst, jen):
                t = mark[li[mm]]
                if t >= 0:
                    s -= lf[t] * lf[mm]
            work += jen - jst + 1
            if j > 0 and lnear_k[j] >= 0:  # row j's near entry, column j − 1
                t = mark[j - 1]
                if t >= 0:
                    s -= lf[t] * lnear_f[j]
                work += 1
            v = s * inv_ldiag[j]
            if m < en:
                lf[m] = v
            else:
                lnear_f[i] = v
            dsum += v * v
        for m in range(st, en):
            mark[li[m]] = -1
        d = data[diag_ptr[i]] * (1.0 + shift) - dsum
        work += 1
        if not d > 0.0:  # also NaN
            return i, work
        inv_ldiag[i] = 1.0 / np.sqrt(d)
    return -1, work


@numba.njit(cache=True)
def ic0_scale(lp, lf, lnear_f, inv_ldiag, tmap, tp, ld, lnear, td, tnear):
    """The solve arrays from the unscaled factor: ``ld``/``lnear`` = rows of ``L`` times
    ``1/l_ii``; ``td``/``tnear`` = rows of ``Lᵀ`` (``l_ji``, ``j > i``) times ``1/l_ii``."""
    n = lp.size - 1
    for i in range(n):
        s = inv_ldiag[i]
        for m in range(np.uintp(lp[i]), np.uintp(lp[i + 1])):
            ld[m] = lf[m] * s
        lnear[i] = lnear_f[i] * s
        for m in range(np.uintp(tp[i]), np.uintp(tp[i + 1])):
            td[m] = lf[tmap[m]] * s
        tnear[i] = lnear_f[i + 1] * s if i + 1 < n else 0.0


# -- triangular solves in the split, row-scaled layout -----------------------------------------

@numba.njit(cache=True, inline="always", fastmath=CONTRACT)
def _solve_row(fp, fi, fd, near, inv, i, rhs, v, prev):
    """``rhs·inv_i − Σ_far f_ij v_j − near_i·prev``; the neighbour enters last, through one FMA."""
    st = np.uintp(fp[i])
    en = np.uintp(fp[i + 1])
    s = inv[i] * rhs
    if en > st:  # first term peeled: stencil rows hold one or two far entries
        s -= fd[st] * v[fi[st]]
        for k in range(st + U1, en):
            s -= fd[k] * v[fi[k]]
    return s - near[i] * prev


@numba.njit(cache=True, fastmath=CONTRACT)
def ic0_apply(lp, li, ld, lnear, tp, ti, td, tnear, inv_ldiag, r, z):
    """``z = (L Lᵀ)⁻¹ r``: forward solve with ``L`` into ``z``, backward with ``Lᵀ`` in place."""
    prev = 0.0
    for i in range(r.size):
        prev = _solve_row(lp, li, ld, lnear, inv_ldiag, i, r[i], z, prev)
        z[i] = prev
    prev = 0.0
    for i in range(r.size - 1, -1, -1):
        prev = _solve_row(tp, ti, td, tnear, inv_ldiag, i, z[i], z, prev)
        z[i] = prev


@numba.njit(cache=True, fastmath=CONTRACT)
def _ic0_forward_update(lp, li, ld, lnear, inv_ldiag, alpha, x, p, r, q, z):
    """``x += αp``, ``r −= αq`` and the forward solve ``z = L⁻¹ r`` in one pass (row ``i`` of the
    solve needs only ``r_i`` and earlier rows); returns ``‖r‖²``."""
    acc = 0.0
    prev = 0.0
    for i in range(r.size):
        x[i] += alpha * p[i]
        ri = r[i] - alpha * q[i]
        r[i] = ri
        acc += ri * ri
        prev = _solve_row(lp, li, ld, lnear, inv_ldiag, i, ri, z, prev)
        z[i] = prev
    return acc


@numba.njit(cache=True, fastmath=CONTRACT)
def _ic0_backward_dot(tp, ti, td, tnear, inv_ldiag, r, z):
    """Backward solve ``z ← L⁻ᵀ z`` in place; returns ``rᵀz``."""
    prev = 0.0
    rz = 0.0
    for i in range(r.size - 1, -1, -1):
        prev = _solve_row(tp, ti, td, tnear, inv_ldiag, i, z[i], z, prev)
        z[i] = prev
        rz += r[i] * prev
    return rz


@numba.njit(cache=True)
def spmv_dot(indptr, indices, data, p, q):
    """``q = A p``; returns ``pᵀq``."""
    n = indptr.size - 1
    pq = 0.0
    for i in range(n):
        s = 0.0
        for k in range(np.uintp(indptr[i]), np.uintp(indptr[i + 1])):
            s += data[k] * p[indices[k]]
        q[i] = s
        pq += p[i] * s
    return pq


@numba.njit(cache=True)
def direction(p, z, beta):
    """``p = z + βp``."""
    for i in range(p.size):
        p[i] = z[i] + beta * p[i]


@numba.njit(cache=True)
def update(alpha, x, p, r, q):
    """``x += αp``, ``r −= αq``; returns ``‖r‖²``."""
    acc = 0.0
    for i in range(r.size):
        x[i] += alpha * p[i]
        ri = r[i] - alpha * q[i]
        r[i] = ri
        acc += ri * ri
    return acc


@numba.njit(cache=True)
def dot(u, v):
    """``uᵀv``."""
    s = 0.0
    for i in range(u.size):
        s += u[i] * v[i]
    return s


@numba.njit(cache=True)
def ic0_pcg_solve(indptr, indices, data, lp, li, ld, lnear, tp, ti, td, tnear, inv_ldiag, x, b,
                  r, rnorm, tol, maxiter, dtol):
    """IC(0)-preconditioned CG in place on ``x``; returns ``(iterations, ‖r‖, status)``.

    ``r`` holds ``b − A x`` and ``rnorm`` its norm (the caller computed them for its own
    already-converged test).  One iteration is a product with ``A`` (fused with ``pᵀAp``), a
    forward pass that updates ``x`` and ``r`` and solves with ``L``, a backward pass that solves
    with ``Lᵀ`` and forms ``rᵀz``, and the new direction.  Stopping uses the recursive residual;
    when it claims convergence the true residual ``b − A x`` is computed and, if the two
    disagree (residual gap), the iteration continues from the true residual.  The factor may
    come from an earlier matrix (a reused preconditioner): it only has to be SPD, while every
    product and the stopping test use the current ``A``.

    Repeated residual gaps without progress stop the solve as stagnated, and a failed solve
    returns its best iterate (see ``_kernels``); the fourth value returned is the iteration of
    the returned ``x``.
    """
    start = x.copy()
    last = start
    # one call site of the run for the solve and its replay (see _kernels_ssor.ssor_pcg_solve)
    cap = maxiter
    first = (0, 0.0, CONVERGED, 0)
    rlast = 0.0
    for attempt in range(2):
        it, rnorm, status, best_it, best = _ic0_run(indptr, indices, data, lp, li, ld, lnear,
                                                    tp, ti, td, tnear, inv_ldiag, x, b, r,
                                                    rnorm, tol, cap, dtol)
        if attempt == 1:
            rnorm, kept = pick(indptr, indices, data, x, b, last, rlast, first[3], first[0])
            rnorm, kept = settle(indptr, indices, data, x, b, start, first[2], rnorm, kept)
            return first[0], rnorm, first[2], kept
        if not replay_due(status, it, best_it, best, rnorm):
            rnorm, kept = settle(indptr, indices, data, x, b, start, status, rnorm, it)
            return it, rnorm, status, kept
        first = (it, rnorm, status, best_it)
        last = np.empty_like(x)
        rlast = stash(indptr, indices, data, x, b, start, last)
        rnorm = residual(indptr, indices, data, x, b, r)
        cap = best_it
    return first[0], rnorm, first[2], first[0]  # (not reached)


@numba.njit(cache=True)
def _ic0_run(indptr, indices, data, lp, li, ld, lnear, tp, ti, td, tnear, inv_ldiag, x, b, r,
             rnorm, tol, maxiter, dtol):
    """The iterations of :func:`ic0_pcg_solve`; returns ``(iterations, ‖r‖, status, best
    iteration, its residual norm)``."""
    n = b.size
    limit = dtol * rnorm
    z = np.empty(n)
    p = np.zeros(n)
    q = np.zeros(n)
    _ic0_forward_update(lp, li, ld, lnear, inv_ldiag, 0.0, x, p, r, q, z)  # z = L⁻¹ r
    rz = _ic0_backward_dot(tp, ti, td, tnear, inv_ldiag, r, z)
    if not rz > 0.0:
        return 0, rnorm, BREAKDOWN, 0, rnorm
    p[:] = z
    zero = np.int64(0)  # (a literal 0 would compile the steps a second time, for Literal[int])
    best, best_it = rnorm, zero
    ref, stalls, mark = np.inf, zero, zero
    it = zero
    chunk = max(1, SIGNAL_WORK // (indices.size + n))
    while True:
        # the iterations in chunks of about SIGNAL_WORK entries, a look for Ctrl-C between
        # two (a look at the end of the loop, as in _jacobi_run, ran it about 1 % slower at
        # n = 10⁴; the chunks run it as fast as before; see _kernels.SIGNAL_WORK)
        stop = maxiter if maxiter - it <= chunk else it + chunk
        status, it, rnorm, rz, best, best_it, ref, stalls, mark = _ic0_steps(
            indptr, indices, data, lp, li, ld, lnear, tp, ti, td, tnear, inv_ldiag, x, b, r, z,
            p, q, it, stop, rnorm, rz, best, best_it, ref, stalls, mark, tol, limit)
        if status != RUNNING:
            return it, rnorm, status, best_it, best
        if it >= maxiter:
            return it, rnorm, MAXITER, best_it, best
        look_for_signals()


@numba.njit(cache=True)
def _ic0_steps(indptr, indices, data, lp, li, ld, lnear, tp, ti, td, tnear, inv_ldiag, x, b, r,
               z, p, q, it, stop, rnorm, rz, best, best_it, ref, stalls, mark, tol, limit):
    """Iterations ``it + 1`` to at most ``stop`` of :func:`_ic0_run` (the loop alone, with no
    look for signals in it); returns ``(status, it, ‖r‖, rᵀz, best, best iteration, ref,
    stalls, mark)`` with status ``RUNNING`` when it reached ``stop``, and otherwise the
    best iterate's pair as :func:`_ic0_run` returns it."""
    while it < stop:
        pq = spmv_dot(indptr, indices, data, p, q)
        if not pq > 0.0:
            return BREAKDOWN, it, rnorm, rz, best, best_it, ref, stalls, mark
        alpha = rz / pq
        acc = _ic0_forward_update(lp, li, ld, lnear, inv_ldiag, alpha, x, p, r, q, z)
        it += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol or it - mark >= STAGNATION_WINDOW:
            rnorm, level = confirm(indptr, indices, data, x, b, r)
            if uncertified(rnorm, level, tol):  # below the rounding level of x: unconfirmed
                return (STAGNATED, it, residual_bound(indptr, indices, data, x, b, rnorm, level),
                        rz, best, best_it, ref, stalls, mark)
            if rnorm <= tol:
                return CONVERGED, it, rnorm, rz, rnorm, it, ref, stalls, mark
            ref, stalls = gap_check(rnorm, ref, stalls)
            mark = it
            # residual gap: redo the forward solve from the true residual (α = 0 moves nothing)
            _ic0_forward_update(lp, li, ld, lnear, inv_ldiag, 0.0, x, p, r, q, z)
        elif not rnorm <= limit:  # also NaN
            return (DIVERGED, it, diverged_norm(indptr, indices, data, x, b, rnorm), rz, best,
                    best_it, ref, stalls, mark)
        if rnorm < best:
            best, best_it = rnorm, it
        mark, stuck = stalled(rnorm, ref, stalls, it, mark)
        if stuck:
            return STAGNATED, it, rnorm, rz, best, best_it, ref, stalls, mark
        rz_new = _ic0_backward_dot(tp, ti, td, tnear, inv_ldiag, r, z)
        if not rz_new > 0.0:
            return BREAKDOWN, it, rnorm, rz, best, best_it, ref, stalls, mark
        beta = rz_new / rz
        rz = rz_new
        direction(p, z, beta)
    return RUNNING, it, rnorm, rz, best, best_it, ref, stalls, mark


# -- Jacobi --------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _jacobi_update(inv_diag, alpha, x, p, r, q, z):
    """``x += αp``, ``r −= αq``, ``z = D⁻¹ r``; returns ``(‖r‖², rᵀz)``."""
    acc = 0.0
    rz = 0.0
    for i in range(r.size):
        x[i] += alpha * p[i]
        ri = r[i] - alpha * q[i]
        r[i] = ri
        acc += ri * ri
        zi = inv_diag[i] * ri
        z[i] = zi
        rz += ri * zi
    return acc, rz


@numba.njit(cache=True)
def jacobi_pcg_solve(indptr, indices, data, inv_diag, x, b, r, rnorm, tol, maxiter, dtol):
    """Jacobi-preconditioned CG (``M = D``) in place on ``x``; returns
    ``(iterations, ‖r‖, status)``.

    ``r``/``rnorm`` as in :func:`ic0_pcg_solve`, and the same residual-gap guard.
    ``inv_diag`` may be the inverse diagonal of an earlier matrix (a reused preconditioner).
    Stagnation and the best iterate of a failed solve as in :func:`ic0_pcg_solve`.
    """
    start = x.copy()
    last = start
    # one call site of the run for the solve and its replay (see _kernels_ssor.ssor_pcg_solve)
    cap = maxiter
    first = (0, 0.0, CONVERGED, 0)
    rlast = 0.0
    for attempt in range(2):
        it, rnorm, status, best_it, best = _jacobi_run(indptr, indices, data, inv_diag, x, b,
                                                       r, rnorm, tol, cap, dtol)
        if attempt == 1:
            rnorm, kept = pick(indptr, indices, data, x, b, last, rlast, first[3], first[0])
            rnorm, kept = settle(indptr, indices, data, x, b, start, first[2], rnorm, kept)
            return first[0], rnorm, first[2], kept
        if not replay_due(status, it, best_it, best, rnorm):
            rnorm, kept = settle(indptr, indices, data, x, b, start, status, rnorm, it)
            return it, rnorm, status, kept
        first = (it, rnorm, status, best_it)
        last = np.empty_like(x)
        rlast = stash(indptr, indices, data, x, b, start, last)
        rnorm = residual(indptr, indices, data, x, b, r)
        cap = best_it
    return first[0], rnorm, first[2], first[0]  # (not reached)


@numba.njit(cache=True)
def _jacobi_run(indptr, indices, data, inv_diag, x, b, r, rnorm, tol, maxiter, dtol):
    """The iterations of :func:`jacobi_pcg_solve` (as :func:`_ic0_run`)."""
    n = b.size
    limit = dtol * rnorm
    z = np.empty(n)
    p = np.zeros(n)
    q = np.zeros(n)
    _, rz = _jacobi_update(inv_diag, 0.0, x, p, r, q, z)
    if not rz > 0.0:
        return 0, rnorm, BREAKDOWN, 0, rnorm
    p[:] = z
    best, best_it = rnorm, 0
    ref, stalls, mark = np.inf, 0, 0
    it = 0
    polled, step = 0, indices.size + n
    while it < maxiter:
        pq = spmv_dot(indptr, indices, data, p, q)
        if not pq > 0.0:
            return it, rnorm, BREAKDOWN, best_it, best
        alpha = rz / pq
        acc, rz_new = _jacobi_update(inv_diag, alpha, x, p, r, q, z)
        it += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol or it - mark >= STAGNATION_WINDOW:
            rnorm, level = confirm(indptr, indices, data, x, b, r)
            if uncertified(rnorm, level, tol):  # below the rounding level of x: unconfirmed
                return (it, residual_bound(indptr, indices, data, x, b, rnorm, level),
                        STAGNATED, best_it, best)
            if rnorm <= tol:
                return it, rnorm, CONVERGED, it, rnorm
            ref, stalls = gap_check(rnorm, ref, stalls)
            mark = it
            _, rz_new = _jacobi_update(inv_diag, 0.0, x, p, r, q, z)
        elif not rnorm <= limit:
            return (it, diverged_norm(indptr, indices, data, x, b, rnorm), DIVERGED, best_it,
                    best)
        if rnorm < best:
            best, best_it = rnorm, it
        mark, stuck = stalled(rnorm, ref, stalls, it, mark)
        if stuck:
            return it, rnorm, STAGNATED, best_it, best
        if not rz_new > 0.0:
            return it, rnorm, BREAKDOWN, best_it, best
        beta = rz_new / rz
        rz = rz_new
        direction(p, z, beta)
        # a look for Ctrl-C every SIGNAL_WORK entries, at the end of the loop: at its start
        # (as in SOR and CG) it ran this loop 3-6 % slower (see _kernels.SIGNAL_WORK)
        polled += step
        if polled >= SIGNAL_WORK:
            polled = 0
            look_for_signals()
    return it, rnorm, MAXITER, best_it, best


@numba.njit(cache=True)
def jacobi_apply(inv_diag, r, z):
    """``z = D⁻¹ r``."""
    for i in range(r.size):
        z[i] = inv_diag[i] * r[i]


# -- SSOR applied on its own (the solver itself uses the Eisenstat form in _kernels_ssor) ------

@numba.njit(cache=True, fastmath=CONTRACT)
def ssor_apply(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, omega, paper, r, z):
    """``z = M⁻¹ r`` for SSOR(ω) on the split triangles of ``A``.

    Paper order (``paper=True``): backward solve with ``D + ωU``, scale by ``D``, forward solve
    with ``D + ωL``, times ``ω(2 − ω)``; otherwise the forward solve comes first.
    """
    n = r.size
    c = omega * (2.0 - omega)
    if paper:
        _ssor_backward(up, ui, ud, unear, inv_diag, omega, r, z)
        for i in range(n):
            z[i] *= diag[i]
        _ssor_forward(lp, li, ld, lnear, inv_diag, omega, z, z)
    else:
        _ssor_forward(lp, li, ld, lnear, inv_diag, omega, r, z)
        for i in range(n):
            z[i] *= diag[i]
        _ssor_backward(up, ui, ud, unear, inv_diag, omega, z, z)
    for i in range(n):
        z[i] *= c


@numba.njit(cache=True, fastmath=CONTRACT)
def _ssor_forward(lp, li, ld, lnear, inv_diag, omega, rhs, v):
    """``v = (D + ωL)⁻¹ rhs`` (``rhs`` may be ``v``)."""
    prev = 0.0
    for i in range(rhs.size):
        s = rhs[i]
        for k in range(np.uintp(lp[i]), np.uintp(lp[i + 1])):
            s -= omega * ld[k] * v[li[k]]
        prev = (s - omega * lnear[i] * prev) * inv_diag[i]
        v[i] = prev


@numba.njit(cache=True, fastmath=CONTRACT)
def _ssor_backward(up, ui, ud, unear, inv_diag, omega, rhs, v):
    """``v = (D + ωU)⁻¹ rhs`` (``rhs`` may be ``v``)."""
    prev = 0.0
    for i in range(rhs.size - 1, -1, -1):
        s = rhs[i]
        for k in range(np.uintp(up[i]), np.uintp(up[i + 1])):
            s -= omega * ud[k] * v[ui[k]]
        prev = (s - omega * unear[i] * prev) * inv_diag[i]
        v[i] = prev


@numba.njit(cache=True, fastmath=CONTRACT)
def _ssor_plain_apply(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, omega, r, z):
    """``z = (D + ωL)⁻¹ D (D + ωU)⁻¹ r`` (the paper order's ``M⁻¹ r`` without its constant
    factor ω(2 − ω), which CG does not see); returns ``rᵀz``."""
    _ssor_backward(up, ui, ud, unear, inv_diag, omega, r, z)
    for i in range(r.size):
        z[i] *= diag[i]
    _ssor_forward(lp, li, ld, lnear, inv_diag, omega, z, z)
    return dot(r, z)


@numba.njit(cache=True)
def ssor_pcg_plain_solve(indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag,
                         inv_diag, omega, x, b, tol, maxiter, dtol, work):
    """Paper-order SSOR-PCG in place on ``x`` with the preconditioner applied as two
    triangular solves and a separate product with ``A``; returns ``(iterations, ‖b − A x‖,
    status)``.

    The same iterates as ``_kernels_ssor.ssor_pcg_solve`` in exact arithmetic, at about twice
    its cost per iteration, but accurate for every ω: the Eisenstat form's product
    ``B p = (t + u)/ω`` is a difference of terms ``1/ω`` times larger than itself, so it loses
    about ``log10(1/ω)`` digits, and for small ω CG on it stalls (ω = 10⁻¹⁰ never converges
    on the model Laplacian, where this form takes Jacobi-PCG's count).  Dropping the factor
    ω(2 − ω) (it scales ``z``, ``p`` and ``α`` but no iterate) keeps ω = 10⁻³⁰⁰ from
    underflowing.  The stopping rule and residual-gap guard are those of
    :func:`jacobi_pcg_solve`, and so are stagnation and the best iterate of a failed solve;
    ``work`` holds at least ten rows of ``n`` (rows 8 and 9: the start and the last iterate,
    as in ``_kernels_ssor``).
    """
    # one call site of the run for the solve and its replay (see _kernels_ssor.ssor_pcg_solve)
    cap = maxiter
    first = (0, 0.0, CONVERGED, 0)
    rlast = 0.0
    for attempt in range(2):
        it, rnorm, status, best_it, best = _ssor_plain_run(
            indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, omega,
            x, b, tol, cap, dtol, work)
        if attempt == 1:
            rnorm, kept = pick(indptr, indices, data, x, b, work[9], rlast, first[3], first[0])
            rnorm, kept = settle(indptr, indices, data, x, b, work[8], first[2], rnorm, kept)
            return first[0], rnorm, first[2], kept
        if not replay_due(status, it, best_it, best, rnorm):
            rnorm, kept = settle(indptr, indices, data, x, b, work[8], status, rnorm, it)
            return it, rnorm, status, kept
        first = (it, rnorm, status, best_it)
        rlast = stash(indptr, indices, data, x, b, work[8], work[9])
        cap = best_it
    return first[0], rnorm, first[2], first[0]  # (not reached)


@numba.njit(cache=True)
def _ssor_plain_run(indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag,
                    omega, x, b, tol, maxiter, dtol, work):
    """The iterations of :func:`ssor_pcg_plain_solve` (as :func:`_ic0_run`); saves the start
    in ``work[8]``."""
    r = work[0]
    z = work[1]
    p = work[2]
    q = work[3]
    rnorm = residual_keep(indptr, indices, data, x, b, r, work[8])
    if rnorm <= tol:
        return 0, rnorm, CONVERGED, 0, rnorm
    limit = dtol * rnorm
    rz = _ssor_plain_apply(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, omega, r, z)
    if not rz > 0.0:
        return 0, rnorm, BREAKDOWN, 0, rnorm
    p[:] = z
    best, best_it = rnorm, 0
    ref, stalls, mark = np.inf, 0, 0
    it = 0
    polled, step = 0, indices.size + b.size
    while it < maxiter:
        polled += step  # a look for Ctrl-C every SIGNAL_WORK entries
        if polled >= SIGNAL_WORK:
            polled = 0
            look_for_signals()
        pq = spmv_dot(indptr, indices, data, p, q)
        if not pq > 0.0:
            return it, rnorm, BREAKDOWN, best_it, best
        alpha = rz / pq
        rnorm = np.sqrt(update(alpha, x, p, r, q))
        it += 1
        if rnorm <= tol or it - mark >= STAGNATION_WINDOW:
            rnorm, level = confirm(indptr, indices, data, x, b, r)
            if uncertified(rnorm, level, tol):  # below the rounding level of x: unconfirmed
                return (it, residual_bound(indptr, indices, data, x, b, rnorm, level),
                        STAGNATED, best_it, best)
            if rnorm <= tol:
                return it, rnorm, CONVERGED, it, rnorm
            # residual gap: r now holds the true residual, from which the iteration continues
            ref, stalls = gap_check(rnorm, ref, stalls)
            mark = it
        elif not rnorm <= limit:  # also NaN
            return (it, diverged_norm(indptr, indices, data, x, b, rnorm), DIVERGED, best_it,
                    best)
        if rnorm < best:
            best, best_it = rnorm, it
        mark, stuck = stalled(rnorm, ref, stalls, it, mark)
        if stuck:
            return it, rnorm, STAGNATED, best_it, best
        rz_new = _ssor_plain_apply(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, omega,
                                   r, z)
        if not rz_new > 0.0:
            return it, rnorm, BREAKDOWN, best_it, best
        beta = rz_new / rz
        rz = rz_new
        direction(p, z, beta)
    return it, rnorm, MAXITER, best_it, best
