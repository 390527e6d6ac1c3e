"""``timed_work``'s prices per family from paired clock readings (:class:`_Prices`), the
rule :attr:`bandit.armset.ArmSet.paired_prices` switches on.

Medians are :mod:`statistics`' (the lower median where, of two readings, the lesser is the
better estimate of the machine's speed: the clock only adds); ``numpy.median`` costs ~30 µs
a call, a tenth of a short solve.
"""
import math
import statistics

import numpy as np

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
# a rival's warm reading is a sample of its ratio only if the machine's speed read on the
# other families' solves before it and after it agree within this factor (a hog on the core
# halves the speed; the least of a few readings each side is the idle or the busy machine's)
_AGREE = 1.5
# affine prices (_Prices.affine): a family's per-call part is read off its last _WINDOW warm
# (work, seconds) readings once it has _AFFINE_MIN of them spanning a factor _AFFINE_SPAN of
# work (a narrower spread cannot tell a per-call part from the price: the family is priced in
# proportion to its work, as without the rule)
_AFFINE_MIN, _AFFINE_SPAN = 8, 1.25


def _per_call(pairs) -> float:
    """A family's per-call part in units of its work (``c / p`` of seconds ≈ ``c + p·work``)
    from its warm readings ``pairs`` ``[(work, seconds), ...]``, by Theil and Sen's line: the
    median of the slopes between readings at different work, the median intercept under it
    (medians: a preempted reading moves neither); 0 where the readings span too little work
    or the intercept is not positive.  The ratio ``c / p`` is the idle machine's: a busy
    core scales both alike."""
    if len(pairs) < _AFFINE_MIN:
        return 0.0
    w, s = np.array(pairs).T
    lo = w.min()
    if not w.max() >= _AFFINE_SPAN * lo > 0:
        return 0.0
    dw = w[:, None] - w[None, :]
    upper = dw > 0
    slope = float(np.median((s[:, None] - s[None, :])[upper] / dw[upper]))
    if not slope > 0:
        return 0.0
    c = float(np.median(s - slope * w))
    # (at most the least work read: a part above it rests on a flat, noisy line)
    return min(max(c / slope, 0.0), float(lo))


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
    latest readings of the other families, each over its family's ratio); before a warm
    reading, the least of its cold ones so divided; with no warm reading of another family
    to pair with, it is told its seconds.

    **Bracketed samples** (:attr:`bracketed`, off by default).  A ratio read on two solves is the idle
    machine's only if both saw the same speed, and a rival read alone cannot tell that the
    speed changed.  So a rival's warm reading is *pending* until the other families have
    been read after it too (``_PAIR_READINGS`` readings, or ``_PAIR_AGE`` solves on): it is
    a sample, divided by the lesser of the two speeds, only if the speed before it (the
    least of the latest readings within ``_PAIR_AGE`` solves) and the speed after it (the
    least of the next ones) agree within ``_AGREE``; otherwise, or with partners on one side
    only, its ratio is unknown and the family keeps its ratio as it was (its last good
    samples; a family without a sample yet takes a one-sided one, marked unconfirmed and
    replaced by its first bracketed one).  A rival played alone is thus told its work at a
    price the load does not move; without it (the default) a stretch played alone from a
    change of load on has its first eight readings paired with the partners read before the
    change, and its ratio falls or rises by the load's factor and stays there for as long as
    it is played alone.
    """

    #: a rival's sample needs partner readings on both sides of it, at one speed; False
    #: (the default): partners before it only, taken at once.  Measured side by side on
    #: the preconditioner study (heat2d nx = 100, mc3d m = 22; no hog, a steady and an on/off
    #: CPU hog) and left off: no better under the on/off hog, within a round's noise
    #: elsewhere (docs/studies/precond.md, "Prices a busy machine does not move")
    bracketed = False

    #: a rival's warm reading is a sample of its ratio only with partners read since the
    #: family's own reading before it (:meth:`now` with ``fresh``): in a stretch played
    #: alone only its first reading, read next to its partners, is one; the readings after
    #: it would be paired with the same partners, read before the stretch, at another load
    #: and another step (docs/studies/precond.md, "A rival played alone: partners read next
    #: to it")
    fresh_pairs = False

    #: **Affine prices**: a family's solve is priced ``price × (work + offset)``, its
    #: per-call part (validation, norms, the result, the Eisenstat transforms: the seconds a
    #: solve costs that its work model does not count) in units of its work,
    #: :attr:`offset`, read off its warm readings (:func:`_per_call`) — the reference
    #: family's with its price, fixed with it.  Every reading is then its seconds per unit of
    #: that work.  False: ``offset`` stays 0, the proportional prices.
    affine = False

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
        # bracketed: rivals' warm readings not yet settled, oldest first, as [tick, family,
        # reading, partner readings since], and per family whether its samples are bracketed
        self.pending = []
        self.confirmed = [False] * F
        # affine: per family its per-call part (units of work) and last warm (work, seconds)
        self.offset = [0.0] * F
        self.pairs = [[] for _ in range(F)]
        self.taken = [0] * F

    def __setstate__(self, state):
        # (prices pickled before bracketed samples: their samples count as confirmed)
        self.__dict__.update(state)
        if "pending" not in state:
            self.pending = []
            self.confirmed = [bool(s) for s in self.samples]
        if "offset" not in state:  # (prices pickled before affine prices)
            self.offset = [0.0] * len(self.ratio)
            self.pairs = [[] for _ in self.ratio]
            self.taken = [0] * len(self.ratio)

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
                book.confirmed[f] = True
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
        first solve in this process; with :attr:`affine`, the run's ``work`` and ``sec``
        seconds, the reading then per unit of ``work`` plus the family's per-call part)."""
        if self.affine and work is not None:
            reading = self._affine(f, warm, work, sec)
        self._take(f, reading, warm)
        if self.pending:
            self._settle()

    def _take(self, f, reading, warm) -> None:
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
        if warm and self.bracketed:
            # a sample once the partners after it are read (_settle); told at the ratio of
            # the samples before it meanwhile
            self.pending.append([self.tick, f, reading, 0])
            if self.samples[f]:
                self._remember(f, reading / self.ratio[f])
            return
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

    def _affine(self, f, warm, work, sec) -> float:
        """Family ``f``'s reading per unit of its work plus its per-call part, that part
        updated with a warm reading (the reference family's until its price is fixed, its
        price's readings then re-read at it)."""
        if warm and not (f == self.ref and self.fixed):
            pairs = self.pairs[f]
            pairs.append((work, sec))
            del pairs[:-_WINDOW]
            self.taken[f] += 1
            if f == self.ref or self.taken[f] % 4 == 0:  # (a refit is ~50 µs: 1 in 4)
                self.offset[f] = _per_call(pairs)
            off = self.offset[f]
            if f == self.ref and self.base_readings:
                # (the readings the price rests on, at the per-call part known now)
                n = len(self.base_readings)
                self.base_readings = [s / (w + off) for w, s in pairs[-n - 1:-1]]
        return sec / (work + self.offset[f])

    def _remember(self, f, value):
        self.recent.append((self.tick, f, value))
        del self.recent[:-2 * _PAIR_AGE]
        for item in self.pending:
            if item[1] != f:
                item[3] += 1

    def _settle(self) -> None:
        """Settle the pending readings whose partners after them are read (``_PAIR_READINGS``
        of them, or ``_PAIR_AGE - 1`` solves on: the window :meth:`now` pairs within),
        oldest first (one behind waits at most until then)."""
        pending, last = self.pending, self.tick - _PAIR_AGE + 1
        while pending and (pending[0][0] <= last or pending[0][3] >= _PAIR_READINGS):
            t, f, reading, partners = pending.pop(0)
            if partners or not self.confirmed[f]:  # (none after it: unknown, unless unpaired)
                self._sample(t, f, reading)

    def _sample(self, t, f, reading) -> None:
        """Rival ``f``'s reading at tick ``t`` as a sample of its ratio, if the machine's
        speed before and after it agree (``recent`` still holds ticks ``t ± _PAIR_AGE``)."""
        before, after = [], []
        lo, hi = t - _PAIR_AGE, t + _PAIR_AGE
        for tick, g, value in self.recent:
            if lo < tick < hi and g != f:
                if tick < t:
                    before.append(value)
                else:
                    after.append(value)
        sb = min(before[-_PAIR_READINGS:]) if before else None
        sa = min(after[:_PAIR_READINGS]) if after else None
        kept = self.samples[f]
        if sb is not None and sa is not None and max(sb, sa) <= _AGREE * min(sb, sa):
            if not self.confirmed[f]:
                kept.clear()  # the one-sided samples before the first bracketed one
                self.confirmed[f] = True
            kept.append(reading / min(sb, sa))
        elif not self.confirmed[f] and (sb is not None or sa is not None):
            kept.append(reading / (sb if sb is not None else sa))
        else:
            return  # unknown: the ratio stays the last good samples'
        del kept[:-_WINDOW]
        self.ratio[f] = statistics.median(kept)
