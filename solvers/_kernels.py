"""Numba kernels over raw CSR arrays.

Every function here takes ``(indptr, indices, data, ...)`` plus vectors and scalars and knows
nothing about matrix objects, validation or option names (see ``solvers/_api.py`` for that).
Column indices must be sorted within each row and every row must hold its diagonal entry at
``diag_ptr[i]`` (``CSROperator`` guarantees both).

Status codes returned by the solvers (mapped to ``SolveResult.reason`` by the wrappers):
0 converged, 1 maxiter, 2 breakdown (pᵀAp <= 0 or rᵀz <= 0), 3 diverged.
"""
import numba
import numpy as np

CONVERGED, MAXITER, BREAKDOWN, DIVERGED = 0, 1, 2, 3
# An unstable iteration (e.g. SOR with a bad ω on a non-SPD matrix) is stopped once the residual
# has grown this much, well before x overflows, so the returned iterate stays finite.
DIVERGENCE_FACTOR = 1e12


@numba.njit(cache=True)
def spmv(indptr, indices, data, x, y):
    """``y = A x``."""
    n = indptr.size - 1
    for i in range(n):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * x[indices[k]]
        y[i] = s


@numba.njit(cache=True)
def residual(indptr, indices, data, x, b, r):
    """``r = b - A x``; returns ``‖r‖``."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        s = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            s -= data[k] * x[indices[k]]
        r[i] = s
        acc += s * s
    return np.sqrt(acc)


@numba.njit(cache=True)
def residual_norm(indptr, indices, data, x, b):
    """``‖b - A x‖`` without storing the residual."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        s = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            s -= data[k] * x[indices[k]]
        acc += s * s
    return np.sqrt(acc)


@numba.njit(cache=True)
def sor_solve(indptr, indices, data, diag_ptr, ring, x, b, omega, tol, r0, maxiter):
    """Forward SOR sweeps until ``‖b - A x‖ <= tol``; updates ``x`` in place.

    The exact residual of the new iterate is assembled *inside* the sweep, so the stopping test
    costs no separate matrix–vector product.  During the sweep row ``i`` sees new values left of
    the diagonal and old values right of it, so with ``σ_i = b_i - Σ_{j≠i} a_ij x_j`` (as seen
    in the sweep) and ``δ_j = x_j^new - x_j^old`` the residual of the new iterate is
    ``r_i = σ_i - a_ii x_i^new - Σ_{j>i} a_ij δ_j``.  That last sum is final once the sweep has
    passed the row's last column, so rows are finished with a lag of at most the bandwidth;
    ``ring`` (a power-of-two length larger than the bandwidth) holds the lagged ``δ``, which
    keeps it in cache.

    Returns ``(iterations, residual_norm, status)``.
    """
    n = indptr.size - 1
    mask = ring.size - 1
    theta = (1.0 - omega) / omega
    rnorm = r0
    limit = DIVERGENCE_FACTOR * r0
    it = 0
    while it < maxiter:
        it += 1
        acc = 0.0
        p = 0  # next row whose residual is not yet final
        for i in range(n):
            d = diag_ptr[i]
            aii = data[d]
            # A sweep is latency-bound: row i waits for x[i-1] from row i-1.  Summing the old
            # (upper) values first and the just-updated lower ones last, nearest last, and
            # multiplying by ω/a_ii computed off that chain keeps the wait to about two FMAs.
            s = b[i]
            for k in range(d + 1, indptr[i + 1]):
                s -= data[k] * x[indices[k]]
            for k in range(indptr[i], d):
                s -= data[k] * x[indices[k]]
            xo = x[i]
            xn = (1.0 - omega) * xo + (omega / aii) * s
            x[i] = xn
            ring[i & mask] = xn - xo
            # finish every row whose columns are all updated now; its σ_p − a_pp x_p^new
            # equals ((1 − ω)/ω) a_pp δ_p, so only δ needs keeping
            while p <= i and indices[indptr[p + 1] - 1] <= i:
                dp = diag_ptr[p]
                r = theta * data[dp] * ring[p & mask]
                for k in range(dp + 1, indptr[p + 1]):
                    r -= data[k] * ring[indices[k] & mask]
                acc += r * r
                p += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol:
            return it, rnorm, CONVERGED
        if not rnorm <= limit:  # also catches NaN
            return it, rnorm, DIVERGED
    return it, rnorm, MAXITER


@numba.njit(cache=True)
def ssor_apply(indptr, indices, data, diag_ptr, omega, paper_order, r, z):
    """``z = M⁻¹ r`` for the SSOR preconditioner; returns ``rᵀz``.

    ``paper_order=True``: ``M = (D + ωU) D⁻¹ (D + ωL) / (ω(2 − ω))`` — backward solve with
    ``D + ωU``, scale by ``D``, forward solve with ``D + ωL`` (the paper's code and the default).
    ``paper_order=False``: the textbook ``M = (D + ωL) D⁻¹ (D + ωU) / (ω(2 − ω))``.
    The two solves share ``z`` in place: the second pass reads the first pass's value of row
    ``i`` before overwriting it, and only already-final values of the other rows.
    """
    n = indptr.size - 1
    c = omega * (2.0 - omega)
    # Triangular solves are latency-bound (row i waits for the row just solved): sums run so
    # the nearest, most recent value comes last, and 1/a_ii is formed off that chain.
    if paper_order:
        for i in range(n - 1, -1, -1):
            d = diag_ptr[i]
            inv = 1.0 / data[d]
            s = 0.0
            for k in range(indptr[i + 1] - 1, d, -1):
                s += data[k] * z[indices[k]]
            z[i] = inv * r[i] - (omega * inv) * s
        rz = 0.0
        for i in range(n):
            d = diag_ptr[i]
            winv = omega / data[d]
            s = 0.0
            for k in range(indptr[i], d):
                s += data[k] * z[indices[k]]
            # z_j (j < i) are already scaled by c = ω(2 − ω), z_i is not yet
            zi = c * z[i] - winv * s
            z[i] = zi
            rz += r[i] * zi
    else:
        for i in range(n):
            d = diag_ptr[i]
            inv = 1.0 / data[d]
            s = 0.0
            for k in range(indptr[i], d):
                s += data[k] * z[indices[k]]
            z[i] = inv * r[i] - (omega * inv) * s
        rz = 0.0
        for i in range(n - 1, -1, -1):
            d = diag_ptr[i]
            winv = omega / data[d]
            s = 0.0
            for k in range(indptr[i + 1] - 1, d, -1):
                s += data[k] * z[indices[k]]
            zi = c * z[i] - winv * s
            z[i] = zi
            rz += r[i] * zi
    return rz


@numba.njit(cache=True)
def _pcg(indptr, indices, data, diag_ptr, omega, paper_order, precondition,
         x, b, tol, maxiter):
    """Shared (P)CG loop; ``precondition=False`` gives plain CG (``z = r``).

    Stopping uses the unpreconditioned recursive residual; when it claims convergence the true
    residual ``b - A x`` is computed and, if the two disagree (residual gap), the recursion
    restarts from the true residual instead of returning an x that misses the tolerance.
    Returns ``(iterations, residual_norm, status)``.
    """
    n = b.size
    r = np.empty(n)
    z = np.empty(n)
    q = np.empty(n)
    rnorm = residual(indptr, indices, data, x, b, r)
    if rnorm <= tol:
        return 0, rnorm, CONVERGED
    limit = DIVERGENCE_FACTOR * rnorm
    if precondition:
        rz = ssor_apply(indptr, indices, data, diag_ptr, omega, paper_order, r, z)
    else:
        rz = 0.0
        for i in range(n):
            z[i] = r[i]
            rz += r[i] * r[i]
    if not rz > 0.0:
        return 0, rnorm, BREAKDOWN
    p = z.copy()
    it = 0
    while it < maxiter:
        # q = A p and pᵀq in one pass
        pq = 0.0
        for i in range(n):
            s = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                s += data[k] * p[indices[k]]
            q[i] = s
            pq += p[i] * s
        if not pq > 0.0:
            return it, rnorm, BREAKDOWN
        alpha = rz / pq
        acc = 0.0
        for i in range(n):
            x[i] += alpha * p[i]
            ri = r[i] - alpha * q[i]
            r[i] = ri
            acc += ri * ri
        it += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol:
            rnorm = residual(indptr, indices, data, x, b, r)
            if rnorm <= tol:
                return it, rnorm, CONVERGED
        if not rnorm <= limit:
            return it, rnorm, DIVERGED
        if precondition:
            rz_new = ssor_apply(indptr, indices, data, diag_ptr, omega, paper_order, r, z)
        else:
            rz_new = 0.0
            for i in range(n):
                z[i] = r[i]
                rz_new += r[i] * r[i]
        if not rz_new > 0.0:
            return it, rnorm, BREAKDOWN
        beta = rz_new / rz
        rz = rz_new
        for i in range(n):
            p[i] = z[i] + beta * p[i]
    return it, rnorm, MAXITER


@numba.njit(cache=True)
def ssor_pcg_solve(indptr, indices, data, diag_ptr, omega, paper_order, x, b, tol, maxiter):
    """SSOR-preconditioned CG in place on ``x``; returns ``(iterations, ‖r‖, status)``."""
    return _pcg(indptr, indices, data, diag_ptr, omega, paper_order, True, x, b, tol, maxiter)


@numba.njit(cache=True)
def cg_solve(indptr, indices, data, diag_ptr, x, b, tol, maxiter):
    """Unpreconditioned CG in place on ``x``; returns ``(iterations, ‖r‖, status)``."""
    return _pcg(indptr, indices, data, diag_ptr, 1.0, True, False, x, b, tol, maxiter)
