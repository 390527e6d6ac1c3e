"""Two MPI ranks (``mpiexec -n 2`` on ``tests/mpi_probe7.py``): Tuners on communicators made by
``Dup`` and ``Split`` copy and refuse to pickle with a clear error, a failed distributed solve
returns and names its best iterate, and ``save`` refuses on every rank what load would refuse."""

import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import gallery
from test_petsc_comm import rank_reports  # the launch settings of the suite's MPI tests

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    return rank_reports("mpi_probe7.py", tmp_path_factory.mktemp("probe7"), timeout=300)


def test_a_tuner_on_a_dup_communicator_deep_copies_and_refuses_pickle_by_name(two_ranks):
    # before: pickle.dumps and copy.deepcopy both failed with mpi4py's "cannot serialize
    # 'mpi4py.MPI.Intracomm' instance"
    for rep in two_ranks:
        assert rep["pickle"].startswith("a Tuner on a communicator of your own")
        assert "Tuner.load(path, comm=...)" in rep["pickle"]
        assert rep["dup_same_comm"]
        # the copy continues as the original: the same arms and counts on the next systems
        assert rep["dup_copy"] == rep["dup_original"]
    # one decision for both ranks (rank 0 decides), so the same history on each
    assert two_ranks[0]["dup_original"] == two_ranks[1]["dup_original"]


def test_a_tuner_on_a_split_communicator_deep_copies(two_ranks):
    for rep in two_ranks:
        assert rep["split_copy"] == rep["split_original"]
        assert all(its > 0 for _, its in rep["split_original"])


def test_a_failed_cg_over_two_ranks_returns_the_best_iterate_as_numba(two_ranks):
    # plain CG takes the same steps on any number of ranks (no block preconditioner): the
    # distributed PETSc solve names and returns the same best iterate as the serial Numba one
    A = (gallery.laplacian_2d(10) - sp.identity(100)).tocsr()
    b = np.random.default_rng(0).standard_normal(100)
    ref = solvers.cg(A, b, maxiter=40)
    serial = solvers.cg(A, b, maxiter=40, backend="petsc")  # (KSPCG notes the breakdown a
    assert not ref.converged  # step later than the Numba kernel: 4 against 3 iterations)
    for rep in two_ranks:
        cg = rep["cg"]
        assert cg["reason"] == ref.reason and cg["iterations"] == serial.iterations
        assert cg["best_iteration"] == ref.info["best_iteration"]
        np.testing.assert_allclose(cg["x"], ref.x, rtol=1e-9, atol=1e-9)
        assert cg["residual_norm"] == pytest.approx(np.linalg.norm(b - A @ ref.x), rel=1e-9)


def test_save_refuses_an_unloadable_state_on_every_rank(two_ranks):
    # rank 0 writes; its refusal is raised on every rank, and nothing is written
    assert "Tuner.load would refuse" in two_ranks[0]["save"]
    assert two_ranks[1]["save"].startswith("OSError: rank 0 failed to write")
    assert "Tuner.load would refuse" in two_ranks[1]["save"]
    assert not two_ranks[0]["written"] and not two_ranks[1]["written"]
