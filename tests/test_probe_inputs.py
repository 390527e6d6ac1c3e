"""Inputs a scientist's script passes that the other input tests do not: arrays of a sparse
matrix assigned after construction with the wrong number of dimensions, several right-hand
sides at once, ``b=None``, and a guard so large that it caps nothing."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery, sor

A = sp.csr_matrix(gallery.laplacian_2d(6))
N = A.shape[0]
B = np.ones(N)


def _csr_with_column_data():
    M = A.copy()
    M.data = M.data.reshape(-1, 1)  # as `M.data = values[:, None]`
    return M


def _csc_with_column_data():
    M = A.tocsc()
    M.data = M.data.reshape(-1, 1)
    return M


def _bsr_with_4d_data():
    M = A.tobsr(blocksize=(2, 2))
    M.data = M.data[..., None]
    return M


def _dia_with_one_diagonal_of_data():
    M = A.todia()
    M.data = M.data[0]  # one diagonal's values for five offsets
    return M


@pytest.mark.parametrize("make, message", [
    (_csr_with_column_data, "A is not a valid CSR matrix: data has shape (156, 1), expected a "
                            "vector"),
    (_csc_with_column_data, "A is not a valid CSC matrix: data has shape (156, 1), expected a "
                            "vector"),
    (_bsr_with_4d_data, "A is not a valid BSR matrix: data has shape (72, 2, 2, 1), expected "
                        "(blocks, r, c)"),
    (_dia_with_one_diagonal_of_data, "A is not a valid DIA matrix: data has shape (36,) and "
                                     "offsets (5,), expected (k, m) and (k,)"),
])
def test_values_of_the_wrong_shape_are_named(make, message):
    # had been: a Numba TypingError (CSR), "too many values to unpack" (BSR), an IndexError
    # (DIA), and a CSC matrix solved as whatever scipy's conversion made of it
    with pytest.raises(ValueError) as err:
        sor(make(), B, 1.5)
    assert str(err.value) == message
    tuner = bandit.Tuner(solver="sor")
    tuner.solve(A, B)  # the next call tries to refresh the working copy in place
    with pytest.raises(ValueError) as err:
        tuner.solve(make(), B)
    assert str(err.value) == message
    assert len(tuner.history["arm"]) == 1


@pytest.mark.parametrize("name", ["b", "x0"])
def test_several_right_hand_sides_are_refused_as_such(name):
    # (n, k): k systems at once; had been "b has shape (36, 2), expected (36,)", as for a
    # vector of the wrong length
    kwargs = {"b": B, "x0": None, name: np.ones((N, 2))}
    message = (f"{name} has shape (36, 2): 2 columns, while the solvers take one system at a "
               f"time (as scipy's cg does); solve for each column {name}[:, j] in turn")
    with pytest.raises(ValueError) as err:
        sor(A, kwargs["b"], 1.5, x0=kwargs["x0"])
    assert str(err.value) == message
    tuner = bandit.Tuner(solver="ssor_pcg")
    with pytest.raises(ValueError) as err:
        tuner.solve(A, kwargs["b"], x0=kwargs["x0"])
    assert str(err.value) == message and len(tuner.history["arm"]) == 0


def test_none_as_the_right_hand_side_is_named():
    with pytest.raises(ValueError) as err:  # had been "b must have a real numeric dtype, got object"
        sor(A, None, 1.5)
    assert str(err.value) == "b is None; the solvers take a vector of shape (36,)"


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg", "cg"])
def test_none_as_the_right_hand_side_on_petsc_is_refused(solver):
    # had returned converged=True after 0 iterations (the solve of A x = 0)
    pytest.importorskip("petsc4py")
    import solvers

    args = (1.5,) if solver != "cg" else ()
    with pytest.raises(ValueError) as err:
        solvers.SOLVERS[solver](A, None, *args, backend="petsc")
    assert str(err.value) == "b is None; the solvers take a vector of shape (36,)"


@pytest.mark.parametrize("cost", ["iterations", "work"])
def test_a_huge_finite_guard_caps_nothing(cost):
    # guard may be any finite number >= 1: guard x the leader's predicted cost overflowed to
    # inf, and math.ceil(inf) raised OverflowError on every solve once a leader existed
    if cost == "iterations":
        tuner = bandit.Tuner(solver="sor", guard=1e308)
    else:
        policy = bandit.JointCB(bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"]),
                                seed=1)
        tuner = bandit.Tuner(policy, cost="work", guard=1e308)
    for k in range(8):
        M = A * (1 + k)
        res = tuner.solve(M, B)
        assert res.converged and np.linalg.norm(B - M @ res.x) <= 1e-8 * np.linalg.norm(B)
    budgets = np.asarray(tuner.history["budget"])
    if cost == "iterations":  # (configuration arms of another family still get 1.5 x)
        assert np.all(budgets == tuner.maxiter)  # a cap beyond maxiter is maxiter


def test_a_huge_context_dim_is_refused_at_once():
    # bins ** context_dim was computed exactly: 10^7 numbers made a 7-million-digit integer
    # that could not be printed in the message ("Exceeds the limit (4300 digits) for integer
    # string conversion"), 2^70 numbers hung in the power
    with pytest.raises(ValueError, match=r"a context of 10000000 numbers needs 5\^10000000 = "
                                         r"about 10\^6989700 cells"):
        bandit.TsallisINFCB(np.linspace(1, 1.9, 5), context_dim=10 ** 7)
    import subprocess
    import sys
    code = ("import numpy as np, bandit\n"
            "try:\n"
            "    bandit.TsallisINFCB(np.linspace(1, 1.9, 5), context_dim=2 ** 70)\n"
            "except ValueError as exc:\n"
            "    print(str(exc)[:60])\n")
    import os
    from pathlib import Path
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.stdout.startswith("TsallisINFCB: a context of 1180591620717411303424 numbers")


def test_a_huge_context_dim_of_hat_features_is_refused_at_once():
    # SplineCB's m ** context_dim features were computed exactly: 2^70 hung in the power
    import os
    import subprocess
    import sys
    from pathlib import Path
    code = ("import numpy as np, bandit\n"
            "try:\n"
            "    bandit.SplineCB(np.linspace(1, 1.9, 5), context_dim=2 ** 70)\n"
            "except ValueError as exc:\n"
            "    print(exc)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.stdout.startswith("hat features (m = 6): a context of 1180591620717411303424 "
                                 "numbers needs more than 10^19 features"), out.stdout
