"""``mpiexec -n 2`` for the MPI tests: a script's ranks run under a timeout, and a run left
waiting (a collective step one rank skipped) fails the test instead of hanging it."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Open MPI as root, more ranks than cores, one thread per rank
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(ROOT),
           NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")


def _run(script, args, timeout):
    """``python script *args`` on two ranks, in a session of its own: the process, its
    output and whether ``timeout`` seconds passed (mpiexec and its ranks then killed)."""
    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable, str(script),
           *map(str, args)]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        return proc, stdout, stderr, False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return proc, stdout, stderr, True


def two_ranks(script, *args, timeout):
    """Run ``python script *args`` on two ranks; fail the test on a non-zero status or when
    ``timeout`` seconds pass (mpiexec and its ranks, in a session of their own, are then
    killed)."""
    proc, stdout, stderr, waited = _run(script, args, timeout)
    if waited:
        pytest.fail(f"the ranks were left waiting (timeout):\n{stdout}\n{stderr}")
    assert proc.returncode == 0, f"mpiexec failed:\n{stdout}\n{stderr}"


def scenario_reports(script, out, cases, *, timeout=90):
    """Run ``python script out *cases`` on two ranks (each scenario writes
    ``out/<case>.rank<r>.json`` on every rank it finishes) and read the reports back: a dict of
    case → both ranks' reports, a case missing where a rank did not finish it (left waiting,
    killed at ``timeout`` seconds), and the end of the ranks' stderr, for the failure message.
    A timeout is not a failure here: each scenario's test says which scenarios are missing."""
    import json

    _, _, stderr, _ = _run(script, [out, *cases], timeout)
    reports = {}
    for name in cases:
        files = [Path(out) / f"{name}.rank{r}.json" for r in range(2)]
        if all(f.exists() for f in files):
            reports[name] = [json.loads(f.read_text()) for f in files]
    return reports, stderr[-3000:]
