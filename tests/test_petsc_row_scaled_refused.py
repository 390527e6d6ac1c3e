"""The PETSc backend refuses an inconsistent row-scaled singular system as the Numba path
does (``A = diag(d)·S``, ``S`` a Neumann Laplacian: ``Aᵀ d⁻¹ = 0``,
:func:`solvers.spectral.null_floor`).  It had known only ``1ᵀA = 0``: every arm ran to
``maxiter`` (20 × 3000 sweeps) and the round said only "every arm failed".  The floor is
checked against numpy's least squares, on one rank and on two."""
import numpy as np
import pytest

import bandit
from solvers.spectral import null_floor
from test_petsc_comm import rank_reports  # the launch settings of the suite's MPI tests
from test_row_scaled_inconsistent import least_residual, row_scaled

pytestmark = pytest.mark.petsc


def test_the_petsc_floor_of_a_row_scaled_laplacian_is_the_least_squares_residual():
    P = pytest.importorskip("solvers.petsc")
    A, d = row_scaled(blocks=2)
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    op = P.prepare(A)
    vec = op.vector(b, "b")
    try:
        floor, comps, kind = null_floor(op, vec)
    finally:
        vec.destroy()
    assert (comps, kind) == (2, "rows")
    assert floor == pytest.approx(least_residual(A, b), rel=1e-9)
    assert null_floor(op, b) == (floor, comps, kind)  # b as a numpy vector
    # a regular matrix, and one whose rows do not sum to zero, know nothing
    op2 = P.prepare(A + A.diagonal().max() * np.eye(A.shape[0]))
    assert null_floor(op2, b) == (0.0, 0, "")


def test_an_inconsistent_row_scaled_system_is_refused_on_the_petsc_backend():
    pytest.importorskip("solvers.petsc")
    A, d = row_scaled()
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    tuner = bandit.Tuner(solver="sor", backend="petsc", maxiter=3000)
    with pytest.raises(ValueError, match=r"inconsistent.*diag\(d\)·S") as err:
        tuner.solve(A, b)
    assert f"{least_residual(A, b):.3e}" in str(err.value)
    assert len(tuner.history["arm"]) == 0 and tuner.policy.t == 0
    c = d * (b / d - np.mean(b / d))
    res = tuner.solve(A, c)
    assert res.converged
    assert np.linalg.norm(c - A @ res.x) <= 1e-8 * np.linalg.norm(c) * (1 + 1e-9)


@pytest.mark.mpi
def test_an_inconsistent_row_scaled_system_is_refused_on_two_ranks(tmp_path):
    pytest.importorskip("solvers.petsc")
    r0, r1 = rank_reports("mpi_row_scaled.py", tmp_path, timeout=300)
    A, d = row_scaled()
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    assert r0 == r1  # rank 0 decides, every rank gets the same
    assert r0["floor"][1:] == [1, "rows"] and r0["floor"] == r0["floor_numpy_b"]
    assert r0["floor"][0] == pytest.approx(least_residual(A, b), rel=1e-9)
    assert r0["refused"] and "A x = b is inconsistent" in r0["refused"]
    c = d * (b / d - np.mean(b / d))
    assert r0["consistent"][0] and r0["consistent"][1] <= 1e-8 * np.linalg.norm(c) * (1 + 1e-9)
    assert r0["rounds"] == 1  # the refused round recorded nothing
