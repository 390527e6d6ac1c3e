"""SSOR-PCG on the symmetric positive definite 10 × 10 model Laplacian with a tolerance no
double-precision vector meets (``rtol=1e-300``) had stopped as ``"breakdown"`` — "matrix or
preconditioner not SPD" — for ω = 1 and 1.3–1.55: once the residual is rounding noise,
``pᵀAp`` or ``rᵀz`` may round to ``<= 0``.  A ``Tuner`` then told the user the matrix was not
positive definite.  A CG-type breakdown at the rounding level of the system
(``‖b − A x‖ <= 100·u·‖|b| + |A| |x|‖``, SOR's own test) is now reported as
``"stagnated"`` (same iterations, same best iterate); a breakdown on an indefinite matrix,
far above that level, stays a breakdown."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from solvers import gallery

A = gallery.laplacian_2d(10)
B = np.ones(100)
U = 2.0 ** -53


def rounding_level(A, x, b):
    return np.linalg.norm(np.abs(b) + abs(A) @ np.abs(x))


@pytest.mark.parametrize("omega", [1.0, 1.3, 1.35, 1.4, 1.45, 1.55])
def test_ssor_pcg_at_the_floor_is_stagnated_not_broken_down(omega):
    assert np.linalg.eigvalsh(A.toarray())[0] > 0  # SPD
    res = solvers.ssor_pcg(A, B, omega, rtol=1e-300)
    assert res.reason == "stagnated" and not res.converged
    assert res.iterations == res.info["best_iteration"]  # the iterate it stopped on
    assert res.residual_norm <= 100 * U * rounding_level(A, res.x, B)
    np.testing.assert_allclose(res.x, np.linalg.solve(A.toarray(), B), rtol=1e-12)


def test_a_tuner_does_not_call_the_laplacian_indefinite():
    tuner = bandit.Tuner([1.0, 1.3, 1.4], solver="ssor_pcg", rtol=1e-300, maxiter=300, seed=0)
    res = tuner.solve(A, B)
    assert res.reason == "stagnated" and not res.converged


@pytest.mark.parametrize("solve", [lambda M, b: solvers.cg(M, b),
                                   lambda M, b: solvers.pcg(M, b, "none")])
def test_an_indefinite_matrix_still_breaks_down(solve):
    M = sp.csr_array(A - 1.0 * sp.eye_array(100))
    res = solve(M, B)
    assert res.reason == "breakdown"
    assert res.residual_norm > 1e6 * U * rounding_level(M, res.x, B)
