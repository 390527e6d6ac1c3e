"""``relaxtune tune`` given a path without a known suffix that is no file at all: a shell
pattern that matched nothing (``relaxtune tune data/*`` on an empty folder, ``step_*``), a
name mistyped without its suffix.  It had been called an "unknown file type"; it is said to
be no file, with the pattern hint (what an unmatched ``data/*.mtx`` already got)."""
import numpy as np
import pytest

from experiments.cli import main
from tests.test_tune_exit_status import _laplacians


@pytest.mark.parametrize("name", ["*", "step_*", "A[0-9]"])
def test_a_pattern_without_a_suffix_that_matched_nothing(tmp_path, capsys, name):
    empty = tmp_path / "empty"
    empty.mkdir()
    arg = empty / name
    assert main(["tune", str(arg), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (f"relaxtune: error: {arg}: no such file (a pattern "
                                       f"that matched no file?)\n")
    assert not (tmp_path / "o").exists()


def test_a_missing_name_without_a_suffix_is_no_such_file(tmp_path, capsys):
    arg = tmp_path / "step_001"
    assert main(["tune", str(arg), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == f"relaxtune: error: {arg}: no such file\n"


def test_a_right_hand_side_pattern_that_matched_nothing(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=1)
    (tmp_path / "rhs").mkdir()
    arg = tmp_path / "rhs" / "*"
    assert main(["tune", mats[0], "--rhs", str(arg), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (f"relaxtune: error: {arg}: no such file (a pattern "
                                       f"that matched no file?)\n")


def test_a_quoted_pattern_without_a_suffix_that_matches_files(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=2)
    arg = tmp_path / "A*"
    assert main(["tune", str(arg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{arg}: no such file (a quoted pattern? it matches 2 files: {mats[0]} ... " in err


def test_an_existing_file_of_an_unknown_type_is_still_named_so(tmp_path, capsys):
    arg = tmp_path / "A.csv"
    np.savetxt(arg, np.eye(2))
    assert main(["tune", str(arg), "--out", str(tmp_path / "o")]) == 2
    assert "A.csv: unknown file type; give one of .mtx, .mtx.gz, .npz" in capsys.readouterr().err
