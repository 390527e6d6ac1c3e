"""Numba kernel of the Lanczos process used by :mod:`solvers.spectral` (same CSR conventions
as :mod:`solvers._kernels`: sorted unsigned indices, float64 values)."""
import numba
import numpy as np

from ._kernels import _row


@numba.njit(cache=True)
def lanczos_scaled(indptr, indices, data, s, v, steps, alpha, beta, u, comp, ncomp):
    """``steps`` Lanczos steps on ``S = diag(s) A diag(s)`` from the start vector ``v``.

    ``u`` (or empty for none) holds ``ncomp`` known null vectors of ``S`` with disjoint
    supports, one per connected component (``comp[i]`` is row ``i``'s), each of unit length:
    they are projected out of the start vector and of every new vector, so the run sees ``S``
    on their complement and its smallest Ritz value is the smallest eigenvalue there
    (rounding would otherwise bring the null vectors back, and with them the Ritz value 0).

    Fills the tridiagonal ``alpha[:k]`` (diagonal) and ``beta[:k-1]`` (off-diagonal) and
    returns ``k``, the number of steps done (fewer than ``steps`` when an invariant subspace
    is found: then the Ritz values are eigenvalues of ``S``).  No reorthogonalisation: the
    extreme Ritz values converge regardless (lost orthogonality only repeats converged ones).
    One step costs one matrix–vector product plus five vector operations.
    """
    n = v.size
    deflate = u.size == n
    if deflate:
        _project_out(v, u, comp, ncomp)
    nrm = 0.0
    for i in range(n):
        nrm += v[i] * v[i]
    nrm = np.sqrt(nrm)
    q = v / nrm
    q_prev = np.zeros(n)
    w = np.empty(n)
    b_prev = 0.0
    k = 0
    for j in range(steps):
        # w = S q − b_prev q_prev
        for i in range(n):
            st, en = _row(indptr, i)
            acc = 0.0
            for p in range(st, en):
                c = indices[p]
                acc += data[p] * s[c] * q[c]
            w[i] = s[i] * acc - b_prev * q_prev[i]
        a = 0.0
        for i in range(n):
            a += w[i] * q[i]
        alpha[j] = a
        k = j + 1
        for i in range(n):
            w[i] -= a * q[i]
        if deflate:
            _project_out(w, u, comp, ncomp)
        b = 0.0
        for i in range(n):
            b += w[i] * w[i]
        b = np.sqrt(b)
        if j + 1 == steps or b <= 1e-14 * max(abs(a), 1.0):
            break
        beta[j] = b
        for i in range(n):
            q_prev[i] = q[i]
            q[i] = w[i] / b
        b_prev = b
    return k


@numba.njit(cache=True)
def _project_out(w, u, comp, ncomp):
    """``w ← w − Σ_c (u_c·w) u_c`` in place, ``u_c`` the unit vectors ``u`` restricted to
    the rows of component ``c``."""
    c = np.zeros(ncomp)
    for i in range(w.size):
        c[comp[i]] += u[i] * w[i]
    for i in range(w.size):
        w[i] -= c[comp[i]] * u[i]
