"""The fused accounting of a configuration tuner's plain warm run
(:func:`bandit._tuner_account.account_plain`) and the told cost of a round with set-ups
(:func:`bandit._tuner_account.told_cost`), restructured to read fewer objects a call, against
the code they replace (kept here verbatim as the reference): the same answer, ``info`` and
measured state after every run, and over whole seeded runs on a fixed clock the same arms,
told costs, history and learner's state, bit for bit."""
import copy
import time

import numpy as np
import pytest

import bandit
from bandit import _tuner_account
from bandit._prices import _PAIR_AGE
from bandit._tuner_account import account_plain, told_cost
from bandit.armset import _tally_work

from test_cfg13_plain_fast import GRID, _canon, _FakeClock, _state, _systems
from test_tuner_inline_cost import record_told

_KEEP = 2 * _PAIR_AGE


def _account_before(arms, k, res, op) -> bool:
    """``account_plain`` as it was before the restructuring (the reference)."""
    book = arms._prices
    if (arms.cost != "timed_work" or book is None or not book.fixed
            or arms._pcs[k] is not None):
        return False
    fam = arms.family[k]
    info = res.info
    if (fam != book.ref or not book.base_readings or not arms._warm[k] or "work" in info
            or not arms.plain_fast or not arms.paired_prices or not res.b_norm > 0):
        return False
    memo = arms._arm_work
    m = None if memo is None else memo[k]
    if m is None or m[2] != id(op.indptr) or m[0] != op.n or m[1] != op.nnz:
        return False
    its = res.iterations
    work = info["work"] = m[3] + its * m[4]
    told = info["timed_work"] = book.base * work + 0.0
    cost = float(told)
    every = arms._all
    every[0] += cost
    every[1] += its
    row = arms._rate[fam]
    row[0] += cost - 0.0 if cost > 0.0 else 0.0
    row[1] += its
    sec = res.seconds - info.get("setup_seconds", 0.0)
    work = work - info.get("setup_work", 0.0)
    _tally_work(arms._per_work, arms._fit[fam], sec, work)
    if work > 0 and sec > 0:
        book.tick += 1
        recent = book.recent
        recent.append((book.tick, fam, sec / work))
        del recent[:-_KEEP]
    if res.converged and cost - 0.0 > arms._warm_most[fam]:
        arms._warm_most[fam] = cost - 0.0
    if arms.round != arms._latest_round:  # (the family's latest whole solve, added since)
        arms._latest_round = arms.round
        if res.converged and arms._latest_solve is not None:
            arms._latest_solve[fam] = cost
    return True


def _told_before(tuner, arm, r, cost, tell, budget) -> float:
    """``told_cost`` as it was before its early return (the reference)."""
    arms = tuner._arms
    if not (arms.amortise_setups and arms.has_setups and arms._pcs[arm] is not None):
        return cost
    if not r.converged and not (tell[0] and tuner._budget_stop(r, budget)):
        return cost
    if getattr(tuner.policy, "report_round_cost", False):
        return cost
    return arms.told_cost(arm, r, cost)


def _mirrored(counts):
    """The new step on the tuner's arm set, the reference on a copy taken just before, on a
    copy of the result: the same answer, ``info`` and whole measured state, every run."""

    def account(arms, k, res, op):
        shadow, twin = copy.deepcopy(arms), copy.deepcopy(res)
        taken = account_plain(arms, k, res, op)
        assert taken == _account_before(shadow, k, twin, op)
        assert _canon(res.info) == _canon(twin.info)
        assert _state(arms) == _state(shadow)
        counts[taken] += 1
        return taken

    return account


def _policy(seed, **kw):
    return bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=seed, **kw)


def test_every_run_gives_the_references_answer_info_and_state():
    """Run for run on a sequence with set-ups, reuse, rivals and cold first solves: the new
    step takes and refuses the same runs as the old one, with the same info and state."""
    tuner = bandit.Tuner(_policy(2, try_gate=False))
    counts = {True: 0, False: 0}
    tuner._account = _mirrored(counts)
    for A, b, kappa in _systems(40):
        tuner.solve(A, b, context=kappa)
    assert counts[True] >= 15 and counts[False] >= 5  # both kinds of run were compared


def _whole_run(clock, seed, steps, account, told):
    """A configuration Tuner over ``steps`` seeded systems on ``clock``: every cost told to
    its policy (arm, bits, censored, converged), its history, model and measured state."""
    clock.reset()
    tuner = bandit.Tuner(_policy(seed))
    tuner._account = account
    calls = []

    def told_spy(*args):
        calls.append(args[1])
        return told(*args)

    told_of = _tuner_account.told_cost
    import bandit.tuner as tuner_mod

    tuner_mod._told_cost = told_spy
    try:
        sent = record_told(tuner)
        for A, b, kappa in _systems(steps):
            tuner.solve(A, b, context=kappa)
    finally:
        tuner_mod._told_cost = told_of
    h = tuner.history
    return (sent, calls, list(h["arm"]), [float(c).hex() for c in h["cost"]],
            list(h["iterations"]), list(h["fallback_arm"]), list(h["budget"]),
            tuner.policy.theta.tobytes(), tuner.policy.P.tobytes(), _state(tuner._arms))


@pytest.mark.parametrize("seed", [5, 9])
def test_whole_run_is_bit_identical_to_the_reference_on_a_fixed_clock(monkeypatch, seed):
    """The same seeded run on a clock that reads the same each time, with the new account
    and told cost, with the old ones, and on the general path (no fused step): the same
    arms, told costs, history, model and measured state."""
    clock = _FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    _whole_run(clock, seed, 8, account_plain, told_cost)  # one-time calibrations
    new = _whole_run(clock, seed, 36, account_plain, told_cost)
    old = _whole_run(clock, seed, 36, _account_before, _told_before)
    general = _whole_run(clock, seed, 36, None, _told_before)
    assert new == old == general
    assert len(set(new[2])) >= 3 and len(new[1]) == 36  # rivals played; told_cost asked


class _NoRound:
    """A tuner whose round state must not be read (told_cost's early return)."""

    def __init__(self, arms):
        self._arms = arms

    def _budget_stop(self, r, budget):
        raise AssertionError("read")

    @property
    def policy(self):
        raise AssertionError("read")


@pytest.mark.parametrize("converged", [True, False])
def test_told_cost_returns_early_for_an_arm_without_a_kept_set_up(converged):
    """An arm without a set-up, or with one not kept (``reuse=0``), is told its cost
    without the round's other tests being read; a ``reuse=k`` arm still reads them."""
    tuner = bandit.Tuner(_policy(2))
    arms = tuner._arms
    res = solve_result(converged)
    plain = [k for k, c in enumerate(GRID) if "pc" not in c]
    unkept = [k for k, c in enumerate(GRID) if c.get("pc") in ("jacobi", "ic0")]
    kept = [k for k, c in enumerate(GRID) if c.get("reuse")]
    assert plain and unkept and kept and arms.has_setups
    for k in plain + unkept:
        assert told_cost(_NoRound(arms), k, res, 1.25, (True, converged), 10) == 1.25
        assert _told_before(tuner, k, res, 1.25, (True, converged), 10) == 1.25
    with pytest.raises(AssertionError, match="read"):
        told_cost(_NoRound(arms), kept[0], res, 1.25, (True, converged), 10)


def solve_result(converged):
    from solvers._result import SolveResult

    return SolveResult(x=np.zeros(3), converged=converged, iterations=4, residual_norm=0.0,
                       b_norm=1.0, seconds=1e-4, info={}, omega=None,
                       solver="cg", reason="converged" if converged else "maxiter")
