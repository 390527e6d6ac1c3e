"""History CSV files: written atomically, a truncated file refused."""
import os

import numpy as np
import pytest

import bandit
from bandit import Tuner
from bandit.report import HISTORY_SCHEMA, read_csv, write_csv
from solvers import gallery


def _tuner():
    t = Tuner(bandit.TsallisINF([1.0, 1.5], seed=0), solver="sor", maxiter=200)
    for k in range(3):
        t.solve(gallery.laplacian_2d(4), np.ones(16) * (1 + k))
    return t


def test_a_csv_cut_at_its_last_line_end_is_refused_as_truncated(tmp_path):
    path = tmp_path / "h.csv"
    _tuner().to_csv(path)
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    # a cut inside the last field can leave a valid shorter number ("12" -> "1"); the only
    # sign of it is the missing line end
    for cut in (1, 2):
        path.write_bytes(raw[:-cut])
        with pytest.raises(ValueError, match=rf"{path}: .*truncated"):
            read_csv(path)


def test_a_failing_write_leaves_the_previous_csv_in_place(tmp_path):
    path = tmp_path / "h.csv"
    hist = _tuner().history
    write_csv(hist, path)
    good = path.read_bytes()
    bad = dict(hist, audit_runs=hist["audit_runs"][:1])  # fails on the second row
    with pytest.raises(IndexError):
        write_csv(bad, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["h.csv"]  # no temporary file left behind
    h = read_csv(path)
    for name, _, _ in HISTORY_SCHEMA:
        np.testing.assert_array_equal(h[name], hist[name])


def test_to_csv_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"folder {tmp_path / 'no'} does not exist"):
        _tuner().to_csv(tmp_path / "no" / "h.csv")
