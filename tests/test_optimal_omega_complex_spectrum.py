"""Young's ω* on non-symmetric matrices: ``optimal_omega`` applies Young's formula only where
the Jacobi eigenvalues of largest modulus are real, and refuses it, naming the reason, where
they are complex (central-difference convection–diffusion beyond a cell Péclet number of 2).

It had returned the formula's ω for any matrix whose Jacobi spectral radius is below 1: on the
convection–diffusion matrix below ω = 1.47, at which SOR diverges (the SOR iteration matrix's
spectral radius, computed densely here, is 2.5).
"""
import numpy as np
import pytest
import scipy.sparse as sp

from solvers import jacobi_spectral_radius, optimal_omega, sor, young_omega


def convection_diffusion(m, peclet):
    """``−Δu + peclet·∂u/∂x`` on an m × m grid, central differences (times h²): cell Péclet
    number ``peclet·h``; its Jacobi spectrum is real below 2, complex above."""
    c = peclet / (m + 1) / 2
    T = sp.diags_array([np.full(m - 1, -1 - c), np.full(m, 2.0), np.full(m - 1, -1 + c)],
                       offsets=[-1, 0, 1])
    K = sp.diags_array([np.full(m - 1, -1.0), np.full(m, 2.0), np.full(m - 1, -1.0)],
                       offsets=[-1, 0, 1])
    eye = sp.identity(m)
    return sp.csr_array(sp.kron(eye, T) + sp.kron(K, eye)), c


def sor_radius(A, omega):
    """Spectral radius of the SOR iteration matrix ``I − (D/ω + L)⁻¹A``, densely."""
    dense = A.toarray()
    M = np.diag(np.diag(dense)) / omega + np.tril(dense, -1)
    return np.abs(np.linalg.eigvals(np.eye(len(dense)) - np.linalg.solve(M, dense))).max()


def test_complex_jacobi_spectrum_is_refused():
    A, c = convection_diffusion(12, 50.0)
    assert c > 1  # cell Péclet number 50/13 > 2
    rho = jacobi_spectral_radius(A)
    dense = np.eye(A.shape[0]) - A.toarray() / A.diagonal()[:, None]
    ev = np.linalg.eigvals(dense)
    assert rho == pytest.approx(np.abs(ev).max(), rel=1e-12)  # the modulus is still given
    assert rho < 1.0
    # the formula's ω is no optimum here: SOR at it diverges
    w = young_omega(rho)
    assert sor_radius(A, w) > 2.0
    assert sor(A, np.ones(A.shape[0]), w).reason == "diverged"
    with pytest.raises(ValueError, match=r"real Jacobi spectrum.*complex.*may diverge"):
        optimal_omega(A)


def test_complex_spectrum_with_jacobi_divergent_is_refused_as_complex():
    A, _ = convection_diffusion(12, 200.0)
    with pytest.raises(ValueError, match=r"complex.*does not converge"):
        optimal_omega(A)


def test_real_spectrum_of_non_symmetric_matrix_keeps_young():
    # cell Péclet number 5/13 < 2: the matrix is not symmetric but D^{-1/2}-similar to a
    # symmetric one, its Jacobi spectrum real, and Young's theory exact (consistently ordered)
    m = 12
    A, c = convection_diffusion(m, 5.0)
    assert c < 1
    exact_rho = (np.sqrt(1 - c * c) + 1) * np.cos(np.pi / (m + 1)) / 2
    w = optimal_omega(A)
    assert w == pytest.approx(young_omega(exact_rho), rel=1e-10)
    # at Young's ω the SOR iteration matrix has spectral radius ω − 1 (a Jordan block there:
    # its eigenvalues are computed to about √ε)
    assert sor_radius(A, w) == pytest.approx(w - 1, rel=1e-3)
