"""The study commands that take a system size (``heat2d``, ``demo``, ``precond``) refuse a
size whose systems cannot fit in memory before anything runs, as ``relaxtune bench`` does:
the message names the size, its unknowns, the memory needed (the measured peak factor times
the matrix counted) and what is available."""
import pytest

import experiments._bench as B
import experiments.heat_study
import experiments.precond_study
from experiments.cli import main
from experiments.cli_studies import STUDY_PEAK_FACTORS


def _matrix_bytes(n, per_row):
    """A CSR matrix of n rows and per_row entries a row: float64 values, int32 indices."""
    return n * per_row * (8 + 4) + (n + 1) * 4


def _mb(v):
    return f"{v / 1e6:.3g} MB"


@pytest.fixture
def nothing_runs(monkeypatch, tmp_path):
    """50 MB available, and the studies replaced by a failure: a size the check lets through
    is reported as run."""
    monkeypatch.setattr(B, "memory_available", lambda: 50_000_000)

    def ran(**_):
        raise AssertionError("the study started")

    monkeypatch.setattr(experiments.heat_study, "run_heat_study", ran)
    monkeypatch.setattr(experiments.precond_study, "run_precond_study", ran)
    return tmp_path


@pytest.mark.parametrize("argv, option, n, per_row, factor", [
    (["heat2d", "--nx", "40", "300"], "--nx 300", 299 ** 2, 5, STUDY_PEAK_FACTORS["heat2d"]),
    (["heat2d", "--nx", "300", "--jobs", "2"], "--nx 300 --jobs 2", 299 ** 2, 5,
     2 * STUDY_PEAK_FACTORS["heat2d"]),
    (["heat2d", "--nx", "800", "--no-direct"], "--nx 800", 799 ** 2, 5,
     STUDY_PEAK_FACTORS["heat2d-no-direct"]),
    (["demo", "--nx", "300", "--jobs", "1"], "--nx 300", 299 ** 2, 5,
     STUDY_PEAK_FACTORS["heat2d"]),
    (["precond", "--sequences", "heat2d", "--nx", "120"], "--nx 120", 119 ** 2, 5,
     STUDY_PEAK_FACTORS["precond-heat2d"]),
    (["precond", "--sequences", "heatadapt", "--nx", "120"], "--nx 120", 119 ** 2, 5,
     STUDY_PEAK_FACTORS["precond-heat2d"]),
    (["precond", "--sequences", "mc3d", "--m", "8", "30"], "--m 30", 30 ** 3, 7,
     STUDY_PEAK_FACTORS["precond-mc3d"]),
])
def test_a_size_beyond_memory_is_refused_by_name(argv, option, n, per_row, factor,
                                                 nothing_runs, capsys):
    out = nothing_runs / "out"
    assert main(argv + ["--quiet", "--no-plots", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    need = factor * _matrix_bytes(n, per_row)
    assert need > 50e6  # (the case is one to refuse)
    assert f"error: {option}: " in err and f"has {n:,} unknowns" in err
    assert f"needs about {_mb(need)} of memory at its peak" in err
    assert "50 MB is available: choose a smaller size" in err
    assert not out.exists()  # refused before the results folder was made


@pytest.mark.parametrize("argv", [["heat2d", "--nx", "50"], ["precond", "--nx", "30", "--m", "6"]])
def test_a_size_that_fits_goes_on_to_run(argv, nothing_runs, capsys):
    assert main(argv + ["--quiet", "--no-plots", "--out", str(nothing_runs / "out")]) == 1
    assert "AssertionError: the study started" in capsys.readouterr().err


def test_the_factors_were_measured_above_the_counted_matrix():
    # measured peaks per counted byte (see STUDY_PEAK_FACTORS): every study holds more than
    # its system's matrix, and a direct factor or the preconditioner study's methods more still
    f = STUDY_PEAK_FACTORS
    assert 1 < f["heat2d-no-direct"] < f["heat2d"] < f["precond-heat2d"] < f["precond-mc3d"]
