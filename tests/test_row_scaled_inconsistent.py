"""Row-scaled singular systems: a Neumann or graph Laplacian whose rows were multiplied by
positive factors (cell volumes, a density): ``A = diag(d)·S``, ``A·1 = 0`` but ``1ᵀA ≠ 0``.
The null vector of ``Aᵀ`` is ``1/d``.  An inconsistent right-hand side had not been
recognised (only ``1ᵀA = 0`` was): every arm ran to ``maxiter`` (20 × 10,000 sweeps) and the
round said only "every arm failed".  Checked against numpy's least squares."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers.spectral import null_floor, residual_floor


def neumann_2d(m):
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1]).tolil()
    T[0, 0] = T[-1, -1] = 1
    identity = sp.identity(m)
    return sp.csr_matrix(sp.kron(T, identity) + sp.kron(identity, T))


def row_scaled(m=10, seed=0, blocks=1):
    S = sp.block_diag([neumann_2d(m)] * blocks)
    d = np.random.default_rng(seed).uniform(0.2, 5.0, S.shape[0])
    return sp.csr_matrix(sp.diags(d) @ S), d


def least_residual(A, b):
    x = np.linalg.lstsq(A.toarray(), b, rcond=None)[0]
    return np.linalg.norm(b - A @ x)


@pytest.mark.parametrize("blocks", [1, 2])
def test_the_floor_of_a_row_scaled_laplacian_is_the_least_squares_residual(blocks):
    A, d = row_scaled(blocks=blocks)
    assert abs(np.ones(A.shape[0]) @ A).max() > 1e-3  # the columns do not sum to zero
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    floor, comps, kind = null_floor(A, b)
    assert (comps, kind) == (blocks, "rows")
    assert floor == pytest.approx(least_residual(A, b), rel=1e-9)
    assert residual_floor(A, b) == (floor, comps)
    # consistent: b/d has mean zero on each component
    n = A.shape[0] // blocks
    c = (b / d).reshape(blocks, n)
    c = d * (c - c.mean(axis=1, keepdims=True)).ravel()
    assert least_residual(A, c) < 1e-10 * np.linalg.norm(c)
    assert null_floor(A, c)[0] < 1e-13 * np.linalg.norm(c)


def test_matrices_that_are_not_row_scaled_symmetric_know_no_floor():
    A, _ = row_scaled()
    b = np.ones(A.shape[0])
    n = A.shape[0]
    # zero row sums, but not diag(d)·S: upwind convection–diffusion with zero row sums
    C = sp.diags([-2.0 * np.ones(n - 1), 2.0 * np.ones(n), 0 * np.ones(n - 1)], [-1, 0, 1])
    U = sp.csr_matrix(neumann_2d(10) + C)
    U = sp.csr_matrix(U - sp.diags(U @ np.ones(n)))
    assert abs(U @ np.ones(n)).max() < 1e-12
    assert np.linalg.matrix_rank(U.toarray()) == n - 1
    # its left null vector is not 1/d of any d read off the ratios
    assert null_floor(U, b) == (0.0, 0, "")
    assert null_floor(A + sp.identity(n), b) == (0.0, 0, "")  # regular
    # a pattern that is not symmetric
    N = sp.csr_matrix(np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0], [-1.0, 0.0, 1.0]]))
    assert null_floor(N.multiply(np.array([[1.0], [2.0], [3.0]])).tocsr(), np.ones(3))[2] == ""


def test_an_inconsistent_row_scaled_system_is_refused_after_one_attempt():
    # (SOR: the CG-type solvers refuse a nonsymmetric matrix)
    A, d = row_scaled()
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    floor = least_residual(A, b)
    tuner = bandit.Tuner(solver="sor", maxiter=3000)
    with pytest.raises(ValueError, match=r"inconsistent.*diag\(d\)·S") as err:
        tuner.solve(A, b)
    assert f"{floor:.3e}" in str(err.value)
    assert len(tuner.history["arm"]) == 0 and tuner.policy.t == 0
    # the consistent right-hand side the message describes converges
    c = d * (b / d - np.mean(b / d))
    res = tuner.solve(A, c)
    assert res.converged
    assert np.linalg.norm(c - A @ res.x) <= 1e-8 * np.linalg.norm(c) * (1 + 1e-9)


def test_a_singular_matrix_without_a_known_null_vector_says_likely_inconsistent():
    # zero row sums, random unequal weights each way on a grid's edges (convection in a
    # varying flow): not diag(d)·S, so no floor can be proven, and every arm runs to maxiter;
    # the failure now names the likely cause
    G = sp.triu(neumann_2d(8), k=1).tocoo()
    rng = np.random.default_rng(2)
    n = 64
    W = sp.csr_matrix((np.r_[rng.uniform(0.5, 2, G.nnz), rng.uniform(0.5, 2, G.nnz)],
                       (np.r_[G.row, G.col], np.r_[G.col, G.row])), shape=(n, n))
    U = sp.csr_matrix(sp.diags(W @ np.ones(n)) - W)
    assert np.linalg.matrix_rank(U.toarray()) == n - 1 and null_floor(U, np.ones(n))[0] == 0
    b = np.ones(n)
    assert least_residual(U, b) > 1e-3  # inconsistent (numpy's least squares)
    res = bandit.Tuner(solver="sor", maxiter=200).solve(U, b)
    assert not res.converged and res.info["all_arms_failed"]
    assert "likely outside A's range" in res.info["failure"]
    # a regular system that fails (too few sweeps) says nothing of it
    R = sp.csr_matrix(U + sp.identity(n))
    res = bandit.Tuner(solver="sor", maxiter=2).solve(R, b)
    assert not res.converged and "likely" not in res.info["failure"]


def test_the_floor_refuses_a_right_hand_side_it_cannot_judge():
    # before: a b of another length or with a NaN gave a floor of 0 ("consistent")
    A, _ = row_scaled()
    n = A.shape[0]
    with pytest.raises(ValueError, match="b has 3 entries, expected 100"):
        null_floor(A, np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        residual_floor(neumann_2d(10), np.r_[np.nan, np.ones(n - 1)])
