"""A tuner file a PETSc run saved, read where petsc4py is not installed (as ``relaxtune plot``
reads it, :func:`bandit._tuner_persist.load_to_read`), asked to solve: the error names the
missing packages and their install (``pip install -e 'CHECKOUT[petsc]'``, the ``petsc`` extra
of docs/install.md), where it had been a ``ModuleNotFoundError`` from inside the solvers naming
petsc4py only; the tuner is unchanged and saves back byte for byte.  The same for
``solvers.prepare(A, backend="petsc")``."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import bandit
from solvers import gallery
from solvers._extras import install_hint

ROOT = Path(__file__).resolve().parents[1]

# petsc4py and mpi4py made unimportable, as where they are not installed
_SCRIPT = """
import sys
sys.modules["petsc4py"] = None
sys.modules["mpi4py"] = None
import numpy as np
import bandit
import solvers
from bandit._tuner_persist import load_to_read
from solvers import gallery

path, back = sys.argv[1:3]
A = gallery.laplacian_2d(8)
tuner = load_to_read(bandit.Tuner, path)
for call in (lambda: tuner.solve(A, np.ones(64)),
             lambda: solvers.prepare(A, backend="petsc")):
    try:
        call()
    except Exception as exc:
        print(type(exc).__name__, "|", exc)
    else:
        print("no error")
tuner.save(back)
"""


def test_a_solve_of_a_petsc_file_read_without_petsc_names_the_install(tmp_path):
    A = gallery.laplacian_2d(8)
    tuner = bandit.Tuner(solver="ssor_pcg", backend="petsc", seed=0)
    for i in range(4):
        tuner.solve(A, np.ones(64) + i)
    path, back = tmp_path / "run.json", tmp_path / "back.json"
    tuner.save(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(path), str(back)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert line == ("ImportError | backend='petsc' needs petsc4py and mpi4py: "
                        + install_hint("petsc")), line
    assert back.read_bytes() == path.read_bytes()  # the tuner is unchanged
