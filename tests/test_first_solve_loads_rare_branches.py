"""After a Tuner's first solve, the learner's rarely taken branches load no compiled function.

A Numba kernel is loaded from the cache the first time a process calls it with new argument
types (10-60 ms here); inside a solve, that time is the user's and, for a timed cost, the
arm's. :mod:`bandit._tuner_prime` loads at the first solve what later solves run. This test
runs, in a fresh process, a scripted loop whose later rounds take the branches a short loop
may never reach before it: a system that turns hard halfway (the ω-only learner's change test
fires; the configuration learner's guarded attempts are stopped, censored, and it moves
between families), with the configuration learner's context held constant (its model of the
cost itself, whose update predicts from the cached, read-only features), and records every
overload Numba adds (``tests/numba_recorder.py``) with the Tuner and solve it happened in.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
sys.path.insert(0, "tests")
from numba_recorder import install

where = ["import"]
events = []
install(lambda kind, name, sig: events.append([where[0], kind, name, sig[:300]]))
import numpy as np
import scipy.sparse as sp
from bandit import Tuner, config_grid, default_policy
from solvers import gallery

K = gallery.laplacian_2d(16).tocsr()
n = K.shape[0]
I = sp.identity(n, format="csr")
steps = 60
where[0] = "construction"
tuners = {"configs": Tuner(default_policy(None, config_grid(), seed=0), cost="work"),
          "omega": Tuner(default_policy("ssor_pcg", seed=0), solver="ssor_pcg")}
contexts = {"configs": 1.0, "omega": None}
for name, tuner in tuners.items():  # one loop after the other: a later Tuner's first solve
    rng = np.random.default_rng(0)   # loads nothing a former's later solve would have
    x = np.zeros(n)
    for k in range(steps):
        shift = 2.0 if k < steps // 2 else 1e-4  # the system turns hard halfway
        A = (K + shift * I).tocsr()
        where[0] = [name, k]
        x = tuner.solve(A, rng.standard_normal(n), x0=x, context=contexts[name]).x
grid = config_grid()
h = tuners["configs"].history
print(json.dumps({
    "events": events,
    "censored": int(np.sum(h["censored"])),
    "families": sorted({grid[a]["method"] + str(grid[a].get("pc", "")) for a in h["arm"][1:]}),
    "changes": int(tuners["omega"].policy.changes),
}))
"""


def test_no_kernel_is_loaded_by_a_later_solve_of_a_changing_censored_switching_loop():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    # the loop took the branches it is meant to take after its first solve
    assert report["changes"] >= 1, report  # a detected change (the ω-only learner)
    assert report["censored"] >= 1, report  # budget-stopped attempts (the configuration one)
    assert len(report["families"]) >= 2, report  # it moved between families
    events = report["events"]
    assert any(e[0] == "construction" or e[0][1] == 0 for e in events
               if e[0] != "import")  # the recorder sees loads: the first solves make some
    late = [e for e in events if isinstance(e[0], list) and e[0][1] > 0]
    assert late == [], "\n".join(" ".join(map(str, e)) for e in late)
