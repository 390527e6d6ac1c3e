"""Held decisions (``bandit/_tuner_hold.py``): a Tuner whose learner's own time is a large
share of its solves keeps the learner's greedy arm for a few solves and tells those rounds at
the next decision.

The solver here is a function with scripted iterations and seconds (a cost read off the
clock, ``cost="time"``), so whether a decision is held depends only on the reported seconds:
a solve of a microsecond makes any learner's draw a large share (held), one of a second a
negligible one (never held).  The reference for the model is the same learner told every
round in order, as the Tuner's log records them.
"""
import math

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import bandit
import solvers
from bandit._tuner_hold import hold_rounds
from solvers import gallery

OMEGAS = [1.0, 1.2, 1.4, 1.6, 1.8]
A = gallery.laplacian_2d(4).tocsr()
X = spla.spsolve(A.tocsc(), np.ones(16))


def _its(omega, c, t, jump):
    """Iterations of ``omega`` at context ``c``: best ω moves with ``c``; from round ``jump``
    on every cost is 6 times higher (a change no context announces)."""
    base = 20.0 + 200.0 * (omega - 1.2 - 0.4 * c) ** 2
    return int(round(base * (6.0 if t >= jump else 1.0)))


class _Solver:
    """A solver function reporting ``_its`` iterations at ``state["rate"]`` seconds each; it
    fails (diverged) when ``state["fail"]`` is set, for every ω but ``state["rescue"]``
    (a class: a Tuner with it pickles)."""

    __name__ = "fake"

    def __init__(self, state):
        self.state = state

    def __call__(self, A, b, x0=None, maxiter=10_000, omega=1.0, rtol=1e-8, atol=0.0, **_):
        state = self.state
        state["calls"] += 1
        its = _its(omega, state["c"], state["t"], state["jump"])
        ok = not state["fail"] or omega == state["rescue"]
        reason = "converged" if ok else "diverged"
        if its > maxiter:  # (a guard's budget)
            its, ok, reason = maxiter, False, "maxiter"
        return solvers.SolveResult(
            x=X.copy(), iterations=its, converged=ok, residual_norm=0.0 if ok else 1e3,
            omega=omega, solver="fake", reason=reason,
            seconds=its * state["rate"], backend="numba")


def _run(rate, rounds=80, jump=10**9, fail_at=(), contexts=None, share=None,
         monkeypatch=None):
    """A Tuner over ``OMEGAS`` (the default learner, ``cost="time"``) solving ``rounds``
    systems at slowly moving contexts; per round whether its learner drew."""
    state = {"c": 0.0, "t": 0, "jump": jump, "rate": rate, "fail": False, "rescue": 1.0,
             "calls": 0}
    tuner = bandit.Tuner(bandit.default_policy(None, OMEGAS, context_bounds=(0.0, 1.0),
                                               seed=0), solver=_Solver(state), cost="time")
    if share is not None:
        monkeypatch.setattr(type(tuner), "HOLD_SHARE", share)
    policy = tuner._policy
    drew = []
    select = type(policy).select

    def counting(context=None):
        drew[-1] = True
        return select(policy, context)

    policy.select = counting
    if contexts is None:
        contexts = [0.5 + 0.4 * math.sin(t / 15.0) for t in range(rounds)]
    for t, c in enumerate(contexts):
        state["c"], state["t"] = c, t
        state["fail"] = t in fail_at
        drew.append(False)
        tuner.solve(A, np.ones(16), context=float(c))
    del policy.select
    return tuner, drew


def _told_again(tuner):
    """The same learner told the tuner's rounds in order, each as the Tuner tells it."""
    h = tuner.history
    ref = bandit.default_policy(None, OMEGAS, context_bounds=(0.0, 1.0), seed=0)
    for k, cost, c, cens, conv in zip(h["arm"], h["cost"], h["context"], h["censored"],
                                      h["converged"]):
        ref.select(float(c))
        fallback_told = bool(cens)  # (a failed attempt: a censored, unconverged cost)
        ref.update(int(k), float(cost), float(c), fallback_told, not fallback_told)
    return ref


def _same_model(p, q):
    assert p.t == q.t
    for name in ("P", "theta", "counts", "converged_counts", "cost_sums"):
        np.testing.assert_array_equal(getattr(p, name), getattr(q, name), err_msg=name)
    for name in ("sq_err", "cusum_up", "cusum_down", "forgotten", "changes", "unit"):
        assert getattr(p, name) == getattr(q, name), name


def test_hold_rounds_spreads_the_decision_over_at_most_share_of_a_solve():
    assert hold_rounds(100e-6, 1e-3, 0.02, 8) == 4  # 100 µs ≤ 5 × 20 µs
    assert hold_rounds(100e-6, 1e-3, 0.02, 3) == 3  # capped
    assert hold_rounds(10e-6, 1e-3, 0.02, 8) == 0  # already ≤ 2 %
    assert hold_rounds(20e-6, 1e-3, 0.02, 8) == 0  # exactly 2 %
    for own, sec in ((0.0, 1e-3), (1e-4, 0.0), (math.nan, 1e-3), (1e-4, math.inf)):
        assert hold_rounds(own, sec, 0.02, 8) == 0


def test_fast_solves_hold_and_the_model_is_that_of_telling_every_round():
    tuner, drew = _run(rate=1e-9)
    assert sum(drew) < 0.6 * len(drew)  # most rounds held: the learner's time per solve
    assert tuner._policy.t < len(tuner._log) or not tuner._pending  # (rounds left to tell)
    _same_model(tuner.policy, _told_again(tuner))  # .policy tells the held rounds first
    assert not tuner._pending


def test_slow_solves_never_hold():
    tuner, drew = _run(rate=1e-2)  # a solve of 0.2 s or more: the learner's time is noise
    assert all(drew)
    assert tuner._policy.t == len(tuner._log)


def test_share_measured_against_the_solve(monkeypatch):
    # the same fast solves, a share no learner exceeds: every round draws
    _, drew = _run(rate=1e-9, share=1e6, monkeypatch=monkeypatch)
    assert all(drew)


def test_held_rounds_follow_a_greedy_converged_decision_within_its_reach():
    tuner, drew = _run(rate=1e-9, rounds=120)
    h = tuner.history
    held = [t for t, d in enumerate(drew) if not d]
    assert held
    reach = 1.0 / tuner._policy.features.m  # the learnt range is [0, 1] here
    for t in held:
        d = max(s for s in range(t) if drew[s])  # the decision it keeps
        assert h["arm"][t] == h["arm"][d] == h["leader"][d]  # the leader, not an exploration
        assert h["converged"][d] and h["fallback_arm"][d] < 0 and not h["censored"][d]
        assert all(h["arm"][s] == h["arm"][d] for s in range(d, t))
        assert abs(h["context"][t] - h["context"][d]) <= reach + 1e-12
        assert t - d <= tuner.HOLD_MAX


def test_exploration_and_first_tries_are_drawn():
    tuner, drew = _run(rate=1e-9, rounds=120)
    h = tuner.history
    # every round whose arm was not the leader (an exploration, a first try) was drawn
    for t in range(len(drew)):
        if h["arm"][t] != h["leader"][t]:
            assert drew[t]
    assert drew[0]


def test_a_failed_held_round_ends_the_hold_and_is_told_at_once():
    base, drew = _run(rate=1e-9, rounds=60)
    held = [t for t, d in enumerate(drew) if not d]
    at = held[len(held) // 2]
    tuner, drew = _run(rate=1e-9, rounds=60, fail_at={at})
    h = tuner.history
    assert h["fallback_arm"][at] >= 0  # the held arm failed; the chain solved it
    assert drew[at + 1]  # the next round draws
    _same_model(tuner.policy, _told_again(tuner))


def test_a_change_among_the_held_rounds_forgets_as_telling_every_round():
    tuner, drew = _run(rate=1e-9, rounds=120, jump=60)
    p = tuner.policy
    assert p.changes >= 1
    _same_model(p, _told_again(tuner))


def test_a_copy_a_pickle_or_a_saved_state_holds_every_round():
    import copy
    import pickle

    tuner, _ = _run(rate=1e-9, rounds=47)
    ref = _told_again(tuner)
    twin = copy.deepcopy(tuner)
    assert not tuner._pending and twin._holding is None
    _same_model(twin._policy, ref)
    tuner, _ = _run(rate=1e-9, rounds=47)
    _same_model(pickle.loads(pickle.dumps(tuner))._policy, ref)
    tuner, _ = _run(rate=1e-9, rounds=47)
    _same_model(bandit.Policy.from_state_dict(tuner.policy.state_dict()), ref)


def test_counted_costs_never_hold():
    state = {"c": 0.5, "t": 0, "jump": 10**9, "rate": 1e-9, "fail": False, "rescue": 1.0,
             "calls": 0}
    tuner = bandit.Tuner(bandit.default_policy(None, OMEGAS, context_bounds=(0.0, 1.0),
                                               seed=0), solver=_Solver(state),
                         cost="iterations")
    assert not tuner._hold_on  # a seeded run's choices stay the machine's own business


def test_a_held_round_is_not_told_before_the_next_decision():
    tuner, _ = _run(rate=1e-9, rounds=40)
    p = tuner._policy
    state = tuner._solver.state
    select = type(p).select
    drew = [False]

    def counting(context=None):
        drew[0] = True
        return select(p, context)

    p.select = counting
    held = 0
    for t in range(40, 80):
        state["c"], state["t"] = 0.5 + 0.001 * t, t
        drew[0] = False
        before, pending = p.t, len(tuner._pending)
        tuner.solve(A, np.ones(16), context=0.5 + 0.001 * t)
        if not drew[0]:  # held: the learner is told nothing, the round waits
            held += 1
            assert p.t == before and len(tuner._pending) == pending + 1
        else:  # a decision: the rounds held before it are told first
            assert p.t >= before + pending
    del p.select
    assert held
    _same_model(tuner.policy, _told_again(tuner))


def test_no_hold_before_every_family_has_had_its_first_try():
    grid = bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi"])
    tuner = bandit.Tuner(grid)  # timed work, guarded: the learner's try gate knows 2 families
    assert tuner._hold_on and tuner._policy._gate_family.size == 3
    r = solvers.SolveResult(x=X, iterations=10, converged=True, residual_norm=0.0, omega=1.2,
                            solver="ssor_pcg", reason="converged", seconds=1e-9,
                            backend="numba")
    tuner._policy.features.observe(0.5)  # (a context range to hold in)
    tuner._policy.features.observe(0.6)
    tuner._policy.counts[:] = [3, 1, 0]  # SSOR-PCG played, Jacobi-CG never
    assert not tuner._defers(False, 0, 0, r, -1, 0.55, 1e-4)  # greedy, cheap: still drawn
    tuner._policy.counts[2] = 1
    assert tuner._defers(False, 0, 0, r, -1, 0.55, 1e-4)  # every family tried: held
    assert tuner._holding[:2] == [0, tuner.HOLD_MAX]
