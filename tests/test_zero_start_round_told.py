"""A round run again from ``x = 0`` because ``x0`` was out of proportion with the solution
(``info["zero_start"]``): what the chosen arm is told, where the audits start, and a start
whose runs beat ``x = 0`` but stagnated at its rounding level.

Before: the chosen arm was told a failure (``maxiter``) when another arm finished from zero,
but its zero-start cost when it was itself the arm run from zero; the audits ran every arm
from the bad ``x0`` and recorded all of them as failing on a system each solves from zero in
a few iterations; and a start whose first runs got below ``‖b‖`` before stagnating was
reported "unattainable" although the system converges from zero."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery


def _system(m=12):
    A = sp.csr_matrix(gallery.laplacian_2d(m) * 1e12)
    return A, np.ones(A.shape[0])


def _from_zero(arm, A, b, arms, **kw):
    """The cost the same arm is told on the same system from x = 0 (a fresh tuner)."""
    t = bandit.Tuner(bandit.FixedArm(arms, arm=arm), solver="ssor_pcg", **kw)
    r = t.solve(A, b)
    assert r.converged
    return r.info["cost"]


@pytest.mark.parametrize("arm", [0, 2])
def test_the_chosen_arm_is_told_what_it_costs_from_zero(arm):
    A, b = _system()
    arms = [1.0, 1.3, 1.6]
    t = bandit.Tuner(bandit.FixedArm(arms, arm=arm), solver="ssor_pcg", rtol=0.1)
    res = t.solve(A, b, x0=np.full(A.shape[0], 3e5))
    assert res.converged and "zero_start" in res.info
    st = t.policy.state_dict()["state"]
    # told converged, at what the arm costs from x = 0 (arm 2 was told maxiter before)
    assert st["converged_counts"]["__ndarray__"][arm] == 1
    assert st["cost_sums"]["__ndarray__"][arm] == res.info["cost"] == _from_zero(
        arm, A, b, arms, rtol=0.1)
    assert np.linalg.norm(b - A @ res.x) <= 0.1 * np.linalg.norm(b) * (1 + 1e-12)


def test_the_audits_of_such_a_round_start_from_zero():
    A, b = _system()
    arms = [1.0, 1.3, 1.6]
    t = bandit.Tuner(bandit.FixedArm(arms, arm=2), solver="ssor_pcg", rtol=0.1,
                     audit_budget=1.0, audit_seed=0)
    res = t.solve(A, b, x0=np.full(A.shape[0], 3e5))
    assert "zero_start" in res.info
    rec = t._auditor.records
    assert len(rec["arm"]) >= 1
    for k, value, ok in zip(rec["arm"], rec["value"], rec["converged"]):
        # every audited arm converges from zero, at its cost from zero (before: every arm
        # "failed" at maxiter, run from the bad x0)
        assert ok and value == _from_zero(k, A, b, arms, rtol=0.1)


def test_a_start_whose_runs_stagnate_at_its_rounding_level_is_dropped_too():
    # x0 = 3e7 where the solution is 5e-11: the first runs get below ‖b‖ (relative residual
    # 0.08) but stagnate there, far above rtol = 1e-6; from zero every arm converges
    A, b = _system(24)
    arms = [1.5, 1.0, 1.99]
    t = bandit.Tuner(bandit.FixedArm(arms, arm=0), solver="ssor_pcg", guard=1.0, rtol=1e-6)
    assert t.solve(A, b).converged
    t.policy.arm = 2
    res = t.solve(A, b, x0=np.full(A.shape[0], 3e7))
    assert res.converged and "x0 is out of proportion" in res.info["zero_start"]
    assert np.linalg.norm(b - A @ res.x) <= 1e-6 * np.linalg.norm(b) * (1 + 1e-9)
    exact = np.linalg.solve(A.toarray(), b)
    lam_min = np.linalg.eigvalsh(A.toarray())[0]
    assert np.linalg.norm(res.x - exact) <= 1e-6 * np.linalg.norm(b) / lam_min * (1 + 1e-9)
    # the chosen arm's run from zero was stopped by its budget: told that, censored
    zero = [a for a in res.info["attempts"] if a["start"] == "zero"]
    assert zero[0]["arm"] == 2 and zero[0]["reason"] == "maxiter"
    assert res.info["cost"] == zero[0]["iterations"]
    st = t.policy.state_dict()["state"]
    assert st["converged_counts"]["__ndarray__"][2] == 0
