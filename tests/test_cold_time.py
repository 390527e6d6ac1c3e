"""``cost="time"`` and an arm's cold first run in a process.

A solver's first run in a process reads more than its later ones (the interpreter's and the
caches' first pass over its code and the system's arrays).  The Tuner pays that one-time cost
in an untimed short run before an arm's first timed one, and a cold reading that remains is
told to the policy at most at its family's warm seconds per iteration; the result and the
history keep the measured seconds.  The clocks here are scripted, so the figures are exact.
"""
import types

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import bandit
import solvers
import solvers._api
from bandit._base import Policy
from solvers import gallery

RATE = 2.0 ** -20  # seconds per iteration of a warm run (exact in binary)
COLD = 3.0  # a cold run reads this many times its warm seconds
ITS = {1.2: 30, 1.5: 20, 1.8: 24}  # the fake solver's iterations per ω


class Script(Policy):
    """Plays ``order`` in turn (deterministic)."""

    randomised = False
    order = (0, 0, 1, 1, 2, 0)

    def _select(self, context):
        return self.order[self.t % len(self.order)]


def fake_solver():
    """A solver function whose first run of each ω reads ``COLD`` × its warm seconds."""
    seen = set()

    def solve(A, b, x0=None, maxiter=10_000, omega=1.0, rtol=1e-8, atol=0.0, **_):
        its = ITS[omega]
        cold = omega not in seen
        seen.add(omega)
        x = spla.spsolve(A.tocsc(), b)
        return solvers.SolveResult(
            x=x, iterations=its, converged=True, residual_norm=0.0, omega=omega,
            solver="fake", reason="converged", seconds=its * RATE * (COLD if cold else 1.0),
            backend="numba")

    return solve


def test_cold_first_run_of_an_arm_is_told_at_the_warm_rate():
    A = gallery.laplacian_2d(6).tocsr()
    rng = np.random.default_rng(0)
    tuner = bandit.Tuner(Script(list(ITS)), solver=fake_solver(), cost="time", guard=None)
    told, seconds = [], []
    for _ in Script.order:
        r = tuner.solve(A, rng.standard_normal(36))
        told.append(r.info["cost"])
        seconds.append(r.seconds)
    its = [ITS[list(ITS)[k]] for k in Script.order]
    # the result keeps what the clock read: every arm's first run cold
    assert seconds == [i * RATE * (COLD if first else 1.0)
                       for i, first in zip(its, (1, 0, 1, 0, 1, 0))]
    assert list(tuner.history["seconds"]) == seconds
    # told: the run's very first reading as read (no warm reading to compare with); every
    # later first run of an arm at the family's warm rate, RATE per iteration
    assert told == [its[0] * RATE * COLD] + [i * RATE for i in its[1:]]
    pol = tuner.policy
    assert pol.cost_sums[1] == (ITS[1.5] * 2) * RATE
    assert pol.cost_sums[2] == ITS[1.8] * RATE


def test_iterations_cost_is_not_touched_by_the_cold_rule():
    A = gallery.laplacian_2d(6).tocsr()
    rng = np.random.default_rng(0)
    tuner = bandit.Tuner(Script(list(ITS)), solver=fake_solver(), cost="iterations",
                         guard=None)
    told = [tuner.solve(A, rng.standard_normal(36)).info["cost"] for _ in Script.order]
    assert told == [float(ITS[list(ITS)[k]]) for k in Script.order]


class FirstCallCold:
    """``perf_counter`` of :mod:`solvers._api`: the first run of the process (its first
    pair of readings) lasts ``COLD`` × ``warm`` seconds, every later run ``warm``."""

    def __init__(self, warm):
        self.warm, self.i, self.now = warm, 0, 0.0

    def perf_counter(self):
        if self.i % 2:
            self.now += self.warm * (COLD if self.i == 1 else 1.0)
        self.i += 1
        return self.now


@pytest.mark.parametrize("cost", ["time", "timed_work"])
def test_an_arms_first_timed_run_is_not_its_first_run(monkeypatch, cost):
    """The one-time cost of a solver's first run is paid by an untimed run before the timed
    one: with a clock on which only the process's first run is slow, the first solve reads
    the warm seconds, as do an unplayed arm's first solves later (the cold run is the
    family's: :mod:`bandit._cold_family`)."""
    A = gallery.laplacian_2d(8).tocsr()
    rng = np.random.default_rng(1)
    tuner = bandit.Tuner(Script([1.2, 1.5, 1.8]), solver="ssor_pcg", cost=cost, guard=None)
    warm = 2.0 ** -16
    clock = FirstCallCold(warm)
    monkeypatch.setattr(solvers._api, "time", types.SimpleNamespace(
        perf_counter=clock.perf_counter))
    secs = [tuner.solve(A, rng.standard_normal(64)).seconds for _ in Script.order]
    assert secs == [warm] * len(Script.order)
    # one untimed run before the family's first timed one (three ω of SSOR-PCG), none after
    assert clock.i == 2 * (len(Script.order) + 1)


class Durations:
    """``perf_counter`` of :mod:`solvers._api` on which run ``k`` (readings ``2k``,
    ``2k + 1``) lasts ``durations[k]`` (the last one after the list)."""

    def __init__(self, durations):
        self.durations, self.i, self.now = durations, 0, 0.0

    def perf_counter(self):
        if self.i % 2:
            k = self.i // 2
            self.now += self.durations[min(k, len(self.durations) - 1)]
        self.i += 1
        return self.now


def test_a_loaded_tuners_cold_first_run_is_told_at_the_saved_rate(monkeypatch, tmp_path):
    """A loaded tuner is in a new process: its arms' first runs are cold again, and are told
    at most at the cost per iteration the saved run measured."""
    A = gallery.laplacian_2d(8).tocsr()
    b = np.random.default_rng(2).standard_normal(64)
    warm = 2.0 ** -16

    def clock(durations):
        c = Durations(durations)
        monkeypatch.setattr(solvers._api, "time", types.SimpleNamespace(
            perf_counter=c.perf_counter))
        return c

    tuner = bandit.Tuner(bandit.FixedArm([1.5, 1.7]), solver="ssor_pcg", cost="time",
                         guard=None)
    clock([warm])
    runs = [tuner.solve(A, b) for _ in range(4)]
    its = runs[0].iterations
    assert all(r.iterations == its and r.info["cost"] == warm for r in runs)
    tuner.save(tmp_path / "t.json")

    loaded = bandit.Tuner.load(tmp_path / "t.json")
    # the untimed run before the arm's first timed one, then a timed run still cold
    clock([warm, COLD * warm, warm])
    first, second = loaded.solve(A, b), loaded.solve(A, b)
    assert first.seconds == COLD * warm and second.seconds == warm  # as the clock read
    assert first.info["cost"] == pytest.approx(warm, rel=1e-12)  # its × the saved rate
    assert second.info["cost"] == warm
    assert list(loaded.history["seconds"][-2:]) == [COLD * warm, warm]
