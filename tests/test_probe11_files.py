"""Corrupted files whose damage JSON's own parser does not catch as a decoding error.

Python refuses to convert an integer of more than 4,300 digits (``sys.int_info``), with a
plain ``ValueError``: a run of digits in a damaged file.  The test failed before its fix.
"""
import json

import numpy as np
import pytest

import bandit
from solvers import gallery


def test_a_tuner_file_with_an_endless_integer_is_a_tuner_file_error(tmp_path):
    tuner = bandit.Tuner(solver="sor")
    tuner.solve(gallery.laplacian_2d(4), np.ones(16))
    path = tmp_path / "run.json"
    tuner.save(path)
    raw = json.loads(path.read_text())
    text = json.dumps(raw).replace('"iterations": [', '"iterations": [' + "9" * 5000 + ", ", 1)
    assert text != json.dumps(raw)
    path.write_text(text)
    # before: a bare ValueError ("Exceeds the limit (4300 digits) ..."), naming no file,
    # which `except bandit.TunerFileError` did not catch
    with pytest.raises(bandit.TunerFileError, match=r"^.*run\.json: corrupt or truncated "
                                                    r"file \(not JSON: Exceeds the limit"):
        bandit.Tuner.load(path)


def test_relaxtune_plot_names_a_summary_with_an_endless_integer(tmp_path, capsys):
    from experiments.cli import main

    (tmp_path / "a.mtx").write_text("%%MatrixMarket matrix coordinate real general\n"
                                    "2 2 2\n1 1 4\n2 2 4\n")
    out = tmp_path / "run"
    assert main(["tune", str(tmp_path / "a.mtx"), "--quiet", "--no-plots",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    summary = out / "summary.json"
    summary.write_text(summary.read_text().replace("{", '{"x": ' + "9" * 5000 + ", ", 1))
    (out / "tuner.json").unlink()  # the summary is then what plot reads
    # before: "relaxtune: error: ValueError: Exceeds the limit ..." without the file
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{summary}: unreadable or corrupt" in err
