"""``--out`` given a file name (``relaxtune plot tuner.json --out fig.png``, ``relaxtune tune
... --out summary.json``) is a usage error naming the slip, before anything runs: it had made a
folder of that name and written the figures or results into it, exit status 0.  A folder of
such a name that exists already is used as before."""
import numpy as np
import pytest
import scipy.io

import bandit
from experiments.cli import main
from solvers import gallery


@pytest.fixture
def tuner_file(tmp_path):
    A = gallery.laplacian_2d(5)
    t = bandit.Tuner([1.2, 1.5], solver="sor", seed=0)
    for k in range(2):
        t.solve(A * (1 + k), np.ones(25))
    path = tmp_path / "t.json"
    t.save(path)
    return path


@pytest.mark.parametrize("name", ["fig.png", "figs.PDF", "results.json"])
def test_plot_out_with_a_file_name_is_refused(tmp_path, tuner_file, capsys, name):
    out = tmp_path / name
    assert main(["plot", str(tuner_file), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"relaxtune: error: --out {out}: names the folder to write into, and "
                   f"{name} looks like a file name ({out.suffix}): give a folder, e.g. "
                   f"--out {out.with_suffix('')}")
    assert not out.exists()


def test_tune_out_with_a_file_name_is_refused(tmp_path, capsys):
    path = tmp_path / "A.mtx"
    scipy.io.mmwrite(path, gallery.laplacian_2d(5))
    out = tmp_path / "summary.json"
    assert main(["tune", str(path), "--solver", "sor", "--no-exact", "--no-plots",
                 "--out", str(out)]) == 2
    assert "looks like a file name (.json)" in capsys.readouterr().err
    assert not out.exists()


def test_an_existing_folder_of_such_a_name_is_used(tmp_path, tuner_file):
    out = tmp_path / "figs.png"
    out.mkdir()
    assert main(["plot", str(tuner_file), "--out", str(out)]) == 0
    assert any(out.glob("*.png"))


def test_a_file_named_with_a_leading_dash_is_said_to_be_taken_for_an_option(
        tmp_path, monkeypatch, capsys):
    # "-A.mtx" is read as an option: the error had said only that MATRIX is required
    monkeypatch.chdir(tmp_path)
    scipy.io.mmwrite(tmp_path / "-A.mtx", gallery.laplacian_2d(5))
    assert main(["tune", "-A.mtx", "--solver", "sor", "--no-exact", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "-A.mtx is a file, but a name that starts with '-' is taken for an option" in err
    assert "./-A.mtx" in err
    assert main(["tune", "--solver", "sor", "--no-exact", "--no-plots", "--out", "o", "--",
                 "-A.mtx"]) == 0
