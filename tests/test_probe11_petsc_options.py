"""PETSc option values as a scientist writes them: NumPy scalars, lists.

Each test failed before its fix; solutions are checked against scipy's direct solve.
"""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

pytest.importorskip("petsc4py")

import bandit  # noqa: E402
import solvers  # noqa: E402
from solvers import gallery  # noqa: E402

A = gallery.laplacian_2d(10).tocsr()
B = np.linspace(1.0, 2.0, 100)
X = spla.spsolve(A.tocsc(), B)


@pytest.mark.parametrize("value", [np.float64(0.02), np.float32(0.25), np.int64(0)])
def test_numpy_scalars_are_numbers_to_petsc(value):
    # before: np.float64(0.02) reached PETSc as its NumPy 2 repr, the text
    # "np.float64(0.02)", and the solve was refused ("Input string np.float64(0.02) has no
    # numeric value")
    opts = {"pc_type": "gamg", "pc_gamg_threshold": value}
    r = solvers.cg(A, B, backend="petsc", options=opts)
    plain = solvers.cg(A, B, backend="petsc",
                       options={"pc_type": "gamg", "pc_gamg_threshold": value.item()})
    assert r.converged and r.iterations == plain.iterations
    assert np.array_equal(r.x, plain.x)
    assert np.linalg.norm(r.x - X) <= 1e-6 * np.linalg.norm(X)


@pytest.mark.parametrize("arm", [
    {"pc_type": "gamg", "pc_gamg_threshold": [0.1, 0.05]},
    {"method": "cg", "pc": "amg", "pc_gamg_threshold": np.array([0.1, 0.05])},
    {"method": "cg", "pc": "amg", "pc_gamg_threshold": {"level0": 0.1}},
])
def test_a_list_valued_option_of_an_arm_is_named(arm):
    # before: TypeError: unhashable type: 'list' (the arm's family is a dict key)
    with pytest.raises(ValueError, match=r"arm 0 .*the value of PETSc option "
                                         r"'pc_gamg_threshold' must be a number"):
        bandit.Tuner([arm, {"method": "cg", "pc": "jacobi"}], solver="cg", backend="petsc")


def test_an_array_option_as_petscs_comma_string_runs():
    # what the message suggests: PETSc's own syntax for an array option (per-level thresholds)
    with pytest.raises(ValueError, match=r"e\.g\. '0\.1,0\.05'"):
        solvers.cg(A, B, backend="petsc",
                   options={"pc_type": "gamg", "pc_gamg_threshold": [0.1, 0.05]})
    tuner = bandit.Tuner([{"pc_type": "gamg", "pc_gamg_threshold": "0.1,0.05"},
                          {"pc_type": "jacobi"}], solver="cg", backend="petsc")
    for _ in range(3):
        r = tuner.solve(A, B)
        assert r.converged and np.linalg.norm(r.x - X) <= 1e-6 * np.linalg.norm(X)
