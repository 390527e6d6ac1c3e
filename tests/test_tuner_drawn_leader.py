"""A round whose draw played the leader asks no predicted cost (``Tuner._solve`` with
``JointCB.drawn_leader``): the leader's cost is read by the guard's budget of another arm and
by the audits only.  The reference is the same Tuner asking ``leader()`` every round (the
path before, ``_drawn`` off): the same arms, budgets, history and learner, bit for bit."""
import copy
import math
import pickle

import numpy as np
import scipy.sparse as sp

import bandit
from solvers import gallery

GRID = bandit.config_grid([1.2, 1.5, 1.8], ["jacobi", "ic0"])


def _systems(n=12, steps=60, seed=3):
    rng = np.random.default_rng(seed)
    A0 = gallery.laplacian_2d(n)
    for _ in range(steps):
        c = float(rng.uniform(-3.0, 1.0))
        yield A0 + 10.0 ** c * sp.identity(n * n, format="csr"), np.ones(n * n), c


def _run(drawn, audit_budget=0.0):
    t = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(-3.0, 1.0), seed=0),
                     cost="work", audit_budget=audit_budget, audit_seed=1)
    assert t._drawn  # a JointCB with its own leader
    t._drawn = drawn
    asked = []
    leader = t.policy.leader
    t.policy.leader = lambda context=None: asked.append(context) or leader(context)
    for A, b, c in _systems():
        t.solve(A, b, context=c)
    del t.policy.leader
    return t, len(asked)


def _same(a, b):
    ha, hb = a.history, b.history
    assert ha.keys() == hb.keys()
    for k in ha:
        if "seconds" in k:
            continue  # (the clock's)
        x, y = np.asarray(ha[k]), np.asarray(hb[k])
        assert x.shape == y.shape and (np.array_equal(x, y, equal_nan=True)
                                       if x.dtype.kind == "f" else (x == y).all()), k
    assert a.policy.state_dict() == b.policy.state_dict()


def test_a_round_on_the_leader_asks_no_cost_and_changes_nothing():
    new, asked = _run(True)
    old, asked_old = _run(False)
    _same(new, old)
    h = new.history
    # the rounds whose arm is not the leader (the guard's budget) still ask; the others do not
    rivals = sum(1 for a, l in zip(h["arm"], h["leader"]) if not (l == a))
    assert asked_old == len(h["arm"]) and asked == rivals < asked_old
    assert any(math.isfinite(x) for x in np.asarray(h["budget"], dtype=float))  # budgets read


def test_with_audits_every_round_asks_as_before():
    new, asked = _run(True, audit_budget=0.2)
    old, asked_old = _run(False, audit_budget=0.2)
    _same(new, old)
    assert asked == asked_old == len(new.history["arm"])


def test_a_tuner_pickled_before_asks_every_round():
    t, _ = _run(True)
    state = t.__getstate__()
    state.pop("_drawn")
    u = pickle.loads(pickle.dumps(t))
    v = copy.deepcopy(t)
    assert u._drawn and v._drawn
    w = bandit.Tuner.__new__(bandit.Tuner)
    w.__setstate__(state)
    assert w._drawn is False
    for A, b, c in list(_systems(steps=5, seed=9)):
        for x in (u, w):
            x.solve(A, b, context=c)
    _same(u, w)
