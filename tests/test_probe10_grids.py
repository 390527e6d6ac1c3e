"""Very large ω grids: the default SOR learner over 2,000 ω.

Failed before its fix: the prior's shared error was decomposed as a K × K matrix
(``numpy.linalg.eigh``), 10–40 s on the first solve of a 2,000-ω grid, although its rank is
at most the quadrature's 9 nodes.
"""
import numpy as np
import pytest

import bandit
import bandit._joint_rules as rules
import solvers
from solvers import gallery


def test_the_shared_error_of_a_large_grid_is_decomposed_through_its_nodes(monkeypatch):
    real = np.linalg.eigh

    def small_only(M, *a, **k):  # a K × K decomposition of a large grid is the defect
        assert M.shape[0] <= rules._EIGEN_DENSE_ARMS, f"eigh of a {M.shape} matrix"
        return real(M, *a, **k)

    monkeypatch.setattr(rules.np.linalg, "eigh", small_only)
    A, b = gallery.laplacian_2d(12), np.ones(144)
    grid = np.linspace(1.0, 1.95, 2000)
    t = bandit.Tuner(list(grid), solver="sor")
    for _ in range(3):
        r = t.solve(A, b)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * 12 * 1.0001
    # its prior starts it near Young's ω: the first solve within 15 % of the grid's best
    # (every 20th ω run as the reference), every solve well below Gauss–Seidel's cost
    ref = min(solvers.sor(A, b, w).iterations for w in grid[::20])
    assert t.history["iterations"][0] <= 1.15 * ref
    assert t.history["iterations"].max() < solvers.sor(A, b, 1.0).iterations


@pytest.mark.parametrize("K", [80, 300])
def test_both_decompositions_give_the_same_covariance(K):
    rng = np.random.default_rng(K)
    wq = rules._HERMITE[1]
    E = rng.standard_normal((wq.size, K)) * np.linspace(0.1, 3.0, K)
    E0 = E - wq @ E
    lam, V = rules._shared_error_eigen(E0, wq)
    ref = (E0.T * wq) @ E0
    np.testing.assert_allclose((V * lam) @ V.T, ref, atol=1e-12 * np.abs(ref).max())
    big = np.linalg.eigvalsh(ref)[::-1][:lam.size]
    np.testing.assert_allclose(np.sort(lam)[::-1], big, atol=1e-10 * big.max())
