"""``relaxtune bench petsc`` stays runnable (a tiny smoke run; the numbers are in docs/petsc.md)."""
import json

import pytest

from experiments import bench_petsc

pytestmark = pytest.mark.petsc


def test_bench_petsc_smoke(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert bench_petsc.main(["--sizes", "12", "--rounds", "3", "--target", "0.002",
                             "--solve-sizes", "10", "--overhead-sizes", "12",
                             "--overhead-rounds", "2", "--heat2d", "8", "3",
                             "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "# machine:" in text and "petsc4py" in text and "PETSc Richardson+SOR" in text
    assert "bare KSPSolve" in text and "heat2d" in text and "SOR / pyamg sor" in text
    data = json.loads(out.read_text())
    methods = data["per_iteration"][0]["methods"]
    assert data["per_iteration"][0]["n"] == 144
    for name in ("SOR", "PETSc Richardson+SOR", "SSOR-PCG", "PETSc CG+SOR",
                 "PETSc CG+Eisenstat", "PETSc CG", "scipy CG", "pyamg sor", "SpMV",
                 "PETSc MatMult"):
        assert methods[name]["per_iteration_s"]["median"] > 0, name
        assert len(methods[name]["raw_s"]) == 3  # one row per round
    for row in data["whole_solves"][0]["rows"]:  # both backends take the same iterations
        assert row["iterations_numba"] == row["iterations_petsc"] > 0
    h = data["heat2d"][0]
    # each backend with its own default SSOR order (paper / textbook): close, not equal
    assert h["numba_iterations"] > 0 and h["petsc_iterations"] > 0
    assert 0.5 < h["numba_iterations"] / h["petsc_iterations"] < 2.0


def test_outside_kspsolve_is_a_share_of_the_tuned_calls():
    """The time outside KSPSolve is a share of the tuned calls' time: between 0 and 1 even
    on a tiny system where the tuner's own work outweighs the solve (it used to be reported
    relative to the KSPSolve time, e.g. 297 % at n = 100)."""
    o = bench_petsc.tuned_overhead(6, 2, replicas=1)
    assert 0.0 <= o["outside"] < 1.0
    assert o["tuned_s"] > 0 and o["iterations"] > 0
