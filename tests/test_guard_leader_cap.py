"""The cap of a leader played far from its family's readings
(:meth:`bandit._tuner_guard.GuardSteps._leader_cap`): Jacobi-CG has converged only on systems
``I + r L`` of small ``r``, cheaply; SSOR-PCG across the range, dearer on average.  Played as
the leader at the top of the range, where CG's iterations grow like ``r^{1/2}``, its run is
stopped at ``min(guard, 1.5) ×`` its predicted cost (a proven rival's allowance) and the solve
still converges, by the fall-back."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from bandit import FixedArm, Tuner
from solvers import gallery

ARMS = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "jacobi"}]
M = 24


def _system(r):
    A = (sp.identity(M * M, format="csr") + r * gallery.laplacian_2d(M)).tocsr()
    b = np.sin(np.arange(M * M, dtype=np.float64) + 1.0)
    return A, b


def _tuner():
    """Arm 1 (Jacobi-CG) told cheap readings at r ≤ 0.2, arm 0 (SSOR-PCG) at r up to 400:
    arm 1 is the leader (the lower mean) whose readings are all far from the top."""
    p = FixedArm(ARMS, arm=0)
    t = Tuner(p, cost="work", rtol=1e-8, guard=3.0)
    for r in (1.0, 50.0, 400.0):
        assert t.solve(*_system(r), context=r).converged
    p.arm = 1
    for r in (0.1, 0.2, 0.1, 0.2, 0.1, 0.2):
        assert t.solve(*_system(r), context=r).converged
    return p, t


def test_a_leader_far_from_its_readings_is_stopped_at_its_cap_and_the_solve_converges():
    p, t = _tuner()
    best, pred = t.policy.leader(400.0)
    assert best == 1  # the cheap readings at small r
    A, b = _system(400.0)
    # what Jacobi-CG alone costs there: far more than guard × its prediction
    alone = Tuner(FixedArm(ARMS, arm=1), cost="work", rtol=1e-8, guard=None)
    full = alone.solve(A, b)
    assert full.converged and alone.history["cost"][0] > 3.0 * pred
    op = t._last_op
    rate = t._arms.rate(1, op)
    cap = math.ceil(1.5 * pred / rate)
    assert cap < full.iterations
    res = t.solve(A, b, context=400.0)
    assert res.converged and res.arm == 0  # finished by the fall-back, SSOR-PCG
    x = sp.linalg.spsolve(A.tocsc(), b)
    assert np.linalg.norm(res.x - x) <= 1e-6 * np.linalg.norm(x)
    tried = res.info["explored"]
    assert tried["arm"] == 1 and tried["budget"] == cap and tried["iterations"] == cap
    assert t.history["censored"][-1] and t.history["budget"][-1] == cap


def test_a_leader_near_its_readings_is_not_capped():
    p, t = _tuner()
    res = t.solve(*_system(0.15), context=0.15)
    assert res.converged and res.arm == 1 and "explored" not in res.info
    assert t.history["budget"][-1] == t.maxiter
    assert not t._far_leader(1, 0.15) and t._far_leader(1, 400.0)
    assert not t._far_leader(0, 400.0) and not t._far_leader(1, None)
