"""What the Ctrl-C tests share: a real SIGINT sent into a running call, and a run sized to
last a given time (``tests/test_newuser30_ctrlc_in_kernel.py``,
``tests/test_ctrlc_pcg_kernels.py``)."""
import math
import os
import signal
import sys
import threading
import time

from solvers import _jitcache


def interrupted_after(call, signal_at):
    """Seconds from the start of ``call()`` to its KeyboardInterrupt (a SIGINT sent to this
    process ``signal_at`` seconds in); ``None`` if it returned."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(signal_at, os.kill, (os.getpid(), signal.SIGINT))
    # the library's hook for an interrupt Python swallows inside llvmlite's callbacks (a
    # kernel's first look for signals may compile): pytest replaces sys.unraisablehook with
    # its own during a test, and the Ctrl-C was then lost there (seen under load)
    hook, sys.unraisablehook = sys.unraisablehook, _jitcache._redeliver_interrupt
    try:
        t0 = time.perf_counter()
        timer.start()
        try:
            call()
        except KeyboardInterrupt:
            return time.perf_counter() - t0
        return None
    finally:
        timer.join()
        signal.signal(signal.SIGINT, old)
        sys.unraisablehook = hook


def maxiter_for(solve, run_seconds):
    """The iterations that make a run of ``solve`` (a function of ``maxiter``) last about
    ``run_seconds`` (compiled first)."""
    solve(2)
    per = math.inf
    # The fastest of three: a burst of load on the shared machine while timing would size the
    # run too short, and it could end before the signal arrives (a longer run only waits).
    for _ in range(3):
        t0 = time.perf_counter()
        res = solve(40)
        per = min(per, (time.perf_counter() - t0) / res.iterations)
    return max(100, math.ceil(run_seconds / per))
