"""SOR's stagnation test judges the rounding level ``u·‖|b| + |A| |x|‖`` at the current
iterate, so the current residual must lie on it too, not only the best one.

On a symmetric indefinite matrix (a shifted Laplacian ``K − σI``, σ between its two smallest
eigenvalues) SOR diverges slowly: its iterate grew until its own rounding level passed the
best residual of the first sweeps, and the solver stopped the run as "stagnated" — the
status that says the tolerance is below what double precision can reach — at a relative
residual of 0.006, while the residual had grown from 0.12 to 2e11.  Checked against the
dense eigenvalues and a plain Python SOR iteration."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import solve_triangular

from solvers import gallery, sor
from solvers import _kernels as K


def shifted_laplacian():
    A0 = sp.csr_matrix(gallery.laplacian_2d(20))
    ev = np.linalg.eigvalsh(A0.toarray())
    sigma = 0.5 * (ev[0] + ev[1])  # one negative eigenvalue, none near zero
    A = sp.csr_matrix(A0 - sigma * sp.identity(A0.shape[0]))
    rng = np.random.default_rng(0)
    rng.standard_normal(A.shape[0])
    return A, rng.standard_normal(A.shape[0])


def python_sor_residuals(A, b, omega, sweeps):
    """‖b − A x_k‖ of plain SOR sweeps ``x ← x + ω (D + ωL)⁻¹ (b − A x)``."""
    dense = A.toarray()
    M = np.diag(np.diag(dense)) + omega * np.tril(dense, -1)
    x = np.zeros_like(b)
    out = []
    for _ in range(sweeps):
        x = x + omega * solve_triangular(M, b - dense @ x, lower=True)
        out.append(np.linalg.norm(b - dense @ x))
    return np.array(out)


def test_the_system_diverges_under_sor():
    A, b = shifted_laplacian()
    ev = np.linalg.eigvalsh(A.toarray())
    assert ev[0] < 0 < ev[1] and np.all(A.diagonal() > 0)  # indefinite, positive diagonal
    res = python_sor_residuals(A, b, 1.3, 1000)
    assert res.min() < 0.2 and res[-1] > 1e10  # a good first residual, then growth


@pytest.mark.parametrize("backend", ["numba", pytest.param("petsc", marks=pytest.mark.petsc)])
def test_a_slowly_diverging_sor_is_not_called_stagnated(backend):
    if backend == "petsc":
        pytest.importorskip("petsc4py")
    A, b = shifted_laplacian()
    r = sor(A, b, 1.3, maxiter=20_000, backend=backend)
    # before: "stagnated" after 1002 sweeps on the Numba backend
    assert r.reason in ("diverged", "maxiter") and r.reason != "stagnated", r
    assert not r.converged
    # the best iterate is returned, and it is no better than the best plain sweep
    best = python_sor_residuals(A, b, 1.3, 200).min()
    assert np.linalg.norm(b - A @ r.x) == pytest.approx(r.residual_norm, rel=1e-9)
    assert r.residual_norm >= 0.99 * best


def test_a_tolerance_below_rounding_still_stagnates_at_the_rounding_level():
    A = sp.csr_matrix(gallery.laplacian_2d(16))
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    for omega in (1.0, 1.7):
        r = sor(A, b, omega, rtol=1e-17, maxiter=20_000)
        assert r.reason == "stagnated" and r.iterations < 3000, r
        scale = np.linalg.norm(np.abs(b) + abs(A) @ np.abs(r.x))
        assert r.residual_norm <= K.FLOOR_FACTOR * 2.0 ** -53 * scale
