"""The SOR kernels (Numba): forward sweeps over the split triangles, the cheap residual
bounds of a sweep, and the solve that stops on them.

Plain functions over raw CSR arrays with unsigned indices, as everything in
``solvers._kernels``, which holds the status codes, the stagnation constants, the residual
and norm helpers they share with the CG kernels, and the notes on the replay of a failed
solve and on stagnation that every solver follows.  Re-exported there.
"""
import numba
import numpy as np

from ._kernels import (CONVERGED, DIVERGED, FLOOR_FACTOR, MAXITER, PROGRESS, STAGNATED, U1,
                       SIGNAL_WORK, look_for_signals, pick, replay_due, residual_norm,
                       residual_norm_keep, rounding_scale, stash, settle)


#: Rows of scratch space :func:`sor_solve` takes (``work``): the start and the last iterate
#: (a failed solve's replay to its best sweep).
SOR_WORK_VECTORS = 2


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
            rnorm, kept = settle(indptr, indices, data, x, b, work[0], first[2], rnorm, kept)
            return first[0], rnorm, first[2], kept
        if not replay_due(status, it, best_it, best, rnorm):
            rnorm, kept = settle(indptr, indices, data, x, b, work[0], status, rnorm, it)
            return it, rnorm, status, kept
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
    polled, step = 0, indices.size + b.size
    while it < maxiter:
        polled += step  # a look for Ctrl-C every SIGNAL_WORK entries
        if polled >= SIGNAL_WORK:
            polled = 0
            look_for_signals()
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
            # slow solve (checked again a window later).  The level is the current
            # iterate's, so the current residual must lie on it too: a slowly diverging run
            # (SOR on an indefinite matrix) had grown its iterate until its rounding level
            # passed the best residual of its first sweeps, and stopped as "stagnated" at a
            # relative residual of 0.006 after its residual had grown a trillionfold
            if not known:
                rnorm = residual_norm(indptr, indices, data, x, b)
                known = True
            floor = FLOOR_FACTOR * UNIT_ROUNDOFF * rounding_scale(indptr, indices, data, x, b)
            if best <= floor < np.inf and rnorm <= floor:
                status = STAGNATED
                break
            mark = it
    if not known:  # the last sweep was a bound sweep: report the exact residual
        rnorm = residual_norm(indptr, indices, data, x, b)
    return it, rnorm, status, best_it, best
