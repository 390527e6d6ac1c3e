"""A user's own PETSc loop: mistakes a new user makes are refused by name, never a crash or a
hang (one rank in a subprocess, two ranks with ``mpiexec -n 2`` on ``tests/mpi_loops.py``)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(HERE.parent),
           NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")

# in a subprocess: before the check, a destroyed Mat killed the process with SIGSEGV
DESTROYED = """
import numpy as np, bandit, solvers, solvers.petsc
from petsc4py import PETSc
from solvers import gallery
A = solvers.petsc.to_petsc_mat(gallery.laplacian_2d(6))
b = A.createVecLeft(); b.set(1.0)
tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.5], seed=0), solver="ssor_pcg", backend="petsc")
assert tuner.solve(A, b).converged
A.destroy()
for call in (lambda: tuner.solve(A, b), lambda: solvers.ssor_pcg(A, b, 1.5, backend="petsc"),
             lambda: solvers.prepare(A, backend="petsc")):
    try:
        call()
    except ValueError as exc:
        print("refused:", exc)
B = solvers.petsc.to_petsc_mat(gallery.laplacian_2d(6))
v = B.createVecLeft(); v.set(1.0); v.destroy()
for call in (lambda: tuner.solve(B, v), lambda: solvers.sor(B, b, 1.5, x0=v, backend="petsc")):
    try:
        call()
    except ValueError as exc:
        print("refused:", exc)
res = tuner.solve(B, b)
print("next:", res.converged, res.iterations)
"""


def test_a_destroyed_mat_or_vec_is_refused_by_name():
    proc = subprocess.run([sys.executable, "-c", DESTROYED], env=ENV, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[:3] == ["refused: A is a PETSc Mat that has been destroyed (A.destroy() was "
                         "called): create a new one"] * 3
    assert lines[3] == ("refused: b is a PETSc Vec that has been destroyed (b.destroy() was "
                        "called): create a new one")
    assert lines[4].startswith("refused: x0 is a PETSc Vec that has been destroyed")
    assert lines[5].startswith("next: True ")


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("loops")
    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable, str(HERE / "mpi_loops.py"),
           str(out)]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_tuners_constructed_differently_are_refused_on_every_rank(two_ranks):
    for r in two_ranks:
        for case, what in (("solver", "solver"), ("arms", "arms"), ("rtol", "rtol")):
            assert not r[case]["ok"]
            assert r[case]["error"].startswith(
                f"the MPI ranks constructed the Tuner with different {what}")
        assert r["solver"]["error"].startswith(
            "the MPI ranks constructed the Tuner with different solver, arms (rank 0: "
            "'ssor_pcg', rank 1: 'sor')")
        assert r["same"]["ok"] and r["same"]["converged"]  # only the seeds differ: fine


def test_a_mat_on_another_communicator_is_refused_by_the_tuner(two_ranks):
    r0, r1 = two_ranks
    # the systems differ: the ranks' own counts differ, so one count cannot serve both
    assert r0["self_direct"]["iterations"] != r1["self_direct"]["iterations"]
    for r in two_ranks:
        assert not r["self_tuner"]["ok"]
        assert r["self_tuner"]["error"].startswith(
            "A is distributed over 1 MPI rank(s), but the Tuner runs on PETSc.COMM_WORLD's 2")
        # and says how to run a separate system on each rank
        assert r["self_tuner"]["error"].endswith(
            "give each rank a Tuner of its own with comm=MPI.COMM_SELF)")
        assert r["after_self"]["converged"]


def test_a_destroyed_mat_is_refused_on_every_rank(two_ranks):
    msg = "A is a PETSc Mat that has been destroyed (A.destroy() was called): create a new one"
    for r in two_ranks:
        assert r["destroyed_tuner"] == {"ok": False, "error": msg}
        assert r["destroyed_direct"] == {"ok": False, "error": msg}
        assert r["destroyed_b"]["error"].startswith("b is a PETSc Vec that has been destroyed")
        assert r["after_destroy"]["converged"]
    # destroyed on rank 1 alone: that rank names it, the other names the rank (a direct solve
    # as a Tuner's; it had been "the MPI ranks passed different A")
    for call in ("destroyed_one_rank_direct", "destroyed_one_rank_tuner"):
        assert two_ranks[0][call]["error"] == f"rank 1: {msg}"
        assert two_ranks[1][call]["error"] == msg
    assert two_ranks[0]["history"] == two_ranks[1]["history"]
    assert len(two_ranks[0]["history"]) == 4  # the refused calls recorded nothing


def test_a_scipy_matrix_on_one_rank_and_a_mat_on_another_are_refused(two_ranks):
    for r in two_ranks:
        assert r["mixed_direct"]["error"].startswith("the MPI ranks passed different A")
        assert r["mixed_tuner"]["error"] == (
            "the MPI ranks passed different kinds of (A, b, x0) (rank 0: ('a matrix to "
            "convert', 'an array', 'none'), rank 1: ('a PETSc Mat', 'an array', 'none')); every "
            "rank must pass the same")
        assert r["mixed_b"]["error"] == (
            "the MPI ranks passed different kinds of (A, b, x0) (rank 0: ('a PETSc Mat', 'an "
            "array', 'none'), rank 1: ('a PETSc Mat', 'a PETSc Vec', 'none')); every rank must "
            "pass the same")
        assert r["after_mixed"]["converged"]
    assert two_ranks[0]["after_mixed"] == two_ranks[1]["after_mixed"]


def test_paper_order_on_a_mat_with_new_entries_on_one_rank(two_ranks):
    for r in two_ranks:
        before, after, fresh = r["paper_new_entries"]
        assert before["converged"] and after["converged"]
        assert after == fresh  # the rebuilt renumbered copy is the new matrix's
    assert two_ranks[0]["paper_new_entries"] == two_ranks[1]["paper_new_entries"]


def _chain(n, hop, with_extra=False):
    """SPD ``I·4 − couplings`` with couplings at distance ``hop`` (and 2·hop if with_extra)."""
    import numpy as np
    import scipy.sparse as sp

    off = [-1.0] * (n - hop)
    A = sp.diags([off, [4.0] * n, off], [-hop, 0, hop])
    if with_extra:
        off2 = [-0.5] * (n - 2 * hop)
        A = A + sp.diags([off2, off2], [-2 * hop, 2 * hop])
    return sp.csr_array(A)


@pytest.mark.parametrize("change", ["more entries", "entries moved (old ones kept as zeros)"])
def test_paper_order_follows_a_user_mat_whose_pattern_changes(change):
    """order="paper" solves on a permuted copy of the user's Mat; a Mat that takes new
    entries (allocation error off) had failed with PETSc's "Number of nonzeros in two
    matrices are different" (an error PETSc's own, not a ValueError), at every later solve."""
    import numpy as np
    from petsc4py import PETSc

    import solvers
    import solvers.petsc

    n = 40
    first = _chain(n, 1)
    second = _chain(n, 1, with_extra=True) if change == "more entries" else _chain(n, 2)
    assert (second.nnz > first.nnz) == (change == "more entries")
    M = PETSc.Mat().createAIJ([n, n], nnz=5, comm=PETSc.COMM_SELF)
    M.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    b = np.linspace(1.0, 2.0, n)
    for A in (first, second):
        M.zeroEntries()
        for i in range(n):
            row = A[[i], :].tocoo()
            M.setValues([i], row.col.astype(PETSc.IntType), row.data)
        M.assemble()
        res = solvers.ssor_pcg(M, b, 1.4, order="paper", backend="petsc")
        ref = solvers.ssor_pcg(A, b, 1.4, order="paper", backend="numba")
        assert res.converged and res.iterations == ref.iterations
        assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)
