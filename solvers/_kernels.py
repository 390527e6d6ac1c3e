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
# has grown this much over its start (the solvers' default ``dtol``), well before x overflows, so
# the returned iterate stays finite.
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
    """``‖b - A x‖`` (scratch residual discarded)."""
    return residual(indptr, indices, data, x, b, np.empty(b.size))


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
    shorter index arrays also streams fewer bytes: against the full CSR with a stored-neighbour
    test per row this sweep took 0.79–0.83× the time in cache and 0.62× at n = 10⁶, with
    bit-identical iterates (same terms in the same order).
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


@numba.njit(cache=True)
def sor_solve(indptr, indices, data, lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish,
              ring, x, b, omega, tol, maxiter, dtol):
    """Forward SOR sweeps until ``‖b - A x‖ <= tol``; updates ``x`` in place.

    The exact residual of each new iterate is assembled inside the sweep (:func:`_sor_sweep`),
    so the stopping test costs no separate matrix–vector product.  Stops as diverged once
    ``‖r‖ > dtol·‖r_0‖`` (or ‖r‖ is NaN).  Returns ``(iterations, residual_norm, status)``.
    """
    rnorm = residual_norm(indptr, indices, data, x, b)
    if rnorm <= tol:
        return 0, rnorm, CONVERGED
    limit = dtol * rnorm
    ring[:] = 0.0  # a finished row may read the slot of a neighbour it does not store (× 0)
    it = 0
    while it < maxiter:
        it += 1
        rnorm = np.sqrt(_sor_sweep(lp, li, ld, lnear, up, ui, ud, unear, diag, inv_diag, finish,
                                   ring, x, b, omega))
        if rnorm <= tol:
            return it, rnorm, CONVERGED
        if not rnorm <= limit:  # also catches NaN
            return it, rnorm, DIVERGED
    return it, rnorm, MAXITER


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
def cg_solve(indptr, indices, data, x, b, tol, maxiter, dtol):
    """Unpreconditioned CG in place on ``x``; returns ``(iterations, ‖r‖, status)``.

    Stopping uses the recursive residual; when it claims convergence the true residual
    ``b − A x`` is computed and, if the two disagree (residual gap), the iteration continues
    from the true residual instead of returning an ``x`` that misses the tolerance.
    """
    n = b.size
    r = np.empty(n)
    q = np.empty(n)
    rnorm = residual(indptr, indices, data, x, b, r)
    if rnorm <= tol:
        return 0, rnorm, CONVERGED
    limit = dtol * rnorm
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
