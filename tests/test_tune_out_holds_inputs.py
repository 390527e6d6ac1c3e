"""``relaxtune tune --out FOLDER`` where FOLDER holds the run's own input files: refused before
anything runs (the run's tuner.json, history.csv, summary.json and figures/ had been written
among the matrices and right-hand sides, exit 0)."""
import numpy as np

from experiments.cli import main
from tests.test_tune_exit_status import _laplacians


def test_out_equal_to_the_matrices_folder_is_refused(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=2)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["tune", *mats, "--no-exact", "--no-plots", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"relaxtune: error: --out {tmp_path}: holds the run's input files "
                   f"({mats[0]} and 1 more); its results (tuner.json, history.csv, "
                   f"summary.json, figures/) would be mixed with them: give another folder, "
                   f"e.g. --out {tmp_path / 'tuned'}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_out_holding_only_the_right_hand_sides_or_contexts_is_refused(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=1)
    side = tmp_path / "side"
    side.mkdir()
    np.save(side / "b.npy", np.ones(20))
    (side / "ctx.txt").write_text("1.0\n")
    assert main(["tune", mats[0], "--rhs", str(side / "b.npy"), "--no-plots",
                 "--out", str(side)]) == 2
    assert "holds the run's input files (" + str(side / "b.npy") in capsys.readouterr().err
    assert main(["tune", mats[0], "--contexts", str(side / "ctx.txt"), "--no-plots",
                 "--out", str(side) + "/"]) == 2
    assert "holds the run's input files (" + str(side / "ctx.txt") in capsys.readouterr().err
    assert sorted(p.name for p in side.iterdir()) == ["b.npy", "ctx.txt"]


def test_a_subfolder_of_the_inputs_folder_is_fine(tmp_path):
    mats = _laplacians(tmp_path, count=2)
    assert main(["tune", *mats, "--no-exact", "--no-plots", "--quiet",
                 "--out", str(tmp_path / "tuned")]) == 0
    assert (tmp_path / "tuned" / "tuner.json").is_file()
