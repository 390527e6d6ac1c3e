"""Ctrl-C during a process's first solve: Numba fills its compiler's tables then (importing
modules, walking registries through generators), and a KeyboardInterrupt landing there left
Numba broken for the rest of the process — every later solve failed with ``RuntimeError:
generator raised StopIteration`` (or ``KeyError: duplicate registration for ...``) until
Python was restarted; measured with a Ctrl-C at a random moment of the first solve, 4 of 60
processes.  The tables are now filled with Ctrl-C held (``solvers._jitcache._hold_signals_in_refresh``):
the Ctrl-C still stops the call, and the next solve works.

Each case runs in a fresh process (Numba fills the tables once per process), which sends
itself a real SIGINT at the first step of Numba's registry generator, the moment that had
broken it.
"""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import signal, sys
import numpy as np
import scipy.sparse.linalg as spla
import bandit, solvers
from solvers import gallery

# Python's own Ctrl-C handler, as in an interactive session (a job started in the background
# by a non-interactive shell inherits SIGINT ignored, and Python then installs none)
signal.signal(signal.SIGINT, signal.default_int_handler)
armed = [True]

def tracer(frame, event, arg):
    # a Ctrl-C arriving while Numba's registry generator runs (its first step)
    if event == "call" and frame.f_code.co_name == "stream_list" and armed[0]:
        armed[0] = False
        signal.raise_signal(signal.SIGINT)

A = gallery.laplacian_2d(6)
b = np.arange(1.0, 37.0)
first = {first!r}
sys.settrace(tracer)
try:
    if first == "tuner":
        bandit.Tuner(solver="sor").solve(A, b)
    elif first == "sor":
        solvers.sor(A, b, 1.5)
    else:
        bandit.JointCB([1.0, 1.5, 1.9], seed=0)  # runs a kernel in its constructor
    print("not interrupted" if not armed[0] else "never armed")
except KeyboardInterrupt:
    print("interrupted")
sys.settrace(None)
r = bandit.Tuner(solver="ssor_pcg").solve(A, b)
x = spla.spsolve(A.tocsc(), b)
print("after", r.converged, float(np.abs(r.x - x).max() / np.abs(x).max()))
"""


@pytest.mark.parametrize("first", ["tuner", "sor", "policy"])
def test_ctrl_c_in_numba_setup_leaves_the_process_usable(first):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT.format(first=first))],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.split()
    # the Ctrl-C was delivered and still stopped the call (held, not swallowed)
    assert lines[0] == "interrupted", out.stdout
    assert lines[1:3] == ["after", "True"], out.stdout + out.stderr[-2000:]
    assert float(lines[3]) < 1e-7  # against scipy's direct solve


def test_signals_held_delivers_a_held_ctrl_c_at_the_end_of_the_block():
    from solvers._jitcache import signals_held

    done = []
    # Python's own handler, whatever this process inherited (a background job: SIGINT ignored)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with signals_held():
                signal.raise_signal(signal.SIGINT)
                done.append(1)  # the block ran on: the Ctrl-C waited for its end
        assert done == [1]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)
