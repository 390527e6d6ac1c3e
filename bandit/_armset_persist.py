"""What the runs of an arm set of :class:`bandit.armset.ArmSet` measured, as a Tuner file
keeps it (:meth:`bandit.Tuner.save`) and restores it (:meth:`bandit.Tuner.load`): costs per
iteration per family, seconds per unit of work, the timed-work fits and paired prices,
set-up costs and their clock readings, the cheapest converged solve with each set-up, the
rounds kept set-ups served, and the families' warm readings.

Not kept, being this process's and not the problem's (docs/guarantees.md, *What a tuner file
holds*): the preconditioner set-ups themselves and what describes them (the round each was
built, the iterations of the solve that built it, the charge it holds, whether it went
stale): a loaded tuner holds none and builds each afresh; whether an arm has run in this
process (its next reading is warm); the cold readings (an arm's first run in a process:
dispatch, caches) and the machine's speed at the latest readings, which timed_work's prices
pair a rival's reading with; the clock floors and prices of AMG set-ups measured once per
process; the work models (a cache of the matrix in hand); the record of the rounds told
before ``timed_work``'s reference price is fixed (a copy of the learner: a loaded tuner
keeps the rounds after the load instead, :meth:`MeasuredState.load_measured`).

A mixin of :class:`~bandit.armset.ArmSet` (its class path and the per-call path that measures
these stay in :mod:`bandit.armset`); its methods read and write the set's own attributes.
"""
from __future__ import annotations

import math

from ._prices import _WINDOW, _Prices

#: the keys of ``measured`` every file holds, and those a file written before they were kept
#: leaves out (then read as :meth:`MeasuredState.load_measured` says)
MEASURED_KEYS = ("rate", "all", "per_work", "fit", "setup")
MEASURED_LATER = ("solve_floor", "served", "latest_solve", "warm_most", "time_recent",
                  "setup_readings", "lifetimes", "prices")
#: the keys of ``measured.prices`` (:class:`bandit._prices._Prices` without its cold readings
#: and the latest readings it pairs with, which are this process's)
PRICE_KEYS = ("ref", "base", "fixed", "base_readings", "ratio", "samples", "tick")


class MeasuredState:
    """The measured state of an arm set, saved and loaded with a Tuner file."""

    # -- persistence ------------------------------------------------------------------------
    def measured_state(self) -> dict:
        """What the runs so far measured: the guard's budgets, its refusals, the failure
        costs and the costs told to the learner depend on it, so :meth:`bandit.Tuner.save`
        keeps it.

        Per family: ``rate`` (cost units spent by iterations, set-up excluded, and the
        iterations), ``fit`` (timed runs: n, Σw, Σw², Σs, Σsw of work ``w`` and seconds
        ``s``, set-up excluded), ``latest_solve`` (the cost of its latest converged whole
        solve, 0 before one: the yardstick of a rival's first try), ``warm_most`` (the
        dearest converged run read warm, set-up excluded: what a rival's first set-up is
        weighed against on the clock), ``time_recent`` (``cost="time"``: the seconds per
        iteration of its last 31 warm runs, at which a cold first run is told).  Over every
        run: ``all`` (cost units, iterations) and ``per_work`` (seconds, work).  Per set-up,
        listed by the first arm with it: ``setup`` (its cost), ``setup_readings`` (on the
        clock: its last readings, the least of which it is charged), ``solve_floor`` (the
        cheapest converged solve with it, set-up excluded).  Per arm: ``served`` (arms that
        have built a set-up: the solves that reused the latest one; a rival's rebuild is
        shared over them), ``lifetimes`` (arms that keep a set-up: the further rounds each
        of their last set-ups could serve, over which a set-up is told).  ``prices``:
        ``timed_work``'s paired prices (the reference family, its price and whether it is
        fixed, its warm readings, each family's ratio to it and the samples behind it, the
        readings so far).
        """
        keys = [c.setup_key for c in self.configs] if self.configs else []

        def by_arm(costs):
            return sorted([keys.index(key), float(v)] for key, v in costs.items() if key in keys)

        F = len(self._rate)
        lifetimes = self._lifetimes or []
        book = self._prices
        return {"rate": [[float(c), int(n)] for c, n in self._rate],
                "all": [float(self._all[0]), int(self._all[1])],
                "per_work": [float(v) for v in self._per_work],
                "fit": [[int(f[0])] + [float(v) for v in f[1:]] for f in self._fit],
                "setup": by_arm(self._setup),
                "solve_floor": by_arm(self._solve_floor),
                "served": [[k, int(self._uses[k])] for k in range(len(self._uses))
                           if self._built_once[k]],
                "latest_solve": [float(v) for v in self._latest_solve],
                "warm_most": [float(v) for v in self._warm_most],
                "time_recent": [[float(v) for v in r] for r in (self._time_recent
                                                                or [[]] * F)],
                "setup_readings": sorted([keys.index(key), [float(v) for v in r]]
                                         for key, r in self._setup_readings.items()
                                         if key in keys and r),
                "lifetimes": [[k, [float(v) for v in seen]]
                              for k, seen in enumerate(lifetimes) if seen],
                "prices": None if book is None else {
                    "ref": int(book.ref), "base": float(book.base), "fixed": bool(book.fixed),
                    "base_readings": [float(v) for v in book.base_readings],
                    "ratio": [float(v) for v in book.ratio],
                    "samples": [[float(v) for v in s] for s in book.samples],
                    "tick": int(book.tick)}}

    def check_measured(self, state) -> None:
        """Check a :meth:`measured_state` read from a file against these arms (its types and
        ranges are checked by the file's reader, :func:`bandit._tunerfile._measured`): one
        entry per family where the state keeps one per family, arm indices of arms that
        build the set-up named, lifetimes within the arm's reuse.  Raises ``ValueError``
        naming the entry."""
        F = max(self.n_families, 1)
        K = len(self.labels)
        if len(state["rate"]) != F:
            raise ValueError(f"measured.rate has {len(state['rate'])} families, expected {F} "
                             "for these arms")
        for part in ("fit", "latest_solve", "warm_most", "time_recent"):
            v = state.get(part)
            if v is not None and len(v) != F:
                raise ValueError(f"measured.{part} must hold one entry per family: it has "
                                 f"{len(v)}, expected {F} for these arms")
        for part in ("setup", "solve_floor", "served", "setup_readings", "lifetimes"):
            for k, _ in state.get(part) or ():
                if not (k < K and self.configs and self.configs[k].setup_key is not None):
                    raise ValueError(f"measured.{part} names arm {k}, which has no set-up")
        for k, seen in state.get("lifetimes") or ():
            reuse = self.configs[k].reuse
            if not all(v <= reuse for v in seen):
                raise ValueError(f"measured.lifetimes of arm {k} must lie between 0 and its "
                                 f"reuse, {reuse}: got {seen!r:.80}")
        book = state.get("prices")
        if book is not None:
            for part in ("ratio", "samples"):
                if len(book[part]) != F:
                    raise ValueError(f"measured.prices.{part} must hold one entry per family: "
                                     f"it has {len(book[part])}, expected {F} for these arms")
            if not -1 <= book["ref"] < F:
                raise ValueError(f"measured.prices.ref must be a family index (0 to {F - 1}), "
                                 f"or -1 before any reading: got {book['ref']!r}")

    def load_measured(self, state, policy=None, alone=True) -> None:
        """Restore :meth:`measured_state` (checked by the tuner file's reader and
        :meth:`check_measured`).  A file written before an entry was kept reads it as that
        version of the library did: ``solve_floor`` none seen, ``served`` none built,
        ``latest_solve`` none seen, ``warm_most`` none read warm, ``time_recent`` each
        family's cost per iteration, ``setup_readings`` each set-up's cost, ``lifetimes``
        none replaced, ``prices`` from the fits (the family with the most solves the
        reference, at its mean seconds per unit of work, fixed).

        ``policy``: the learner of a ``timed_work`` tuner whose reference price was not yet
        fixed at the save: the rounds told from the load on are told again once it is
        (:meth:`start_early`; ``alone``: one process)."""
        self._rate = [[float(c), int(n)] for c, n in state["rate"]]
        self._all = [float(state["all"][0]), int(state["all"][1])]
        self._per_work = [float(v) for v in state["per_work"]]
        self._fit = [[int(f[0])] + [float(v) for v in f[1:]] for f in state["fit"]]
        self._setup = {self.configs[int(k)].setup_key: float(v) for k, v in state["setup"]}
        readings = state.get("setup_readings")
        if self.cost == "work":  # counted, not timed: no readings
            self._setup_readings = {}
        elif readings is not None:
            self._setup_readings = {self.configs[int(k)].setup_key: [float(v) for v in r]
                                    for k, r in readings}
        else:  # (a file written before the readings were kept: its cost stands for them)
            self._setup_readings = {key: [v] for key, v in self._setup.items()}
        self._solve_floor = {self.configs[int(k)].setup_key: float(v)
                             for k, v in state.get("solve_floor", ())}
        for k, uses in state.get("served", ()):
            self._built_once[int(k)], self._uses[int(k)] = True, int(uses)
        F = len(self._rate)
        latest = state.get("latest_solve")
        self._latest_solve = ([float(v) for v in latest] if latest is not None
                              else [0.0] * F)
        warm = state.get("warm_most")
        self._warm_most = [float(v) for v in warm] if warm is not None else [0.0] * F
        lifetimes = state.get("lifetimes")
        if lifetimes:  # (made with the charges held, all None: a loaded tuner holds none)
            K = len(self._pcs)
            self._held, self._lifetimes = [None] * K, [[] for _ in range(K)]
            for k, seen in lifetimes:
                self._lifetimes[int(k)] = [float(v) for v in seen]
        # the recent solves' seconds per unit of work (timed_work without paired prices) are
        # not kept: the family's mean stands for them
        for f, (n, sw, _, ss, _) in enumerate(self._fit):
            self._recent[f] = [ss / sw] * min(n, _WINDOW) if sw > 0 and ss > 0 else []
            self._per_unit[f] = ss / sw if self._recent[f] else math.nan
        recent = state.get("time_recent")
        if self.cost != "time":
            pass
        elif recent is not None:
            self._time_recent = [[float(v) for v in r] for r in recent]
        else:  # (as told: cold runs at the warm rate)
            self._time_recent = [[c / n] if n and c > 0 else [] for c, n in self._rate]
        book = state.get("prices")
        if book is None:
            self._prices = _Prices.from_fits(self._fit)
        else:
            prices = self._prices = _Prices(F)
            prices.ref, prices.base = int(book["ref"]), float(book["base"])
            prices.fixed, prices.tick = bool(book["fixed"]), int(book["tick"])
            prices.base_readings = [float(v) for v in book["base_readings"]]
            prices.ratio = [float(v) for v in book["ratio"]]
            prices.samples = [[float(v) for v in s] for s in book["samples"]]
            if policy is not None and not prices.fixed:
                self.start_early(policy, alone)
