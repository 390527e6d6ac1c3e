"""``timed_work``'s prices of an arm set of :class:`bandit.armset.ArmSet`: a run's work priced
in seconds at its family's price (:meth:`TimedPrices.timed_work`), each family's price
updated with every reading (:class:`bandit._prices._Prices` with
:attr:`~TimedPrices.paired_prices`, the default; else each family's own rate of the moment),
and the factor that converts the clock's seconds of a set-up or of a family's first solves
into the prices' (:meth:`TimedPrices._clock_units`).

A mixin of :class:`~bandit.armset.ArmSet` (its class path, and the per-call path that reads a
run's work and records its readings, :meth:`ArmSet.attach_work` and :meth:`ArmSet.observe`,
stay in :mod:`bandit.armset`); its methods read and write the set's own attributes.
"""
from __future__ import annotations

import bisect

from ._prices import _WINDOW, _Prices

# timed_work prices a family's work at the median seconds per unit of work of its warm solves
# (every solve of a configuration after its first) so far, from its _WINDOW-th on at the
# least median of any _WINDOW consecutive ones: the clock only adds (a busy core, preemption),
# so the rate may fall but never rise once a window is full; a busy start is forgotten 16 idle
# solves after it ends, and a busy phase later does not reprice the family.  A
# configuration's first solve is cold (dispatch, caches, first touch of its arrays: 2.6-3.2 ×
# the steady state for SSOR-PCG, 27-50 × for plain CG on the study's heat2d); before the
# family has a warm solve its rate is the least of these cold readings, after that they are
# left out (_WINDOW = 31 readings, defined with the paired prices in bandit._prices)


class TimedPrices:
    """``timed_work``'s price of a family's work, how it is updated, and how the clock's
    seconds are converted into it."""

    #: ``timed_work`` prices each family at a fixed reference price times its ratio to the
    #: reference family, read from paired solves (:class:`_Prices`), not at its own rate of
    #: the moment (the least median of its recent readings, which fell as the machine's load
    #: did)
    paired_prices = True

    def _price(self, k, fam, reading, work=None, sec=None) -> None:
        """Update family ``fam``'s ``timed_work`` rate with arm ``k``'s reading (seconds per
        unit of work, of ``work`` units in ``sec`` seconds): a cold one (the arm's first) only
        while the family has no warm one."""
        if self.paired_prices:
            self._price_book().observe(fam, reading, self._warm[k], work, sec)
            return
        recent = self._recent[fam]
        if not self._warm[k]:
            self._cold[fam] = min(self._cold[fam], reading)
            if not recent:
                self._per_unit[fam] = self._cold[fam]
            return
        full = len(recent) == _WINDOW  # the rate is then a full window's: it may fall
        # the window's readings also kept sorted (per family, beside the list they mirror):
        # one reading in, the oldest out, instead of sorting 31 readings every solve
        kept = self._sorted_recent
        if kept is None:
            kept = self._sorted_recent = [None] * len(self._recent)
        pair = kept[fam]
        if pair is None or pair[0] is not recent:  # (a loaded or restored window)
            pair = kept[fam] = (recent, sorted(recent))
        ordered = pair[1]
        if full:
            del ordered[bisect.bisect_left(ordered, recent[0])]
        bisect.insort(ordered, reading)
        recent.append(reading)
        del recent[:-_WINDOW]
        m = len(ordered)
        q = ordered[m // 2] if m % 2 else 0.5 * (ordered[m // 2 - 1] + ordered[m // 2])
        if not (full and self._per_unit[fam] <= q):
            self._per_unit[fam] = q

    def timed_work(self, k, res) -> float:
        """The ``timed_work`` cost of a run of arm ``k``: its work priced in seconds at its
        family's price, plus the seconds of a set-up it built as :meth:`setup_charge` charges
        them; a family's first solve is told its measured seconds.

        **Paired prices** (:attr:`paired_prices`, the default; :class:`_Prices`).  The
        clock only adds, and a busy core slows every family alike, so the learner is told
        prices that the machine's load does not move.  The *reference* family — the first
        run on the clock, in practice the prior's pick — is priced at the lower median
        seconds per unit of work of its warm solves (every solve of an arm after its first
        in this process), fixed from its ninth (or the run's 31st reading) on: its costs
        are its work times one constant, so its ω compare by their work whenever they were
        told, as an ω-only learner's iterations do (the rounds told before the price was
        fixed are told again at it then, :attr:`retell_early`).  Every other family is
        priced at that constant times its *ratio* to the reference: the median of its last 31 warm
        readings, each divided by the machine's speed at that moment — the least of the
        latest five warm readings of the other families, each over its family's ratio,
        within the last eight readings (the clock only adds: a busy core preempts some
        solves and not others; with :attr:`_Prices.fresh_pairs` a rival's reading
        is paired only with readings taken since its own previous one, so a stretch played
        alone adds one sample, its first).  The seconds
        the clock reads for a set-up (and a family's first solves) are converted at the
        same speed of the moment (their factor is kept in ``res.info["clock_units"]``).
        Before, each family had its own rate, the least median of any 31 consecutive warm
        readings, which fell whenever the machine was idle for a window: costs told while
        it was busy stayed dearer than those told later, and the configuration learner
        kept to an ω played after the load fell (on the 3-D Monte Carlo sequences under
        load, a wrong ω in 176–217 of 300 rounds) or priced a rival tried on an idle moment
        against a busy leader.

        An arm's first solve is cold — dispatch, caches, the first touch of its arrays: on
        the preconditioner study's heat2d, 2.6–3.2 × the steady state for SSOR-PCG and
        27–50 × for plain CG — so until the family has a warm solve its price is the *least*
        of its cold readings, the priced solve's own included (each is at most that much too
        dear), and after that the cold readings are left out.  Too cheap a price is
        corrected by the solves it attracts; too dear a one is not, as the learner stops
        playing the family.  (With the median of every reading, the first solve of a run
        priced the next ω of the family at 2.8 × their seconds on heat2d.)

        With ``paired_prices = False`` (the rule before) each family's rate is its own: the
        median seconds per unit of work of its warm solves, from the 31st on the least median
        of any 31 consecutive ones.
        """
        info = res.info
        fam = self.family[k]
        if self.paired_prices:
            book = self._price_book()
            per_unit, warm = book.price(fam), book.warm(fam)
            # the clock's seconds in the prices' (only where a reading is told: a set-up, a
            # family's first solves)
            units = self._clock_units(res) if not warm or info.get("setup") else 1.0
        else:
            per_unit, warm, units = self._per_unit[fam], bool(self._recent[fam]), 1.0
        setup = self.setup_charge(k, res) * units if self._pcs[k] is not None else 0.0
        sec = (res.seconds - info.get("setup_seconds", 0.0)) * units
        work = info["work"] - info.get("setup_work", 0.0)
        if not warm and (not per_unit > 0 or 0 < sec <= per_unit * work):
            # no warm solve yet: the least cold reading, this solve's own included (the
            # family's first solve is told its seconds)
            return float(sec + setup)
        return per_unit * work + setup

    #: ``timed_work``'s prices from paired readings (:meth:`_price_book`; a class default, so
    #: a set pickled without them loads)
    _prices = None

    def _price_book(self) -> _Prices:
        """:class:`_Prices` of this set (made on first use: from the fits in a set pickled
        before it existed)."""
        book = self._prices
        if book is None:
            book = self._prices = _Prices.from_fits(self._fit) if any(
                f[0] for f in self._fit) else _Prices(len(self._fit))
        return book

    def _clock_units(self, res) -> float:
        """The factor from run ``res``'s clock seconds to ``timed_work``'s (its set-up's, and a
        family's first solves'): the reference family's price over the machine's speed at
        the moment (:meth:`_Prices.units`, from the readings before this run), kept in
        ``res.info["clock_units"]``; 1 with another cost or without paired prices."""
        if self.cost != "timed_work" or not self.paired_prices:
            return 1.0
        info = res.info
        units = info.get("clock_units")
        if units is None:
            units = info["clock_units"] = self._price_book().units()
        return units

    #: per family, ``(its window of readings, the same readings sorted)`` (:meth:`_price`;
    #: a class default, so a set pickled without it loads)
    _sorted_recent = None
