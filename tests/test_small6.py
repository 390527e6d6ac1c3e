"""Defects a new user met: a tolerance that solved nothing, numpy's words for a contexts file
with commas, "corrupt" for a history CSV given to ``plot``, plain CG labelled "1" with ω = 1,
and a negative time outside the solver printed as a figure."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import bandit
import solvers
from experiments import bench_percall
from experiments.user_files import read_contexts
from solvers import gallery

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")


def relaxtune(*args, cwd):
    return subprocess.run([sys.executable, "-m", "experiments.cli", *map(str, args)], env=ENV,
                          cwd=cwd, capture_output=True, text=True, timeout=300)


# --- 1. rtol >= 1: every solve from zero "already solved" ------------------------------------
@pytest.mark.parametrize("rtol", [1, 1.0, 5.0])
def test_rtol_of_one_or_more_is_refused_by_the_tuner_and_the_solvers(rtol):
    A, b = gallery.laplacian_2d(5), np.ones(25)
    with pytest.raises(ValueError, match=r"rtol must be a number in \[0, 1\).*already solved"):
        bandit.Tuner(solver="sor", rtol=rtol)
    for solve in (lambda: solvers.sor(A, b, 1.5, rtol=rtol), lambda: solvers.cg(A, b, rtol=rtol),
                  lambda: solvers.ssor_pcg(A, b, 1.2, rtol=rtol)):
        with pytest.raises(ValueError, match=r"rtol must be a number in \[0, 1\)"):
            solve()


def test_rtol_just_below_one_still_iterates():
    A, b = gallery.laplacian_2d(5), np.ones(25)
    r = bandit.Tuner(solver="cg", rtol=0.5).solve(A, b)
    res = np.linalg.norm(b - A.toarray() @ r.x)
    assert r.converged and r.iterations >= 1 and res <= 0.5 * np.linalg.norm(b)


# --- 2. a contexts file with commas -----------------------------------------------------------
@pytest.mark.parametrize("text, fragment", [
    ("0.1,0.2\n0.3,0.4\n", "line 1 is '0.1,0.2' (values separated by commas)"),
    ("# dt, kappa\n0.1 0.2\n0.3, 0.4\n", "line 3 is '0.3, 0.4' (values separated by commas)"),
    ("0.1\n0.3 0.4\n", "line 2 ('0.3 0.4') has 2 numbers where the lines before it have 1"),
    ("0.1\nhot\n", "line 2 is 'hot', not numbers separated by spaces"),
])
def test_an_unreadable_contexts_file_is_described_in_its_own_terms(tmp_path, text, fragment):
    path = tmp_path / "ctx.txt"
    path.write_text(text)
    with pytest.raises(ValueError) as exc:
        read_contexts(path, 2)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: cannot read contexts: ") and fragment in msg
    assert "numbers separated by spaces (a vector context" in msg and "usecols" not in msg
    # the same numbers with spaces are read
    good = tmp_path / "good.txt"
    good.write_text("0.1 0.2\n0.3 0.4\n")
    np.testing.assert_array_equal(np.array(read_contexts(good, 2)), [[0.1, 0.2], [0.3, 0.4]])


def test_tune_names_the_contexts_file_with_commas(tmp_path):
    for t in range(2):
        scipy.io.mmwrite(tmp_path / f"A{t}.mtx", gallery.laplacian_2d(4) * (t + 1))
    (tmp_path / "ctx.txt").write_text("0.1,0.2\n0.3,0.4\n")
    p = relaxtune("tune", "A0.mtx", "A1.mtx", "--contexts", "ctx.txt", "--out", "out",
                  cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert ("ctx.txt: cannot read contexts: line 1 is '0.1,0.2' (values separated by commas)"
            in p.stderr) and "usecols" not in p.stderr
    assert not (tmp_path / "out").exists()


# --- 3. relaxtune plot history.csv ------------------------------------------------------------
def test_plot_of_a_history_csv_says_what_it_is(tmp_path):
    t = bandit.Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    for c in (0.1, 0.2):
        t.solve(gallery.shifted_laplacian_2d(4, c), np.ones(16), context=np.array([c, 1.0]))
    t.to_csv(tmp_path / "history.csv")
    assert bandit.report.read_csv(tmp_path / "history.csv")["arm"].size == 2  # a real one
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    p = relaxtune("plot", "history.csv", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "history.csv is a history CSV (Tuner.to_csv), not a tuner file" in p.stderr
    assert "pass the saved tuner file (Tuner.save" in p.stderr and "corrupt" not in p.stderr
    q = relaxtune("plot", "other.csv", cwd=tmp_path)  # any other CSV: as before
    assert q.returncode == 2 and "corrupt or truncated" in q.stderr
    assert "history CSV" not in q.stderr
    assert sorted(os.listdir(tmp_path)) == ["history.csv", "other.csv"]  # nothing drawn


# --- 5. plain CG: label "cg", ω NaN ----------------------------------------------------------
def test_plain_cg_arm_is_labelled_cg_with_no_omega(tmp_path):
    A, b = gallery.laplacian_2d(6), np.ones(36)
    t = bandit.Tuner(solver="cg")
    rs = [t.solve(A * (1 + k), b) for k in range(3)]
    assert t.arm_labels == ["cg"] and list(t.history["label"]) == ["cg"] * 3
    assert np.isnan(t.history["omega"]).all()
    assert all(r.omega is None and r.settings == {} for r in rs)
    np.testing.assert_allclose(rs[2].x, np.linalg.solve(3 * A.toarray(), b), rtol=1e-6)
    assert t.summary()["arm_counts"] == {"cg": 3}
    t.save(tmp_path / "new.json")
    u = bandit.Tuner.load(tmp_path / "new.json")
    assert u.arm_labels == ["cg"] and np.isnan(u.history["omega"]).all()
    # a file written before: the arm labelled "1" and ω = 1.0 in every row (the only fields
    # that differ) loads, read as this version records it
    payload = json.loads((tmp_path / "new.json").read_text())
    payload["rows"]["omega"] = [1.0] * 3
    payload["row_configs"]["label"] = ["1"] * 3
    (tmp_path / "old.json").write_text(json.dumps(payload))
    old = bandit.Tuner.load(tmp_path / "old.json")
    assert old.arm_labels == ["cg"] and np.isnan(old.history["omega"]).all()
    np.testing.assert_array_equal(old.history["iterations"], t.history["iterations"])
    # another ω in such a row is still refused as a hand edit
    payload["rows"]["omega"] = [1.0, 1.7, 1.0]
    (tmp_path / "bad.json").write_text(json.dumps(payload))
    with pytest.raises(bandit.TunerFileError, match=r"rows\.omega\[1\] = 1\.7 is not the ω"):
        bandit.Tuner.load(tmp_path / "bad.json")


def test_omega_arms_keep_their_omega_and_label():
    t = bandit.Tuner(bandit.UniformRandom([1.2, {"method": "cg", "pc": "jacobi"}], seed=0),
                     solver="ssor_pcg")
    for _ in range(4):
        t.solve(gallery.laplacian_2d(5), np.ones(25))
    om = t.history["omega"]
    lab = t.history["label"]
    assert (om[lab == "ssor_pcg ω=1.20"] == 1.2).all() and np.isnan(om[lab == "cg+jacobi"]).all()


# --- 6. bench percall --parts: a negative time outside the solver -----------------------------
def _records(outside_us):
    return {"fixed ω=1.6": [{"whole": 120e-6, "solver": 100e-6}] * 3,
            "ω-only learner": [{"whole": 100e-6 + w * 1e-6, "solver": 100e-6}
                               for w in outside_us]}


def test_negative_time_outside_the_solver_is_flagged_impossible(capsys):
    assert bench_percall._impossible_parts(_records([5.0, 7.0, 9.0])) == []
    msgs = bench_percall._impossible_parts(_records([-3592.0, -3000.0, 10.0]))
    assert len(msgs) == 1 and msgs[0].startswith(
        "IMPOSSIBLE: ω-only learner: median time outside the solver -3000.0 µs is below zero")
    bench_percall._print_parts({n: [dict(r, iterations=1, collections=0) for r in recs]
                                for n, recs in _records([-3592.0, -3000.0, 10.0]).items()})
    out = capsys.readouterr().out
    assert "!! IMPOSSIBLE: ω-only learner" in out and "IMPOSSIBLE: fixed" not in out
