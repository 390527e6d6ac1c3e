"""Kernels against dense gold references, scipy, pyamg and Young's theory."""
import numpy as np
import pytest
import scipy.sparse as sp

import dense_gold as gold
from solvers import cg, gallery, optimal_omega, prepare, sor, ssor_pcg
from solvers.spectral import jacobi_spectral_radius

RNG = np.random.default_rng(0)

#: one named list of model problems run through every solver
CASES = gold.model_problems()


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("omega", [0.7, 1.0, 1.3, 1.8])
def test_sor_matches_dense_sweeps_iterate_by_iterate(name, omega):
    A = CASES[name]
    b = RNG.standard_normal(A.shape[0])
    x0 = RNG.standard_normal(A.shape[0])
    for k in (1, 2, 5):
        res = sor(A, b, omega, x0=x0, maxiter=k, rtol=1e-300, atol=1e-300)
        assert res.iterations == k and not res.converged and res.reason == "maxiter"
        np.testing.assert_allclose(res.x, gold.sor_sweeps(A, b, omega, x0, k), rtol=1e-10,
                                   atol=1e-12)
        # the in-sweep residual is the exact residual of the returned iterate
        assert res.residual_norm == pytest.approx(np.linalg.norm(b - A @ res.x), rel=1e-12)


def test_sor_in_sweep_stopping_test_is_exact():
    A = gallery.random_diagonally_dominant(50, 0.1, seed=3)
    b = RNG.standard_normal(50)
    res = sor(A, b, 1.1, rtol=1e-6)
    assert res.converged
    A_d = A.toarray()
    # the first iterate meeting the rule, not one sweep early or late
    prev = gold.sor_sweeps(A_d, b, 1.1, np.zeros(50), res.iterations - 1)
    last = gold.sor_sweeps(A_d, b, 1.1, prev, 1)
    tol = 1e-6 * np.linalg.norm(b)
    assert np.linalg.norm(b - A_d @ prev) > tol >= np.linalg.norm(b - A_d @ last)


@pytest.mark.parametrize("sweeps", [1, 3])
def test_sor_omega_one_is_gauss_seidel(sweeps):
    pyamg = pytest.importorskip("pyamg")  # in the test extra, so present in CI
    A = gallery.laplacian_2d(7)
    b = RNG.standard_normal(49)
    x = np.zeros(49)
    pyamg.relaxation.relaxation.gauss_seidel(A.tocsr(), x, b, iterations=sweeps,
                                             sweep="forward")
    res = sor(A, b, 1.0, maxiter=sweeps, rtol=1e-300, atol=1e-300)
    np.testing.assert_allclose(res.x, x, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg_paper", "ssor_pcg_textbook"])
def test_omega_changes_iterates_in_every_mode(solver):
    A = gallery.laplacian_2d(6)
    b = RNG.standard_normal(36)
    runs = []
    for w in (1.0, 1.5):
        if solver == "sor":
            runs.append(sor(A, b, w, maxiter=2, rtol=1e-300, atol=1e-300).x)
        else:
            order = solver.split("_")[-1]
            runs.append(ssor_pcg(A, b, w, maxiter=2, rtol=1e-300, atol=1e-300, order=order).x)
    assert np.max(np.abs(runs[0] - runs[1])) > 1e-6


@pytest.mark.parametrize("name", list(CASES))
def test_cg_counts_match_scipy(name):
    A = CASES[name]
    b = RNG.standard_normal(A.shape[0])
    x_ref, count, info = gold.scipy_cg_count(A, b)
    res = cg(A, b)
    assert info == 0 and res.converged
    assert abs(res.iterations - count) <= 1
    np.testing.assert_allclose(res.x, x_ref, rtol=1e-6, atol=1e-8 * np.linalg.norm(x_ref))


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("order", ["paper", "textbook"])
@pytest.mark.parametrize("omega", [1.0, 1.5, 1.9])
def test_ssor_pcg_counts_match_scipy_with_dense_ssor(name, order, omega):
    A = CASES[name]
    b = RNG.standard_normal(A.shape[0])
    x_ref, count, info = gold.scipy_cg_count(A, b, M=gold.ssor_operator(A, omega, order))
    res = ssor_pcg(A, b, omega, order=order)
    assert info == 0 and res.converged
    assert abs(res.iterations - count) <= 1
    assert res.residual_norm <= 1e-8 * np.linalg.norm(b)


def test_ssor_pcg_iterates_match_dense_pcg():
    """Two PCG steps written out with the dense SSOR operator, compared iterate by iterate."""
    A = gallery.crank_nicolson_2d(8, 0.02)
    Ad = A.toarray()
    b = RNG.standard_normal(A.shape[0])
    omega = 1.3
    x = np.zeros_like(b)
    r = b.copy()
    z = gold.ssor_apply(Ad, r, omega)
    p = z.copy()
    for k in (1, 2, 3):
        q = Ad @ p
        alpha = (r @ z) / (p @ q)
        x = x + alpha * p
        r_new = r - alpha * q
        z_new = gold.ssor_apply(Ad, r_new, omega)
        p = z_new + (r_new @ z_new) / (r @ z) * p
        r, z = r_new, z_new
        res = ssor_pcg(A, b, omega, maxiter=k, rtol=1e-300, atol=1e-300)
        np.testing.assert_allclose(res.x, x, rtol=1e-9, atol=1e-12)


# -- Young's theory on the model Laplacian -------------------------------------

M_GRID = 16


def _contraction(omega, k1, k2):
    A = gallery.laplacian_2d(M_GRID)
    b = np.random.default_rng(5).standard_normal(M_GRID**2)
    r1 = sor(A, b, omega, maxiter=k1, rtol=1e-300, atol=1e-300).residual_norm
    r2 = sor(A, b, omega, maxiter=k2, rtol=1e-300, atol=1e-300).residual_norm
    return (r2 / r1) ** (1.0 / (k2 - k1))


def test_gauss_seidel_rate_is_rho_j_squared():
    rho_j = gallery.jacobi_radius_laplacian_2d(M_GRID)
    assert _contraction(1.0, 300, 600) == pytest.approx(rho_j**2, rel=2e-3)


def test_sor_rate_above_optimum_is_omega_minus_one():
    omega = 1.8  # > ω* ≈ 1.69 for m = 16
    assert omega > optimal_omega(gallery.laplacian_2d(M_GRID))
    # all eigenvalues have modulus ω − 1 but the matrix is defective: allow the k-factor
    assert _contraction(omega, 60, 120) == pytest.approx(omega - 1.0, rel=0.03)


def test_optimal_omega_matches_analytic_young():
    for m in (5, 10, 20):
        rho = gallery.jacobi_radius_laplacian_2d(m)
        assert jacobi_spectral_radius(gallery.laplacian_2d(m)) == pytest.approx(rho, rel=1e-12)
        assert optimal_omega(gallery.laplacian_2d(m)) == pytest.approx(
            2 / (1 + np.sqrt(1 - rho**2)), rel=1e-12)


def test_optimal_omega_sparse_eigensolver_path():
    m = 45  # n = 2025 > DENSE_LIMIT: ARPACK
    rho = gallery.jacobi_radius_laplacian_2d(m)
    assert optimal_omega(gallery.laplacian_2d(m)) == pytest.approx(
        2 / (1 + np.sqrt(1 - rho**2)), rel=1e-8)


def test_best_grid_omega_is_next_to_young():
    A = prepare(gallery.laplacian_2d(M_GRID))
    b = np.random.default_rng(2).standard_normal(M_GRID**2)
    grid = np.linspace(1.0, 1.95, 20)
    its = [sor(A, b, w).iterations for w in grid]
    assert abs(grid[int(np.argmin(its))] - optimal_omega(A)) <= grid[1] - grid[0] + 1e-12


def test_reference_figure_base_laplacian():
    """Paper's protocol: n = 100, mean over truncated-normal b: ω=1 ≈187, ω*≈37.5, 1.9≈178."""
    A = prepare(gallery.laplacian_2d(10))
    rng = np.random.default_rng(0)
    bs = []
    while len(bs) < 40:
        b = rng.standard_normal(100)
        if np.linalg.norm(b) <= 10.0:
            bs.append(b)
    mean = {w: np.mean([sor(A, b, w).iterations for b in bs]) for w in (1.0, 1.5604, 1.9)}
    assert mean[1.0] == pytest.approx(187, rel=0.05)
    assert mean[1.5604] == pytest.approx(37.5, rel=0.08)
    assert mean[1.9] == pytest.approx(178, rel=0.05)


def test_int64_indices_and_dense_input_agree():
    A = gallery.laplacian_2d(6)
    b = RNG.standard_normal(36)
    A64 = sp.csr_array((A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)),
                       shape=A.shape)
    r1 = sor(A, b, 1.4)
    r2 = sor(A.toarray(), b, 1.4)
    r3 = sor(A64, b, 1.4)
    assert r1.iterations == r2.iterations == r3.iterations
    np.testing.assert_array_equal(r1.x, r2.x)
