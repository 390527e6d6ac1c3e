"""What the runs of an arm set of :class:`bandit.armset.ArmSet` measured, as a Tuner file
keeps it (:meth:`bandit.Tuner.save`) and restores it (:meth:`bandit.Tuner.load`): costs per
iteration per family, seconds per unit of work, the timed-work fits, set-up costs and the
cheapest converged solve with each set-up.

A mixin of :class:`~bandit.armset.ArmSet` (its class path and the per-call path that measures
these stay in :mod:`bandit.armset`); its methods read and write the set's own attributes.
"""
from __future__ import annotations

import math

from ._prices import _WINDOW, _Prices


class MeasuredState:
    """The measured state of an arm set, saved and loaded with a Tuner file."""

    # -- persistence ------------------------------------------------------------------------
    def measured_state(self) -> dict:
        """What the runs so far measured (costs per iteration per family, seconds per unit
        of work, the timed-work fits, set-up costs): the guard's budgets and failure costs
        depend on it, so :meth:`bandit.Tuner.save` keeps it.  Set-up costs are listed by the
        first arm with that set-up, and so are the cheapest converged solves with each set-up
        (set-up excluded), on which the guard refuses a rival that cannot win; ``served``:
        per arm that has built a set-up, the solves that reused its latest one (a rival's
        rebuild is shared over them); ``latest_solve``: per family, the cost of its latest
        converged whole solve (0 before one), the yardstick of a rival's first try."""
        keys = [c.setup_key for c in self.configs] if self.configs else []

        def by_arm(costs):
            return sorted([keys.index(key), float(v)] for key, v in costs.items() if key in keys)

        return {"rate": [[float(c), int(n)] for c, n in self._rate],
                "all": [float(self._all[0]), int(self._all[1])],
                "per_work": [float(v) for v in self._per_work],
                "fit": [[int(f[0])] + [float(v) for v in f[1:]] for f in self._fit],
                "setup": by_arm(self._setup),
                "solve_floor": by_arm(self._solve_floor),
                "served": [[k, int(self._uses[k])] for k in range(len(self._uses))
                           if self._built_once[k]],
                "latest_solve": [float(v) for v in self._latest_solve]}

    def load_measured(self, state) -> None:
        """Restore :meth:`measured_state` (checked by the tuner file's reader)."""
        self._rate = [[float(c), int(n)] for c, n in state["rate"]]
        self._all = [float(state["all"][0]), int(state["all"][1])]
        self._per_work = [float(v) for v in state["per_work"]]
        self._fit = [[int(f[0])] + [float(v) for v in f[1:]] for f in state["fit"]]
        self._setup = {self.configs[int(k)].setup_key: float(v) for k, v in state["setup"]}
        # (the readings behind a set-up's cost on the clock are not kept: its cost stands
        # for them)
        self._setup_readings = {} if self.cost == "work" else {
            key: [v] for key, v in self._setup.items()}
        # (a file written before the cheapest solves were kept: none seen)
        self._solve_floor = {self.configs[int(k)].setup_key: float(v)
                             for k, v in state.get("solve_floor", ())}
        for k, uses in state.get("served", ()):  # (absent from older files: none built)
            self._built_once[int(k)], self._uses[int(k)] = True, int(uses)
        # each family's latest whole solve, the yardstick of a rival's first try (absent
        # from older files: none seen)
        latest = state.get("latest_solve")
        self._latest_solve = ([float(v) for v in latest] if latest is not None
                              else [0.0] * len(self._rate))
        # the recent solves' seconds per unit of work are not kept: the family's mean stands
        # for them
        for f, (n, sw, _, ss, _) in enumerate(self._fit):
            self._recent[f] = [ss / sw] * min(n, _WINDOW) if sw > 0 and ss > 0 else []
            self._per_unit[f] = ss / sw if self._recent[f] else math.nan
        if self.cost == "time":  # (as told: cold runs at the warm rate)
            self._time_recent = [[c / n] if n and c > 0 else [] for c, n in self._rate]
        self._prices = _Prices.from_fits(self._fit)
