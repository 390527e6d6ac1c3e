"""``Tuner.to_csv("history.csv.gz")`` writes a gzip file, as the name says, and
:func:`bandit.report.read_csv` reads it back; plain text had been written under that name,
which pandas, R and ``zcat`` read as gzip and refuse ("Not a gzipped file")."""
import csv
import gzip
import io

import numpy as np
import pytest

import bandit
from bandit.report import read_csv
from solvers import gallery


@pytest.fixture
def tuner():
    A = gallery.laplacian_2d(5)
    t = bandit.Tuner([1.2, 1.5], solver="sor", seed=0)
    for k in range(3):
        t.solve(A * (1 + k), np.ones(25), context=None)
    return t


@pytest.mark.parametrize("name", ["history.csv.gz", "HISTORY.CSV.GZ"])
def test_a_gz_name_is_compressed_and_read_back(tmp_path, tuner, name):
    plain, packed = tmp_path / "history.csv", tmp_path / name
    tuner.to_csv(plain)
    tuner.to_csv(packed)
    with gzip.open(packed, "rb") as fh:  # what any gzip reader sees
        raw = fh.read()
    assert raw == plain.read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[0][:3] == ["round", "arm", "label"] and len(rows) == 4
    got, want = read_csv(packed), read_csv(plain)
    assert sorted(got) == sorted(want)
    for key in want:
        assert np.array_equal(got[key], want[key], equal_nan=want[key].dtype.kind == "f"), key


def test_a_damaged_gz_history_is_named(tmp_path, tuner):
    path = tmp_path / "h.csv.gz"
    tuner.to_csv(path)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ValueError, match=r"h\.csv\.gz: not a relaxtune history \(a damaged gzip"):
        read_csv(path)
