"""A rival family's first try probed (ArmSet.probe_rivals): stopped after a quarter of its
budget when its residual's reduction rate so far cannot reach the tolerance within a few
times the budget, else run on from the probe's iterate."""
import math

import numpy as np
import pytest

import solvers
from bandit import FixedArm, Tuner
from bandit.armset import _PROBE_MARGIN, _PROBE_MIN, ArmSet
from experiments.problems import DiffusionMC3D

ARMS = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}]


def _system(m=10, t=1):
    return DiffusionMC3D(m, t + 1, seed=0)[t]


def _led(A, b, arms=ARMS, cost="work", solves=2):
    """A Tuner whose leader is arm 0 after ``solves`` solves of its own; arm 1 drawn next."""
    p = FixedArm(arms, arm=0)
    t = Tuner(p, cost=cost)
    for _ in range(solves):
        assert t.solve(A, b).converged
    p.arm = 1
    return t


# -- the projection, against exact references --------------------------------------------------
@pytest.mark.parametrize("q", [0.5, 0.9, 0.99])
def test_a_geometric_residual_is_projected_to_the_iterations_it_needs(q):
    # r_k = r0 q^k reaches tol after log(tol / r0) / log q iterations, whatever k it is read at
    r0, tol = 3.0, 3e-8
    exact = math.log(tol / r0) / math.log(q)
    for k in (1, 7, 20):
        assert ArmSet.projected_iterations(k, r0, r0 * q ** k, tol) == pytest.approx(exact,
                                                                                    rel=1e-12)


def test_the_projection_of_a_residual_not_reduced_within_tol_or_without_a_start():
    assert ArmSet.projected_iterations(10, 1.0, 1.0, 1e-8) == math.inf   # no progress
    assert ArmSet.projected_iterations(10, 1.0, 5.0, 1e-8) == math.inf   # grew
    assert ArmSet.projected_iterations(0, 1.0, 0.5, 1e-8) == math.inf    # no iterate kept
    assert ArmSet.projected_iterations(12, 1.0, 1e-9, 1e-8) == 12.0      # already there
    assert math.isnan(ArmSet.projected_iterations(10, math.inf, 0.5, 1e-8))
    assert math.isnan(ArmSet.projected_iterations(10, 1.0, 0.5, 0.0))    # tol 0: no target


def test_a_probe_stops_a_try_only_beyond_the_margin():
    a = ArmSet(ARMS, "ssor_pcg", cost="work")
    # 10 iterations at q = 0.5: 26.6 needed in all
    r = 0.5 ** 10
    assert not a.probe_stops(10, math.ceil(26.6 / _PROBE_MARGIN), 1.0, r, 1e-8)
    assert a.probe_stops(10, math.floor(26.5 / _PROBE_MARGIN), 1.0, r, 1e-8)
    assert a.probe_stops(10, 10_000, 1.0, 1.0, 1e-8)  # no progress: stopped whatever


# -- which tries are probed ----------------------------------------------------------------------
def test_a_first_try_of_a_rival_family_is_probed_at_a_quarter_of_its_budget():
    A, b, _ = _system()
    t = _led(A, b)
    best, pred = t.policy.leader(None)
    budget = t._budget(1, best, pred, t._last_op)
    assert budget >= 4 * _PROBE_MIN
    assert t._arms.probe_at(1, budget) == math.ceil(budget / 4)
    t._arms.probe_rivals = False  # switched off: no probe
    assert t._budget(1, best, pred, t._last_op) == budget
    assert t._arms.probe_at(1, budget) == 0


def test_a_proven_rival_the_leader_and_the_clock_cost_are_not_probed():
    A, b, _ = _system()
    # plain CG converged once (its first solve, no leader yet): its family is proven
    p = FixedArm(ARMS, arm=1)
    t = Tuner(p, cost="work")
    assert t.solve(A, b).converged
    p.arm = 0
    t.solve(A, b)
    t.solve(A, b)
    best, pred = t.policy.leader(None)
    budget = t._budget(1, best, pred, t._last_op)
    assert budget >= 4 * _PROBE_MIN and t._arms.probe_at(1, budget) == 0
    t._arms.probe_proven = True  # the option: every rival's try
    assert t._budget(1, best, pred, t._last_op) == budget
    assert t._arms.probe_at(1, budget) == math.ceil(budget / 4)
    # the leader's own runs are never probed
    assert t._budget(0, best, pred, t._last_op) == t.maxiter
    assert t._arms.probe_at(0, t.maxiter) == 0
    # cost="time": the attempt runs whole (its seconds are one reading)
    t = _led(A, b, cost="time")
    best, pred = t.policy.leader(None)
    assert t._arms.probe_at(1, t._budget(1, best, pred, t._last_op)) == 0


# -- a stopped probe, against exact references -------------------------------------------------
def test_a_stopped_probe_is_finished_by_the_leader_from_its_iterate_and_told_its_budget():
    A, b, _ = _system()
    t = _led(A, b)
    best, pred = t.policy.leader(None)
    budget = t._budget(1, best, pred, t._last_op)
    c = t._arms.probe_at(1, budget)
    # the probe's run alone, and its projection, computed independently
    probe = solvers.cg(A, b, maxiter=c, dtol=1e6)
    k = probe.info.get("best_iteration", probe.iterations)
    tol = 1e-8 * np.linalg.norm(b)
    projected = (math.inf if probe.residual_norm >= np.linalg.norm(b) or k == 0 else
                 k * math.log(tol / np.linalg.norm(b))
                 / math.log(probe.residual_norm / np.linalg.norm(b)))
    assert projected > _PROBE_MARGIN * budget  # plain CG on this sample: far from the budget
    res = t.solve(A, b)
    assert res.converged and res.arm == 0
    assert np.linalg.norm(b - A @ res.x) <= tol * (1 + 1e-9)
    info = res.info["explored"]["probe"]
    assert info["stopped"] and info["iterations"] == c and info["budget"] == budget
    assert info["projected"] == pytest.approx(projected, rel=1e-9)
    # the leader went on from the probe's iterate
    lead = solvers.ssor_pcg(A, b, 1.5, x0=probe.x, dtol=1e6)
    assert [a["iterations"] for a in res.info["attempts"]] == [c, lead.iterations]
    assert res.info["attempts"][1]["start"] == "warm"
    np.testing.assert_allclose(res.x, lead.x, rtol=0, atol=1e-12 * np.abs(lead.x).max())
    # told, censored: the probe's work and the rest of the budget at CG's work per iteration
    work = solvers.work_model("cg", A).total(c)
    assert t.history["censored"][-1]
    told = t.history["cost"][-1]
    assert told == pytest.approx(work * budget / c, rel=1e-12)
    assert info["floor"] == pytest.approx(told, rel=1e-12)


def test_a_probe_that_can_finish_runs_on_as_one_attempt():
    # a rival that needs fewer iterations than its budget: the probe's projection is within
    # the margin, and the try goes on from the probe's iterate with the rest of the budget
    A, b, _ = _system(m=6, t=2)
    full = solvers.cg(A, b, dtol=1e6)
    assert full.converged
    t = _led(A, b)
    op = t._last_op
    budget = 2 * full.iterations
    c = math.ceil(budget / 4)
    t._arms._probe = (1, c)  # as budget() sets it for a first try of this budget
    t._checked = None
    res = t._attempt(op, b, None, 1, budget)
    probe = solvers.cg(A, b, maxiter=c, dtol=1e6)
    assert not probe.converged
    rest = solvers.cg(A, b, x0=probe.x, maxiter=budget - c, dtol=1e6)
    assert res.converged and rest.converged
    assert res.iterations == c + rest.iterations
    np.testing.assert_array_equal(res.x, rest.x)
    assert not res.info["probe"]["stopped"]
    model = solvers.work_model("cg", A)
    assert res.info["work"] == pytest.approx(
        model.total(c) + model.total(rest.iterations), rel=1e-12)


def test_the_leaders_run_is_never_probed_whatever_an_earlier_budget_left():
    # an audit (or an earlier round) computes the budget of an arm that is the leader now:
    # the probe it left must not cut the leader's run (it did: the leader's solve of this
    # system was stopped after the probe's iterations and the chain finished it)
    A, b, _ = _system()
    t = _led(A, b)
    t.policy.arm = 0
    t._arms._probe = (0, 5)
    res = t.solve(A, b)
    ref = solvers.ssor_pcg(A, b, 1.5)
    assert res.converged and res.arm == 0 and "explored" not in res.info
    assert res.iterations == ref.iterations and "probe" not in res.info
