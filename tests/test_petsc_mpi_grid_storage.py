"""Two MPI ranks (``mpiexec -n 2`` on ``tests/mpi_grid_storage.py``): the default
configuration grid runs on several ranks (its IC(0) arm as block Jacobi + ICC(0) per rank,
labelled so), and the ranks' inputs are compared by what the solve uses, not by how each rank
stores them. One rank: the grid's IC(0) arm is unchanged."""
import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("petsc4py")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mpi_launch import two_ranks  # noqa: E402

import bandit  # noqa: E402
from bandit.armset import ArmSet  # noqa: E402

BLOCK_ICC = "cg+bjacobi(sub_pc_factor_shift_type=positive_definite, sub_pc_type=icc)"


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid_storage")
    two_ranks(HERE / "mpi_grid_storage.py", out, timeout=200)
    return out, [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_default_grid_runs_on_two_ranks_with_block_jacobi_icc(ranks):
    _, ranks = ranks
    for rep in ranks:
        assert "grid_failed" not in rep, rep["grid_failed"]
        assert rep["grid_labels"][10] == BLOCK_ICC and "cg+ic0" not in rep["grid_labels"]
        assert BLOCK_ICC in rep["grid_played"]
        # every solve (rtol 1e-10) against scipy's direct solve
        assert max(rep["grid_errors"]) < 1e-8
        assert rep["ic0_label"] == [BLOCK_ICC] and rep["ic0_pc_type"] == "bjacobi"
        assert rep["ic0_error"] < 1e-8
    assert ranks[0]["grid_errors"] == ranks[1]["grid_errors"]


def test_same_matrix_stored_differently_on_the_ranks_is_accepted(ranks):
    _, ranks = ranks
    for rep in ranks:
        assert "storage_failed" not in rep, rep["storage_failed"]
        assert set(rep["storage"]) == {"int64 indices", "big-endian", "dense", "csc",
                                       "unsorted indices", "b big-endian"}
        for form, err in rep["storage"].items():
            assert not isinstance(err, str) and err < 1e-8, (form, err)
        assert rep["after"] < 1e-8


def test_different_matrix_is_still_refused_on_every_rank(ranks):
    _, ranks = ranks
    for rep in ranks:
        assert set(rep["different"]) == {"values", "values, int64 indices"}
        for msg in rep["different"].values():
            assert "the MPI ranks passed different A (rank 0 and rank 1 differ)" in msg


def test_one_rank_grid_keeps_ic0():
    grid = bandit.config_grid()
    arms = ArmSet(grid, "ssor_pcg", "petsc")
    assert "cg+ic0" in arms.labels and not any("bjacobi" in s for s in arms.labels)
    assert arms.configs[10].call()[1]["options"]["pc_type"] == "icc"
    tuner = bandit.Tuner(grid, backend="petsc")  # COMM_WORLD of one process
    assert tuner.arm_labels == arms.labels
    assert ArmSet(grid, "ssor_pcg", "petsc", ranks=2).labels[10] == BLOCK_ICC


def test_tuner_saved_on_two_ranks_loads_on_one(ranks):
    """A file written on two ranks is read in one process (for analysis): its rows ran the
    block-Jacobi arm, which on one rank is the ``cg+ic0`` arm again."""
    import numpy as np
    import scipy.sparse.linalg as spla
    from solvers import gallery

    out, _ = ranks
    tuner = bandit.Tuner.load(out / "grid_tuner.json")
    assert tuner.arm_labels[10] == "cg+ic0" and len(tuner.history["label"]) == 14
    A = gallery.laplacian_2d(12).tocsr()
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    x = np.asarray(tuner.solve(A, b, rtol=1e-10).x)
    ref = spla.spsolve(A.tocsc(), b)
    assert np.linalg.norm(x - ref) < 1e-8 * np.linalg.norm(ref)
