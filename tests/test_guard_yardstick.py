"""The guard's yardstick of a rival's first try and of a rival's set-up
(:meth:`bandit.armset.ArmSet.yardstick`): the leader's predicted cost, at most its family's
latest whole solve.  A warm-started sequence whose first solve runs from zero: the leader's
predicted cost (a fixed policy's mean) rests on that cold solve, the latest solve does not."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from bandit import FixedArm, Tuner
from bandit.armset import ArmSet
from solvers import gallery


def _heat(m=24, steps=4, dt=2.0):
    """Backward Euler systems ``(I + dt L) u_t = b_t`` near a steady state (``L`` the 2-D
    Laplacian of an ``m × m`` grid): ``b_t = (1 + 10⁻⁵ t) · 1``, each started from the
    previous solution (scipy's, to rounding), the first from zero."""
    A = (sp.identity(m * m, format="csr") + dt * gallery.laplacian_2d(m)).tocsr()
    u = np.zeros(m * m)
    out = []
    for t in range(steps):
        b = np.full(m * m, 1.0 + 1e-5 * t)
        out.append((A, b, u.copy()))
        u = sp.linalg.spsolve(A.tocsc(), b)
    return out


def _warm_leader(arms):
    """A work-costed Tuner whose leader, SSOR-PCG (arm 0), solved the first system from zero
    and the second from the first's solution."""
    p = FixedArm(arms, arm=0)
    t = Tuner(p, cost="work", rtol=1e-8)
    seq = _heat()
    for A, b, x0 in seq[:2]:
        assert t.solve(A, b, x0=x0 if x0.any() else None).converged
    return p, t, seq


def test_a_first_try_is_allowed_the_leaders_latest_solve_not_a_prediction_resting_on_a_cold_one():
    arms = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}]
    p, t, seq = _warm_leader(arms)
    cold, warm = t.history["cost"]
    assert cold > 1.3 * warm  # the solve from zero is the dearer reading
    best, pred = t.policy.leader(None)
    assert best == 0 and pred == pytest.approx((cold + warm) / 2)
    a = t._arms
    assert a._latest_solve[a.family[0]] == pytest.approx(warm)
    rate = a.rate(1, t._last_op)
    # plain CG has never converged: its first try is allowed the latest solve, not the mean
    assert t._budget(1, best, pred, t._last_op) == math.ceil(warm / rate)
    a.latest_yardstick = False  # the rule before: the prediction itself
    assert t._budget(1, best, pred, t._last_op) == math.ceil(pred / rate)
    a.latest_yardstick = True
    # the try, played: stopped at the latest solve's work, the leader finishes the solve
    p.arm = 1
    A, b, x0 = seq[2]
    res = t.solve(A, b, x0=x0)
    assert res.converged and res.arm == 0
    tried = res.info["explored"]
    assert tried["censored"] and tried["budget"] == math.ceil(warm / rate)
    assert tried["iterations"] == tried["budget"] < math.ceil(pred / rate)
    # the leader's run in that round went on from the stopped try: not a whole solve, so not
    # its family's latest
    assert a._latest_solve[a.family[0]] == pytest.approx(warm)


def test_a_proven_rival_keeps_its_margin_over_the_prediction():
    arms = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}]
    p, t, seq = _warm_leader(arms)
    best, pred = t.policy.leader(None)
    t.policy.converged_counts[1] = 1  # (as if plain CG had converged once)
    rate = t._arms.rate(1, t._last_op)
    assert t._budget(1, best, pred, t._last_op) == math.ceil(1.5 * pred / rate)


def test_a_never_measured_set_up_is_weighed_against_the_latest_solve():
    # an AMG-CG set-up priced (synthetically) between the leader's latest solve and its
    # prediction: the rule before started it, the yardstick refuses it and tells a bound
    # above the latest solve
    arms = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "amg"}]
    p, t, seq = _warm_leader(arms)
    a = t._arms
    best, pred = t.policy.leader(None)
    warm = a._latest_solve[a.family[0]]
    op = t._last_op
    price = (warm + pred) / 2

    def prior(k, op, priced=False):
        return price
    a.setup_prior = prior
    assert t._budget(1, best, pred, op) == 0
    assert a.skip_floor(1, op) >= price > warm
    a.latest_yardstick = False
    assert t._budget(1, best, pred, op) > 0


def test_a_leader_that_keeps_its_set_up_is_not_capped():
    a = ArmSet([{"method": "cg", "pc": "amg", "reuse": 4}, {"method": "cg"}], "ssor_pcg",
               cost="work")
    a._latest_solve[a.family[0]] = 1.0
    assert a.yardstick(0, 10.0) == 10.0
    b = ArmSet([{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}], "ssor_pcg",
               cost="work")
    assert b.yardstick(0, 10.0) == 10.0  # no solve yet
    b._latest_solve[b.family[0]] = 4.0
    assert b.yardstick(0, 10.0) == 4.0
    assert b.yardstick(0, 3.0) == 3.0  # never more than the prediction
    b._latest_solve = None  # a set pickled before the record
    assert b.yardstick(0, 10.0) == 10.0


def test_a_tuner_file_keeps_each_familys_latest_solve(tmp_path):
    # the yardstick is part of what the guard's budgets depend on: a loaded tuner goes on
    # with the same one (a file without it, written before it was kept, starts with none)
    import json

    import bandit

    arms = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}]
    p, t, seq = _warm_leader(arms)
    latest = t._arms._latest_solve
    assert latest[0] > 0.0 and latest[1] == 0.0
    t.save(tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert data["measured"]["latest_solve"] == latest
    assert Tuner.load(tmp_path / "t.json")._arms._latest_solve == latest

    def write(value):
        d = json.loads(json.dumps(data))
        if value is None:
            del d["measured"]["latest_solve"]
        else:
            d["measured"]["latest_solve"] = value
        (tmp_path / "u.json").write_text(json.dumps(d))
        return tmp_path / "u.json"

    assert Tuner.load(write(None))._arms._latest_solve == [0.0, 0.0]
    for bad in ("x", [1.0], [1.0, -2.0], [1.0, float("nan")]):
        with pytest.raises(bandit.TunerFileError, match="measured.latest_solve must hold one"):
            Tuner.load(write(bad))
