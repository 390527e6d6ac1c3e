"""From a Tuner's second solve on, no solve loads or compiles a Numba kernel.

A fresh process runs a user's loop — a new scipy matrix on one pattern every step, a new
right-hand side, the previous solution as the start — with the common configurations (the
default learner over ω for SOR and SSOR-PCG, the default learner over configuration arms;
iterations, time and timed work for cost; a scalar, a vector or no context; a warm, zero or
no start; audits) and records every overload Numba adds (``tests/numba_recorder.py``: a
compilation or a cache load) with the solve it happened in.  The first solve loads what it
runs and, in :meth:`bandit.Tuner._prime`, what later solves will (:mod:`bandit._tuner_prime`);
every later solve must add none (a cache load had cost 5–30 ms inside solves 1 to 5, a
compilation after an edit up to a second).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
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
from bandit import Tuner, config_grid, default_policy
from solvers import gallery, prepare

arms, cost, ctx, start, mat, audit, steps = sys.argv[1:8]
cost = None if cost == "None" else cost
K = gallery.laplacian_2d(10).tocsr()
n = K.shape[0]
I = sp.identity(n, format="csr")
kw = dict(cost=cost, audit_budget=float(audit), audit_seed=0)
where[0] = "construction"
policy = default_policy(None, config_grid()) if arms == "configs" else None
tuner = Tuner(policy, **({} if arms == "configs" else {"solver": arms}), **kw)
rng = np.random.default_rng(0)
x = np.zeros(n)
same = (K + 0.1 * I).tocsr()
for k in range(int(steps)):
    c = 0.1 + 0.05 * np.sin(k / 3)
    if mat == "same":
        A = same
    else:
        A = (K + c * I).tocsr()
        A.sort_indices()
        if mat == "int64":
            A.indptr, A.indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    context = {"none": None, "scalar": float(c), "vector": np.array([c, c * c])}[ctx]
    x0 = {"warm": x, "zero": np.zeros(n), "none": None}[start]
    where[0] = k
    x = tuner.solve(A, rng.standard_normal(n), x0=x0, context=context).x
print(json.dumps(events))
"""

CASES = [
    # arms, cost, context, start, matrix, audit budget
    ("sor", "None", "scalar", "warm", "int64", "0"),
    ("ssor_pcg", "time", "none", "none", "int32", "0"),
    ("configs", "None", "scalar", "zero", "int32", "0.05"),
    ("configs", "time", "vector", "warm", "same", "0"),
]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_no_kernel_is_loaded_after_the_first_solve(case):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, *case, "25"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    events = json.loads(out.stdout.strip().splitlines()[-1])
    # the recorder sees loads: the first solve (and the construction) make some
    assert any(e[0] in ("construction", 0) for e in events)
    late = [e for e in events if isinstance(e[0], int) and e[0] > 0]
    assert late == [], "\n".join(" ".join(map(str, e)) for e in late)


def _loop(tuner, steps=30, context=True):
    from solvers import gallery

    K = gallery.laplacian_2d(8).tocsr()
    n = K.shape[0]
    rng = np.random.default_rng(3)
    x = np.zeros(n)
    for k in range(steps):
        c = 0.2 + 0.1 * np.sin(k / 2)
        A = (K + c * sp.identity(n, format="csr")).tocsr()
        x = tuner.solve(A, rng.standard_normal(n), x0=x, context=c if context else None).x
    return tuner


@pytest.mark.parametrize("make", ["sor", "configs"])
@pytest.mark.parametrize("context", [True, False])
def test_the_warm_up_changes_nothing_the_tuner_holds(monkeypatch, make, context):
    """The rounds run on a copy of the policy: the same arms, costs and policy state as a
    tuner without the warm-up (deterministic costs)."""
    import bandit._tuner_run as run
    from bandit import Tuner, config_grid, default_policy

    def new():
        if make == "sor":
            return Tuner(default_policy("sor", seed=5), solver="sor")
        return Tuner(default_policy(None, config_grid(), seed=5), cost="work")

    calls = []
    warm = run.warm_kernels
    monkeypatch.setattr(run, "warm_kernels", lambda *a: (calls.append(1), warm(*a)))
    with_warm = _loop(new(), context=context)
    assert calls == [1]  # once, at the first solve
    monkeypatch.setattr(run, "warm_kernels", lambda *a: None)
    without = _loop(new(), context=context)
    h1, h2 = with_warm.history, without.history
    for col in ("arm", "iterations", "cost"):
        np.testing.assert_array_equal(h1[col], h2[col])
    s1, s2 = with_warm.policy.state_dict(), without.policy.state_dict()
    assert json.dumps(s1, sort_keys=True, default=str) == json.dumps(s2, sort_keys=True,
                                                                      default=str)


def test_a_users_own_policy_is_not_run_by_the_warm_up():
    """Only the library's policies are copied and run: a user's class may have effects a
    copy does not undo (here, a count of its draws)."""
    from bandit import Tuner
    from bandit._base import Policy

    class Counting(Policy):
        randomised = False
        draws = 0

        def _select(self, psi):
            Counting.draws += 1
            return 0

        def _update(self, arm, cost, psi, censored):
            pass

    tuner = Tuner(Counting([1.2, 1.5]), solver="sor", guard=None)
    _loop(tuner, steps=3, context=False)
    assert Counting.draws == 3  # one per solve, none for the warm-up


def test_the_warm_up_never_refuses_a_solve(monkeypatch):
    """A warm-up that fails only leaves a kernel to load later: the solve goes on."""
    from bandit import Tuner, _tuner_prime

    def broken(*args):
        raise RuntimeError("a warm-up step that fails")

    monkeypatch.setattr(_tuner_prime, "_warm_policy", broken)
    monkeypatch.setattr(_tuner_prime, "_warm_solvers", broken)
    monkeypatch.setattr(_tuner_prime, "_WARMED", set())  # (run even if this kind ran)
    tuner = _loop(Tuner(solver="ssor_pcg"), steps=3)
    assert tuner.summary()["rounds"] == 3


def test_the_warm_up_does_not_run_through_a_wrapper_of_the_policy():
    """A function set on the policy in place of a method (a timing wrapper, as
    ``relaxtune bench percall --parts`` sets) is not copied — it would call the original's
    method: the copy runs its class's own methods, and the policy sees one draw and one update
    per solve."""
    from bandit import Tuner, default_policy

    tuner = Tuner(default_policy("ssor_pcg", seed=2), solver="ssor_pcg")
    policy, seen = tuner.policy, []
    for name in ("select", "update", "leader"):
        def wrapper(*args, fn=getattr(policy, name), name=name, **kwargs):
            seen.append(name)
            return fn(*args, **kwargs)

        setattr(policy, name, wrapper)
    _loop(tuner, steps=4)
    assert seen.count("select") == 4 and seen.count("update") == 4
    assert policy.t == 4
