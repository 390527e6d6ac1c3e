"""The hot path of ``ArmSet.attach_work`` for a configuration tuner's arms without a set-up
(``ArmSet.plain_fast``: SSOR-PCG and plain CG once their family's ``timed_work`` price is
warm) against the general path it short-cuts (:meth:`ArmSet.timed_work`): the same cost
told, the same ``info`` and the same measured state after every run, bit for bit, on a real
sequence with set-ups, reuse, rivals and cold first solves."""
import copy
import math

import numpy as np
import pytest

import bandit
from bandit.armset import ArmSet
from solvers import gallery

GRID = [{"method": "ssor_pcg", "omega": w} for w in (1.0, 1.3, 1.6, 1.8)] + [
    {"method": "cg"}, {"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "ic0"},
    {"method": "cg", "pc": "amg", "reuse": 3}]


def _systems(n_steps=36):
    """A 2-D diffusion sequence whose conditioning moves with the context."""
    rng = np.random.default_rng(3)
    out = []
    for t in range(n_steps):
        kappa = 0.02 + 4.0 * (0.5 + 0.5 * math.sin(0.4 * t))
        A = gallery.crank_nicolson_2d(14, kappa)
        out.append((A, rng.standard_normal(A.shape[0]), kappa))
    return out


def _canon(value):
    """Floats by their bits (NaN equal to NaN), containers recursively."""
    if isinstance(value, float):
        return ("f", float(value).hex())
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_canon(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("a", value.tobytes())
    return value


_CACHES = ("_pcs", "_models", "_arm_work", "_it_work", "_calls", "_clock_floor", "plain_fast",
           "attach_work", "observe",
           "_clock_price", "configs", "arms",
           "_early")  # (the Tuner's record of its first rounds, kept by its solve, not here)


def _state(arms: ArmSet):
    """Everything an ArmSet has measured (its caches of work models left out)."""
    out = {k: v for k, v in vars(arms).items() if k not in _CACHES}
    book = out.pop("_prices", None)
    if book is not None:
        out["_prices"] = dict(vars(book))
    return _canon(out)


def _follow(shadow, arms):
    """What the Tuner sets on its ArmSet outside ``attach_work``/``observe`` (the round, the
    guard's latest refusal and probe, set-ups aged out), copied to the shadow."""
    shadow.round, shadow._floor_of_skip = arms.round, arms._floor_of_skip
    shadow._probe = arms._probe
    shadow._stale = list(arms._stale)


def _run_with_shadow(cost, policy, systems=None, fused=None):
    """A configuration Tuner whose every ``attach_work``/``observe`` is mirrored on a
    shadow ArmSet that takes the general path (``plain_fast = False``) with a copy of the
    same result; returns the pairs compared and how often the hot paths ran.  ``fused``:
    ``fused(arms, shadow, taken)`` gives the tuner's one-step accounting, mirrored the same
    way (``test_call13_account.py``; None: every run through ``attach_work`` and
    ``observe``)."""
    tuner = bandit.Tuner(policy, cost=cost)
    arms = tuner._arms
    shadow = copy.deepcopy(arms)
    shadow.plain_fast = False
    taken = {"attach": 0, "compared": 0, "fused": 0}
    tuner._account = None if fused is None else fused(arms, shadow, taken)
    real_attach, real_observe = arms.attach_work, arms.observe
    shadow_attach, shadow_observe = shadow.attach_work, shadow.observe
    pending = {}

    def attach(k, res, op):
        twin = copy.deepcopy(res)
        _follow(shadow, arms)
        book = arms._prices
        # the hot path's condition, read before the call
        taken["attach"] += (cost == "timed_work" and arms._pcs[k] is None and "work" not in
                            res.info and book is not None and book.warm(arms.family[k]))
        real_attach(k, res, op)
        shadow_attach(k, twin, op)
        assert _canon(res.info) == _canon(twin.info)
        pending[id(res)] = twin

    def observe(k, res):
        twin = pending.pop(id(res), None) or copy.deepcopy(res)
        _follow(shadow, arms)
        real_observe(k, res)
        shadow_observe(k, twin)
        assert _state(arms) == _state(shadow)
        taken["compared"] += 1

    arms.attach_work, arms.observe = attach, observe
    for A, b, kappa in _systems() if systems is None else systems:
        tuner.solve(A, b, context=kappa)
    return tuner, taken


@pytest.mark.parametrize("cost", ["timed_work", "work"])
def test_hot_path_tells_and_keeps_what_the_general_path_does(cost):
    # (without the try gate: on 36 steps the gated learner defers the rival families' tries
    # this test needs to exercise the set-up and first-solve paths)
    policy = bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=2,
                                   try_gate=False)
    tuner, taken = _run_with_shadow(cost, policy)
    hist = tuner.history
    played = set(np.asarray(hist["arm"]).tolist())
    # every run compared; the hot path taken on most of them, and the general path on the
    # set-ups' and the cold first solves' runs
    assert taken["compared"] >= len(hist["arm"])
    if cost == "timed_work":
        assert 15 <= taken["attach"] < taken["compared"]
    assert any(GRID[k].get("pc") == "amg" for k in played) and any(
        GRID[k].get("pc") == "ic0" for k in played)


def test_work_cost_plays_the_same_arms_with_and_without_the_hot_path():
    """With ``cost="work"`` (deterministic) two tuners, one forced onto the general path,
    play the same arms and are told the same costs, round for round."""
    runs = []
    for fast in (True, False):
        tuner = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1),
                                                   seed=5), cost="work")
        tuner._arms.plain_fast = fast
        for A, b, kappa in _systems():
            tuner.solve(A, b, context=kappa)
        h = tuner.history
        runs.append((list(h["arm"]), [float(c).hex() for c in h["cost"]],
                     list(h["iterations"]), tuner.policy.theta.tobytes()))
    assert runs[0] == runs[1]


class _FakeClock:
    """``time.perf_counter`` replaced by a deterministic clock whose steps vary (seeded), so
    two runs of the same calls read the same seconds and the prices still move."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.t, self.rng = 100.0, np.random.default_rng(11)

    def __call__(self):
        self.t += float(self.rng.uniform(1e-5, 3e-4))
        return self.t


def test_timed_work_plays_the_same_arms_with_and_without_the_hot_path(monkeypatch):
    """With ``timed_work`` on a clock that reads the same in both runs, the Tuner on the hot
    path and the Tuner forced onto the general path make the same choices, are told the
    same costs, and end with the same model, round for round."""
    import time

    clock = _FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    warm = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=5))
    for A, b, kappa in _systems(12):  # one-time calibrations (AMG's set-up price) out of the way
        warm.solve(A, b, context=kappa)
    runs = []
    for fast in (True, False):
        clock.reset()
        tuner = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1),
                                                   seed=5))
        tuner._arms.plain_fast = fast
        for A, b, kappa in _systems():
            tuner.solve(A, b, context=kappa)
        h = tuner.history
        runs.append((list(h["arm"]), [float(c).hex() for c in h["cost"]],
                     list(h["fallback_arm"]), list(h["budget"]), tuner.policy.theta.tobytes(),
                     tuner.policy.P.tobytes()))
    assert runs[0] == runs[1]
    assert len(set(runs[0][0])) >= 4  # several arms, of several families, were played


def test_real_clock_readings_replayed_give_the_same_run_on_either_path(monkeypatch):
    """The readings of the real clock in a run on the hot path, replayed to a run on the
    general path: the same arms, costs and model (what a loaded machine's clock does to the
    learner is then the clock's, not the path's)."""
    import time

    real = time.perf_counter
    grid_policy = lambda: bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=7)

    def run(fast, clock):
        monkeypatch.setattr(time, "perf_counter", clock)
        tuner = bandit.Tuner(grid_policy())
        tuner._arms.plain_fast = fast
        for A, b, kappa in _systems():
            tuner.solve(A, b, context=kappa)
        monkeypatch.setattr(time, "perf_counter", real)
        h = tuner.history
        return (list(h["arm"]), [float(c).hex() for c in h["cost"]],
                tuner.policy.theta.tobytes(), tuner.policy.P.tobytes())

    run(True, real)  # one-time calibrations out of the way
    readings = []

    def recording():
        readings.append(real())
        return readings[-1]

    first = run(True, recording)
    replay = iter(readings)
    second = run(False, lambda: next(replay))
    assert first == second
    assert next(replay, None) is None  # every reading used, none missing
