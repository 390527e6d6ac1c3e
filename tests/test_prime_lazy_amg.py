"""A Tuner's first solve primes only what every family's runs need: pyamg's clocks of the
guard's AMG budget are taken when the learner first tries AMG (before that run's clock starts),
not at the first solve; and whatever is left to later solves, no Numba kernel is loaded or
compiled inside a timed run of any family (the seconds a clock learner is told)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import bandit
import solvers.amg
from solvers import gallery

ROOT = Path(__file__).resolve().parents[1]
ARMS = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "jacobi"},
        {"method": "cg", "pc": "amg"}]


class Script(bandit.FixedArm):
    """Plays ``schedule`` in turn (then its last arm); the leader is arm 0 once run."""

    def __init__(self, arms, schedule):
        super().__init__(arms, arm=0)
        self.schedule = list(schedule)

    def _select(self, context):
        return self.schedule[min(self.t, len(self.schedule) - 1)]


def _loop(tuner, steps):
    K = gallery.laplacian_2d(30).tocsr()
    n = K.shape[0]
    rng = np.random.default_rng(1)
    x = np.zeros(n)
    for k in range(steps):
        A = (K + (0.1 + 0.05 * np.sin(k)) * sp.identity(n, format="csr")).tocsr()
        x = tuner.solve(A, rng.standard_normal(n), x0=x).x
    return tuner


def _count_amg_clocks(monkeypatch):
    calls = []
    for name in ("setup_clock_floor", "setup_price"):
        real = getattr(solvers.amg.AMG, name)

        def counted(self, op, *a, _real=real, _name=name):
            # the solver functions (pcg and its helpers) on the stack: a run's clock is on
            frame, in_run = sys._getframe(1), False
            while frame is not None:
                in_run |= frame.f_code.co_filename.endswith(os.path.join("solvers", "_api.py"))
                frame = frame.f_back
            calls.append((_name, in_run))
            return _real(self, op, *a)

        monkeypatch.setattr(solvers.amg.AMG, name, counted)
    return calls


def test_a_tuner_that_never_tries_amg_never_takes_pyamgs_clocks(monkeypatch):
    calls = _count_amg_clocks(monkeypatch)
    for cost in ("time", "timed_work"):
        tuner = _loop(bandit.Tuner(Script(ARMS, [0, 1, 0, 1, 0]), cost=cost), 5)
        assert set(tuner.history["arm"]) == {0, 1}
    assert calls == []  # before: one clock floor and one price per AMG arm, at solve 0


def test_pyamgs_clocks_are_taken_by_the_first_amg_budget_outside_any_run(monkeypatch):
    calls = _count_amg_clocks(monkeypatch)
    tuner = bandit.Tuner(Script(ARMS, [0, 0]), cost="time")
    _loop(tuner, 2)
    assert calls == []
    tuner.policy.schedule = [0, 0, 2]  # the third solve tries AMG, against leader 0's cost
    _loop(tuner, 1)
    assert tuner.history["arm"][-1] == 2 or tuner.history["censored"][-1]
    assert calls and calls[0][0] == "setup_clock_floor"
    assert not any(in_run for _, in_run in calls)  # the guard's budget: before the run


def test_the_generic_pcg_loop_is_primed_only_for_a_preconditioner_that_runs_it(monkeypatch):
    """Jacobi and IC(0) run kernels of their own: a tuner over them alone never runs (nor
    loads) the generic loop; with an AMG arm the first solve primes it before its draw."""
    import solvers.precond

    calls = []
    real = solvers.precond._pcg_loop

    def counted(*a):
        calls.append(a[0].n)
        return real(*a)

    monkeypatch.setattr(solvers.precond, "_pcg_loop", counted)
    # as in a fresh process: the warm-up runs once per process and kind of Tuner
    monkeypatch.setattr(bandit._tuner_prime, "_WARMED", set())
    native = [ARMS[0], ARMS[1], {"method": "cg", "pc": "ic0"}]
    tuner = _loop(bandit.Tuner(Script(native, [0, 1, 2, 1, 2]), cost="time"), 5)
    assert set(tuner.history["arm"]) == {0, 1, 2}
    assert calls == []  # before: primed for any preconditioned arm (70 ms of loads)
    _loop(bandit.Tuner(Script(ARMS, [0, 1, 0]), cost="time"), 1)
    # the construction's trial run of the AMG arm, then the warm-up's tiny system (4
    # unknowns) at the first solve: no AMG run yet
    assert 4 in calls


SCRIPT = r"""
import json, linecache, sys
from numba.core import event as ev

events, solve = [], [None]


class Timed(ev.Listener):
    # a compiler-lock event (every cache load or compilation of an overload) while a Tuner's
    # run is on the stack at its timed call (not the untimed first pass of a cold arm)
    def on_start(self, event):
        f = sys._getframe(1)
        while f is not None:
            if f.f_code.co_name == "_run" and f.f_code.co_filename.endswith("_tuner_run.py"):
                line = linecache.getline(f.f_code.co_filename, f.f_lineno)
                if "_COLD_ITERATIONS" not in line:
                    events.append([solve[0], line.strip()])
                return
            f = f.f_back

    def on_end(self, event):
        pass


ev.register("numba:compiler_lock", Timed())
import numpy as np
import scipy.sparse as sp
import bandit
from solvers import gallery

cost, order = sys.argv[1], [int(a) for a in sys.argv[2].split(",")]
arms = bandit.config_grid([1.2, 1.6], ["none", "jacobi", "ic0", "amg"], reuse=[0, 5])


class Script(bandit.FixedArm):
    def _select(self, context):
        return order[min(self.t, len(order) - 1)]


tuner = bandit.Tuner(Script(arms, arm=0), cost=cost)
K = gallery.laplacian_2d(40).tocsr()
n = K.shape[0]
rng = np.random.default_rng(0)
x = np.zeros(n)
for k in range(len(order)):
    A = (K + (0.05 + 0.02 * np.sin(k)) * sp.identity(n, format="csr")).tocsr()
    solve[0] = k
    x = tuner.solve(A, rng.standard_normal(n), x0=x, context=float(k)).x
print(json.dumps({"events": events, "arms": [int(a) for a in tuner.history["arm"]],
                  "labels": tuner.arm_labels}))
"""


def test_no_kernel_is_loaded_inside_a_timed_run_of_any_familys_first_tries():
    """Every family's first runs (each arm once, then each again; a guard that stops an AMG
    try on its budget runs the failure path), in a fresh process: no overload is added while
    a run's clock is on, so the seconds told hold no load."""
    order = "0,1,2,3,4,5,6,0,2,4,5,6,1,3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for cost in ("time", "timed_work"):
        out = subprocess.run([sys.executable, "-c", SCRIPT, cost, order], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        rec = json.loads(out.stdout.strip().splitlines()[-1])
        assert len(set(rec["arms"])) >= 6, rec  # (the guard may stop a try: still a run)
        assert rec["events"] == [], rec
