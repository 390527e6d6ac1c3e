"""The Tuner on a misbehaving clock: a run's measured seconds that are not a finite number
>= 0 (a clock stepped back, a solver function's NaN) never reach a policy, a history or a
tuner file; valid readings reach them unchanged.

The solvers read ``time.perf_counter`` of their module; the tests replace it by a scripted
clock (two readings per run of a Numba solver on the Tuner's checked path: start and end).
"""
import math
import types
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
import solvers._api
import solvers.precond
from solvers import gallery

GRID = np.linspace(1.0, 1.95, 20)
TICK = 2.0 ** -14  # ~61 µs; clock readings that are multiples of it subtract exactly


class Clock:
    """``perf_counter`` advancing by ``step(i)`` at the ``i``-th reading (0-based), so run
    ``k`` (readings ``2k``, ``2k + 1``) lasts ``step(2k + 1)``; ``glitch`` maps a reading to
    what is read instead (the clock itself goes on)."""

    def __init__(self, step, glitch=None):
        self.step, self.glitch, self.i, self.now = step, glitch or {}, 0, 0.0

    def perf_counter(self):
        self.now += self.step(self.i)
        self.i += 1
        return self.glitch.get(self.i - 1, self.now)


def install(monkeypatch, clock, tuner=None):
    monkeypatch.setattr(solvers._api, "time", types.SimpleNamespace(
        perf_counter=clock.perf_counter))
    if tuner is not None:
        warm(tuner)


def warm(tuner):
    """As if every arm had run in this process: no untimed run before an arm's first (it
    would read the scripted clock too) and every reading warm (tests/test_cold_time.py
    covers the cold ones)."""
    tuner._cold_runs = False
    tuner._arms._warm = [True] * len(tuner._arms._warm)


def sequence(T, m=12):
    A0 = gallery.laplacian_2d(m)
    rng = np.random.default_rng(0)
    for t in range(T):
        kappa = 0.1 + 5.0 * abs(math.sin(t / 4))
        yield (sp.identity(m * m) + kappa * A0).tocsr(), rng.standard_normal(m * m), kappa


def lasting(durations):
    """A clock whose run k lasts ``durations(k, iterations unknown)``: readings in pairs."""
    return Clock(lambda i: durations(i // 2) if i % 2 else 0.0)


def test_valid_readings_reach_the_policy_unchanged(monkeypatch):
    """Clean data: every run's seconds is what the clock read, and the policy is told it."""
    tuner = bandit.Tuner(solver="ssor_pcg", cost="time")
    install(monkeypatch, lasting(lambda k: TICK * (1 + (k * 7919) % 13)), tuner)
    runs = []
    for A, b, kappa in sequence(12):
        res = tuner.solve(A, b, context=kappa)
        runs.append(len(res.info.get("attempts", [None])))
    h = tuner.history
    assert max(runs) > 1  # an attempt stopped by the guard: the fallback's run counts too
    first = np.cumsum([0] + runs)
    seconds = [sum(TICK * (1 + (k * 7919) % 13) for k in range(first[t], first[t + 1]))
               for t in range(12)]
    assert np.array_equal(h["seconds"], seconds)
    one = np.array(runs) == 1
    assert np.array_equal(h["cost"][one], h["seconds"][one])


@pytest.mark.parametrize("cost", ["time", "iterations"])
@pytest.mark.parametrize("fault", ["back", "nan", "inf"])
def test_a_bad_reading_is_replaced_and_the_tuner_saves(monkeypatch, tmp_path, cost, fault):
    """Run 5's end reading is before the clock's start (or NaN / inf): the solve
    returns, the policy is told a finite cost >= 0 — the run's iterations at the seconds per
    iteration measured so far — and the tuner saves and loads."""
    bad = {"back": -1.0, "nan": math.nan, "inf": math.inf}[fault]
    step = 1e-5  # seconds per iteration of the scripted machine (set per run below)
    tuner = bandit.Tuner(solver="ssor_pcg", cost=cost)
    its = []
    original = solvers._api._finish

    def finish(name, op, b, x, omega, out, t0, *args):
        its.append(int(out[0]))
        return original(name, op, b, x, omega, out, t0, *args)

    monkeypatch.setattr(solvers._api, "_finish", finish)
    clock = Clock(lambda i: step * its[-1] if i % 2 else 0.0, {11: bad})
    install(monkeypatch, clock)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for A, b, kappa in sequence(10):
            res = tuner.solve(A, b, context=kappa)
            assert res.converged
    assert [w.filename for w in caught if "clock" in str(w.message)] == [__file__]
    h = tuner.history
    assert np.all(np.isfinite(h["seconds"])) and np.all(h["seconds"] >= 0)
    assert np.all(np.isfinite(h["cost"])) and np.all(h["cost"] >= 0)
    # run 5: its iterations at the seconds per iteration of runs 0-4 (all `step`), as every
    # other run lasts
    assert np.allclose(h["seconds"], step * h["iterations"], rtol=1e-12, atol=0)
    if cost == "time":  # told the attempt's seconds (censored if stopped)
        attempt = np.where(h["censored"], h["cost"], h["seconds"])
        assert np.allclose(h["cost"], attempt, rtol=1e-12, atol=0)
    summary = tuner.summary()
    assert summary["total_seconds"] == pytest.approx(step * h["iterations"].sum())
    path = tmp_path / "t.json"
    tuner.save(path)
    loaded = bandit.Tuner.load(path)
    assert np.array_equal(loaded.history["seconds"], h["seconds"])


def test_a_bad_first_reading_counts_as_zero(monkeypatch, tmp_path):
    """Before any valid reading there is no seconds per iteration: the run counts 0 s."""
    tuner = bandit.Tuner(bandit.ChebCB(GRID, seed=0), solver="ssor_pcg", cost="time")
    install(monkeypatch, lasting(lambda k: -0.5 if k == 0 else TICK), tuner)
    with pytest.warns(RuntimeWarning, match="clock"):
        for A, b, kappa in sequence(4):
            tuner.solve(A, b, context=kappa)
    h = tuner.history
    assert h["seconds"][0] == 0.0 and np.all(h["seconds"][1:] == TICK)
    tuner.save(tmp_path / "t.json")
    bandit.Tuner.load(tmp_path / "t.json")


def test_a_solver_function_reporting_nan_seconds(monkeypatch):
    """A custom solver function's NaN seconds are replaced the same way (cost="time")."""
    calls = []

    def timed_ssor(A, b, *, omega, x0=None, maxiter=10_000, **kw):
        res = solvers.ssor_pcg(A, b, omega, x0=x0, maxiter=maxiter, **kw)
        calls.append(res.iterations)
        return res.replace(seconds=math.nan if len(calls) == 3 else 1e-6 * res.iterations)

    tuner = bandit.Tuner(bandit.TsallisINF(GRID, seed=0), solver=timed_ssor, cost="time")
    with pytest.warns(RuntimeWarning, match="clock"):
        for A, b, kappa in sequence(6):
            tuner.solve(A, b, context=kappa)
    h = tuner.history
    assert np.allclose(h["cost"], 1e-6 * h["iterations"], rtol=1e-12, atol=0)


def test_a_set_up_timed_on_a_clock_stepped_back(monkeypatch, tmp_path):
    """The set-up's own reading (negative) is counted as 0 s of the run's valid seconds."""
    arms = [{"method": "cg", "pc": "ic0"}, {"method": "cg", "pc": "jacobi"}]
    tuner = bandit.Tuner(bandit.FixedArm(arms, arm=0), cost="time")
    readings = iter([5.0, 1.0] * 100)  # every set-up: start 5, end 1
    monkeypatch.setattr(solvers.precond, "time", types.SimpleNamespace(
        perf_counter=lambda: next(readings)))
    with pytest.warns(RuntimeWarning, match="clock"):
        for A, b, kappa in sequence(3):
            res = tuner.solve(A, b, context=kappa)
    assert res.info["setup"] and res.info["setup_seconds"] == 0.0
    assert res.info["clock_reading"] == res.seconds > 0
    h = tuner.history
    assert np.all(h["cost"] == h["seconds"]) and np.all(h["seconds"] > 0)
    tuner.save(tmp_path / "t.json")
    bandit.Tuner.load(tmp_path / "t.json")
