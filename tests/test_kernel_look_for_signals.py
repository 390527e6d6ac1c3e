"""The kernels' look for pending signals (``solvers._kernels.look_for_signals``) is compiled
and cached with the kernels and hands the GIL to waiting threads.

It was an object-mode block calling an empty Python function: Numba compiled that block on a
process's first look, inside whichever long solve looked first (100–170 ms on the Intel Xeon
machine, in a timed solve of a Tuner as much as any other), and a signal handled inside
Numba's Python helpers for the block failed the solve with ``SystemError`` (see
``tests/test_ctrlc_in_numba_helpers.py``).  The look now calls ``PyErr_CheckSignals`` from the
compiled code.  (That Ctrl-C stops each kernel within a few tens of milliseconds:
``tests/test_newuser30_ctrlc_in_kernel.py``, ``tests/test_ctrlc_pcg_kernels.py``.)"""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import solvers
from solvers import _kernels as K
from solvers import gallery

ROOT = Path(__file__).resolve().parents[1]
TOL = dict(rtol=1e-300, atol=1e-300)  # never met: every run goes to its maxiter

FIRST_LOOK = """
import numpy as np, solvers
from numba.core import event
from solvers import gallery
A = solvers.prepare(gallery.laplacian_2d(100)); b = np.ones(A.n)
TOL = dict(rtol=1e-300, atol=1e-300)
solvers.{call}(A, b, maxiter=2, **TOL)  # loaded; too short to look
with event.install_recorder("numba:compile") as rec:
    r = solvers.{call}(A, b, maxiter=600, **TOL)  # 600 × (nnz + n) entries: at least two looks
assert r.iterations == 600 and 600 * (A.nnz + A.n) > 2 * {work}
print(len(rec.buffer))
"""


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="compiled kernels")
@pytest.mark.parametrize("call", ["cg", "sor"])
def test_a_processs_first_look_compiles_nothing(call):
    # a fresh process: the kernels loaded from the cache, the first looks run in a long solve
    code = FIRST_LOOK.format(call=call, work=K.SIGNAL_WORK)
    if call == "sor":
        code = code.replace("solvers.sor(A, b, ", "solvers.sor(A, b, 1.0, ")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "0"  # no compile event inside the solve


def test_the_look_has_no_object_mode_block():
    K.look_for_signals()
    (compiled,) = K.look_for_signals.overloads.values()
    assert compiled.lifted == ()


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="compiled kernels")
def test_a_waiting_thread_runs_during_a_long_kernel():
    # every look hands the GIL to a thread waiting for it (a timer, a progress bar's monitor):
    # the thread below ticks every 5 ms of sleep, the kernel looks every ~280 SOR sweeps at
    # n = 10⁴ (about 10 ms); without the hand-over it would tick only after the solve
    A = solvers.prepare(gallery.laplacian_2d(100))
    b = np.ones(A.n)
    solvers.sor(A, b, 1.0, maxiter=2, **TOL)
    ticks, stop = [], threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    thread = threading.Thread(target=tick)
    thread.start()
    time.sleep(0.02)
    t0 = time.perf_counter()
    r = solvers.sor(A, b, 1.0, maxiter=8000, **TOL)  # 4.7 × 10⁸ entries: 28 looks
    t1 = time.perf_counter()
    stop.set()
    thread.join()
    assert r.iterations == 8000 and 8000 * (A.nnz + A.n) > 25 * K.SIGNAL_WORK
    inside = [t for t in ticks if t0 < t < t1]
    assert len(inside) >= 5, (len(inside), t1 - t0)
