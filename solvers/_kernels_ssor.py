"""SSOR-preconditioned CG with the Eisenstat trick (Numba, CSR arrays).

The paper's preconditioner is ``M = W G⁻¹ Wᵀ`` with ``W = D + ωU`` (upper triangular) and
``G = ω(2 − ω) D``.  PCG on ``A`` with ``M`` produces the same iterates as PCG on the transformed
matrix ``B = W⁻¹ A W⁻ᵀ`` with the diagonal preconditioner ``G`` (``x = W⁻ᵀ x_B``,
``r = W r_B``; ``x`` itself is kept, moving by ``α t`` with ``t = W⁻ᵀ p``).  Since ``W + Wᵀ = 2D + ω(L + U)``,

    A = (W + Wᵀ − (2 − ω) D) / ω,   so   B v = (t + W⁻¹ (v − (2 − ω) D t)) / ω,  t = W⁻ᵀ v,

one product with ``B`` costs one forward and one backward triangular solve — one pass over the
matrix instead of a matrix–vector product plus two triangular solves.

One iteration is two passes, one forward over the lower triangle and one backward over the
upper.  ``t = W⁻ᵀ p`` is linear in ``p = G r_B + β p``, so ``t = g + β t`` with ``g = W⁻ᵀ G r_B``:
the forward pass (:func:`_pass_update`) updates ``x`` and ``r_B`` and solves for ``g``
without knowing β yet; the backward pass (:func:`_pass_product`) forms ``p``, ``t``, the
backward solve and ``q = B p``.  The stopping test uses the true residual
``‖r‖ = ‖W r_B‖``, an upper-triangular product that shares the backward pass's index loop, so
the test of iterate ``k`` is read off the product pass of iteration ``k + 1`` (on convergence
that half-pass is wasted; ``p`` and ``t`` are double-buffered so a residual-gap restart can
redo it).  One iteration streams the matrix once (a form with a separate update pass would
stream it 1.5 times).  A solve starts with one backward pass that forms ``r = b − A x`` row by row
and solves for ``r_B`` (:func:`_pass_start`), and ends with the true residual of ``x``: at a few
hundred unknowns, where a heat step takes five iterations, these fixed passes are a large part
of the solve.  The textbook order
``M = (D + ωL) D⁻¹ (D + ωU) / (ω(2 − ω))`` is the paper order of the row-reversed system, which
the wrapper passes in (``CSROperator.reversed``).

Triangular solves are latency-bound (row i waits for the row just solved), so each row sums
every other term first and lets the just-computed neighbour in last, through one FMA, from a
register, with its coefficient formed off that chain.  Numba emits an FMA only where fastmath
allows contraction, so the passes are compiled with ``fastmath={"contract"}`` and nothing else
(no reassociation; NaN and inf keep their meaning for the breakdown and divergence tests): the
chain drops from a multiply plus a subtract to one FMA per row.  The first off-diagonal term of
each row is peeled out of its loop: rows of stencil matrices hold one or two such terms, and
the set-up of the compiled (unrolled) loop cost more than the term.  Index arrays are unsigned
(see ``_kernels``).
"""
import numba
import numpy as np

from ._kernels import (BREAKDOWN, CONVERGED, DIVERGED, MAXITER, STAGNATED, STAGNATION_WINDOW,
                       confirm, residual_bound, uncertified,
                       STALL_CHECKS, diverged_norm, gap_check, pick, replay_due, residual,
                       stalled, stash, SIGNAL_WORK, look_for_signals, settle)

U1 = np.uintp(1)
#: Rows of scratch space :func:`ssor_pcg_solve` takes (``work``): eight for the iteration, the
#: start and the last iterate (a failed solve's replay, see ``_kernels``).
WORK_VECTORS = 10
#: The smallest ω for which the solvers use this form.  Its product ``B p = (t + u)/ω`` is a
#: difference of terms about ``(2 − ω)/ω`` times larger than the result, so it loses that
#: factor in accuracy against a plain product with ``A`` (nothing for ω ≥ 1, half a digit at
#: ω = 1/2).  Below, the extra rounding starts to cost iterations on ill-conditioned matrices
#: and for small ω CG stalls on it (ω = 10⁻⁸ never converges on the 2-D model Laplacian), so
#: ``solvers.ssor_pcg`` runs ``_kernels_pcg.ssor_pcg_plain_solve`` instead (same iterates in
#: exact arithmetic, about twice the cost per iteration).
EISENSTAT_MIN_OMEGA = 0.5
# FMA contraction only (see the module docstring)
CONTRACT = {"contract"}


@numba.njit(cache=True, inline="always", fastmath=CONTRACT)
def _lower_solve(lp, li, ld, lnear, inv_diag, omega, i, rhs, v, prev):
    """``(rhs − ω Σ_{j<i} a_ij v_j) / a_ii``: far lower entries from CSR, ``a_{i,i−1}`` from
    ``lnear``; ``prev`` = ``v_{i−1}``."""
    st = np.uintp(lp[i])
    en = np.uintp(lp[i + 1])
    inv = inv_diag[i]
    s = 0.0
    if en > st:  # first term peeled: most rows have one or two, and the loop's set-up costs more
        s = ld[st] * v[li[st]]
        for k in range(st + U1, en):
            s += ld[k] * v[li[k]]
    return (inv * rhs - (omega * inv) * s) - (omega * inv * lnear[i]) * prev


@numba.njit(cache=True, inline="always", fastmath=CONTRACT)
def _upper_solve(up, ui, ud, unear, inv_diag, omega, i, rhs, v, prev):
    """``(rhs − ω Σ_{j>i} a_ij v_j) / a_ii``: far upper entries from CSR, ``a_{i,i+1}`` from
    ``unear``; ``prev`` = ``v_{i+1}``."""
    st = np.uintp(up[i])
    en = np.uintp(up[i + 1])
    inv = inv_diag[i]
    s = 0.0
    if en > st:
        s = ud[st] * v[ui[st]]
        for k in range(st + U1, en):
            s += ud[k] * v[ui[k]]
    return (inv * rhs - (omega * inv) * s) - (omega * inv * unear[i]) * prev


@numba.njit(cache=True, fastmath=CONTRACT)
def _backward_solve(up, ui, ud, unear, inv_diag, omega, rhs, v):
    """``v = W⁻¹ rhs`` with ``W = D + ωU``."""
    prev = 0.0
    for i in range(up.size - 2, -1, -1):
        prev = _upper_solve(up, ui, ud, unear, inv_diag, omega, i, rhs[i], v, prev)
        v[i] = prev


@numba.njit(cache=True, fastmath=CONTRACT)
def _pass_start(indptr, indices, data, up, ui, ud, unear, inv_diag, omega, x, b, rb, xs):
    """``r = b − A x`` and ``r_B = W⁻¹ r`` in one backward pass (``r`` is not stored), and
    ``xs = x`` (the start a failed solve replays from); returns ``‖r‖``.  Row ``i``'s residual
    needs only ``x``, so it is formed just before the row's solve: one pass over the matrix
    instead of a product followed by a solve."""
    acc = 0.0
    prev = 0.0
    for i in range(b.size - 1, -1, -1):
        xs[i] = x[i]
        s = b[i]
        for k in range(np.uintp(indptr[i]), np.uintp(indptr[i + 1])):
            s -= data[k] * x[indices[k]]
        acc += s * s
        prev = _upper_solve(up, ui, ud, unear, inv_diag, omega, i, s, rb, prev)
        rb[i] = prev
    return np.sqrt(acc)


@numba.njit(cache=True, fastmath=CONTRACT)
def _pass_product(up, ui, ud, unear, diag, inv_diag, omega, c, beta, rb, p, t, p_new, t_new, g,
                  q):
    """The new direction and its product with ``B`` (backward); returns ``(p_newᵀq, ‖W r_B‖²)``.

    ``p_new = G r_B + β p`` and ``t_new = g + β t`` (``= W⁻ᵀ p_new`` given ``g = W⁻ᵀ G r_B`` and
    ``t = W⁻ᵀ p``); ``q = B p_new = (t_new + u) / ω`` with ``u = W⁻¹(p_new − (2 − ω) D t_new)``
    written over ``g``.  ``(W r_B)_i = a_ii r_i + ω Σ_{j>i} a_ij r_j`` shares the index loop of
    the solve for ``u``; ``r_{i+1}`` comes from a register like ``u_{i+1}``.
    """
    shift = 2.0 - omega
    inv_omega = 1.0 / omega
    prev = 0.0  # u_{i+1}
    rnext = 0.0  # (r_B)_{i+1}
    pq = 0.0
    acc = 0.0
    for i in range(rb.size - 1, -1, -1):
        di = diag[i]
        ri = rb[i]
        pi = c * di * ri + beta * p[i]
        p_new[i] = pi
        ti = g[i] + beta * t[i]
        t_new[i] = ti
        rhs = pi - shift * di * ti
        st = np.uintp(up[i])
        en = np.uintp(up[i + 1])
        inv = inv_diag[i]
        near = unear[i]
        s = 0.0
        sr = near * rnext
        if en > st:
            a = ud[st]
            j = ui[st]
            s = a * g[j]
            sr += a * rb[j]
            for k in range(st + U1, en):
                a = ud[k]
                j = ui[k]
                s += a * g[j]
                sr += a * rb[j]
        prev = (inv * rhs - (omega * inv) * s) - (omega * inv * near) * prev
        g[i] = prev
        qi = (ti + prev) * inv_omega  # a division per row bounded the pass's throughput
        q[i] = qi
        pq += pi * qi
        wr = di * ri + omega * sr
        acc += wr * wr
        rnext = ri
    return pq, acc


@numba.njit(cache=True, fastmath=CONTRACT)
def _pass_update(lp, li, ld, lnear, diag, inv_diag, omega, c, alpha, x, t, rb, q, g):
    """``x += αt`` (``t = W⁻ᵀ p``), ``r_B −= αq`` and ``g = W⁻ᵀ G r_B`` (forward); returns
    ``r_Bᵀ G r_B``."""
    rz = 0.0
    prev = 0.0
    for i in range(rb.size):
        x[i] += alpha * t[i]
        ri = rb[i] - alpha * q[i]
        rb[i] = ri
        zi = c * diag[i] * ri
        rz += zi * ri
        prev = _lower_solve(lp, li, ld, lnear, inv_diag, omega, i, zi, g, prev)
        g[i] = prev
    return rz


@numba.njit(cache=True, fastmath=CONTRACT)
def ssor_pcg_solve(indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag,
                   omega, x, b, tol, maxiter, dtol, work):
    """Paper-order SSOR-PCG in place on ``x``; returns ``(iterations, ‖b − A x‖, status)``.

    Same iterates and iteration counts as textbook PCG with ``M⁻¹ = ω(2 − ω)(D + ωL)⁻¹ D
    (D + ωU)⁻¹`` (see the module docstring).  When the recursive residual claims convergence,
    the true residual of ``x`` is checked; if the two disagree (residual gap) the iteration
    continues from the true residual rather than return an ``x`` that misses ``tol``.  On
    convergence the returned norm is that true residual's.

    ``(lp, li, ld, lnear)`` and ``(up, ui, ud, unear)`` are the strictly lower and strictly upper
    triangles as separate arrays (``CSROperator.split_triangles``): the triangular passes then
    stream only their half of the matrix (reading half-rows out of the full CSR pulls in most of
    each row's cache lines anyway), and the first off-diagonal, the coefficient on the solve's
    latency chain, comes from a dense array instead of a test on the row's first column.

    ``work`` is scratch space of at least ``WORK_VECTORS`` rows of ``n`` (its contents are
    overwritten): the caller keeps it between solves, because eight fresh vectors per call,
    first touched page by page, cost about as much as five iterations at n = 10⁶.

    Repeated residual gaps without progress stop the solve as stagnated, and a failed solve
    returns its best iterate (see ``_kernels``); the fourth value returned is the iteration of
    the returned ``x``.
    """
    # one call site of the run for the solve and its replay: with two, the compiled solve
    # was 3-6 % slower per iteration (the compiler's inlining of the run changed)
    cap = maxiter
    first = (0, 0.0, CONVERGED, 0)
    rlast = 0.0
    for attempt in range(2):
        it, rnorm, status, best_it, best = _ssor_run(
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


@numba.njit(cache=True, fastmath=CONTRACT)
def _ssor_run(indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag,
              omega, x, b, tol, maxiter, dtol, work):
    """The iterations of :func:`ssor_pcg_solve`; returns ``(iterations, ‖r‖, status, best
    iteration, its residual norm)`` and saves the start in ``work[8]``."""
    c = omega * (2.0 - omega)
    rb = work[0]  # r_B = W⁻¹ r
    rnorm = _pass_start(indptr, indices, data, up, ui, ud, unear, inv_diag, omega, x, b, rb,
                        work[8])
    if rnorm <= tol:
        return 0, rnorm, CONVERGED, 0, rnorm
    limit = dtol * rnorm
    best, best_it = rnorm, 0
    ref, stalls, mark = np.inf, 0, 0
    r = work[1]  # scratch for the true residual
    p = work[2]
    t = work[3]  # W⁻ᵀ p, so that x moves by α t (no x_B = Wᵀ x to keep)
    p_new = work[4]
    t_new = work[5]
    g = work[6]  # W⁻ᵀ G r_B, then scratch for u
    q = work[7]  # finite before the first product: the start pass moves by α = 0
    p[:] = 0.0
    t[:] = 0.0
    q[:] = 0.0
    # g = W⁻ᵀ G r_B and r_Bᵀ G r_B: the update pass with α = 0 (x and r_B stay as they are)
    rz = _pass_update(lp, li, ld, lnear, diag, inv_diag, omega, c, 0.0, x, t, rb, q, g)
    rz_old = rz
    beta = 0.0
    status = MAXITER
    it = 0
    test = False  # the next product pass measures the residual of iterate `it`
    polled, step = 0, indices.size + b.size
    while True:
        polled += step  # a look for Ctrl-C every SIGNAL_WORK entries
        if polled >= SIGNAL_WORK:
            polled = 0
            look_for_signals()
        # each pass is its own compiled function: inlined into this loop, the same code ran
        # slower per row, presumably from worse register use in one big body
        pq, acc = _pass_product(up, ui, ud, unear, diag, inv_diag, omega, c, beta, rb, p, t,
                                p_new, t_new, g, q)
        if test:
            rnorm = np.sqrt(acc)
            if rnorm <= tol or it - mark >= STAGNATION_WINDOW:
                rnorm, level = confirm(indptr, indices, data, x, b, r)
                if uncertified(rnorm, level, tol):  # below the rounding level of x
                    return (it, residual_bound(indptr, indices, data, x, b, rnorm, level),
                            STAGNATED, best_it, best)
                if rnorm <= tol:
                    return it, rnorm, CONVERGED, it, rnorm
                if rnorm < best:
                    best, best_it = rnorm, it
                ref, stalls = gap_check(rnorm, ref, stalls)
                if stalls >= STALL_CHECKS:
                    status = STAGNATED
                    break
                mark = it
                # residual gap: continue from the true residual; p and t still hold the old
                # direction (the product pass wrote p_new, t_new), so redo that pass
                _backward_solve(up, ui, ud, unear, inv_diag, omega, r, rb)
                rz = _pass_update(lp, li, ld, lnear, diag, inv_diag, omega, c, 0.0, x, t, rb,
                                  q, g)
                if not rz > 0.0:
                    status = BREAKDOWN
                    break
                beta = rz / rz_old
                test = False
                continue
            elif not rnorm <= limit:
                rnorm = diverged_norm(indptr, indices, data, x, b, rnorm)
                status = DIVERGED
                break
            if rnorm < best:
                best, best_it = rnorm, it
            mark, stuck = stalled(rnorm, ref, stalls, it, mark)
            if stuck:
                status = STAGNATED
                break
            if not rz > 0.0:
                status = BREAKDOWN
                break
        if it >= maxiter:
            break
        if not pq > 0.0:
            status = BREAKDOWN
            break
        p, p_new = p_new, p
        t, t_new = t_new, t
        alpha = rz / pq
        rz_new = _pass_update(lp, li, ld, lnear, diag, inv_diag, omega, c, alpha, x, t, rb, q,
                              g)
        it += 1
        beta = rz_new / rz
        rz_old = rz
        rz = rz_new
        test = True
    return it, rnorm, status, best_it, best
