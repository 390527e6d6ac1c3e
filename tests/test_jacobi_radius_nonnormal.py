"""``jacobi_spectral_radius`` on non-symmetric matrices that no diagonal similarity makes
symmetric: exact reductions first (strongly connected blocks, balancing ``|a_ij| = |a_ji|``),
ARPACK above the dense limit with no dense fallback, and a refusal, with a bound, where the
eigenvalue of largest modulus is too ill-conditioned for double precision.

Before: a 45 × 45 convection–diffusion grid at cell Péclet numbers 1.9 and 2.1 returned 1.25
for an exact 0.223 (after 20 s); a lower bidiagonal matrix (ρ_J = 0) took 88 s at n = 2025
(ARPACK gave up, then a dense eigensolver); a cyclic matrix far from normal returned a radius
off by 2e-4 without a word.
"""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers._spectral_radius as radius
from solvers import jacobi_spectral_radius


def convection_diffusion(m, pe_x, pe_y):
    """Central differences of ``−Δu + w·∇u`` (times h²) at cell Péclet numbers ``pe_x`` and
    ``pe_y``, and its exact Jacobi spectral radius (a Kronecker sum of Toeplitz
    tridiagonals: eigenvalues ``2 + 2√(ac) cos(kπ/(m+1))`` each)."""
    def tri(pe):
        a, c = -1 - pe / 2, -1 + pe / 2
        T = sp.diags_array([np.full(m - 1, a), np.full(m, 2.0), np.full(m - 1, c)],
                           offsets=[-1, 0, 1])
        ev = 2 + 2 * np.sqrt(complex(a * c)) * np.cos(np.arange(1, m + 1) * np.pi / (m + 1))
        return T, ev
    Tx, ex = tri(pe_x)
    Ty, ey = tri(pe_y)
    eye = sp.identity(m)
    A = sp.csr_array(sp.kron(eye, Tx) + sp.kron(Ty, eye))
    rho = np.abs(1 - (ex[:, None] + ey[None, :]) / 4).max()
    return A, float(rho)


def cyclic(n, c, delta):
    """``I − c·L − δ e₁e_nᵀ`` (``L`` the shift): one cycle, coupled one way only (periodic
    upwind transport); ``λⁿ = δ cⁿ⁻¹`` for its Jacobi matrix."""
    A = sp.lil_array((n, n))
    A.setdiag(1.0)
    A.setdiag(-c, -1)
    A[0, n - 1] = -delta
    return sp.csr_array(A), float(np.exp((np.log(delta) + (n - 1) * np.log(c)) / n))


@pytest.mark.parametrize("m", [20, 30, 45])  # dense (n = 400), ARPACK (900, 2025)
@pytest.mark.parametrize("pe", [(1.9, 2.1), (3.0, 0.0), (3.0, 3.0), (100.0, 0.5)])
def test_convection_diffusion_matches_the_analytic_radius(m, pe):
    A, rho = convection_diffusion(m, *pe)
    assert jacobi_spectral_radius(A) == pytest.approx(rho, rel=1e-10)


def test_block_triangular_matrix_is_reduced_to_its_blocks(monkeypatch):
    # lower bidiagonal: every row its own strongly connected component, so I − D⁻¹A is
    # nilpotent and ρ_J = 0, found without any eigensolver
    n = 2025
    A = sp.csr_array(sp.diags_array([np.full(n, 2.0), np.full(n - 1, -1.0)], offsets=[0, -1]))

    def refuse(*args, **kwargs):
        raise AssertionError("an eigensolver ran")

    monkeypatch.setattr(radius.np.linalg, "eigvals", refuse)
    monkeypatch.setattr(radius.spla, "eigs", refuse)
    assert jacobi_spectral_radius(A) == 0.0


def test_block_triangular_radius_is_the_largest_blocks():
    # two 2 × 2 blocks (ρ 0.5 and 0.25) joined one way by a large entry
    A = sp.csr_array(np.array([[1.0, -0.5, 0, 0], [-0.5, 1, 0, 0],
                               [-1e6, 0, 1, -0.25], [0, 0, -0.25, 1]]))
    dense = np.eye(4) - A.toarray()
    assert jacobi_spectral_radius(A) == pytest.approx(np.abs(np.linalg.eigvals(dense)).max(),
                                                      rel=1e-12)
    assert jacobi_spectral_radius(A) == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize("n, c, delta", [(50, 0.5, 1.0), (300, 0.9, 1e-3)])
def test_one_way_cycle_matches_the_analytic_radius(n, c, delta, monkeypatch):
    A, rho = cyclic(n, c, delta)
    assert jacobi_spectral_radius(A) == pytest.approx(rho, rel=1e-10)


def test_sparse_path_matches_dense_on_a_random_non_symmetric_matrix(monkeypatch):
    n = 300
    R = sp.random_array((n, n), density=4 / n, rng=3, format="csr")
    A = sp.csr_array(R + sp.diags_array(abs(R).sum(axis=1) + 0.5))
    J = np.eye(n) - A.toarray() / A.diagonal()[:, None]
    dense = np.abs(np.linalg.eigvals(J)).max()
    monkeypatch.setattr(radius, "GENERAL_DENSE_LIMIT", 10)  # ARPACK on n = 300
    assert jacobi_spectral_radius(A) == pytest.approx(dense, rel=1e-9)


def test_far_from_normal_radius_is_refused_with_a_bound():
    # λⁿ = 1e-30·0.9⁴⁹: ρ_J = 0.2265; the eigenvalues' condition is about 1e27, and the
    # dense eigensolver's 0.2266 was returned as exact
    A, rho = cyclic(50, 0.9, 1e-30)
    with pytest.raises(ValueError, match=r"cannot be computed in double precision.*"
                                         r"condition number.*ρ_J <= 0\.9\b"):
        jacobi_spectral_radius(A)
    assert rho < 0.9


def test_arpack_failure_is_named_without_a_dense_fallback(monkeypatch):
    # periodic upwind transport: every Jacobi eigenvalue has modulus 0.5 (0.5 times the
    # n-th roots of unity), so ARPACK's "largest modulus" cannot converge; the bound given
    # is the exact radius
    A, rho = cyclic(2025, 0.5, 0.5)
    assert rho == pytest.approx(0.5)

    def refuse(*args, **kwargs):
        raise AssertionError("a dense eigensolver ran")

    monkeypatch.setattr(radius.np.linalg, "eigvals", refuse)
    monkeypatch.setattr(radius, "ARPACK_RESTARTS", 30)  # fast: no number of restarts helps
    with pytest.raises(ValueError, match=r"ARPACK did not converge.*ρ_J <= 0\.5\b"):
        jacobi_spectral_radius(A)


@pytest.mark.parametrize("diagonal", [[-2.0], [-2.0, -3.0, 5.0], [2.0, 3.0]])
def test_diagonal_matrix_of_any_signs_has_radius_zero(diagonal):
    # a negative diagonal goes through the balanced form, whose diagonal √a_ii·√a_ii had
    # rounded away from a_ii: ρ_J = 2.2e-16 for [[-2]]
    A = sp.csr_array(np.diag(diagonal))
    assert jacobi_spectral_radius(A) == 0.0
    B = sp.csr_array(np.array([[-2.0, 1.0, 0.0], [1.0, -3.0, 1.0], [0.0, 1.0, -5.0]]))
    J = np.eye(3) - B.toarray() / B.diagonal()[:, None]
    assert jacobi_spectral_radius(B) == pytest.approx(np.abs(np.linalg.eigvals(J)).max(),
                                                      rel=1e-14)


def test_arpack_failure_below_the_dense_limit_falls_back_to_dense(monkeypatch):
    # two one-way cycles of 150 rows: every eigenvalue has the modulus ρ_J, and ARPACK cannot
    # converge; below the dense limit every eigenvalue is computed densely (and checked)
    monkeypatch.setattr(radius, "GENERAL_DENSE_LIMIT", 10)
    monkeypatch.setattr(radius, "ARPACK_RESTARTS", 30)
    C, rho = cyclic(150, 0.9, 1e-3)
    A = sp.csr_array(sp.block_diag([C, C]))
    assert jacobi_spectral_radius(A) == pytest.approx(rho, rel=1e-10)


def test_left_eigenvector_falls_back_to_inverse_iteration(monkeypatch):
    # ARPACK on Jᵀ (the left eigenvector, for κ(λ)) failing must not refuse a
    # well-conditioned radius: inverse iteration with a sparse LU finds the vector
    A, rho = convection_diffusion(30, 100.0, 0.5)
    eigs = radius.spla.eigs
    calls, fail = [], []

    def counted(J, *args, **kwargs):
        calls.append(1)
        if fail and len(calls) == fail[0]:
            raise radius.spla.ArpackNoConvergence("no convergence", np.zeros(0),
                                                  np.zeros((0, 0)))
        return eigs(J, *args, **kwargs)

    monkeypatch.setattr(radius.spla, "eigs", counted)
    assert jacobi_spectral_radius(A) == pytest.approx(rho, rel=1e-10)
    fail.append(len(calls))  # the last call: Jᵀ's
    calls.clear()
    used = []
    inverse = radius._sparse_inverse_condition
    monkeypatch.setattr(radius, "_sparse_inverse_condition",
                        lambda *a: used.append(1) or inverse(*a))
    assert jacobi_spectral_radius(A) == pytest.approx(rho, rel=1e-10)
    assert used
