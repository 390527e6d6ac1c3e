"""``relaxtune tune --resume TUNER_FILE``: a saved tuner continued on new systems from the
command line, as ``Tuner.load`` and more ``solve`` calls continue it in Python."""
import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import bandit
from experiments.cli import main
from solvers import gallery

L = gallery.laplacian_2d(8)
N = L.shape[0]


def _system(t):
    return (sp.eye(N) + (0.2 + 0.7 * t) * L).tocsr(), np.cos(np.arange(N) * (t + 1) * 0.1)


@pytest.fixture
def batches(tmp_path):
    """Two batches of systems as files: 0–2, then 3–5."""
    mats, rhs = [], []
    for t in range(6):
        A, b = _system(t)
        m, r = tmp_path / f"A{t}.mtx", tmp_path / f"b{t}.npy"
        scipy.io.mmwrite(m, A)
        np.save(r, b)
        mats.append(str(m))
        rhs.append(str(r))
    return mats[:3], rhs[:3], mats[3:], rhs[3:]


def _first(batches, tmp_path, *extra):
    m1, r1, _, _ = batches
    out = tmp_path / "first"
    assert main(["tune", *m1, "--rhs", *r1, "--solver", "sor", "--out", str(out),
                 "--no-plots", "--quiet", "--no-exact", *extra]) == 0
    return out / "tuner.json"


def test_resume_continues_the_learner_as_load_and_solve_do(batches, tmp_path, capsys):
    """The same draws, costs and saved state as Tuner.load + solve on the same systems."""
    path = _first(batches, tmp_path, "--omegas", "1.0", "1.3", "1.6", "1.9")
    _, _, m2, r2 = batches
    reference = bandit.Tuner.load(path)  # the Python continuation, from the same file
    for t in range(3, 6):
        reference.solve(*_system(t))
    before = path.read_bytes()
    out = tmp_path / "second"
    assert main(["tune", *m2, "--rhs", *r2, "--resume", str(path), "--out", str(out),
                 "--no-plots", "--json", "-"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert path.read_bytes() == before  # with --out the file given is kept
    got = bandit.Tuner.load(out / "tuner.json").history
    want = reference.history
    assert len(got["arm"]) == 6
    for key in ("arm", "omega", "iterations", "converged"):
        np.testing.assert_array_equal(got[key], want[key])
    assert summary["resumed"] == {"earlier_rounds": 3, "rounds": 6}
    assert summary["systems"] == 3  # the table's totals: the new systems' solves
    assert summary["tuned"]["iterations"] == int(want["iterations"][3:].sum())
    assert "covered" not in summary  # estimate (6 rounds) and exact regret (3) differ
    # the exact comparison is over the new systems, with the tuner's ω grid
    assert sorted(summary["fixed"]) == ["1.0", "1.3", "1.6", "1.9"]


def test_resume_without_out_saves_the_file_in_place_and_reports_both_runs(
        batches, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default results folder
    path = _first(batches, tmp_path)
    reference = bandit.Tuner.load(path)
    for t in range(3, 6):
        reference.solve(*_system(t))
    _, _, m2, r2 = batches
    assert main(["tune", *m2, "--rhs", *r2, "--resume", str(path), "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "a continued tuner: the table covers these 3 systems, not its 3 earlier rounds" \
        in text
    assert "estimate over all 6 rounds" in text and "exact" in text
    assert f"continued tuner: {path} (replaced; 6 rounds)" in text
    h = bandit.Tuner.load(path).history
    np.testing.assert_array_equal(h["arm"], reference.history["arm"])
    np.testing.assert_array_equal(h["iterations"], reference.history["iterations"])
    folder = next((tmp_path / "results").iterdir())
    assert (folder / "tuner.json").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("option, message", [
    (["--solver", "ssor_pcg"], "--solver ssor_pcg (the file's: sor)"),
    (["--omegas", "1.0", "1.5"], "--omegas 1 1.5 (the file's: 1 1.05"),
    (["--learner", "tsallis_inf"], "--learner tsallis_inf (the file's: jointcb)"),
    (["--rtol", "1e-6"], "--rtol 1e-06 (the file's: 1e-08)"),
    (["--maxiter", "50"], "--maxiter 50 (the file's: 10000)"),
    (["--audit-budget", "0.2"], "--audit-budget 0.2 (the file's: 0.05)"),
    (["--seed", "3"], "--seed 3 (the file's: 0)"),
    (["--auto-context"], "--auto-context (the file's tuner has no automatic context)"),
])
def test_an_option_that_differs_from_the_file_is_refused_naming_both(
        batches, tmp_path, capsys, option, message):
    path = _first(batches, tmp_path)
    before = path.read_bytes()
    _, _, m2, _ = batches
    out = tmp_path / "o"
    capsys.readouterr()
    assert main(["tune", *m2, "--resume", str(path), "--out", str(out), "--quiet",
                 *option]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and path.read_bytes() == before


def test_the_same_settings_may_be_repeated(batches, tmp_path):
    path = _first(batches, tmp_path, "--learner", "tsallis_inf", "--seed", "4")
    _, _, m2, _ = batches
    assert main(["tune", *m2, "--resume", str(path), "--solver", "sor", "--learner",
                 "tsallis_inf", "--seed", "4", "--rtol", "1e-8", "--maxiter", "10000",
                 "--audit-budget", "0.05", "--out", str(tmp_path / "o"), "--no-plots",
                 "--quiet", "--no-exact"]) == 0
    assert len(bandit.Tuner.load(tmp_path / "o" / "tuner.json").history["arm"]) == 6


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"{\"format\": \"relaxtune-tuner\", \"ver", "not"),
    (b"[1, 2, 3]\n", ""),
])
def test_a_missing_or_corrupt_tuner_file_is_refused(batches, tmp_path, capsys, content,
                                                     message):
    path = tmp_path / "tuner.json"
    if content is not None:
        path.write_bytes(content)
    _, _, m2, _ = batches
    assert main(["tune", *m2, "--resume", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relaxtune: error: --resume: ") and str(path) in err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    if content is not None:
        assert path.read_bytes() == content


def test_a_newer_version_is_refused(batches, tmp_path, capsys):
    path = _first(batches, tmp_path)
    data = json.loads(path.read_text())
    data["version"] = 99
    path.write_text(json.dumps(data))
    _, _, m2, _ = batches
    assert main(["tune", *m2, "--resume", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--resume: " in err and "version" in err and "99" in err


def _solve_raises(monkeypatch, at, exc):
    """``Tuner.solve`` raises ``exc`` on its ``at``-th call (counting again from 1 after
    ``count[0] = 0`` on the returned counter)."""
    real = bandit.Tuner.solve
    count = [0]

    def solve(self, *args, **kwargs):
        count[0] += 1
        if count[0] == at:
            raise exc
        return real(self, *args, **kwargs)

    monkeypatch.setattr(bandit.Tuner, "solve", solve)
    return count


def test_a_failing_system_leaves_the_file_as_it_was(batches, tmp_path, capsys, monkeypatch):
    path = _first(batches, tmp_path)
    before = path.read_bytes()
    _, _, m2, r2 = batches
    count = _solve_raises(monkeypatch, 2, ValueError("the solution underflows"))  # system 2
    assert main(["tune", *m2, "--rhs", *r2, "--resume", str(path), "--quiet",
                 "--no-plots", "--out", str(tmp_path / "o")]) == 2
    assert f"{m2[1]}: the solution underflows" in capsys.readouterr().err
    assert path.read_bytes() == before
    # without --out: the file is the one that would be replaced
    count[0] = 0
    monkeypatch.chdir(tmp_path)
    assert main(["tune", *m2, "--rhs", *r2, "--resume", str(path), "--quiet",
                 "--no-plots"]) == 2
    assert path.read_bytes() == before


def test_ctrl_c_keeps_the_file_and_saves_the_finished_systems_beside(
        batches, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _first(batches, tmp_path)
    before = path.read_bytes()
    _, _, m2, r2 = batches
    _solve_raises(monkeypatch, 3, KeyboardInterrupt())  # on the third new system
    assert main(["tune", *m2, "--rhs", *r2, "--resume", str(path), "--quiet",
                 "--no-plots", "--no-exact"]) == 130
    err = capsys.readouterr().err
    assert f"{path} is kept as it was" in err
    assert path.read_bytes() == before
    folder = next((tmp_path / "results").iterdir())
    assert len(bandit.Tuner.load(folder / "tuner.json").history["arm"]) == 5
