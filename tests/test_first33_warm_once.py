"""The warm-up of a Tuner's first solve (:mod:`bandit._tuner_prime`) runs once per process and
kind of Tuner: a kernel, once loaded, stays loaded, so a second Tuner of the same kind skips
the policy's rounds on a copy and the solver-side loads — and still loads nothing in any of
its solves (an independent recorder of Numba's overloads, ``tests/numba_recorder.py``), plays
exactly as a Tuner whose warm-up ran, and a Tuner of another kind (a vector context) warms up
again.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
sys.path.insert(0, "tests")
from numba_recorder import install

where = ["import"]
events = []
install(lambda kind, name, sig: events.append([where[0], kind, name, sig[:200]]))
import numpy as np
import scipy.sparse as sp
import bandit._tuner_prime as prime
from bandit import Tuner, config_grid, default_policy
from solvers import gallery

rounds = []
policy_warm, solver_warm = prime._warm_policy, prime._warm_solvers
prime._warm_policy = lambda *a: (rounds.append([where[0], "policy"]), policy_warm(*a))
prime._warm_solvers = lambda *a: (rounds.append([where[0], "solvers"]), solver_warm(*a))
K = gallery.laplacian_2d(10).tocsr()
n = K.shape[0]
I = sp.identity(n, format="csr")
rng = np.random.default_rng(0)
for name, seed, vector in (("first", 1, False), ("second", 2, False), ("vector", 3, True)):
    where[0] = name + " construction"
    tuner = Tuner(default_policy(None, config_grid(), seed=seed))
    x = np.zeros(n)
    for k in range(8):
        c = 0.1 + 0.05 * np.sin(k / 3)
        A = (K + c * I).tocsr()
        where[0] = f"{name} {k}"
        x = tuner.solve(A, rng.standard_normal(n), x0=x,
                        context=np.array([c, c * c]) if vector else c).x
print(json.dumps({"events": events, "rounds": rounds}))
"""


def test_a_second_tuner_of_the_same_kind_skips_the_warm_up_and_loads_nothing():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    events, rounds = got["events"], got["rounds"]
    # the first Tuner warms both sides up at its first solve; the second none; the vector
    # context's policy rounds again (other argument types), the solver side is the same
    assert rounds == [["first 0", "policy"], ["first 0", "solvers"], ["vector 0", "policy"]]
    assert any(e[0] == "first 0" for e in events)  # the recorder sees the first loads
    late = [e for e in events if e[0].split()[0] == "second"
            or (e[0].startswith("first") or e[0].startswith("vector"))
            and e[0].split()[1] not in ("0", "construction")]
    assert late == [], "\n".join(" ".join(map(str, e)) for e in late)


def _loop(tuner, steps=25):
    from solvers import gallery

    K = gallery.laplacian_2d(8).tocsr()
    n = K.shape[0]
    rng = np.random.default_rng(4)
    x = np.zeros(n)
    for k in range(steps):
        c = 0.2 + 0.1 * np.sin(k / 2)
        A = (K + c * sp.identity(n, format="csr")).tocsr()
        x = tuner.solve(A, rng.standard_normal(n), x0=x, context=c).x
    return tuner, x


def test_a_tuner_whose_warm_up_was_skipped_plays_as_one_whose_warm_up_ran(monkeypatch):
    """Deterministic costs (work): the same arms, iterations, costs, solution and policy
    state bit for bit, whether this process had warmed the kind up before or not."""
    from bandit import Tuner, _tuner_prime, config_grid, default_policy

    def new():
        return Tuner(default_policy(None, config_grid(), seed=7), cost="work")

    ran = []
    warm = _tuner_prime._warm_policy
    monkeypatch.setattr(_tuner_prime, "_warm_policy", lambda *a: (ran.append(1), warm(*a)))
    monkeypatch.setattr(_tuner_prime, "_WARMED", set())
    (t1, x1) = _loop(new())
    (t2, x2) = _loop(new())
    assert ran == [1]  # the second skipped its rounds
    for col in ("arm", "iterations", "cost"):
        np.testing.assert_array_equal(t1.history[col], t2.history[col])
    np.testing.assert_array_equal(x1, x2)
    s1, s2 = t1.policy.state_dict(), t2.policy.state_dict()
    assert json.dumps(s1, sort_keys=True, default=str) == json.dumps(s2, sort_keys=True,
                                                                      default=str)


def test_the_key_tells_kinds_apart_and_not_seeds():
    from bandit import config_grid, default_policy
    from bandit._tuner_prime import _policy_key

    a = default_policy(None, config_grid(), seed=0, context_bounds=(0.0, 1.0))
    b = default_policy(None, config_grid(), seed=5, context_bounds=(2.0, 9.0))
    assert _policy_key(a, 0.5) == _policy_key(b, 3.0)
    assert _policy_key(a, 0.5) != _policy_key(a, None)
    assert _policy_key(a, 0.5) != _policy_key(a, np.array([0.5, 1.0]))
    assert _policy_key(a, np.array([0.5, 1.0])) != _policy_key(a, np.array([0.5, 1.0, 2.0]))
    assert _policy_key(a, 0.5) != _policy_key(default_policy("ssor_pcg"), 0.5)
    b.detect_changes = False  # a rule turned off: other code in the rounds
    assert _policy_key(a, 0.5) != _policy_key(b, 0.5)
    b.detect_changes, b._cap = True, 3.0  # a cap that is no longer infinite
    assert _policy_key(a, 0.5) != _policy_key(b, 0.5)


def test_the_first_call_bench_runs_and_refuses_bad_counts(capsys):
    """``python -m experiments.bench_first_call``: the three kinds, each call's line; a count
    below 1 refused by name."""
    import pytest

    from experiments.bench_first_call import main

    assert main(["--sequence", "heat3d", "--size", "6", "--tuners", "1", "--calls", "2",
                 "--omega", "1.5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == ["learner", "omega", "fixed"]
    assert all("call 1" in line for line in out)
    with pytest.raises(SystemExit):
        main(["--tuners", "0"])
    assert "--tuners and --calls must be at least 1" in capsys.readouterr().err
