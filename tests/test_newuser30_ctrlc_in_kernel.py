"""Ctrl-C in a long run of a Numba solver takes effect within a few tens of milliseconds: the
kernels look for pending signals every ``_kernels.SIGNAL_WORK`` matrix entries
(``look_for_signals``).  They had looked at none, so Ctrl-C waited for the whole run, up to
``maxiter`` iterations (2 s after the signal on a 2.3 s SOR run at n = 90 000).

Each case sizes ``maxiter`` so that the run would last about 6 s, sends the process a real
SIGINT 0.2 s into it and requires the ``KeyboardInterrupt`` within half the run; a Tuner
interrupted so is left as before the call (no round recorded) and solves the next system to
the same answer as a direct solve.  (Jacobi- and IC(0)-PCG: ``tests/test_ctrlc_pcg_kernels.py``.)"""
import os

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import bandit
import solvers
from solvers import gallery

from ctrlc import interrupted_after, maxiter_for  # (tests/ctrlc.py, shared)

A = solvers.prepare(gallery.laplacian_2d(200))
B = np.ones(A.n)
TOL = {"rtol": 1e-300, "atol": 1e-300}  # never met: every run goes to its maxiter
RUN_SECONDS = 6.0
SIGNAL_AT = 0.2

CASES = {
    "sor": lambda m: solvers.sor(A, B, 1.0, maxiter=m, **TOL),
    # (order="textbook" runs this kernel on the row-reversed system, whose reversal in Python
    # can take the signal before the kernel starts: not a case that tells)
    "ssor_pcg": lambda m: solvers.ssor_pcg(A, B, 1.3, maxiter=m, **TOL),
    "cg": lambda m: solvers.cg(A, B, maxiter=m, **TOL),
    "pcg ssor": lambda m: solvers.pcg(A, B, {"pc": "ssor", "omega": 1.3}, maxiter=m, **TOL),
}


def _interrupted_after(call):
    return interrupted_after(call, SIGNAL_AT)


def _maxiter(solve):
    return maxiter_for(solve, RUN_SECONDS)


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="times compiled kernels")
@pytest.mark.parametrize("name", list(CASES))
def test_ctrl_c_stops_a_long_run(name):
    solve = CASES[name]
    m = _maxiter(solve)
    after = _interrupted_after(lambda: solve(m))
    assert after is not None, f"{name}: the run was not interrupted"
    assert after < SIGNAL_AT + RUN_SECONDS / 2, f"{name}: interrupted only after {after:.2f} s"


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="times compiled kernels")
def test_a_tuner_interrupted_in_a_long_run_records_nothing_and_goes_on():
    m = _maxiter(lambda k: solvers.sor(A, B, 1.0, maxiter=k, **TOL))
    small = gallery.laplacian_2d(8)
    t = bandit.Tuner([1.0, 1.5], solver="sor", seed=0, maxiter=m)
    t.solve(small, np.ones(64))
    before = t.policy.state_dict()
    after = _interrupted_after(lambda: t.solve(A, B))  # no arm converges in 0.2 s
    assert after is not None and after < SIGNAL_AT + RUN_SECONDS / 2
    assert len(t.history["arm"]) == 1
    assert t.policy.state_dict() == before
    r = t.solve(small, np.arange(1.0, 65.0))
    x = spla.spsolve(small.tocsc(), np.arange(1.0, 65.0))
    assert len(t.history["arm"]) == 2 and r.converged
    assert np.abs(r.x - x).max() <= 1e-6 * np.abs(x).max()
