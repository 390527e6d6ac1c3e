"""A user's own PETSc loop: mistakes a new user makes are refused by name, never a crash or a
hang (one rank in a subprocess)."""
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
