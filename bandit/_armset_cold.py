"""``cost="time"``: an arm's first run in a process is cold (dispatch, caches, the
interpreter's first pass over the solve's code), so once its family has warm runs it is told
at most its iterations at the family's warm seconds per iteration.

A mixin of :class:`bandit.armset.ArmSet` (its class path, and the per-call path that keeps the
family's warm readings, :meth:`ArmSet.observe`, stay in :mod:`bandit.armset`); its method reads
the set's own attributes.
"""
from __future__ import annotations

import statistics


class ColdTime:
    """How a cold first run is told with ``cost="time"``."""

    #: :attr:`_time_recent` (a class default, so a set pickled without it loads)
    _time_recent = None

    def cold_time(self, k, res) -> None:
        """``cost="time"``: tell the first run of arm ``k`` in this process (cold) at most its
        iterations at its family's warm seconds per iteration, the median of the family's
        last 31 warm runs (set-up excluded; in a loaded tuner, its saved cost per
        iteration until this process has warm runs), kept in ``res.info["cold_told"]``.

        The rule is :meth:`timed_work`'s: an arm's first run in a process is cold
        (dispatch, caches, the interpreter's first pass over the solve's code), so once
        its family has warm readings a cold one is not told as if warm; before any, it is
        told its seconds.  On a 2-D Laplacian of 144 unknowns, SSOR-PCG's first solves
        read up to 2.5 × the warm ones: the prior's pick, told that, was seldom retried.
        The result and the history keep the measured seconds.
        """
        if self._warm[k] or not res.iterations:
            return
        recent = self._time_recent[self.family[k]] if self._time_recent is not None else ()
        if not recent:
            return
        info = res.info
        told = info.get("setup_seconds", 0.0) + res.iterations * statistics.median(recent)
        if told < res.seconds:
            info["cold_told"] = told
