"""The fused accounting of a configuration tuner's most common run
(:func:`bandit._tuner_account.account_plain`: ``ArmSet.attach_work`` and ``ArmSet.observe``
in one step for the reference family's warm solve without a set-up) against the general
path: the same ``info``, the same measured state and price book after every run, the same
choices, costs and model over whole runs, bit for bit; and every run it does not cover is
refused with nothing changed."""
import copy
import functools
import time

import numpy as np
import pytest

import bandit
from bandit._tuner_account import account_plain
import solvers
from solvers import gallery

from test_cfg13_plain_fast import (GRID, _canon, _FakeClock, _follow, _run_with_shadow,
                                   _state, _systems)


def _fused_mirror(arms, shadow, counts):
    """The fused step, each run it takes mirrored on ``shadow`` through ``attach_work`` and
    ``observe`` (a copy of the same result) and compared: the ``info`` and the whole measured
    state; a run it refuses must leave both as they were."""

    def fused(arms_, k, res, op):
        twin = copy.deepcopy(res)
        _follow(shadow, arms)
        taken = account_plain(arms_, k, res, op)
        if taken:
            shadow.attach_work(k, twin, op)
            shadow.observe(k, twin)
            counts["fused"] += 1
            counts["compared"] += 1
        assert _canon(res.info) == _canon(twin.info)
        assert _state(arms) == _state(shadow)
        return taken

    return fused


def _mirrored_run(policy, systems, cost="timed_work"):
    """A configuration Tuner on the fused path whose every run is mirrored on a shadow
    ArmSet through the general path (:func:`test_cfg13_plain_fast._run_with_shadow`);
    returns the tuner and how many runs took the fused step and how many were compared."""
    return _run_with_shadow(cost, policy, systems, fused=_fused_mirror)


def test_fused_step_keeps_what_attach_work_and_observe_keep():
    """On a sequence with set-ups, reuse, rivals and cold first solves: the fused step is
    taken on most runs, and after each the info and every measured number (the families'
    rates and fits, the price book's readings and ticks) are the general path's."""
    # the try gate (on by default) keeps the set-up families out of so short a run; this
    # test needs their runs mirrored too
    policy = bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=2,
                                   try_gate=False)
    tuner, counts = _mirrored_run(policy, _systems(48))
    hist = tuner.history
    assert counts["compared"] >= len(hist["arm"])
    assert 20 <= counts["fused"] < counts["compared"]
    played = set(np.asarray(hist["arm"]).tolist())
    assert any(GRID[k].get("pc") in ("amg", "ic0") for k in played)  # set-ups ran too
    # the reference family's price is fixed and its readings kept as the general path keeps
    book = tuner._arms._prices
    assert book.fixed and len(book.recent) == 16


def test_work_cost_never_takes_the_fused_step():
    """``cost="work"`` has no prices: the fused step refuses every run (the Tuner's own test
    keeps it from being asked), and the measured state is the general path's."""
    policy = bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=2)
    tuner, counts = _mirrored_run(policy, _systems(20), cost="work")
    assert counts["fused"] == 0 and counts["compared"] >= 20


def _whole_run(account, clock, seed=5, steps=36):
    clock.reset()
    tuner = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1),
                                               seed=seed))
    if not account:
        tuner._account = None
    for A, b, kappa in _systems(steps):
        tuner.solve(A, b, context=kappa)
    h = tuner.history
    return (list(h["arm"]), [float(c).hex() for c in h["cost"]], list(h["iterations"]),
            list(h["fallback_arm"]), list(h["budget"]), tuner.policy.theta.tobytes(),
            tuner.policy.P.tobytes(), _state(tuner._arms))


@pytest.mark.parametrize("seed", [5, 9])
def test_same_choices_costs_and_model_with_a_fixed_clock(monkeypatch, seed):
    """Two Tuners on a clock that reads the same in both runs, one with the fused step and
    one without: the same arms, costs, budgets, fallbacks and model, round for round, and
    the same measured state at the end."""
    clock = _FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    _whole_run(True, clock, seed, 8)  # one-time calibrations out of the way
    fused = _whole_run(True, clock, seed)
    general = _whole_run(False, clock, seed)
    assert fused == general
    assert len(set(fused[0])) >= 3


def test_real_clock_readings_replayed_give_the_same_run_without_the_fused_step(monkeypatch):
    """The real clock's readings of a run with the fused step, replayed to a run without it:
    the same arms, costs and model."""
    real = time.perf_counter
    readings = []

    class Recording:
        def reset(self):
            pass

        def __call__(self):
            readings.append(real())
            return readings[-1]

    class Replay:
        def reset(self):
            self.it = iter(readings)

        def __call__(self):
            return next(self.it)

    monkeypatch.setattr(time, "perf_counter", real)
    _whole_run(True, Recording(), 7, 8)  # one-time calibrations out of the way
    readings.clear()
    rec = Recording()
    monkeypatch.setattr(time, "perf_counter", rec)
    first = _whole_run(True, rec, 7)
    replay = Replay()
    monkeypatch.setattr(time, "perf_counter", replay)
    second = _whole_run(False, replay, 7)
    assert first == second
    assert next(replay.it, None) is None  # every reading used, none missing


@functools.lru_cache(maxsize=1)
def _warm_run():
    """A configuration Tuner after enough solves that its reference family's price is fixed,
    and the latest run's arm, result (before its accounting) and operator of the reference
    family without a set-up."""
    tuner = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1),
                                               seed=2))
    captured = []
    real = tuner._account

    def capture(arms, k, res, op):
        captured.append((k, copy.deepcopy(res), op))
        return real(arms, k, res, op)

    tuner._account = capture
    for A, b, kappa in _systems(30):
        tuner.solve(A, b, context=kappa)
    k, res, op = next(c for c in reversed(captured) if tuner._arms._pcs[c[0]] is None
                      and tuner._arms.family[c[0]] == tuner._arms._prices.ref)
    return tuner, k, res, op


def _warm_tuner():
    """:func:`_warm_run`'s tuner, with copies of its arm set (on the same operator, whose
    work models it keeps) and of the result, to change freely."""
    tuner, k, res, op = _warm_run()
    tuner = copy.copy(tuner)
    tuner._arms = copy.deepcopy(tuner._arms)
    return tuner, k, copy.deepcopy(res), op


def _refuses(arms, k, res, op):
    before, info = _state(arms), _canon(res.info)
    assert account_plain(arms, k, res, op) is False
    assert _state(arms) == before and _canon(res.info) == info


@pytest.mark.parametrize("case", ["as_is", "dearest", "dearest_unconverged"])
def test_accepts_the_plain_warm_run_of_the_reference_family(case):
    """The fused step on a warm run of the reference family: the general path's info and
    state — also when the run is the family's dearest converged warm solve so far (kept),
    and when such a run did not converge (not kept)."""
    tuner, k, res, op = _warm_tuner()
    arms = tuner._arms
    if case != "as_is":
        arms._warm_most[arms.family[k]] = 0.0
    if case == "dearest_unconverged":
        res = res.replace(converged=False)
    shadow, twin = copy.deepcopy(arms), copy.deepcopy(res)
    assert account_plain(arms, k, res, op) is True
    shadow.attach_work(k, twin, op)
    shadow.observe(k, twin)
    assert _canon(res.info) == _canon(twin.info) and _state(arms) == _state(shadow)
    kept = arms._warm_most[arms.family[k]]
    assert (kept == res.info["timed_work"]) if case == "dearest" else (
        kept == 0.0 if case == "dearest_unconverged" else kept > 0.0)


@pytest.mark.parametrize("case", [
    "cost_work", "no_book", "not_fixed", "setup", "other_family", "no_base",
    "cold_arm", "work_reported", "general_forced", "unpaired", "zero_rhs", "no_memo",
    "other_pattern"])
def test_refuses_every_run_it_does_not_cover(case):
    """Each condition of the fused step, broken alone, sends the run to the general path
    with nothing changed — the runs ``attach_work`` and ``observe`` treat otherwise."""
    tuner, k, res, op = _warm_tuner()
    arms = tuner._arms
    book = arms._prices
    if case == "cost_work":
        arms.cost = "work"
    elif case == "no_book":
        arms._prices = None
    elif case == "not_fixed":
        book.fixed = False
    elif case == "setup":
        arms._pcs = list(arms._pcs)
        arms._pcs[k] = object()
    elif case == "other_family":
        book.ref = (book.ref + 1) % arms.n_families
    elif case == "no_base":
        book.base_readings = []
    elif case == "cold_arm":
        arms._warm[k] = False
    elif case == "work_reported":
        res.info["work"] = 1.0
    elif case == "general_forced":
        arms.plain_fast = False
    elif case == "unpaired":
        arms.paired_prices = False
    elif case == "zero_rhs":
        res = res.replace(b_norm=0.0)
    elif case == "no_memo":
        arms._arm_work = None
    elif case == "other_pattern":
        op = solvers.prepare(gallery.laplacian_2d(9))
    _refuses(arms, k, res, op)


def test_the_tuner_asks_only_for_its_users_runs_with_iterations_on_timed_work():
    """The Tuner asks the fused step for every tallied run with iterations under
    ``timed_work`` and for nothing else: an audit run, a start that met the rule and the
    other costs take the general path, as before."""
    for cost in ("timed_work", "time", "work"):
        tuner = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1),
                                                   seed=2), cost=cost, audit_budget=0.5,
                             audit_seed=0)
        real_account, real_run = tuner._account, tuner._run
        asked, runs = [], []

        def spy(arms, k, res, op):
            asked.append(res.iterations)
            return real_account(arms, k, res, op)

        def run(op, b, arm, x0, maxiter, guarded, tally=True):
            res = real_run(op, b, arm, x0, maxiter, guarded, tally)
            runs.append((tally, res.iterations))
            return res

        tuner._account, tuner._run = spy, run
        systems = _systems(16)
        for A, b, kappa in systems:
            tuner.solve(A, b, context=kappa)
        A, b, kappa = systems[-1]
        x = tuner.solve(A, b, context=kappa).x
        tuner.solve(A, b, x0=x, context=kappa)  # already solved: 0 iterations
        assert any(not tally for tally, _ in runs)  # audit runs ran
        assert any(tally and not its for tally, its in runs)  # and a start that met the rule
        if cost == "timed_work":
            assert len(asked) == sum(1 for tally, its in runs if tally and its)
        else:
            assert asked == []


def test_budget_asks_whether_the_family_converged_only_for_a_rival():
    """``Tuner._budget`` no longer asks :meth:`_proven` for an arm of the leader's family
    (whose budget does not read it): every arm's budget against every leader, on a warm
    configuration tuner with set-ups built and rival families unproven, is what
    ``ArmSet.budget`` gives with the family's converged state as before — and so is the
    guard's record of a refused start and of a probe."""
    tuner, _, _, op = _warm_tuner()
    arms = tuner._arms
    counts = tuner.policy.converged_counts
    assert any(c == 0 for c in counts) and any(c > 0 for c in counts)
    checked = 0
    for best in range(len(GRID)):
        for arm in range(len(GRID)):
            if arm == best:
                continue
            for pred in (1e-5, 3e-4, 2e-2):
                mine = tuner._budget(arm, best, pred, op)
                kept = (arms._floor_of_skip, arms._probe)
                proven = not arms.heterogeneous or any(
                    counts[j] > 0 for j in arms.members(arm))
                ref = arms.budget(arm, tuner.guard, pred, op, tuner.maxiter, leader=best,
                                  proven=proven)
                assert mine == ref and kept == (arms._floor_of_skip, arms._probe)
                checked += 1
    assert checked == len(GRID) * (len(GRID) - 1) * 3
