"""What the ``relaxtune`` command line prints where its output is not a UTF-8 terminal (a
terminal in another encoding, a log file, a pipe), and what it says about a folder it cannot
draw."""
import contextlib
import io
import os
import subprocess
import time
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from experiments.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _cli(*argv, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "experiments.cli", *map(str, argv)],
                          capture_output=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, **kw)


def _ascii_stdout():
    """Standard output as the command line sets it in an ASCII terminal."""
    return contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO(), "ascii", "relaxtune.ascii"))


def _right_edges(lines, column_end):
    return {len(line[:column_end].rstrip()) for line in lines}


def _laplacians(folder: Path, count: int) -> list[Path]:
    """Shifted 2-D Laplacians (5 x 5 grid) as Matrix Market files."""
    paths = []
    for k in range(count):
        T = sp.diags([-1.0, 2.0 + 0.1 * k, -1.0], [-1, 0, 1], shape=(5, 5))
        path = folder / f"A{k}.mtx"
        scipy.io.mmwrite(path, sp.kronsum(T, T).tocsr())
        paths.append(path)
    return paths


# --- tables in a terminal that cannot print ω -------------------------------------------------
def test_study_table_is_aligned_in_an_ascii_terminal(tmp_path):
    # the columns had been measured for "fixed ω=1.4" and printed with "fixed omega=1.4":
    # every row with an ω stood four characters to the right of the others
    proc = _cli("learning", "--T", "20", "--trials", "1", "--learners", "tsallis_inf",
                "--no-plots", "--out", tmp_path / "r", env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode("ascii").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    table = lines[start:next(i for i, line in enumerate(lines) if line.startswith("results"))]
    assert any("fixed omega=" in line for line in table) and len(table) > 5
    # every column right-aligned but the first: the lines end together, and so does each
    # column ("iterations" ends where its header does)
    assert len({len(line) for line in table}) == 1, "\n".join(table)
    assert _right_edges(table, table[0].index("iterations") + len("iterations")) == {
        table[0].index("iterations") + len("iterations")}


def test_format_table_measures_what_it_prints():
    from experiments.results import format_table

    methods = {"fixed_1.4": {"label": "fixed ω=1.4", "iterations": 120.0, "seconds": 1.0},
               "tsallis_inf": {"label": "Tsallis-INF", "iterations": 100.0, "seconds": 2.0}}
    with _ascii_stdout():
        text = format_table(methods)
    lines = text.splitlines()
    assert "fixed omega=1.4" in text and "ω" not in text
    assert len({len(line) for line in lines}) == 1, text
    # unchanged where standard output prints ω (a UTF-8 terminal, docs, notebooks)
    assert "fixed ω=1.4" in format_table(methods)


def test_precond_table_measures_what_it_prints():
    from experiments.precond_study import format_precond_table

    def method(label, seconds):
        return {"label": label, "kind": "fixed", "lower_bound": False, "seconds": seconds,
                "seconds_min": seconds, "seconds_max": seconds, "wall_seconds": seconds,
                "iterations": 10.0, "work": 20.0}

    seq = {"best_fixed": "a", "methods": {"a": method("ssor_pcg ω=1.4", 1.0),
                                          "b": method("ω-only learner", 2.0),
                                          "c": method("cg", 3.0)}}
    with _ascii_stdout():
        text = format_precond_table(seq)
    lines = text.splitlines()
    assert "ssor_pcg omega=1.4" in text and "omega-only learner" in text
    assert len({len(line) for line in lines}) == 1, text
    kind = lines[0].index("kind")
    assert {line[kind:kind + 5] for line in lines[1:]} == {"fixed"}, text


def test_benchmark_table_measures_what_it_prints():
    from experiments._bench import format_table

    with _ascii_stdout():
        text = format_table(["tuner", "ratio"], [["fixed ω=1.4", "1.02"], ["cg", "1.50"]])
    assert text.splitlines() == ["tuner            ratio",
                                 "fixed omega=1.4   1.02",
                                 "cg                1.50"]


def test_tune_table_is_aligned_in_an_ascii_terminal(tmp_path):
    mats = _laplacians(tmp_path, 3)
    proc = _cli("tune", *mats, "--no-plots", "--out", tmp_path / "t",
                env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode("ascii").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    table = lines[start:next(i for i, line in enumerate(lines) if line.startswith("regret"))]
    assert any("best fixed omega = " in line for line in table), "\n".join(table)
    assert "x best fixed" in table[0]
    assert len({len(line) for line in table}) == 1, "\n".join(table)


# --- progress bars --------------------------------------------------------------------------
def test_no_progress_frames_into_a_file_or_pipe(tmp_path):
    # tqdm had redrawn its bars into a redirected standard error: carriage-return frames,
    # about a kilobyte a run, in every batch job's log
    proc = _cli("learning", "--T", "20", "--trials", "2", "--learners", "tsallis_inf",
                "--no-plots", "--out", tmp_path / "r")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert b"learning: SOR iterations" in proc.stdout  # the table still prints


def test_progress_bars_on_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    # a terminal 80 columns wide (a new pseudo-terminal has none: tqdm would draw nothing)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "learning", "--T",
                                 "20", "--trials", "2", "--learners", "tsallis_inf",
                                 "--no-plots", "--out", str(tmp_path / "r")],
                                stdout=subprocess.DEVNULL, stderr=slave,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=300) == 0
    finally:
        os.close(master)
    assert b"learning trials" in seen and b"2/2" in seen


def test_progress_bars_follow_quiet_and_the_terminal(monkeypatch):
    import argparse

    from experiments.cli_common import _progress_bars

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    assert _progress_bars(argparse.Namespace(quiet=False))
    assert not _progress_bars(argparse.Namespace(quiet=True))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not _progress_bars(argparse.Namespace(quiet=False))


# --- plot ---------------------------------------------------------------------------------
def test_plot_of_a_tune_folder_without_its_tuner_file(tmp_path, capsys):
    # had said "summary.json: not a relaxtune results summary (no 'study' entry)"
    out = tmp_path / "t"
    assert main(["tune", *map(str, _laplacians(tmp_path, 2)), "--no-plots", "--quiet",
                 "--out", str(out)]) == 0
    (out / "tuner.json").unlink()
    capsys.readouterr()
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"relaxtune: error: {out}: a relaxtune tune folder without its "
                          "tuner file")
    assert f"{out / 'tuner.json'}" in err and "missing" in err and "'study'" not in err
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "summary.json"]


# --- Ctrl-C while the worker processes start ----------------------------------------------
def _slow_square(x):
    time.sleep(5)
    return x * x


def test_ctrl_c_while_the_workers_start_stops_every_worker(monkeypatch):
    # Ctrl-C about a second into `relaxtune heat2d --jobs 2` had come while the pool started
    # a worker: started, but not yet listed by the pool, it was not stopped, and printed a
    # traceback (its lock gone with the study) after the study's one line
    import multiprocessing.process
    import signal

    from experiments import offset_study

    monkeypatch.setattr(offset_study.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(offset_study, "CGROUP_ROOT", "/nonexistent")
    # Ctrl-C as Python handles it by default, whatever an earlier test of this process left
    # (the suite once saw no KeyboardInterrupt here: another handler in place)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    start = multiprocessing.process.BaseProcess.start
    started = []

    def start_then_ctrl_c(self):
        start(self)
        started.append(self)
        if len(started) == 1:  # Ctrl-C right after the first worker started
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start_then_ctrl_c)
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            offset_study.run_parallel(_slow_square, [1, 2, 3], jobs=2, progress=False)
        assert time.perf_counter() - t0 < 30  # stopped, not waited for
        assert len(started) == 2 and not [p.pid for p in started if p.is_alive()]
    finally:
        for p in started:  # whatever happened, no worker outlives the test
            p.terminate()
        signal.signal(signal.SIGINT, before)


# --- --json - ------------------------------------------------------------------------------
def test_json_dash_is_standard_output(tmp_path):
    # a file named "-" had been written in the current folder, and the table printed
    import json

    proc = _cli("learning", "--T", "10", "--trials", "1", "--learners", "tsallis_inf",
                "--no-plots", "--json", "-", "--out", tmp_path / "r", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    printed = json.loads(proc.stdout)  # standard output is the summary and nothing else
    assert printed == json.loads((tmp_path / "r" / "summary.json").read_text())
    assert printed["study"] == "learning" and "tsallis_inf" in printed["methods"]
    assert proc.stderr == b"" and not (tmp_path / "-").exists()


def test_json_dash_of_tune(tmp_path, capsys):
    import json

    mats = _laplacians(tmp_path, 2)
    assert main(["tune", *map(str, mats), "--no-plots", "--json", "-", "--out",
                 str(tmp_path / "t")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "t" / "summary.json").read_text())
    assert printed["systems"] == 2


def test_json_named_dash_is_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["learning", "--T", "5", "--trials", "1", "--learners", "tsallis_inf",
                 "--no-plots", "--quiet", "--json", "./-", "--out", "r"]) == 0
    assert (tmp_path / "-").read_text() == (tmp_path / "r" / "summary.json").read_text()
    assert capsys.readouterr().out == ""


def test_benchmark_json_dash_is_refused(tmp_path, capsys):
    # (--seeds 0 is refused too: whatever happens, no benchmark runs here)
    assert main(["bench", "regret", "--json", "-", "--seeds", "0"]) == 2
    assert capsys.readouterr().err == (
        "relaxtune: error: bench regret: argument --json: '-' (standard output) is not taken "
        "here: the tables are printed there; give a file name\n")


# --- an undefined regret estimate -----------------------------------------------------------
def test_an_undefined_estimate_says_why_not_nan(tmp_path, capsys):
    # with --maxiter 1 no solve converges: the estimate is undefined, and had been printed
    # as "estimate nan no interval (undefined)" by tune and "nan (biased: no interval)" by plot
    mats = _laplacians(tmp_path, 2)
    assert main(["tune", *map(str, mats), "--maxiter", "1", "--no-plots", "--out",
                 str(tmp_path / "t")]) == 3  # systems left unsolved
    out = capsys.readouterr().out
    assert "nan" not in out
    assert ("the Tuner's estimate is undefined: no arm converged in any of the 2 rounds"
            in out)
    assert main(["plot", str(tmp_path / "t" / "tuner.json"), "--out", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out
    assert "regret vs the best fixed arm undefined: no arm converged in any of the 2" in out


# --- a path that is not a file -----------------------------------------------------------
@pytest.mark.parametrize("where, message", [
    ("folder", "is a folder; give a file"),
    (os.devnull, "not a regular file (a device or a pipe); give a file"),
    ("nowhere.txt", "no such file"),
])
def test_contexts_that_are_not_a_file(tmp_path, capsys, where, message):
    # a folder and a device had both been "no such file"
    (tmp_path / "folder").mkdir()
    path = where if os.path.isabs(where) else str(tmp_path / where)
    mats = _laplacians(tmp_path, 1)
    assert main(["tune", str(mats[0]), "--contexts", path, "--out", str(tmp_path / "t")]) == 2
    assert capsys.readouterr().err == f"relaxtune: error: {path}: {message}\n"
    assert not (tmp_path / "t").exists()


def test_a_refused_plot_leaves_no_empty_figures_folder(tmp_path, capsys):
    # a summary with another layout, found once the --out folders had been made: they had
    # been left behind, empty (so had they after Ctrl-C before the first figure)
    import json

    res = tmp_path / "r"
    assert main(["learning", "--T", "5", "--trials", "1", "--learners", "tsallis_inf",
                 "--no-plots", "--quiet", "--out", str(res)]) == 0
    summary = json.loads((res / "summary.json").read_text())
    summary["methods"] = {name: {"label": "x"} for name in summary["methods"]}  # no numbers
    (res / "summary.json").write_text(json.dumps(summary))
    assert main(["plot", str(res), "--markdown", "--out", str(tmp_path / "f" / "g")]) == 2
    assert "do not have the layout this relaxtune draws" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
    assert main(["plot", str(res), "--markdown"]) == 2  # the default folder, inside the results folder
    assert sorted(p.name for p in res.iterdir()) == ["rounds.csv", "rounds.npz", "summary.json"]
