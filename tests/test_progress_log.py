"""``Tuner(progress=True)`` with standard error not a terminal (``python run.py 2> log``, a
batch job): the bar writes plain lines, at most one a minute and the final totals, never
tqdm's carriage-return redraws (one per solve, all on one endless line of the log).  On a
terminal (a pseudo-terminal here) the bar redraws as before."""
import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import bandit
from bandit import report

ROOT = Path(__file__).resolve().parents[1]
A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(30, 30), format="csr")

SCRIPT = """
import numpy as np, scipy.sparse as sp, bandit
A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(30, 30), format="csr")
tuner = bandit.Tuner(progress=True, seed=0)
for _ in range(60):
    tuner.solve(A, np.ones(30))
tuner.progress = False  # closes the bar: its final totals
"""


def _run(stderr):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", SCRIPT], stderr=stderr,
                          stdout=subprocess.DEVNULL, env=env, cwd=ROOT, timeout=300)


def _solves(tuner, count):
    for _ in range(count):
        tuner.solve(A, np.ones(30))


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_file_gets_lines_not_redraws(tmp_path):
    log = tmp_path / "job.log"
    with open(log, "w") as f:
        assert _run(f).returncode == 0
    text = log.read_text()
    assert "\r" not in text
    lines = text.splitlines()
    assert 1 <= len(lines) <= 3, lines  # the start, the final totals (a run under a minute)
    assert "60solve" in lines[-1] and "iterations=" in lines[-1] and "leader=" in lines[-1]


def test_a_pseudo_terminal_still_gets_the_bar():
    master, slave = pty.openpty()
    # a terminal 200 columns wide (a new pseudo-terminal has 0: tqdm would draw nothing)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    try:
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stderr=slave,
                                stdout=subprocess.DEVNULL, cwd=ROOT,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
        os.close(slave)
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], 300)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait(timeout=300) == 0
    finally:
        os.close(master)
    text = out.decode("utf-8", "replace")
    assert "\r" in text and "60solve" in text  # redrawn in place, to the final totals


def test_a_stream_that_is_not_a_terminal_gets_a_line_a_minute(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    tuner = bandit.Tuner(progress="log", seed=0)
    _solves(tuner, 40)
    tuner.progress = False
    text = stream.getvalue()
    assert "\r" not in text and len(text.splitlines()) <= 2
    assert text.splitlines()[-1].startswith("log: 40solve")
    assert text.endswith("\n")
    assert report.LOG_INTERVAL == 60.0


def test_a_terminal_stream_redraws(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    tuner = bandit.Tuner(progress="tty", seed=0)
    _solves(tuner, 5)
    tuner.progress = False
    assert "\r" in stream.getvalue() and "5solve" in stream.getvalue()


def test_a_closed_stream_does_not_fail_the_solve(monkeypatch):
    stream = io.StringIO()
    stream.close()
    monkeypatch.setattr(sys, "stderr", stream)
    tuner = bandit.Tuner(progress=True, seed=0)
    _solves(tuner, 3)
    tuner.progress = False
    assert len(tuner.history["arm"]) == 3


def test_progress_off_opens_no_bar():
    tuner = bandit.Tuner(seed=0)
    _solves(tuner, 3)
    assert tuner._hook is None


def test_a_second_bar_open_at_the_same_time_writes_no_cursor_moves(monkeypatch):
    # two Tuners with progress on into one log: tqdm draws the second bar a line lower and
    # reaches it by cursor moves ("\x1b[A"), which had become lines of the log of their own
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    first = bandit.Tuner(progress=True, seed=0)
    _solves(first, 3)
    second = bandit.Tuner(progress="second", seed=0)
    _solves(second, 5)
    second.progress = False
    first.progress = False
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text
    lines = text.splitlines()
    assert all(line.strip() for line in lines), lines
    assert any(line.startswith("second: 5solve") for line in lines), lines
