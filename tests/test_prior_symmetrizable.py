"""SOR's theory prior for non-symmetric matrices that a positive diagonal similarity makes
symmetric (``A = P C P⁻¹``): the Jacobi radius it uses and its best ω against the dense
eigenvalues of ``A``'s own Jacobi and SOR iteration matrices; no prior for any other
non-symmetric matrix; symmetric matrices exactly as before.
"""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers._spectral_reduce as reduce_
from bandit.prior import _symmetrized_estimate, theory_costs
from solvers import gallery
from solvers.spectral import estimate_spectrum

GRID = np.round(np.arange(1.0, 1.96, 0.01), 2)


def tridiag(n, lower, diag, upper):
    return sp.csr_array(sp.diags_array([np.broadcast_to(lower, (n - 1,)), np.full(n, diag),
                                        np.broadcast_to(upper, (n - 1,))], offsets=[-1, 0, 1]))


def upwind_2d(m, p, q):
    """``−Δu`` plus upwind convection in x and y on an m × m grid, times h²: ``p`` and ``q``
    are ``Pe·h·w_x`` and ``Pe·h·w_y``, numbers or m × m arrays (node ``(i, j)``: row i, column
    j; x along j)."""
    n = m * m
    p, q = (np.broadcast_to(np.asarray(v, dtype=float), (m, m)).ravel() for v in (p, q))
    k = np.arange(n)
    j, i = k % m, k // m
    rows, cols, vals = [k], [k], [4.0 + p + q]
    for mask, shift, value in ((j > 0, -1, -1.0 - p), (j < m - 1, 1, -np.ones(n)),
                               (i > 0, -m, -1.0 - q), (i < m - 1, m, -np.ones(n))):
        rows.append(k[mask])
        cols.append(k[mask] + shift)
        vals.append(value[mask])
    return sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(n, n))


def m_matrix(m, seed):
    """A 5-point graph Laplacian of random positive edge weights plus a random positive
    diagonal on an m × m grid: an SPD M-matrix."""
    rng = np.random.default_rng(seed)
    n = m * m
    k = np.arange(n).reshape(m, m)
    i = np.concatenate([k[:, :-1].ravel(), k[:-1, :].ravel()])
    j = np.concatenate([k[:, 1:].ravel(), k[1:, :].ravel()])
    W = sp.coo_array((rng.uniform(0.1, 10.0, i.size), (i, j)), shape=(n, n)).tocsr()
    W = W + W.T
    return sp.csr_array(sp.diags_array(W.sum(axis=1) + rng.uniform(0.01, 1.0, n)) - W)


def similar_m_matrix(m, seed):
    """``P M P⁻¹`` with ``P`` a random positive diagonal."""
    P = np.random.default_rng(seed + 100).uniform(0.2, 5.0, m * m)
    return sp.csr_array(sp.diags_array(P) @ m_matrix(m, seed) @ sp.diags_array(1.0 / P))


CASES = {
    "upwind 1-D, p = 0.5": lambda: tridiag(30, -1.5, 2.5, -1.0),
    # (κ(P) = 11^5.5 here: on 30 rows, 11^14.5, the dense eigenvalues of I − D⁻¹A were off by
    # 4e-7 from the exact radius, which the estimate of C matched to 1e-15)
    "upwind 1-D, p = 10": lambda: tridiag(12, -11.0, 12.0, -1.0),
    "central 1-D, cell Péclet 1.2": lambda: tridiag(12, -1.6, 2.0, -0.4),
    "random tridiagonal (a tree: no cycle)":
        lambda: tridiag(30, -np.random.default_rng(1).uniform(0.1, 3.0, 29), 4.0,
                        -np.random.default_rng(2).uniform(0.1, 3.0, 29)),
    "upwind 2-D, Péclet 1": lambda: upwind_2d(6, 0.02, 0.01),
    "upwind 2-D, Péclet 30": lambda: upwind_2d(6, 0.5, 0.25),
    "upwind 2-D, Péclet 300": lambda: upwind_2d(6, 5.0, 2.0),
    # w_x varying in x only and w_y in y only: the ratios still cancel round every cell
    "upwind 2-D, each wind component varying along itself":
        lambda: upwind_2d(6, np.linspace(0.0, 2.0, 6)[None, :], np.linspace(0.5, 0.0, 6)[:, None]),
    "P M P⁻¹, M an SPD M-matrix": lambda: similar_m_matrix(6, 0),
    "P M P⁻¹, another seed": lambda: similar_m_matrix(6, 3),
    "upwind 2-D times −1": lambda: -upwind_2d(6, 0.5, 0.25),
}


def dense_jacobi_radius(A):
    A = A.toarray()
    return float(np.abs(np.linalg.eigvals(np.eye(len(A)) - A / np.diag(A)[:, None])).max())


def dense_sor_radius(A, omega):
    A = A.toarray()
    D, L, U = np.diag(np.diag(A)), -np.tril(A, -1), -np.triu(A, 1)
    T = np.linalg.solve(D - omega * L, (1.0 - omega) * D + omega * U)
    return float(np.abs(np.linalg.eigvals(T)).max())


def young(rho):
    return 2.0 / (1.0 + np.sqrt(1.0 - rho * rho))


@pytest.mark.parametrize("name", list(CASES))
def test_the_radius_and_best_omega_are_those_of_the_dense_jacobi_matrix(name):
    A = CASES[name]()
    assert np.abs(A - A.T).max() > 1e-3  # not symmetric
    rho = dense_jacobi_radius(A)
    est = _symmetrized_estimate(A, 40)
    # n ≤ 36 here: the 40 Lanczos steps span the whole space, the Ritz values are eigenvalues
    assert est.rho_jacobi == pytest.approx(rho, rel=1e-9, abs=1e-12)
    c = theory_costs(A, GRID, "sor")
    best = GRID[int(np.argmin(c))]
    # the curve's minimum: the grid point just above Young's ω* (see bandit.prior)
    assert abs(best - young(rho)) <= 0.01 + 1e-12
    assert best >= young(rho) - 1e-3
    assert theory_costs(A, GRID, "ssor_pcg") is None  # CG needs a symmetric matrix


@pytest.mark.parametrize("name", [k for k in CASES if "tree" not in k and "central" not in k])
def test_the_curve_is_the_dense_sor_iteration_matrix_rate(name):
    # consistently ordered (tridiagonal, 5-point in natural order): Young's rate is exact
    # for A itself, whose SOR iteration matrix is similar to the symmetric form's
    A = CASES[name]()
    w_star = young(dense_jacobi_radius(A))
    omegas = [w for w in (1.0, 1.1, 1.2, w_star - 0.1, w_star + 0.05, w_star + 0.2)
              if 0.9 < w < 1.96 and abs(w - w_star) >= 0.05]
    c = theory_costs(A, omegas, "sor", rtol=1e-8)
    ref = [np.log(1e8) / -np.log(dense_sor_radius(A, w)) for w in omegas]
    np.testing.assert_allclose(c, ref, rtol=1e-6)


def _with(A, i, j, value):
    B = sp.lil_array(A)
    B[i, j] = value
    return sp.csr_array(B)


def not_symmetrizable():
    A = upwind_2d(6, 0.5, 0.25)  # a grid: every edge lies on a cycle
    # a turning wind: w_x grows with y, w_y with x (a cell's ratios no longer cancel)
    turning = upwind_2d(6, np.linspace(0.0, 2.0, 6)[:, None], np.linspace(0.0, 1.0, 6)[None, :])
    return {
        "one pair perturbed: a cycle's product 1.01": _with(A, 7, 8, 1.01 * A[7, 8]),
        "a cycle's product 1 + 1e-8": _with(A, 7, 8, (1 + 1e-8) * A[7, 8]),
        "an entry without its partner": _with(A, 8, 7, 0.0),
        "a pair of opposite signs": _with(A, 8, 7, -A[8, 7]),
        "central differences, cell Péclet 2.4": tridiag(30, -2.2, 2.0, 0.2),
        "a turning wind": turning,
    }


@pytest.mark.parametrize("name", list(not_symmetrizable()))
def test_any_other_non_symmetric_matrix_gets_no_prior(name):
    A = not_symmetrizable()[name]
    assert theory_costs(A, GRID, "sor") is None
    assert _symmetrized_estimate(A, 40) is None


def test_rounding_of_the_cycle_products_is_accepted():
    # 1e-13 in one entry (rounding of an assembly) is within the 1e-10 of the logarithms
    A = upwind_2d(6, 0.5, 0.25)
    B = _with(A, 7, 8, (1 + 1e-13) * A[7, 8])
    np.testing.assert_allclose(theory_costs(B, GRID, "sor"), theory_costs(A, GRID, "sor"),
                               rtol=1e-9)


@pytest.mark.parametrize("transpose", [False, True])
def test_rows_or_columns_summing_to_zero_give_no_prior(transpose):
    # a singular upwind matrix (A·1 = 0, or Aᵀ·1 = 0): C's null vector is P⁻¹·1 (P·1), which
    # the estimate does not deflate; its μ_min had put Young's ω near 2
    m, p = 40, 0.5
    off = upwind_2d(m, p, p)
    off.setdiag(0.0)
    off.eliminate_zeros()
    A = sp.csr_array(sp.diags_array(-np.asarray(off.sum(axis=1)).ravel()) + off)
    A = sp.csr_array(A.T) if transpose else A
    assert np.abs(A @ np.ones(m * m) if not transpose else np.ones(m * m) @ A).max() < 1e-12
    assert theory_costs(A, GRID, "sor") is None


def _spd(seed):
    rng = np.random.default_rng(seed)
    B = sp.random_array((60, 60), density=0.1, random_state=rng)
    return sp.csr_array(B @ B.T + sp.identity(60) * 2.0)


SYMMETRIC = {
    "2-D Laplacian": lambda: gallery.laplacian_2d(10),
    "−(2-D Laplacian)": lambda: -gallery.laplacian_2d(10),
    "random SPD": lambda: _spd(0),
    "random-coefficient M-matrix": lambda: m_matrix(8, 1),
    "1-D Laplacian": lambda: gallery.laplacian_1d(50),
    "anisotropic 2-D": lambda: gallery.anisotropic_2d(12, 0.01),
}


@pytest.mark.parametrize("name", list(SYMMETRIC))
@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
def test_symmetric_matrices_take_the_symmetric_path_only(name, solver, monkeypatch):
    A = SYMMETRIC[name]()
    before = theory_costs(estimate_spectrum(A, 40), GRID, solver, shift=[0.0, -0.1, 0.1])

    def refuse(*args, **kwargs):
        raise AssertionError("a symmetric matrix was symmetrized")

    monkeypatch.setattr(reduce_, "_symmetrized", refuse)
    now = theory_costs(A, GRID, solver, shift=[0.0, -0.1, 0.1])
    assert np.array_equal(now, before)  # bit for bit: the estimate of A itself


@pytest.mark.parametrize("A", [np.array([[1.0, 2.0], [2.0, 1.0]]),          # indefinite
                               np.array([[2.0, -1.0], [-1.0, 0.0]]),         # a zero diagonal
                               np.array([[2.0, -1.0], [-1.0, -2.0]])])       # mixed signs
def test_a_refused_symmetric_matrix_is_not_symmetrized(A, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a symmetric matrix was symmetrized")

    monkeypatch.setattr(reduce_, "_symmetrized", refuse)
    assert theory_costs(sp.csr_array(A), GRID, "sor") is None


@pytest.mark.parametrize("n, a, b, c", [(30, 11.0, 12.0, 1.0), (40, 1.5, 2.5, 1.0),
                                        (30, 1.9, 2.0, 0.1)])
def test_a_tridiagonal_toeplitz_radius_is_the_analytic_one(n, a, b, c):
    # tridiag(−a, b, −c), ac > 0: ρ_J = 2√(ac) cos(π/(n + 1))/b exactly — here also where
    # κ(P) = (a/c)^((n−1)/2) (up to 19^14.5) leaves the dense eigenvalues of I − D⁻¹A wrong
    A = tridiag(n, -a, b, -c)
    rho = 2.0 * np.sqrt(a * c) * np.cos(np.pi / (n + 1)) / b
    assert _symmetrized_estimate(A, 40).rho_jacobi == pytest.approx(rho, rel=1e-12)


def test_convdiff2d_gets_the_prior_of_its_dense_radius():
    # the study's generator (upwind, wind at 120°) on a 10 × 10 grid, its first and its
    # largest Péclet number: the test's assembly is the same matrix
    import math

    from experiments._problems_unseen2 import convdiff_matrix

    for pe in (1.0, 300.0):
        A = convdiff_matrix(10, pe, 2 * math.pi / 3)
        h = pe / 10
        p, q = -math.cos(2 * math.pi / 3) * h, math.sin(2 * math.pi / 3) * h
        # the wind's x part points to −x: the mirror image in x of upwind_2d(9, |p|, q)
        flip = np.arange(81).reshape(9, 9)[:, ::-1].ravel()
        ref = upwind_2d(9, p, q)[flip][:, flip]
        assert abs(A - ref).max() < 1e-14
        rho = dense_jacobi_radius(A)
        best = GRID[int(np.argmin(theory_costs(A, GRID, "sor")))]
        assert young(rho) - 1e-3 <= best <= young(rho) + 0.01


def test_the_default_sor_tuner_starts_at_the_curves_best_on_convdiff2d():
    # its first solve had been Gauss–Seidel (no prior for a non-symmetric matrix): 18 243
    # sweeps on convdiff2d's first system, where ω = 1.95 takes 407
    import math

    from bandit import DEFAULT_ARMS, Tuner
    from experiments._problems_unseen2 import convdiff_matrix

    A = convdiff_matrix(30, 1.0, 2 * math.pi / 3)
    best = DEFAULT_ARMS[int(np.argmin(theory_costs(A, DEFAULT_ARMS, "sor")))]
    assert best >= 1.8
    r = Tuner(solver="sor").solve(A, np.ones(A.shape[0]))
    assert r.converged and r.omega == best
