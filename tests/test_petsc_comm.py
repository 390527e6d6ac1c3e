"""``Tuner(..., backend="petsc", comm=...)``: one Tuner per rank on a system of its own.

Launches ``mpiexec -n 2`` on ``tests/mpi_comm.py`` (see its docstring) once; each rank's
iteration counts are repeated here by serial PETSc solves of the same systems with the same
ω.  One-rank checks of the argument run in this process.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc

import bandit
import solvers
from solvers import gallery

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(HERE.parent),
           NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")


def rank_reports(script, out, timeout=120):
    """Run ``tests/<script> OUT`` on two ranks with the suite's launch settings and return
    each rank's ``OUT/rank<r>.json``."""
    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable, str(HERE / script),
           str(out)]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    return rank_reports("mpi_comm.py", tmp_path_factory.mktemp("comm"))


def test_each_rank_reports_its_own_counts(two_ranks):
    """Every solve of each rank's Tuner: the count of a serial PETSc solve of that rank's own
    system with the ω it chose (guard=None: one run per solve)."""
    for r in two_ranks:
        assert len(r["solves"]) == 4 + 2 * r["rank"]
        for s in r["solves"]:
            A = gallery.shifted_laplacian_2d(s["m"], s["shift"])
            b = np.random.default_rng(s["seed"]).standard_normal(s["m"] ** 2)
            ref = solvers.ssor_pcg(A, b, s["omega"], backend="petsc", rtol=1e-8)
            assert s["converged"] and ref.converged
            assert s["iterations"] == ref.iterations, (r["rank"], s)
            assert s["ranks"] == 1
        assert {s["input"] for s in r["solves"]} == {"scipy", "mat"}
    # the systems differ, and so do the counts: one rank's count could not serve both
    c0 = [s["iterations"] for s in two_ranks[0]["solves"]]
    c1 = [s["iterations"] for s in two_ranks[1]["solves"]]
    assert c0[0] != c1[0]


def test_configuration_arms_of_each_rank_its_own(two_ranks):
    r0, r1 = two_ranks
    assert r0["configs"]["labels"] == ["cg+jacobi", "ssor_pcg ω=1.50"]
    assert r1["configs"]["labels"] == ["cg+ic0", "cg+none", "cg+gamg"]
    assert r0["configs"]["converged"] == [True] * 2 and r1["configs"]["converged"] == [True] * 3


def test_each_rank_saves_and_loads_its_own_tuner(two_ranks):
    for r in two_ranks:
        assert r["loaded_iterations"] == r["iterations"]
        assert r["iterations"] == [s["iterations"] for s in r["solves"]]
        assert r["next_after_load"]


def test_a_mat_over_both_ranks_is_refused_by_a_self_tuner(two_ranks):
    for r in two_ranks:
        assert r["world_mat"].startswith(
            "A is distributed over 2 MPI rank(s), but the Tuner runs on its communicator "
            "(comm=) of 1: pass a system distributed over that communicator")
        assert r["after_world_mat"]


def test_a_construction_refused_on_one_rank_is_refused_on_every_rank(two_ranks):
    r0, r1 = two_ranks
    assert r1["one_rank_refused"].startswith("rtol must be finite")
    assert r0["one_rank_refused"].startswith("rank 1: rtol must be finite")


def test_comm_self_on_one_rank_and_bad_comms():
    A, b = gallery.laplacian_2d(10), np.ones(100)
    for comm in (MPI.COMM_SELF, PETSc.COMM_SELF):
        t = bandit.Tuner(bandit.FixedArm([1.5]), solver="ssor_pcg", backend="petsc",
                         comm=comm)
        res = t.solve(A, b)
        assert res.converged
        assert res.iterations == solvers.ssor_pcg(A, b, 1.5, backend="petsc").iterations
    with pytest.raises(ValueError, match="comm is an MPI communicator for backend='petsc'"):
        bandit.Tuner(bandit.FixedArm([1.5]), comm=MPI.COMM_SELF)
    with pytest.raises(TypeError, match="comm must be a PETSc or mpi4py communicator"):
        bandit.Tuner(bandit.FixedArm([1.5]), backend="petsc", comm="self")
