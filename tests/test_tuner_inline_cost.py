"""The configuration Tuner's per-call path with its costs read in ``Tuner._solve`` itself
(``Tuner._inline_cost``) and ``ArmSet.needs_work`` asked once per run: the same choices,
told costs and model as the path through ``Tuner._cost_of`` and ``ArmSet.cost_of``, bit for
bit, on a clock that reads the same in both runs (timed work), and with counted costs."""
import time

import numpy as np
import pytest

import bandit

from test_cfg13_plain_fast import GRID, _FakeClock, _systems


def record_told(tuner):
    """The list every cost ``tuner`` tells its policy is appended to, as (arm, the cost's
    bits, censored, converged): the policy's ``update`` wrapped in place."""
    told = []
    update = tuner.policy.update

    def recording(arm, cost, context=None, censored=False, converged=None):
        told.append((arm, float(cost).hex(), censored, converged))
        return update(arm, cost, context, censored, converged)

    tuner.policy.update = recording
    return told


def _run(inline, policy, steps, **kw):
    tuner = bandit.Tuner(policy, **kw)
    tuner._inline_cost = inline
    told = record_told(tuner)
    for A, b, kappa in _systems(steps):
        tuner.solve(A, b, context=kappa)
    h = tuner.history
    return (told, list(h["arm"]), [float(c).hex() for c in h["cost"]],
            list(h["fallback_arm"]), list(h["budget"]), tuner.policy.theta.tobytes(),
            tuner.policy.P.tobytes())


@pytest.mark.parametrize("seed", [5, 9])
def test_timed_work_same_run_with_and_without_the_inline_cost(monkeypatch, seed):
    """Timed work on a deterministic clock: the inline cost and ``ArmSet.cost_of`` tell the
    policy the same arms and costs, round for round, and leave the same model."""
    clock = _FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    warm = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=5))
    for A, b, kappa in _systems(8):  # one-time calibrations (AMG's set-up price) out of the way
        warm.solve(A, b, context=kappa)
    runs = []
    for inline in (True, False):
        clock.reset()
        runs.append(_run(inline, bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1),
                                                       seed=seed), 36))
    assert runs[0] == runs[1]
    told = runs[0][0]
    assert len(told) >= 30 and len({arm for arm, *_ in told}) >= 3


@pytest.mark.parametrize("cost", ["work", "iterations"])
def test_counted_costs_same_run_with_and_without_the_inline_cost(cost):
    """Work (configuration arms) and iterations (ω arms): the same run either way, and every
    converged round told its attempt's work or iteration count."""
    if cost == "work":
        make = lambda: bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=3)
        kw = {"cost": "work"}
    else:
        omegas = [1.0, 1.3, 1.6, 1.8]
        make = lambda: bandit.default_policy("ssor_pcg", omegas, context_bounds=(0.0, 4.1),
                                             seed=3)
        kw = {"solver": "ssor_pcg"}
    a, b = _run(True, make(), 24, **kw), _run(False, make(), 24, **kw)
    assert a == b
    if cost == "iterations":  # an iteration count told as a float, exactly
        tuner = bandit.Tuner(make(), **kw)
        for A, rhs, kappa in _systems(4):
            r = tuner.solve(A, rhs, context=kappa)
            assert r.info["cost"] == float(r.iterations) and type(r.info["cost"]) is float


def test_inline_cost_is_cost_of_for_every_unit():
    """The inline read is ``ArmSet.cost_of``'s number for each unit it covers, and time
    (a clock reading with its cold and set-up corrections) is left to ``cost_of``."""
    from bandit.tuner import _COUNTED

    assert _COUNTED == {"iterations", "work", "timed_work"}
    tuner = bandit.Tuner(bandit.default_policy(None, GRID, context_bounds=(0.0, 4.1), seed=1))
    for A, b, kappa in _systems(3):
        r = tuner.solve(A, b, context=kappa)
        if r.converged and r.info.get("fallback") is None:
            assert r.info["cost"] == tuner._arms.cost_of(r)
    assert np.isfinite(tuner.history["cost"]).all()
