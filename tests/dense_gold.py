"""Dense "gold" implementations of the solver conventions (REFERENCE §1), written from the
formulas with numpy/scipy triangular solves and nothing from ``solvers._kernels``."""
import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla


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
