"""``relaxtune tune`` given a quoted shell pattern that matches files, or a folder for
``--rhs``: the error says what the argument is (it had called a pattern matching six files
"a pattern that matched no file?", and a folder of right-hand sides "unknown file type")."""
import numpy as np

from experiments.cli import main
from tests.test_tune_exit_status import _laplacians


def test_a_quoted_pattern_that_matches_files_is_said_to(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=3)
    pattern = tmp_path / "A*.mtx"
    assert main(["tune", str(pattern), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == (f"relaxtune: error: {pattern}: no such file (a quoted pattern? it matches 3 "
                   f"files: {mats[0]} ... {mats[2]}; relaxtune takes file names, not patterns: "
                   f"write it without quotes and the shell lists the files, in name order, the "
                   f"order they are solved in)\n")
    assert not (tmp_path / "o").exists()


def test_a_pattern_matching_one_right_hand_side(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=1)
    np.save(tmp_path / "b0.npy", np.ones(20))
    pattern = tmp_path / "b[0].npy"
    assert main(["tune", mats[0], "--rhs", str(pattern), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{pattern}: no such file (a quoted pattern? it matches 1 file: {tmp_path}/b0.npy;" \
        in err


def test_a_pattern_matching_nothing_keeps_its_hint(tmp_path, capsys):
    assert main(["tune", str(tmp_path / "Z*.mtx"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file (a pattern that matched no file?)" in capsys.readouterr().err


def test_a_folder_of_right_hand_sides_is_said_to_be_one(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=1)
    rhs = tmp_path / "rhs"
    rhs.mkdir()
    np.save(rhs / "b0.npy", np.ones(20))
    assert main(["tune", mats[0], "--rhs", str(rhs), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (f"relaxtune: error: {rhs}: is a folder; give its files "
                                       f"in order, one per matrix (e.g. {rhs}/*.npy)\n")
