"""Affine ``timed_work`` prices (:attr:`bandit._prices._Prices.affine`): a family's solve
priced ``price × (work + per-call part)``, against a synthetic clock whose seconds are
``c_f + p_f · work`` (the per-call part ``c_f`` the work model does not count) — the line's
constants recovered, and the ranking of two families at small work the proportional price
gets wrong made right; and a Tuner whose families each read one work value told the same
costs bit for bit with the rule on and off."""
import numpy as np

import bandit
from bandit._prices import _per_call, _Prices
from solvers import gallery

from test_cfg13_plain_fast import _FakeClock

# family 0 (the reference): a small per-call part (5 of its units), a dear unit of work;
# family 1: a large per-call part (30 of its units), a cheap unit
TRUE = {0: (100e-6, 20e-6), 1: (300e-6, 10e-6)}


def _seconds(f, work, rng):
    c, p = TRUE[f]
    return (c + p * work) * (1.0 + 0.02 * rng.random())  # (an idle, pinned core's spread)


def _book(affine, rng):
    """A price book fed interleaved readings: the reference at work 20-60 (its price fixed
    on them), the rival at 30-150 (where it is played in a run)."""
    book = _Prices(2)
    book.affine = affine
    for i in range(60):
        for f, (lo, hi) in ((0, (20, 60)), (1, (30, 150))):
            w = float(rng.uniform(lo, hi))
            s = _seconds(f, w, rng)
            book.observe(f, s / w, i > 0, w, s)
    return book


def _told(book, f, work):
    return book.price(f) * (work + book.offset[f])


def test_affine_prices_recover_each_family_line_and_rank_small_solves_right():
    """The per-call part (``c_f / p_f`` in units of work) and the price per unit (``p_f``)
    of each family recovered within a few per cent; at small work the reference family
    (13 units: 360 µs) is cheaper than the rival (12 units: 420 µs) and the affine costs
    say so, the proportional ones (the rival's price read on its large solves, where its
    per-call part is a small share) tell the rival at about a third of its seconds."""
    rng = np.random.default_rng(4)
    affine = _book(True, rng)
    for f, (c, p) in TRUE.items():
        assert abs(affine.offset[f] - c / p) <= 0.15 * (c / p) + 1.0
        assert abs(affine.price(f) - p) <= 0.05 * p
    for f, w in ((0, 13.0), (1, 12.0)):
        c, p = TRUE[f]
        assert abs(_told(affine, f, w) - (c + p * w)) <= 0.08 * (c + p * w)
    assert _told(affine, 0, 13.0) < _told(affine, 1, 12.0)
    proportional = _book(False, np.random.default_rng(4))
    assert proportional.offset == [0.0, 0.0]
    assert _told(proportional, 0, 13.0) > 1.5 * _told(proportional, 1, 12.0)  # the wrong way


def test_per_call_part_needs_a_spread_of_work_and_a_positive_intercept():
    """Too few readings, readings at one work (or within a factor 1.25) and a line through
    the origin or below it give no per-call part: the proportional price."""
    line = [(w, 1e-4 + 1e-5 * w) for w in np.linspace(10, 40, 12)]
    assert abs(_per_call(line) - 10.0) < 1e-9
    assert _per_call(line[:7]) == 0.0
    assert _per_call([(20.0, 3e-4)] * 12) == 0.0
    assert _per_call([(w, 1e-4 + 1e-5 * w) for w in np.linspace(20, 24, 12)]) == 0.0
    assert _per_call([(w, 1e-5 * w) for w in np.linspace(10, 40, 12)]) < 1e-9
    assert _per_call([(w, 1e-5 * w - 5e-5) for w in np.linspace(10, 40, 12)]) == 0.0


GRID = [{"method": "ssor_pcg", "omega": 1.6}, {"method": "cg"},
        {"method": "cg", "pc": "jacobi"}]


def test_tuner_with_one_work_per_family_is_told_the_same_costs_bit_for_bit(monkeypatch):
    """One system solved over and over (each family one arm, so one work value each): the
    affine rule finds no per-call part and the Tuner plays and is told exactly what it is
    told without it."""
    import time

    clock = _FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    A = gallery.crank_nicolson_2d(14, 1.0)
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    bandit.Tuner(bandit.default_policy(None, GRID, seed=5)).solve(A, b)  # (compile, warm)
    runs = []
    for affine in (False, True):
        clock.reset()
        tuner = bandit.Tuner(bandit.default_policy(None, GRID, seed=5))
        tuner._arms._price_book().affine = affine
        for _ in range(40):
            tuner.solve(A, b)
        h = tuner.history
        assert tuner._arms._prices.offset == [0.0] * 3
        runs.append((list(h["arm"]), [float(c).hex() for c in h["cost"]]))
    assert runs[0] == runs[1]
    assert len(set(runs[0][0])) >= 2
