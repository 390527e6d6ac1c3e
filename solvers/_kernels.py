"""Numba kernels over raw CSR arrays.

Every function here takes ``(indptr, indices, data, ...)`` plus vectors and scalars and knows
nothing about matrix objects, validation or option names (see ``solvers/_api.py`` for that).
Column indices must be sorted within each row and every row must hold its diagonal entry at
``diag_ptr[i]`` (``CSROperator`` guarantees both).

Index arrays are *unsigned* (uint32, or uint64 for huge matrices) and loop bounds are cast to
``np.uintp``: Numba must assume a signed index may be negative and emits a wrap-around test on
every ``x[indices[k]]``, which made the SpMV 1.5–2.5× slower than scipy's.  With unsigned
indices it matches scipy.

Status codes returned by the solvers (mapped to ``SolveResult.reason`` by the wrappers):
0 converged, 1 maxiter, 2 breakdown (pᵀAp <= 0 or rᵀz <= 0), 3 diverged.
"""
import numba
import numpy as np

CONVERGED, MAXITER, BREAKDOWN, DIVERGED = 0, 1, 2, 3
# An unstable iteration (e.g. SOR with a bad ω on a non-SPD matrix) is stopped once the residual
# has grown this much, well before x overflows, so the returned iterate stays finite.
DIVERGENCE_FACTOR = 1e12


U1 = np.uintp(1)


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
    return np.sqrt(acc)


@numba.njit(cache=True)
def residual_norm(indptr, indices, data, x, b):
    """``‖b - A x‖`` without storing the residual."""
    n = indptr.size - 1
    acc = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        s = b[i]
        for k in range(st, en):
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
    ``r_i = σ_i - a_ii x_i^new - Σ_{j>i} a_ij δ_j``, where ``σ_i - a_ii x_i^new`` equals
    ``((1 - ω)/ω) a_ii δ_i``.  The sum is final once the sweep has passed the row's last column,
    so rows are finished with a lag of at most the bandwidth; ``ring`` (a power-of-two length
    larger than the bandwidth) holds the lagged ``δ``, which keeps it in cache.

    Returns ``(iterations, residual_norm, status)``.
    """
    n = indptr.size - 1
    mask = np.uintp(ring.size - 1)
    theta = (1.0 - omega) / omega
    rnorm = r0
    limit = DIVERGENCE_FACTOR * r0
    it = 0
    while it < maxiter:
        it += 1
        acc = 0.0
        p = 0  # next row whose residual is not yet final
        prev = 0.0  # x[i-1] as just computed, kept in a register
        for i in range(n):
            st, en = _row(indptr, i)
            d = np.uintp(diag_ptr[i])
            w = omega / data[d]
            # A sweep is latency-bound: row i waits for x[i-1] from row i-1.  Everything else
            # is summed first, and the x[i-1] term enters last through one FMA whose
            # coefficient is formed off that chain.
            s = b[i]
            for k in range(d + U1, en):
                s -= data[k] * x[indices[k]]
            near = 0.0  # a_{i,i-1}
            ln = d
            if d > st and np.intp(indices[d - U1]) == i - 1:
                near = data[d - U1]
                ln = d - U1
            for k in range(st, ln):
                s -= data[k] * x[indices[k]]
            xo = x[i]
            xn = ((1.0 - omega) * xo + w * s) - (w * near) * prev
            x[i] = xn
            prev = xn
            ring[np.uintp(i) & mask] = xn - xo
            # finish every row whose columns are all updated now
            while p <= i and indices[np.uintp(indptr[p + 1]) - U1] <= i:
                dp = np.uintp(diag_ptr[p])
                r = theta * data[dp] * ring[np.uintp(p) & mask]
                for k in range(dp + U1, np.uintp(indptr[p + 1])):
                    r -= data[k] * ring[indices[k] & mask]
                acc += r * r
                p += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol:
            return it, rnorm, CONVERGED
        if not rnorm <= limit:  # also catches NaN
            return it, rnorm, DIVERGED
    return it, rnorm, MAXITER


@numba.njit(cache=True, inline="always")
def _upper_solve_row(indptr, indices, data, diag_ptr, omega, i, rhs, z, prev):
    """Row ``i`` of ``(D + ωU) z = rhs`` (needs ``z_j``, ``j > i``; ``prev`` is ``z_{i+1}``).

    Triangular solves are latency-bound (row i waits for the row just solved), so the
    neighbour's term enters last through one FMA, from a register, with its coefficient formed
    off that chain.
    """
    d = np.uintp(diag_ptr[i])
    en = np.uintp(indptr[i + 1])
    inv = 1.0 / data[d]
    near = 0.0  # a_{i,i+1}, whose term enters last
    us = d + U1
    if en > us and np.intp(indices[us]) == i + 1:
        near = data[us]
        us += U1
    s = 0.0
    for k in range(us, en):
        s += data[k] * z[indices[k]]
    return (inv * rhs - (omega * inv) * s) - (omega * inv * near) * prev


@numba.njit(cache=True, inline="always")
def _lower_solve_row(indptr, indices, data, diag_ptr, omega, c, i, z, prev):
    """Row ``i`` of ``(D + ωL) z = c·D·y`` in place (``z_i`` holds ``y_i``; ``prev`` is
    ``z_{i−1}``); ``z_j`` for ``j < i`` are final (already scaled by ``c``)."""
    st = np.uintp(indptr[i])
    d = np.uintp(diag_ptr[i])
    winv = omega / data[d]
    near = 0.0  # a_{i,i-1}, whose term enters last (see below)
    ln = d
    if d > st and np.intp(indices[d - U1]) == i - 1:
        near = data[d - U1]
        ln = d - U1
    s = 0.0
    for k in range(st, ln):
        s += data[k] * z[indices[k]]
    return (c * z[i] - winv * s) - (winv * near) * prev


@numba.njit(cache=True, inline="always")
def _lower_first_row(indptr, indices, data, diag_ptr, omega, i, rhs, z, prev):
    """Row ``i`` of ``(D + ωL) z = rhs`` (needs ``z_j``, ``j < i``; ``prev`` is ``z_{i−1}``)."""
    st = np.uintp(indptr[i])
    d = np.uintp(diag_ptr[i])
    inv = 1.0 / data[d]
    near = 0.0  # a_{i,i-1}, whose term enters last (see below)
    ln = d
    if d > st and np.intp(indices[d - U1]) == i - 1:
        near = data[d - U1]
        ln = d - U1
    s = 0.0
    for k in range(st, ln):
        s += data[k] * z[indices[k]]
    return (inv * rhs - (omega * inv) * s) - (omega * inv * near) * prev


@numba.njit(cache=True, inline="always")
def _upper_second_row(indptr, indices, data, diag_ptr, omega, c, i, z, prev):
    """Row ``i`` of ``(D + ωU) z = c·D·y`` in place (textbook order's second solve)."""
    d = np.uintp(diag_ptr[i])
    en = np.uintp(indptr[i + 1])
    winv = omega / data[d]
    near = 0.0  # a_{i,i+1}, whose term enters last
    us = d + U1
    if en > us and np.intp(indices[us]) == i + 1:
        near = data[us]
        us += U1
    s = 0.0
    for k in range(us, en):
        s += data[k] * z[indices[k]]
    return (c * z[i] - winv * s) - (winv * near) * prev


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
    rz = 0.0
    if paper_order:
        zi = 0.0
        for i in range(n - 1, -1, -1):
            zi = _upper_solve_row(indptr, indices, data, diag_ptr, omega, i, r[i], z, zi)
            z[i] = zi
        zi = 0.0
        for i in range(n):
            zi = _lower_solve_row(indptr, indices, data, diag_ptr, omega, c, i, z, zi)
            z[i] = zi
            rz += r[i] * zi
    else:
        zi = 0.0
        for i in range(n):
            zi = _lower_first_row(indptr, indices, data, diag_ptr, omega, i, r[i], z, zi)
            z[i] = zi
        zi = 0.0
        for i in range(n - 1, -1, -1):
            zi = _upper_second_row(indptr, indices, data, diag_ptr, omega, c, i, z, zi)
            z[i] = zi
            rz += r[i] * zi
    return rz


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


@numba.njit(cache=True)
def ssor_pcg_solve(indptr, indices, data, diag_ptr, omega, paper_order, x, b, tol, maxiter):
    """SSOR-preconditioned CG in place on ``x``; returns ``(iterations, ‖r‖, status)``.

    One iteration streams the matrix twice (the SpMV, and the two half-matrix triangular solves)
    in three fused passes: (1) ``x += αp``, ``r −= αq``, ``‖r‖²`` and the first triangular solve,
    run in that solve's direction; (2) the second solve with ``rᵀz``; (3) ``p = z + βp``,
    ``q = Ap`` and ``pᵀq``.  Stopping uses the unpreconditioned recursive residual; when it
    claims convergence the true residual ``b − A x`` is computed and, if the two disagree
    (residual gap), the recursion continues from the true residual instead of returning an ``x``
    that misses the tolerance.
    """
    n = b.size
    c = omega * (2.0 - omega)
    r = np.empty(n)
    z = np.empty(n)
    q = np.empty(n)
    rnorm = residual(indptr, indices, data, x, b, r)
    if rnorm <= tol:
        return 0, rnorm, CONVERGED
    limit = DIVERGENCE_FACTOR * rnorm
    rz = ssor_apply(indptr, indices, data, diag_ptr, omega, paper_order, r, z)
    if not rz > 0.0:
        return 0, rnorm, BREAKDOWN
    p = z.copy()
    pq = _spmv_dot(indptr, indices, data, p, q)
    it = 0
    while it < maxiter:
        if not pq > 0.0:
            return it, rnorm, BREAKDOWN
        alpha = rz / pq
        acc = 0.0
        zi = 0.0
        if paper_order:
            for i in range(n - 1, -1, -1):
                x[i] += alpha * p[i]
                ri = r[i] - alpha * q[i]
                r[i] = ri
                acc += ri * ri
                zi = _upper_solve_row(indptr, indices, data, diag_ptr, omega, i, ri, z, zi)
                z[i] = zi
        else:
            for i in range(n):
                x[i] += alpha * p[i]
                ri = r[i] - alpha * q[i]
                r[i] = ri
                acc += ri * ri
                zi = _lower_first_row(indptr, indices, data, diag_ptr, omega, i, ri, z, zi)
                z[i] = zi
        it += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol:
            rnorm = residual(indptr, indices, data, x, b, r)
            if rnorm <= tol:
                return it, rnorm, CONVERGED
            rz_new = ssor_apply(indptr, indices, data, diag_ptr, omega, paper_order, r, z)
        elif not rnorm <= limit:
            return it, rnorm, DIVERGED
        else:
            rz_new = 0.0
            zi = 0.0
            if paper_order:
                for i in range(n):
                    zi = _lower_solve_row(indptr, indices, data, diag_ptr, omega, c, i, z, zi)
                    z[i] = zi
                    rz_new += r[i] * zi
            else:
                for i in range(n - 1, -1, -1):
                    zi = _upper_second_row(indptr, indices, data, diag_ptr, omega, c, i, z, zi)
                    z[i] = zi
                    rz_new += r[i] * zi
        if not rz_new > 0.0:
            return it, rnorm, BREAKDOWN
        beta = rz_new / rz
        rz = rz_new
        for i in range(n):
            p[i] = z[i] + beta * p[i]
        pq = _spmv_dot(indptr, indices, data, p, q)
    return it, rnorm, MAXITER


@numba.njit(cache=True)
def cg_solve(indptr, indices, data, x, b, tol, maxiter):
    """Unpreconditioned CG in place on ``x``; returns ``(iterations, ‖r‖, status)``.

    Same stopping rule and residual-gap guard as :func:`ssor_pcg_solve`.
    """
    n = b.size
    r = np.empty(n)
    q = np.empty(n)
    rnorm = residual(indptr, indices, data, x, b, r)
    if rnorm <= tol:
        return 0, rnorm, CONVERGED
    limit = DIVERGENCE_FACTOR * rnorm
    rr = rnorm * rnorm
    p = r.copy()
    it = 0
    while it < maxiter:
        pq = _spmv_dot(indptr, indices, data, p, q)
        if not pq > 0.0:
            return it, rnorm, BREAKDOWN
        alpha = rr / pq
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
            acc = rnorm * rnorm
        elif not rnorm <= limit:
            return it, rnorm, DIVERGED
        beta = acc / rr
        rr = acc
        for i in range(n):
            p[i] = r[i] + beta * p[i]
    return it, rnorm, MAXITER


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
def asymmetry(indptr, indices, data):
    """``max |a_ij − a_ji| / max |a_ij|`` for canonical CSR (binary search for each mirror)."""
    n = indptr.size - 1
    worst = 0.0
    scale = 0.0
    for i in range(n):
        st, en = _row(indptr, i)
        for k in range(st, en):
            v = data[k]
            if abs(v) > scale:
                scale = abs(v)
            j = np.intp(indices[k])
            if j == i:
                continue
            lo, hi = _row(indptr, j)
            while lo < hi:  # first position in row j with column >= i
                mid = (lo + hi) // np.uintp(2)
                if np.intp(indices[mid]) < i:
                    lo = mid + U1
                else:
                    hi = mid
            mirror = 0.0
            if lo < np.uintp(indptr[j + 1]) and np.intp(indices[lo]) == i:
                mirror = data[lo]
            if abs(v - mirror) > worst:
                worst = abs(v - mirror)
    return worst / scale if scale > 0.0 else 0.0
