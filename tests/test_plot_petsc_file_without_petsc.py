"""``relaxtune plot`` of a tuner file a PETSc run saved, in a process without petsc4py (the
laptop the figures are drawn on): drawn as with PETSc — a figure needs no solver — where it
had been refused, "config: backend='petsc' needs petsc4py and mpi4py" (exit status 2)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bandit
from solvers import gallery
from solvers._extras import install_hint

ROOT = Path(__file__).resolve().parents[1]

# petsc4py and mpi4py made unimportable, as where they are not installed
_WITHOUT_PETSC = """
import sys
sys.modules["petsc4py"] = None
sys.modules["mpi4py"] = None
from experiments.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _without_petsc(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", _WITHOUT_PETSC, *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def _petsc_file(tmp_path, arms=None):
    A = gallery.laplacian_2d(8)
    tuner = (bandit.Tuner(solver="ssor_pcg", backend="petsc", audit_budget=0.1, audit_seed=0)
             if arms is None else bandit.Tuner(arms, backend="petsc", seed=0))
    for i in range(6):
        tuner.solve(A, np.ones(64) + i)
    path = tmp_path / "run.json"
    tuner.save(path)
    return path


@pytest.mark.parametrize("arms", [None, bandit.config_grid(omegas=[1.2], pcs=["jacobi", "ic0"])],
                         ids=["omega arms", "configuration arms"])
def test_a_petsc_run_is_drawn_without_petsc_as_with_it(tmp_path, capsys, arms):
    from experiments.cli import main

    path = _petsc_file(tmp_path, arms)
    assert main(["plot", str(path), "--out", str(tmp_path / "with")]) == 0
    with_petsc = capsys.readouterr().out
    proc = _without_petsc("plot", path, "--out", tmp_path / "without")
    assert proc.returncode == 0, proc.stderr
    # the same figures and the same closing line (solves, cost, regret with its interval)
    assert proc.stdout.replace("without", "with") == with_petsc
    assert sorted(p.name for p in (tmp_path / "without").iterdir()) == sorted(
        p.name for p in (tmp_path / "with").iterdir())
    saved = json.loads(path.read_text())
    assert saved["config"]["backend"] == "petsc"  # the file is not touched


def test_arms_of_petsc_options_still_need_petsc_and_say_so(tmp_path):
    path = _petsc_file(tmp_path, [{"omega": 1.2}, {"method": "cg", "pc_type": "bjacobi"}])
    proc = _without_petsc("plot", path, "--out", tmp_path / "without")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"relaxtune: error: {path}: a tuner of backend='petsc' whose "
                                  f"arms set PETSc options, which only PETSc reads (")
    assert proc.stderr.endswith("reading it needs petsc4py and mpi4py: "
                                + install_hint("petsc") + "\n")
