"""The probe of a rival's try (:attr:`ArmSet.probe_rivals`, on; :attr:`ArmSet.probe_proven`,
off): after a quarter of its budget, a try whose residual's reduction rate so far cannot reach
the tolerance within a few times the budget is stopped and told, censored, what the rest would
have cost.

A mixin of :class:`bandit.armset.ArmSet` (its class path, and the guard's budget that sets the
probe, :meth:`ArmSet.budget`, stay in :mod:`bandit.armset`); its methods read and write the
set's own attributes.
"""
from __future__ import annotations

import math

# a rival family's first try is probed (ArmSet.probe_rivals): run to this fraction of its
# budget (at least _PROBE_MIN iterations), then stopped if its residual's mean reduction rate
# so far needs more than _PROBE_MARGIN times the budget to reach the tolerance.  A straight
# line from the start overstates what CG-type methods need (their rate improves as they run):
# measured on the study's sequences at a quarter to half of the iterations needed, 1.0-3.6 ×
# (and no iterate better than the start, an infinite projection, where a Monte Carlo
# sample's residual first rises), so only a projection beyond that margin stops a try
_PROBE_FRACTION, _PROBE_MIN, _PROBE_MARGIN = 0.25, 8, 4.0


class ProbeRules:
    """The probe of a rival's try: its settings, length, stop and the rest it is told."""

    #: probe a rival family's first try (cost ``"work"`` or ``"timed_work"``, Numba backend):
    #: after a quarter of its budget, stop it if its residual's reduction rate so far cannot
    #: reach the tolerance within :data:`_PROBE_MARGIN` times the budget
    #: (:meth:`probe_at`, :meth:`bandit._tuner_guard.GuardSteps._attempt`)
    probe_rivals = True
    #: probe the tries of a rival family that has converged too (allowed 1.5 × the leader's
    #: predicted cost), not only its first tries
    probe_proven = False
    #: (arm, iterations) of the probe the latest :meth:`budget` set (a class default, so a set
    #: pickled without it loads)
    _probe = (None, 0)

    def _probe_length(self, budget) -> int:
        """The iterations of a first try's probe within ``budget`` (0: none): a quarter of
        it, at least :data:`_PROBE_MIN` (fewer say too little of the rate) and fewer than
        the budget."""
        if self.cost not in ("work", "timed_work") or self.backend != "numba" or (
                self.configs is None):
            return 0
        c = math.ceil(_PROBE_FRACTION * budget)
        return c if _PROBE_MIN <= c < budget else 0

    def probe_at(self, k, budget) -> int:
        """Iterations after which the attempt of arm ``k`` with ``budget`` (the latest
        :meth:`budget`) is probed, 0 for none: a rival whose family has not converged
        yet (a first try at the leader's predicted cost; with :attr:`probe_proven`, every
        rival), with :attr:`probe_rivals`, on the Numba backend and with cost ``"work"`` or
        ``"timed_work"``, when a quarter of the budget is at least :data:`_PROBE_MIN`
        iterations."""
        arm, c = self._probe
        return c if arm == k and c < budget else 0

    def probe_rest(self, k, budget, iterations, op=None) -> float:
        """What the rest of a probed try of arm ``k`` would have cost, from ``iterations`` to
        its ``budget``, at the cost per iteration its family's runs have shown, the probe's
        own included (:meth:`rate`; not the rate its budget was set with, which before the
        family's first run is the work model's figure at the seconds per unit of work of
        other families' runs, cold first solves among them).  A stopped probe is told its
        own cost plus this, censored: it cannot have finished within its budget."""
        rate = self.rate(k, op)
        return max(budget - iterations, 0) * rate if rate > 0 else 0.0
    def probe_stops(self, iterations, budget, r0, r, tol) -> bool:
        """Whether a probe of ``iterations`` of a try with ``budget`` that took the residual
        norm from ``r0`` to ``r`` stops it: its projection (:meth:`projected_iterations`)
        exceeds :data:`_PROBE_MARGIN` × ``budget``."""
        return self.projected_iterations(iterations, r0, r, tol) > _PROBE_MARGIN * budget
