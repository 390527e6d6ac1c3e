"""Dense "gold" implementations of the solver conventions (stopping rule, iteration count, SSOR order), written from the
formulas with numpy/scipy triangular solves and nothing from ``solvers._kernels``."""
import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla


def model_problems() -> dict:
    """The named model problems every solver and preconditioner test runs through (all SPD)."""
    from solvers import gallery

    return {
        "poisson1d": gallery.laplacian_1d(40),
        "poisson2d": gallery.laplacian_2d(9),
        "shifted2d": gallery.shifted_laplacian_2d(8, 0.3),
        "anisotropic": gallery.anisotropic_2d(8, 0.05),
        "heat_cn": gallery.crank_nicolson_2d(10, 0.01),
        "random_spd": gallery.random_spd(60, 0.08, seed=1),
    }


def split(A):
    A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=float)
    return A, np.diag(np.diag(A)), np.tril(A, -1), np.triu(A, 1)


def sor_sweeps(A, b, omega, x0, sweeps):
    """``x ← x + (D/ω + L)⁻¹ (b − A x)`` repeated ``sweeps`` times."""
    A, D, L, _ = split(A)
    x = np.array(x0, dtype=float)
    for _ in range(sweeps):
        x = x + sla.solve_triangular(D / omega + L, b - A @ x, lower=True)
    return x


def ssor_apply(A, r, omega, order="paper"):
    """``M⁻¹ r`` for SSOR; paper order: backward with D+ωU, scale by D, forward with D+ωL."""
    A, D, L, U = split(A)
    c = omega * (2.0 - omega)
    if order == "paper":
        y = sla.solve_triangular(D + omega * U, r, lower=False)
        return c * sla.solve_triangular(D + omega * L, D @ y, lower=True)
    y = sla.solve_triangular(D + omega * L, r, lower=True)
    return c * sla.solve_triangular(D + omega * U, D @ y, lower=False)


def scipy_cg_count(A, b, *, M=None, x0=None, rtol=1e-8, maxiter=10_000):
    """Iterations scipy's CG takes (callback count) with the same stopping rule."""
    count = [0]

    def cb(_):
        count[0] += 1

    x, info = spla.cg(A, b, x0=x0, rtol=rtol, atol=0.0, maxiter=maxiter, M=M, callback=cb)
    return x, count[0], info


def ssor_operator(A, omega, order="paper"):
    n = A.shape[0]
    return spla.LinearOperator((n, n), matvec=lambda r: ssor_apply(A, r, omega, order))


# -- preconditioned CG ------------------------------------------------------------------------

def ic0_dense(A, shift=0.0):
    """Zero fill-in incomplete Cholesky, right-looking (column by column), on the stored pattern
    of ``tril(A)``; ``A + shift·diag(A)``.  Raises ``ArithmeticError`` on a non-positive pivot."""
    import scipy.sparse as sp

    S = sp.csr_array(A)
    pattern = np.zeros(S.shape, dtype=bool)
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    pattern[rows, S.indices] = True  # stored entries, explicit zeros included
    pattern = np.tril(pattern)
    L = np.tril(S.toarray()) + shift * np.diag(S.diagonal())
    n = L.shape[0]
    for k in range(n):
        if not L[k, k] > 0:
            raise ArithmeticError(f"non-positive pivot in column {k}")
        L[k, k] = np.sqrt(L[k, k])
        L[k + 1:, k] /= L[k, k]
        for j in range(k + 1, n):
            upd = pattern[j:, j]  # drop every update outside the pattern
            L[j:, j][upd] -= L[j:, k][upd] * L[j, k]
    return L * pattern


def ic0_apply(L, r):
    """``(L Lᵀ)⁻¹ r`` by two dense triangular solves."""
    return sla.solve_triangular(L.T, sla.solve_triangular(L, r, lower=True), lower=False)


def pcg_iterates(A, b, apply, x0=None, steps=5):
    """Textbook PCG written out; returns the iterates ``x_1 … x_steps``."""
    A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=float)
    x = np.zeros_like(b, dtype=float) if x0 is None else np.array(x0, dtype=float)
    r = b - A @ x
    z = apply(r)
    p = z.copy()
    out = []
    for _ in range(steps):
        q = A @ p
        alpha = (r @ z) / (p @ q)
        x = x + alpha * p
        r_new = r - alpha * q
        z_new = apply(r_new)
        p = z_new + (r_new @ z_new) / (r @ z) * p
        r, z = r_new, z_new
        out.append(x.copy())
    return out


def pcg_count(A, b, apply, x0=None, rtol=1e-8, atol=0.0, maxiter=1000):
    """Iterations of textbook PCG until the *true* residual meets
    ``‖b − A x‖ <= max(rtol·‖b‖, atol)`` (the solvers' rule)."""
    A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=float)
    tol = max(rtol * np.linalg.norm(b), atol)
    x = np.zeros_like(b, dtype=float) if x0 is None else np.array(x0, dtype=float)
    r = b - A @ x
    if np.linalg.norm(r) <= tol:
        return 0, x
    z = apply(r)
    p = z.copy()
    for k in range(1, maxiter + 1):
        q = A @ p
        alpha = (r @ z) / (p @ q)
        x = x + alpha * p
        r_new = r - alpha * q
        if np.linalg.norm(b - A @ x) <= tol:
            return k, x
        z_new = apply(r_new)
        p = z_new + (r_new @ z_new) / (r @ z) * p
        r, z = r_new, z_new
    raise AssertionError("dense PCG did not converge")
