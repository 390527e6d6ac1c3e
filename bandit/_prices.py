"""``timed_work``'s prices per family from paired clock readings (:class:`_Prices`), the
rule :attr:`bandit.armset.ArmSet.paired_prices` switches on.

Medians are :mod:`statistics`' (the lower median where, of two readings, the lesser is the
better estimate of the machine's speed: the clock only adds); ``numpy.median`` costs ~30 µs
a call, a tenth of a short solve.
"""
import math
import statistics

# the readings a family's price or ratio rests on (also the window of ArmSet's rates)
_WINDOW = 31
# ArmSet.paired_prices (the default): the reference family (the first one run on the clock)
# is priced at the lower median of its first _BASE_READINGS warm readings, fixed
# from then on (or from the run's _WINDOW-th reading), and every other family at that price
# times its ratio to the reference, the median of its last _WINDOW readings each divided by
# the machine's speed at that moment: the least of the latest _PAIR_READINGS warm readings of
# the other families, each over its own family's ratio, within the last _PAIR_AGE readings
# (a busy core slows every family alike, so the ratio is the idle machine's; a price that
# fell with the machine's load made costs told while it was slow look dearer than later ones)
_BASE_READINGS, _PAIR_READINGS, _PAIR_AGE = 9, 5, 8


class _Prices:
    """``timed_work``'s price of a unit of work per family (seconds per unit of work, set-up
    excluded), from paired clock readings (:attr:`bandit.armset.ArmSet.paired_prices`).

    A busy core slows every family's solves alike, so the *ratio* of two families' seconds
    per unit of work, read moments apart, is the idle machine's, while each rate on its own
    moves with the load.  The *reference* family (the first one run on the clock) is priced
    at :attr:`base`: before a warm reading, the least of its cold ones (an arm's first solve
    in the process); then the lower median of its warm readings, fixed once it has
    ``_BASE_READINGS`` of them or the run ``_WINDOW`` readings — so its costs are its work
    times one constant, free of the clock, as an ω-only learner's iterations are.  Every
    other family ``f`` is priced at ``base × ratio[f]``: the median of its last ``_WINDOW``
    warm readings, each divided by the machine's speed at that moment (:meth:`now`: the
    latest readings of the other families since its own reading before, each over its
    family's ratio: :attr:`fresh_pairs`); before a warm
    reading, the least of its cold ones so divided; with no warm reading of another family
    to pair with, it is told its seconds.
    """

    #: a rival's warm reading is a sample of its ratio only with partners read since the
    #: family's own reading before it (:meth:`now` with ``fresh``): in a stretch played
    #: alone only its first reading, read next to its partners, is one; the readings after
    #: it would be paired with the same partners, read before the stretch, at another load
    #: and another step (docs/studies/precond_rules.md, "A rival played alone: partners read next
    #: to it"; adopted: measured side by side on five sequences, ahead on heatadapt and
    #: finadapt, within a round's noise elsewhere)
    fresh_pairs = True

    def __init__(self, F):
        self.ref = -1
        self.base = math.nan
        self.fixed = False
        self.base_readings = []
        self.ratio = [math.nan] * F
        self.samples = [[] for _ in range(F)]
        self.cold = [math.inf] * F  # the least cold reading (the reference's), or ratio
        # the latest warm readings: (tick, family, reading / the family's ratio)
        self.recent = []
        self.tick = 0

    def __setstate__(self, state):
        # (prices pickled before the two rules or with them: neither is kept)
        self.__dict__.update(state)
        for name in ("confirmed", "pairs", "taken", "pending", "offset"):
            self.__dict__.pop(name, None)

    @classmethod
    def from_fits(cls, fits):
        """Prices of a loaded tuner from its families' fits ``[n, Σw, Σw², Σs, Σsw]`` (the
        readings behind them are not saved): the family with the most solves is the
        reference, at its mean seconds per unit of work, fixed; the others at theirs."""
        book = cls(len(fits))
        rates = [f[3] / f[1] if f[1] > 0 and f[3] > 0 else math.nan for f in fits]
        known = [f for f, r in enumerate(rates) if r > 0]
        if known:
            book.ref = max(known, key=lambda f: fits[f][0])
            book.base, book.fixed = rates[book.ref], True
            book.base_readings = [book.base]
            for f in known:
                book.ratio[f] = rates[f] / book.base
                book.samples[f] = [book.ratio[f]] * min(int(fits[f][0]), _WINDOW)
        return book

    def warm(self, f) -> bool:
        """Whether family ``f`` has a warm reading (its price no longer rests on cold ones)."""
        return bool(self.base_readings) if f == self.ref else bool(self.samples[f])

    def price(self, f) -> float:
        """Seconds per unit of work of family ``f``'s solves (NaN before any reading)."""
        if f == self.ref:
            return self.base
        return self.base * self.ratio[f] if self.base > 0 else math.nan

    def now(self, exclude=-1, fresh=False):
        """The reference family's seconds per unit of work at the machine's present speed:
        the least of the latest ``_PAIR_READINGS`` warm readings of families other than
        ``exclude`` within the last ``_PAIR_AGE`` readings, each over its family's ratio
        (None if there are none).  The least: a busy core preempts some solves and not
        others (a hog's time slice is several ms, a solve one), and a rival read between
        preemptions against a median of preempted readings was priced a third of its cost
        — cheap enough to be played for hundreds of steps, with no pair to correct it.
        ``fresh``: only the readings since ``exclude``'s own latest one (:attr:`fresh_pairs`)."""
        values = []
        for tick, f, value in reversed(self.recent):
            if tick <= self.tick - _PAIR_AGE or len(values) == _PAIR_READINGS:
                break
            if f != exclude:
                values.append(value)
            elif fresh:
                break
        return min(values) if values else None

    def units(self) -> float:
        """The factor from the clock's seconds now to the prices' seconds (``base`` over
        :meth:`now`; 1 before either is known)."""
        speed = self.now()
        return self.base / speed if speed and self.base > 0 else 1.0

    def observe(self, f, reading, warm, work=None, sec=None) -> None:
        """Take family ``f``'s reading (seconds per unit of work; ``warm``: not the arm's
        first solve in this process; ``work`` and ``sec``, the run's, are not used)."""
        self.tick += 1
        if self.ref < 0:
            self.ref = f
        if f == self.ref:
            if not warm:
                self.cold[f] = min(self.cold[f], reading)
                if not self.base_readings:
                    self.base = self.cold[f]
                return
            if not self.fixed:
                self.base_readings.append(reading)
                self.base = statistics.median_low(self.base_readings)
                self.fixed = (len(self.base_readings) >= _BASE_READINGS
                              or self.tick >= _WINDOW)
            self._remember(f, reading)
            return
        if self.base_readings and not self.fixed and self.tick >= _WINDOW:
            self.fixed = True
        # paired with warm readings only (a cold reference price, 3-50 × the warm one, had
        # priced a rival read then at a fraction of its cost); nothing to pair with: the
        # family is told its seconds until there is
        speed = self.now(exclude=f, fresh=warm and self.fresh_pairs)
        if speed is not None:
            sample = reading / speed
            if not warm:
                self.cold[f] = min(self.cold[f], sample)
                if not self.samples[f]:
                    self.ratio[f] = self.cold[f]
                return
            kept = self.samples[f]
            kept.append(sample)
            del kept[:-_WINDOW]
            self.ratio[f] = statistics.median(kept)
        if warm and self.samples[f]:
            self._remember(f, reading / self.ratio[f])

    def _remember(self, f, value):
        self.recent.append((self.tick, f, value))
        del self.recent[:-2 * _PAIR_AGE]
