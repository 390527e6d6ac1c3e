"""A failure on ONE MPI rank that leaves the other inside a collective PETSc call ends the job
with ``MPI_Abort`` and one line naming the rank and the error, after the grace — never a
hang; a failure the other rank meets at an exchange (Ctrl-C during the prior's spectral
estimate, a ``MemoryError`` in one rank's save) is raised on every rank, and the ranks solve
on together.

Launches ``mpiexec -n 2`` on ``tests/mpi_rank_dies.py`` under a timeout (a scenario whose
ranks hang fails here, killed).  Before, every scenario but ``every_rank_shell`` left a rank
waiting for ever (``save_rank1``: rank 0 returned, having written the file, while rank 1
raised), and ``every_rank_shell`` raised PETSc's ``error code 101`` instead of the error.
The grace itself, in one process: ``tests/test_mpi_exchange_grace.py``.
"""
import time
from pathlib import Path

import mpi_rank_dies as script
import pytest
from mpi_launch import _run, scenario_reports

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "mpi_rank_dies.py"

#: scenario -> the failing rank's error, as its one line names it
ABORTING = {
    "shell_mult": "MemoryError: mult ran out of memory on rank 1",
    "tuner_sor_test": "MemoryError: the convergence test ran out of memory on rank 1",
    "tuner_between": "MemoryError: out of memory between two collective calls on rank 1",
}


@pytest.mark.parametrize("name", list(ABORTING))
def test_a_rank_failing_inside_a_collective_call_aborts_the_job(tmp_path, name):
    start = time.monotonic()
    proc, stdout, stderr, waited = _run(SCRIPT, [tmp_path, name], timeout=90)
    took = time.monotonic() - start
    assert not waited, f"the ranks were left waiting (timeout):\n{stdout}\n{stderr}"
    assert proc.returncode != 0
    assert "RETURNED" not in stdout  # no rank went on as if nothing had happened
    line = [s for s in stderr.splitlines() if s.startswith("relaxtune: rank 1 of 2: ")]
    assert len(line) == 1, stderr
    assert ABORTING[name] in line[0]
    assert "aborting the job (MPI_Abort)" in line[0] and f"{script.GRACE:g} s" in line[0]
    assert took > script.GRACE  # (rank 1 gave the other rank its grace first)


@pytest.fixture(scope="module")
def together(tmp_path_factory):
    out = tmp_path_factory.mktemp("rank_dies")
    reports, stderr = scenario_reports(SCRIPT, out, script.TOGETHER)
    return reports, stderr


def _both(together, name):
    reports, stderr = together
    assert name in reports, f"the ranks did not finish {name!r} (left waiting?):\n{stderr}"
    return reports[name]


def test_the_same_failure_on_every_rank_is_its_own_class(together):
    r0, r1 = _both(together, "every_rank_shell")
    assert r0["raised"] == ["MemoryError", "mult ran out of memory on rank 0"]
    assert r1["raised"] == ["MemoryError", "mult ran out of memory on rank 1"]
    assert r0["after_iterations"] == r1["after_iterations"] > 0


def test_ctrl_c_during_the_priors_estimate_is_raised_on_every_rank(together):
    r0, r1 = _both(together, "sigint_estimate")
    assert r1["raised"][0] == "KeyboardInterrupt"
    assert r0["raised"] == ["KeyboardInterrupt", "rank 1: KeyboardInterrupt"]
    # nothing recorded (each rank's learner is its own until the first draw copies rank
    # 0's); then two rounds solved together, alike
    assert r0["rounds"] == r1["rounds"] == 0
    assert r0["after_arms"] == r1["after_arms"] and len(r0["after_arms"]) == 2
    assert r0["after_policy"] == r1["after_policy"]


def test_a_failure_in_one_ranks_save_is_raised_on_every_rank(together):
    r0, r1 = _both(together, "save_rank1")
    text = "out of memory in the save's checks on rank 1"
    assert r1["raised"] == ["MemoryError", text]
    assert r0["raised"] == ["MemoryError", f"rank 1: {text}"]
    assert not r0["saved"]  # nothing written
    assert r0["rounds"] == r1["rounds"] == script.BEFORE and r0["policy"] == r1["policy"]
    assert r0["after_arms"] == r1["after_arms"]
    assert len(r0["after_arms"]) == script.BEFORE + 2


@pytest.mark.parametrize("name", ["sigint_sor_every", "sigint_sor_one", "tuner_sigint_sor_every"])
def test_ctrl_c_stops_the_sweeps_on_every_rank_within_one(together, name):
    r0, r1 = _both(together, name)
    if name == "sigint_sor_one":
        assert r1["raised"] == ["KeyboardInterrupt", ""]
        assert r0["raised"] == ["KeyboardInterrupt", "rank 1: KeyboardInterrupt"]
    else:
        assert r0["raised"] == r1["raised"] == ["KeyboardInterrupt", ""]
    # the convergence test's calls after the Ctrl-C: the sweep it poisoned and the next
    # (before, every sweep up to the solve's end: hundreds)
    assert r1["calls_after"] is not None and r1["calls_after"] <= 2
    assert r0["after_iterations"] == r1["after_iterations"] > 0
    if name.startswith("tuner"):
        # the finished rounds kept on both, the interrupted one on neither
        assert r0["rounds"] == r1["rounds"] == script.BEFORE and r0["policy"] == r1["policy"]
        assert r0["after_arms"] == r1["after_arms"]
        assert len(r0["after_arms"]) == script.BEFORE + 2
