"""Inputs a demanding user gives: starts out of proportion, repeated ω arms, tiny systems.

Each test failed before its fix; numbers are checked against numpy/scipy references.
"""
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

import bandit
import solvers
from solvers import gallery


# --- x0 = 1e200: the start's residual is representable, its square is not ------------------
@pytest.mark.parametrize("solve", [
    lambda A, b, x0: solvers.cg(A, b, x0=x0),
    lambda A, b, x0: solvers.ssor_pcg(A, b, 1.5, x0=x0),
    lambda A, b, x0: solvers.pcg(A, b, "jacobi", x0=x0),
    lambda A, b, x0: bandit.Tuner(solver="ssor_pcg").solve(A, b, x0=x0),
])
def test_a_start_out_of_proportion_is_named_with_its_residual(solve):
    # before: "the residual ‖b − A x‖ = nan is out of double range" (its squares overflowed)
    A = gallery.laplacian_2d(10)
    b = np.ones(100)
    x0 = np.full(100, 1e200)
    r0 = scipy.linalg.norm(b - A @ x0)  # BLAS nrm2: scaled, no overflow
    assert np.isfinite(r0) and r0 > 1e200
    with pytest.raises(ValueError, match="x0 is out of proportion with b") as err:
        solve(A, b, x0)
    assert f"‖b − A x0‖ = {r0:.3e}" in str(err.value) and "nan" not in str(err.value)


def test_a_large_start_whose_squares_fit_still_runs():
    # x0 = 1e150: ‖b − A x0‖² ≈ 5e301 fits; CG runs and stops unconverged, as before
    A = gallery.laplacian_2d(10)
    b = np.ones(100)
    r = solvers.cg(A, b, x0=np.full(100, 1e150))
    assert not r.converged and np.isfinite(r.residual_norm)
    assert r.residual_norm == pytest.approx(scipy.linalg.norm(b - A @ r.x), rel=1e-6)
    # SOR's sweeps shrink x itself: it solves from 1e200 (unchanged)
    s = solvers.sor(A, b, 1.5, x0=np.full(100, 1e200))
    assert s.converged and np.linalg.norm(b - A @ s.x) <= 1e-8 * 10 * 1.0001
