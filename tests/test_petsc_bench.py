"""``relaxtune bench petsc`` stays runnable (a tiny smoke run; the numbers are in docs/petsc.md)."""
import json

import pytest

from experiments import bench_petsc

pytestmark = pytest.mark.petsc


def test_bench_petsc_smoke(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert bench_petsc.main(["--sizes", "12", "--iters", "3", "--repeats", "1",
                             "--overhead-sizes", "12", "--rounds", "2",
                             "--heat2d", "8", "3", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Per-iteration time" in text and "bare KSPSolve" in text and "heat2d" in text
    data = json.loads(out.read_text())
    row = data["per_iteration"][0]
    assert row["n"] == 144 and all(row[k] > 0 for k in ("numba_sor", "petsc_sor",
                                                          "numba_ssor_pcg", "petsc_ssor_pcg"))
    h = data["heat2d"][0]
    # each backend with its own default SSOR order (paper / textbook): close, not equal
    assert h["numba_iterations"] > 0 and h["petsc_iterations"] > 0
    assert 0.5 < h["numba_iterations"] / h["petsc_iterations"] < 2.0
