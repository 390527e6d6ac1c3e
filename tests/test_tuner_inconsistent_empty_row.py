"""A Tuner whose every arm fails on a graph Laplacian with an isolated vertex (an empty row
``i`` of ``A``) and ``b = 1`` says that ``A x = b`` has no solution because row ``i`` holds no
entry while ``b[i] = 1``, as a failed CG solve's ``info["cause"]`` does.  The isolated vertex
is also a connected component whose column sums vanish, and the refusal had described the
system as "b's sum over the rows of each of the 2 connected components", naming neither
the row nor the fix.  A Laplacian without an empty row keeps its component message."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import bandit

try:
    import petsc4py  # noqa: F401
    BACKENDS = ["numba", "petsc"]
except ImportError:  # pragma: no cover - the petsc extra is not installed
    BACKENDS = ["numba"]


def path_laplacian(n_path, isolated):
    """The graph Laplacian of a path of ``n_path`` vertices plus ``isolated`` vertices with
    no edge (their rows and columns of ``A`` are empty)."""
    n = n_path + isolated
    main = np.r_[1.0, np.full(n_path - 2, 2.0), 1.0, np.zeros(isolated)]
    off = np.r_[np.full(n_path - 1, -1.0), np.zeros(isolated)]
    A = sp.diags([off, main, off], [-1, 0, 1], shape=(n, n)).tocsr()
    A.eliminate_zeros()
    return A


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_refusal_names_the_empty_row(backend):
    A = path_laplacian(5, 1)
    assert A.indptr[6] == A.indptr[5]  # row 5 is empty
    # (independent check: e_5 is a null vector of Aᵀ with e_5ᵀ b = 1, so ‖b − A x‖ >= 1)
    assert np.all(A.T.toarray()[:, 5] == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError) as err:
            bandit.Tuner(solver="cg", backend=backend, maxiter=200).solve(A, np.ones(6))
    msg = str(err.value)
    assert msg.startswith("A x = b is inconsistent: A has 1 row with no non-zero entry")
    assert "row 5, b[5] = 1" in msg and "no solution" in msg
    assert "‖b − A x‖ >= 1.000e+00" in msg  # the floor ‖b_E‖ = |b_5|
    assert "connected components" not in msg and "no arm can converge" in msg


def test_a_laplacian_without_an_empty_row_keeps_the_component_message():
    A = path_laplacian(6, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="the columns of A sum to zero") as err:
            bandit.Tuner(solver="cg", maxiter=200).solve(A, np.ones(6))
    assert "no non-zero entry" not in str(err.value)


def test_an_empty_row_where_b_vanishes_is_the_component_message():
    """b = 0 on the isolated vertex: the inconsistency is the path's sum, not the row."""
    A = path_laplacian(5, 1)
    b = np.r_[np.ones(5), 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="the columns of A sum to zero") as err:
            bandit.Tuner(solver="cg", maxiter=200).solve(A, b)
    assert "no non-zero entry" not in str(err.value)
