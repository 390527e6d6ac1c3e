"""A rival family's tries while it has not converged (:meth:`bandit.armset.ArmSet.first_allowance`):
each stopped try doubles the next one's allowance, at most a proven rival's margin
(``min(guard, 1.5) ×`` the leader's predicted cost).  A try stopped at the yardstick below
what the leader is predicted to cost tells the learner nothing it did not predict; within a
few tries the family converges or is stopped above the leader's predicted cost."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from bandit import FixedArm, Tuner
from solvers import gallery

ARMS = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}]


def _heat(m=24, steps=10, dt=2.0):
    """Backward Euler systems ``(I + dt L) u_t = b_t`` whose right-hand side turns a little
    each step (so a warm start is not a solution), each started from the previous solution
    (scipy's), the first from zero."""
    A = (sp.identity(m * m, format="csr") + dt * gallery.laplacian_2d(m)).tocsr()
    xs = np.linspace(0.0, 1.0, m * m)
    u = np.zeros(m * m)
    out = []
    for t in range(steps):
        b = 1.0 + 0.3 * np.sin(3.0 * xs + 0.7 * t)
        out.append((A, b, u.copy()))
        u = sp.linalg.spsolve(A.tocsc(), b)
    return out


def _plain_cg_work(A, b, x0, rtol):
    """Plain CG's iterations to ``‖b − A x‖ ≤ rtol ‖b‖`` from ``x0`` by scipy (the reference
    of the rival's true cost)."""
    n = [0]
    sp.linalg.cg(A, b, x0=x0, rtol=rtol, atol=0.0, maxiter=10_000,
                 callback=lambda xk: n.__setitem__(0, n[0] + 1))
    return n[0]


def _tries(grow):
    """The leader (SSOR-PCG, arm 0) solves two systems, then plain CG (arm 1) is drawn on
    every later one: ``[(budget, censored, converged, told cost, leader's predicted cost,
    latest whole solve, plain CG's true iterations)]`` per try."""
    p = FixedArm(ARMS, arm=0)
    t = Tuner(p, cost="work", rtol=1e-8)
    t._arms.grow_first_tries = grow
    seq = _heat()
    for A, b, x0 in seq[:2]:
        assert t.solve(A, b, x0=x0 if x0.any() else None).converged
    p.arm = 1
    out = []
    a = t._arms
    for A, b, x0 in seq[2:]:
        best, pred = t.policy.leader(None)
        latest = a._latest_solve[a.family[0]]
        true = _plain_cg_work(A, b, x0, 1e-8)
        res = t.solve(A, b, x0=x0)
        assert res.converged  # every guarded solve converges
        e = res.info.get("explored")
        if e is None:  # plain CG converged within its budget
            out.append((None, False, True, t.history["cost"][-1], pred, latest, true))
            break
        out.append((e["budget"], e["censored"], False, t.history["cost"][-1], pred, latest,
                    true))
    return t, out


def test_a_stopped_rivals_allowance_doubles_until_its_try_is_conclusive():
    t, out = _tries(True)
    first, pred0, latest0 = out[0][0], out[0][4], out[0][5]
    assert latest0 < pred0  # the yardstick, the latest solve, lies below the prediction
    # plain CG's true cost lies above the first allowance: the first try is stopped
    assert out[0][1] and out[0][6] > first
    # at most k stops before a try converges or is stopped above the leader's prediction,
    # k the doublings from the yardstick to 1.5 × the prediction
    k = math.ceil(math.log2(1.5 * pred0 / latest0)) + 1
    stops = [o for o in out if o[1]]
    assert len(stops) <= k
    budget, cens, conv, told, pred = out[-1][:5]
    assert conv or told >= pred  # the last try converged or was stopped above the leader's
    budgets = [o[0] for o in stops]
    assert all(b2 > b1 for b1, b2 in zip(budgets, budgets[1:]))
    # a stop is told at least its budget's cost; a try whose allowance covers plain CG's true
    # iterations converges (and is then measured, not censored)
    for budget, cens, conv, told, pred, _, true in out:
        if budget is not None and true <= budget:
            assert not cens


def test_without_the_growth_every_try_is_stopped_below_the_prediction():
    # (the rule before, and the independent view of the same systems: plain CG needs more
    # than the yardstick's iterations on each, so each try is stopped and told less than the
    # leader's prediction)
    t, out = _tries(False)
    assert len(out) == 8 and all(o[1] for o in out)  # every try stopped, none conclusive
    # (the first try's told cost includes plain CG's cold first run, priced above its rate)
    assert all(o[6] > o[0] for o in out) and all(o[3] < o[4] for o in out[1:])


def test_a_converged_family_is_allowed_the_proven_margin_not_its_grown_allowance():
    t, out = _tries(True)
    a = t._arms
    best, pred = t.policy.leader(None)
    rate = a.rate(1, t._last_op)
    t.policy.counts[1] = 12  # many stopped tries: grown to the cap
    assert t._budget(1, best, pred, t._last_op) == math.ceil(1.5 * pred / rate)
    t.policy.counts[1] = 1
    t.policy.converged_counts[1] = 1  # converged once: proven, its margin over the prediction
    assert t._budget(1, best, pred, t._last_op) == math.ceil(1.5 * pred / rate)
    t.policy.converged_counts[1] = 0
    t.policy.counts[1] = 0  # no try yet: the yardstick
    assert t._budget(1, best, pred, t._last_op) == math.ceil(
        a.yardstick(best, pred) / rate)


def test_the_allowance_by_hand():
    from bandit.armset import ArmSet
    a = ArmSet(ARMS, "ssor_pcg", cost="work")
    assert [a.first_allowance(3.0, n, 20.0) for n in range(5)] == [3.0, 6.0, 12.0, 20.0, 20.0]
    assert a.first_allowance(3.0, 10**6, 20.0) == 20.0
    a.grow_first_tries = False
    assert a.first_allowance(3.0, 4, 20.0) == 3.0
