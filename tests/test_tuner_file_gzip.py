"""``Tuner.save("t.json.gz")`` writes gzip (as ``to_csv("h.csv.gz")`` does; plain JSON under a
``.gz`` name had failed in zcat, Python's gzip and pandas with "Not a gzipped file");
``Tuner.load`` reads either by the file's first bytes (an old plain file named ``.gz`` still
loads), and so do ``relaxtune plot`` and ``relaxtune tune --resume``."""
import gzip
import json

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from experiments.cli import main
from tests.test_tune_resume import _first, _system, batches  # noqa: F401 (a fixture)

A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(40, 40), format="csr")
KEYS = ("arm", "omega", "iterations", "converged", "cost")


def _systems(t0, count):
    for t in range(t0, t0 + count):
        yield (A + sp.eye(40) * (0.01 * (t % 5))).tocsr(), np.cos(np.arange(40) * (t + 1))


def _tuner(solves=12):
    tuner = bandit.Tuner(seed=3, audit_budget=0.2, audit_seed=1)
    for A_t, b in _systems(0, solves):
        tuner.solve(A_t, b)
    return tuner


def _same(got, want):
    for key in KEYS:
        np.testing.assert_array_equal(got[key], want[key])


def test_save_to_a_gz_name_writes_gzip_and_loads_back(tmp_path):
    tuner = _tuner()
    tuner.save(tmp_path / "t.json")
    tuner.save(tmp_path / "t.json.gz")
    raw = (tmp_path / "t.json.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw) == (tmp_path / "t.json").read_bytes()  # the same JSON inside
    assert json.loads(gzip.decompress(raw))["format"] == "relaxtune.tuner"
    loaded = bandit.Tuner.load(tmp_path / "t.json.gz")
    _same(loaded.history, tuner.history)
    assert loaded.policy.state_dict() == bandit.Tuner.load(tmp_path / "t.json").policy.state_dict()
    tuner.save(tmp_path / "again.json.gz")  # reproducible bytes (no time stamp inside)
    assert (tmp_path / "again.json.gz").read_bytes() == raw


def test_a_gz_name_in_capitals_is_compressed_too(tmp_path):
    tuner = _tuner(4)
    tuner.save(str(tmp_path / "T.JSON.GZ"))
    assert (tmp_path / "T.JSON.GZ").read_bytes()[:2] == b"\x1f\x8b"
    _same(bandit.Tuner.load(str(tmp_path / "T.JSON.GZ")).history, tuner.history)


def test_a_loaded_gzip_file_continues_as_the_original(tmp_path):
    tuner = _tuner()
    tuner.save(tmp_path / "t.json.gz")
    loaded = bandit.Tuner.load(tmp_path / "t.json.gz")
    for A_t, b in _systems(12, 15):
        r1, r2 = tuner.solve(A_t, b), loaded.solve(A_t, b)
        np.testing.assert_array_equal(r1.x, r2.x)
    _same(loaded.history, tuner.history)
    assert loaded.regret().best_fixed.estimate == tuner.regret().best_fixed.estimate


def test_an_old_plain_file_named_gz_still_loads(tmp_path):
    tuner = _tuner()
    tuner.save(tmp_path / "t.json")
    old = tmp_path / "old.json.gz"
    old.write_bytes((tmp_path / "t.json").read_bytes())  # as save wrote a .gz name before
    loaded = bandit.Tuner.load(old)
    _same(loaded.history, tuner.history)
    loaded.save(old)  # saved again: compressed now
    assert old.read_bytes()[:2] == b"\x1f\x8b"
    _same(bandit.Tuner.load(old).history, tuner.history)


def test_a_damaged_gzip_file_is_named_as_such(tmp_path):
    _tuner(4).save(tmp_path / "t.json.gz")
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes((tmp_path / "t.json.gz").read_bytes()[:40])
    with pytest.raises(bandit.TunerFileError, match=r"cut\.json\.gz: corrupt or truncated "
                                                     r"file \(a damaged gzip file"):
        bandit.Tuner.load(cut)
    other = tmp_path / "notes.json.gz"
    other.write_bytes(gzip.compress(b"hello"))
    with pytest.raises(bandit.TunerFileError, match=r"gzip-compressed, not JSON"):
        bandit.Tuner.load(other)


def test_plot_draws_a_gzipped_tuner_file(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    _tuner().save(tmp_path / "run.json.gz")
    assert main(["plot", str(tmp_path / "run.json.gz"), "--out", str(tmp_path / "fig")]) == 0
    names = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert names and all(n.startswith("run_") for n in names), names


def test_plot_says_a_missing_gz_tuner_file_is_missing(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "gone.json.gz")]) != 0
    assert "gone.json.gz: no such file" in capsys.readouterr().err


def test_resume_reads_a_gzipped_tuner_file_and_keeps_it_gzipped(batches, tmp_path,  # noqa: F811
                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default results folder
    path = _first(batches, tmp_path, "--omegas", "1.0", "1.3", "1.6", "1.9")
    reference = bandit.Tuner.load(path)
    for t in range(3, 6):
        reference.solve(*_system(t))
    gz = tmp_path / "t.json.gz"
    bandit.Tuner.load(path).save(gz)
    _, _, m2, r2 = batches
    assert main(["tune", *m2, "--rhs", *r2, "--resume", str(gz), "--no-plots", "--quiet",
                 "--no-exact", "--out", str(tmp_path / "second")]) == 0
    _same(bandit.Tuner.load(tmp_path / "second" / "tuner.json").history, reference.history)
    # without --out the continued tuner replaces the file: gzip-compressed, as named
    assert main(["tune", *m2, "--rhs", *r2, "--resume", str(gz), "--no-plots", "--quiet",
                 "--no-exact"]) == 0
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert len(bandit.Tuner.load(gz).history["arm"]) == 6
