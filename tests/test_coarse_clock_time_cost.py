"""``cost="time"`` on a clock too coarse for the solves: a reading of 0 s is never told.

A clock whose tick is long next to the solves (a 10 ms clock, solves of well under 1 ms)
reads most solves at exactly 0 s.  Told 0, a learner that minimises cost takes the first arm
it plays for perfect and reports a regret of 0.  The Tuner instead warns once (naming the
clock, its resolution, the reading and what to use instead) and tells such a converged solve
of ``k > 0`` iterations at ``k`` times the seconds per iteration measured so far (at least
the clock's resolution before any), so the arms still compare by their iterations.

The solvers read ``time.perf_counter`` of their module; the tests replace it by a virtual
clock read at a 10 ms tick, that a solve advances by 10 µs per iteration.
"""
import math
import types
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers._api
from solvers import gallery


class CoarseClock:
    """A virtual time advanced by ``per_iteration`` per iteration of every solve, read at a
    ``tick`` (as a coarse clock reads)."""

    def __init__(self, tick=0.01, per_iteration=1e-5):
        self.tick, self.per_iteration, self.now = tick, per_iteration, 0.0

    def perf_counter(self):
        return math.floor(self.now / self.tick) * self.tick

    def install(self, monkeypatch):
        original = solvers._api._finish

        def finish(name, op, b, x, omega, out, t0, *args):
            self.now += int(out[0]) * self.per_iteration
            return original(name, op, b, x, omega, out, t0, *args)

        monkeypatch.setattr(solvers._api, "_finish", finish)
        monkeypatch.setattr(solvers._api, "time", types.SimpleNamespace(
            perf_counter=self.perf_counter))
        return self


def systems(T=40, m=12):
    """``I + κ L`` on a 12 × 12 grid, κ in [0.1, 5.1] (the context)."""
    A0 = gallery.laplacian_2d(m)
    rng = np.random.default_rng(0)
    for t in range(T):
        kappa = 0.1 + 5.0 * abs(math.sin(t / 7))
        yield (sp.identity(m * m) + kappa * A0).tocsr(), rng.standard_normal(m * m), kappa


def run(monkeypatch, cost):
    CoarseClock().install(monkeypatch)
    tuner = bandit.Tuner(solver="sor", cost=cost, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for A, b, kappa in systems():
            assert tuner.solve(A, b, context=kappa).converged
    return tuner, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_zero_readings_are_warned_once_and_never_told(monkeypatch):
    tuner, caught = run(monkeypatch, "time")
    h = tuner.history
    zero = [w for w in caught if "0 s" in str(w.message)]
    assert len(zero) == 1, [str(w.message) for w in caught]
    text = str(zero[0].message)
    # names the clock, its resolution (unknown for a replaced clock), what to use instead
    assert "perf_counter" in text and "resolution" in text
    assert "cost='iterations'" in text and "cost='work'" in text
    assert "finer clock" in text
    # no converged solve of some iterations is told (or recorded at) 0 s
    assert (h["iterations"] > 0).all() and (h["seconds"] > 0).all()


def test_zero_readings_are_told_at_a_positive_rate_per_iteration(monkeypatch):
    """Every solve read 0 s is told a positive cost and keeps its reading in
    ``info["clock_reading"]``; the learner, told iterations times a rate rather than 0,
    leaves its first arm."""
    tuner, _ = run(monkeypatch, "time")
    h = tuner.history
    per_it = h["seconds"] / h["iterations"]
    assert (per_it > 0).all() and np.isfinite(per_it).all()
    assert len(set(h["arm"].tolist())) > 1  # it did not stay on its first arm
    A, b, kappa = next(systems(1))
    res = tuner.solve(A, b, context=kappa)
    assert res.seconds > 0 and res.info.get("clock_reading", res.seconds) in (0.0, res.seconds)


def test_a_fine_clock_is_not_warned_about(monkeypatch):
    """On the real clock no solve reads 0 s: no warning, seconds as measured."""
    tuner = bandit.Tuner(solver="sor", cost="time", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for A, b, kappa in systems(5):
            tuner.solve(A, b, context=kappa)
