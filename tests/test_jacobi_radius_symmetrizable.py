"""The Jacobi spectral radius of non-symmetric matrices that a positive diagonal similarity
makes symmetric (upwind convection–diffusion, row-scaled symmetric matrices): computed on the
symmetric form, against the exact eigenvalues.

A general eigensolver on ``I − D⁻¹A`` itself, far from normal there, had returned spurious
complex eigenvalues and a wrong radius: 0.2649 for the exact 0.2114 on the 30 × 30 upwind
matrix below (cell Péclet number 100), so ``optimal_omega`` 1.0182 for 1.0114.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from solvers import gallery, jacobi_spectral_radius, optimal_omega, young_omega
from solvers._kernels_symmetrize import diagonally_symmetrizable
from solvers._operator import prepare


def upwind(m, p):
    """``−Δu + convection`` upwinded in x on an m × m grid (times h²): ``tridiag(−1 − p,
    2 + p, −1)`` along x, ``tridiag(−1, 2, −1)`` along y."""
    T = sp.diags_array([np.full(m - 1, -1 - p), np.full(m, 2.0 + p), np.full(m - 1, -1.0)],
                       offsets=[-1, 0, 1])
    K = sp.diags_array([np.full(m - 1, -1.0), np.full(m, 2.0), np.full(m - 1, -1.0)],
                       offsets=[-1, 0, 1])
    eye = sp.identity(m)
    return sp.csr_array(sp.kron(eye, T) + sp.kron(K, eye))


def upwind_rho(m, p):
    """Exact: the x-direction's Jacobi eigenvalues are ``2√(1 + p) cos(kπh)`` over ``4 + p``
    (the tridiagonal's off-diagonal product is ``1 + p``), the y-direction's ``2 cos(jπh)``."""
    c = np.cos(np.pi / (m + 1))
    return (2 * np.sqrt(1 + p) * c + 2 * c) / (4 + p)


@pytest.mark.parametrize("m, p", [(30, 100.0), (12, 1.0), (45, 100.0)])
def test_upwind_radius_is_exact(m, p):
    A = upwind(m, p)  # n = 2025 for m = 45: the ARPACK path
    rho = jacobi_spectral_radius(A)
    assert rho == pytest.approx(upwind_rho(m, p), rel=1e-9)
    assert optimal_omega(A) == pytest.approx(young_omega(upwind_rho(m, p)), rel=1e-9)


def test_row_scaled_symmetric_matrix_has_the_symmetric_radius():
    # I − (RD)⁻¹(RA) = I − D⁻¹A: row scaling leaves the Jacobi matrix as it is
    m = 8
    R = sp.diags_array(np.random.default_rng(3).uniform(0.1, 10.0, m * m))
    A = sp.csr_array(R @ gallery.laplacian_2d(m))
    assert prepare(A).asymmetry() > 0.1
    assert jacobi_spectral_radius(A) == pytest.approx(np.cos(np.pi / (m + 1)), rel=1e-12)


def test_not_symmetrizable_keeps_the_general_eigenvalues():
    # positive products a_ij a_ji on every pair but no consistent S round the grid's cycles
    m = 8
    L = sp.csr_array(gallery.laplacian_2d(m))
    rng = np.random.default_rng(0)
    A = L.copy()
    off = A.indices != np.repeat(np.arange(m * m), np.diff(A.indptr))
    A.data[off] *= rng.uniform(0.5, 1.5, int(off.sum()))
    op = prepare(A)
    assert not diagonally_symmetrizable(op.indptr, op.indices, op.data, op._mirror(), 1e-10)
    dense = np.eye(m * m) - A.toarray() / A.diagonal()[:, None]
    assert jacobi_spectral_radius(A) == pytest.approx(np.abs(np.linalg.eigvals(dense)).max(),
                                                      rel=1e-10)


def test_symmetrizable_check():
    op = prepare(upwind(6, 3.0))
    assert diagonally_symmetrizable(op.indptr, op.indices, op.data, op._mirror(), 1e-10)
    # an entry on one side only, or a pair of opposite signs
    for a_01, a_10 in ((-1.0, 0.0), (-1.0, 1.0)):
        A = sp.lil_array(gallery.laplacian_1d(5))
        A[0, 1], A[1, 0] = a_01, a_10
        op = prepare(sp.csr_array(A))
        assert not diagonally_symmetrizable(op.indptr, op.indices, op.data, op._mirror(), 1e-10)
