"""A rival played alone: its readings paired only with partners read since its own reading
before (:attr:`bandit._prices._Prices.fresh_pairs`).

A stretch of one family's solves leaves nothing new to pair its readings with: on the rule
before, its first eight readings were each divided by the machine's speed read on the
partners *before the stretch*, the later ones further from them every time (another step of
the sequence, maybe another load), and the ratio moved by the load's factor and stayed there
for as long as the family was played alone.  With ``fresh_pairs`` only the stretch's first
reading, read next to its partners, is a sample.  On a virtual clock (the solvers'
``time.perf_counter`` replaced, ``tests/test_clock_robust.py``)."""
import numpy as np
import pytest

import bandit._prices
from bandit._prices import _Prices
from tests.test_clock_robust import _timed_work_run

_PER = {"ssor_pcg": 1e-6, "cg": 0.5e-6}  # CG: half SSOR-PCG's seconds an iteration


def _told(monkeypatch, load, rival, fresh, T=70):
    """Plain CG's told price per unit of work over SSOR-PCG's (the reference's, fixed) at
    each round CG was played, and every told cost, with ``fresh_pairs`` set to ``fresh``."""
    monkeypatch.setattr(_Prices, "fresh_pairs", fresh)
    h, works = _timed_work_run(monkeypatch, load, T, rival, _PER)
    price = h["cost"] / works
    cg = np.asarray(h["arm"]) == 2
    return price[cg] / price[~cg][-1], np.asarray(h["cost"])


# CG tried at rounds 12-13, then alone from round 30 to 59; the machine's load changes at
# round 33, three solves into the stretch (idle to 4 x busy, or back)
_ALONE = lambda i: i in (12, 13) or 30 <= i < 60  # noqa: E731
_CHANGES = {"idle to busy": lambda i: 4.0 if i >= 33 else 1.0,
            "busy to idle": lambda i: 4.0 if i < 33 else 1.0}


@pytest.mark.parametrize("change", list(_CHANGES))
def test_a_change_of_load_inside_a_lone_stretch_leaves_the_ratio(monkeypatch, change):
    """CG played alone, the load changing three solves in: with ``fresh_pairs`` its price
    over SSOR-PCG's stays the clean clock's (about 1.07) within 3 %, constant while it is
    played alone.  (On the rule before, its readings after the change were paired with
    the partners read before the stretch, at the other load: the ratio moved to 2.6 ×, or
    to 0.63 ×, and stayed there.)"""
    clean, _ = _told(monkeypatch, lambda i: 1.0, _ALONE, True)
    assert 1.0 < clean[-1] < 1.15
    told, _ = _told(monkeypatch, _CHANGES[change], _ALONE, True)
    np.testing.assert_allclose(told, clean, rtol=0.03)
    np.testing.assert_allclose(told[3:], told[3], rtol=1e-12)  # no drift while alone
    before, _ = _told(monkeypatch, _CHANGES[change], _ALONE, False)
    off = before[-1] / clean[-1]
    assert off > 2 if change == "idle to busy" else off < 0.7


def test_interleaved_rivals_are_priced_as_before_bit_for_bit(monkeypatch):
    """A rival read after five partners or more since its own reading before (here every
    seventh solve) is paired with the same partners as before: every told cost is the rule
    before's, bit for bit, under a load that changes every seven solves."""
    rival = lambda i: i % 7 == 3  # noqa: E731
    load = lambda i: 4.0 if (i // 7) % 2 else 1.0  # noqa: E731
    _, new = _told(monkeypatch, load, rival, True, T=80)
    _, old = _told(monkeypatch, load, rival, False, T=80)
    np.testing.assert_array_equal(new, old)


def test_only_the_first_reading_of_a_stretch_is_a_sample():
    """The book itself: the reference read four times, the rival five times in a row at
    rising readings; with ``fresh_pairs`` one sample (the first, over the least partner),
    on the rule before five, each over the same partners."""
    def run(fresh):
        book = _Prices(2)
        book.fresh_pairs = fresh
        for reading in (1.0, 1.0, 1.2, 1.0):
            book.observe(0, reading, True)
        for reading in (2.0, 2.2, 2.4, 2.6, 2.8):
            book.observe(1, reading, True)
        return book
    assert run(True).samples[1] == [2.0]
    assert run(False).samples[1] == pytest.approx([2.0, 2.2, 2.4, 2.6, 2.8])
    # the reference read again: the rival's next reading is paired with it
    book = run(True)
    book.observe(0, 0.5, True)
    book.observe(1, 1.5, True)
    assert book.samples[1] == [2.0, 3.0] and book.price(1) == pytest.approx(1.0 * 2.5)


def test_the_default_pairs_fresh_partners(monkeypatch):
    """The library's default: CG's price over SSOR-PCG's stays the clean clock's while the
    load changes inside its stretch played alone (on main, 2.6 ×)."""
    h, works = _timed_work_run(monkeypatch, _CHANGES["idle to busy"], 70, _ALONE, _PER)
    price = h["cost"] / works
    cg = np.asarray(h["arm"]) == 2
    told = price[cg] / price[~cg][-1]
    assert 1.0 < told[-1] < 1.15
    np.testing.assert_allclose(told[3:], told[3], rtol=1e-12)
