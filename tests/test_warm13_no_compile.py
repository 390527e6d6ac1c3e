"""The preconditioner study's warm-up reaches every compiled function its timed calls use.

A fresh process runs :func:`experiments.precond_study.run_precond_study` on a small sequence
of each kind and records every Numba overload that is compiled or loaded from the cache
(``Dispatcher.compile``, through which both go, adding an overload) after the warm-up,
inside a timed solve call: none may be (a compilation there cost 1.5 s of one heatadapt call,
a cache load 5–20 ms).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
sys.path.insert(0, "tests")
from numba_recorder import install

state = {"timed": False, "call": None}
events = []
install(lambda kind, name, sig: state["call"] is not None and events.append(
    [kind, name, sig, *state["call"]]))
import experiments.precond_study as ps
warm_up = ps._warm_up

def marked(*args, **kwargs):
    warm_up(*args, **kwargs)
    state["timed"] = True

ps._warm_up = marked
init = ps._Run.__init__

def timed_init(self, key, factory, T, cap=float("inf")):
    init(self, key, factory, T, cap)
    solve, calls = self.solve, [0]

    def timed(*args):  # a timed call of the study (after the warm-up)
        if state["timed"]:
            state["call"] = (key, calls[0])
        calls[0] += 1
        try:
            return solve(*args)
        finally:
            state["call"] = None

    self.solve = timed

ps._Run.__init__ = timed_init
kind, size = sys.argv[1], int(sys.argv[2])
ps.run_precond_study(sequences=[(kind, size)], steps=12, samples=8, seeds=1,
                     learner="default", work_learner=False, progress=False)
print(json.dumps({"timed": state["timed"], "events": events}))
"""


@pytest.mark.parametrize("kind,size", [("heatadapt", 10), ("heat2d", 8), ("mc3d", 10)])
def test_no_compilation_or_cache_load_in_a_timed_call(kind, size):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, kind, str(size)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["timed"]  # the warm-up ran and the timed rounds were watched
    assert report["events"] == [], "\n".join(" ".join(map(str, e)) for e in report["events"])


def test_tiny_heatadapt_is_a_real_problem_over_the_same_contexts():
    """The warm-up's heatadapt sequence heats its nodes (a zero forcing leaves every solve
    solved at its start, so no learner learns) and spans the sequence's own contexts."""
    import numpy as np

    from experiments.precond_study import make_sequence

    seq = make_sequence("heatadapt", 30)
    tiny = seq.tiny()
    assert tiny.n < seq.n
    np.testing.assert_allclose(tiny.bounds, seq.bounds, rtol=0, atol=1e-12)
    A, f, ctx = tiny.shared(0)
    assert np.linalg.norm(f) > 0
