"""A kept set-up told at its share: what a ``reuse=k`` arm's runs tell the learner
(``ArmSet.told_cost``), the user's accounting kept whole, and a learner that keeps the reuse
arm only once its set-up is weighed at its share."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit.armset import ArmSet

pytest.importorskip("pyamg")

SSOR = {"method": "ssor_pcg", "omega": 1.8}


def _lap(m):
    """The 5-point Laplacian on an ``m × m`` grid (Dirichlet)."""
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    return (sp.kron(sp.identity(m), T) + sp.kron(T, sp.identity(m))).tocsr()


def _amg(reuse):
    return {"method": "cg", "pc": "amg", "reuse": reuse}


def _run(policy, matrices, cost="work", guard=3.0, seed=0):
    """Solve each matrix with a fresh right-hand side; return the tuner, the results and
    what the policy was told (one entry per round)."""
    t = bandit.Tuner(policy, cost=cost, rtol=1e-8, guard=guard)
    told = []
    update = t.policy.update

    def spy(arm, c, context=None, censored=False, converged=None):
        told.append(c)
        return update(arm, c, context, censored, converged)

    t.policy.update = spy
    rng = np.random.default_rng(seed)
    out = [t.solve(A, rng.standard_normal(A.shape[0]), context=0.0) for A in matrices]
    return t, out, told


def test_reuse_arm_told_its_set_up_share_and_paid_whole():
    # reuse=3: the set-up serves the round that builds it and the next three; the fifth
    # round rebuilds (its window ran out: the pattern held, so the share stays a quarter)
    L = _lap(20)
    mats = [(L * (1 + 0.01 * s)).tocsr() for s in range(6)]
    t, res, told = _run(bandit.FixedArm([SSOR, _amg(3)], arm=1), mats)
    built = [bool(r.info.get("setup")) for r in res]
    assert built == [True, False, False, False, True, False]
    paid = np.array(t._paid)
    work = np.array([r.info["work"] for r in res])
    np.testing.assert_allclose(paid, work)  # the user's accounting: every run's whole work
    S0, S4 = res[0].info["setup_work"], res[4].info["setup_work"]
    assert S0 > 0 and S4 > 0
    want = [work[0] - S0 + S0 / 4, work[1] + S0 / 4, work[2] + S0 / 4, work[3] + S0 / 4,
            work[4] - S4 + S4 / 4, work[5] + S4 / 4]
    np.testing.assert_allclose(told, want, rtol=1e-12)
    # the history keeps what was told; over the set-up's window the told costs add up to
    # what the runs were charged
    np.testing.assert_allclose(t.history["cost"], want, rtol=1e-12)
    assert sum(told[:4]) == pytest.approx(paid[:4].sum(), rel=1e-12)


def test_set_up_told_whole_once_the_pattern_keeps_changing():
    # two patterns in turn: every round rebuilds, so from the first replaced set-up on the
    # expected solves per set-up is 1 and each run is told its whole cost
    a, b = _lap(20), _lap(21)
    mats = [a if s % 2 == 0 else b for s in range(5)]
    t, res, told = _run(bandit.FixedArm([SSOR, _amg(20)], arm=1), mats)
    assert all(r.info.get("setup") for r in res)
    paid = np.array(t._paid)
    S0 = res[0].info["setup_work"]
    assert told[0] == pytest.approx(paid[0] - S0 + S0 / 21, rel=1e-12)  # nothing seen yet
    np.testing.assert_allclose(told[1:], paid[1:], rtol=1e-12)
    assert t._arms.serves(1) == 1.0


def test_no_reuse_arms_and_the_flag_off_tell_the_whole_cost(monkeypatch):
    L = _lap(20)
    mats = [(L * (1 + 0.01 * s)).tocsr() for s in range(3)]
    t, res, told = _run(bandit.FixedArm([SSOR, _amg(0)], arm=1), mats)
    np.testing.assert_allclose(told, t._paid, rtol=0)
    monkeypatch.setattr(ArmSet, "amortise_setups", False)
    t, res, told = _run(bandit.FixedArm([SSOR, _amg(3)], arm=1), mats)
    np.testing.assert_allclose(told, t._paid, rtol=0)
    assert res[0].info["setup_work"] > 0


def test_timed_work_build_told_at_its_charged_share():
    # on the clock: the building run's cost less its charged set-up (in the prices' units)
    # plus that over 1 + reuse; the user's paid keeps the whole timed_work
    L = _lap(20)
    mats = [(L * (1 + 0.01 * s)).tocsr() for s in range(3)]
    t, res, told = _run(bandit.FixedArm([SSOR, _amg(5)], arm=1), mats, cost="timed_work")
    info = res[0].info
    S = info["setup_charged"] * info.get("clock_units", 1.0)
    assert 0 < S <= info["timed_work"]
    assert t._paid[0] == info["timed_work"]
    assert told[0] == pytest.approx(info["timed_work"] - S + S / 6, rel=1e-12)
    assert told[1] == pytest.approx(res[1].info["timed_work"] + S / 6, rel=1e-12)


def test_learner_keeps_the_reuse_arm_cheapest_only_after_amortisation(monkeypatch):
    # on this Laplacian (cost="work") SSOR-PCG costs ~118 a solve, CG + AMG reuse=20 ~85 on
    # its hierarchy and ~284 with the set-up (199): cheapest over its window only with the
    # set-up spread over it.  Told whole, the learner never plays it after its first try.
    L = _lap(48)
    mats = [(L * (1 + 0.01 * s)).tocsr() for s in range(40)]
    arms = [SSOR, _amg(20)]
    plays = {}
    for on in (True, False):
        monkeypatch.setattr(ArmSet, "amortise_setups", on)
        t, res, _ = _run(bandit.default_policy(None, arms, seed=1), mats, guard=None)
        plays[on] = [r.arm for r in res]
        if on:
            paid_on = sum(t._paid)
        else:
            paid_off = sum(t._paid)
    assert plays[True][-20:] == [1] * 20
    assert plays[False][-20:] == [0] * 20
    assert paid_on < 0.85 * paid_off


def test_a_loaded_tuners_first_build_is_not_taken_for_a_pattern_change(tmp_path):
    # a Tuner file keeps no set-up, so the loaded tuner's first run of the reuse arm builds
    # afresh: told at the whole window's share, not as if its pattern had changed
    L = _lap(20)
    t, res, _ = _run(bandit.FixedArm([SSOR, _amg(3)], arm=1), [L])
    path = tmp_path / "t.json"
    t.save(path)
    t2 = bandit.Tuner.load(path)
    r = t2.solve((L * 1.01).tocsr(), np.ones(L.shape[0]))
    S = r.info["setup_work"]
    assert r.info["setup"] and S > 0
    assert t2._arms.serves(1) == 4.0
    assert r.info["cost"] == pytest.approx(t2._paid[-1] - S + S / 4, rel=1e-12)
