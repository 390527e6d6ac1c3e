"""What the ``relaxtune`` command line prints where its output is not a UTF-8 terminal (a
terminal in another encoding, a log file, a pipe), and what it says about a folder it cannot
draw."""
import contextlib
import io
import os
import subprocess
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
