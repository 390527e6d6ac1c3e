"""Baselines: always the same arm, or an arm drawn uniformly at random."""
from __future__ import annotations

import numpy as np

from ._base import Policy

__all__ = ["FixedArm", "UniformRandom"]


class FixedArm(Policy):
    """Always play one arm (a fixed ω); the yardstick every learner is compared with.

    Parameters
    ----------
    arms : sequence of float or dict
        Arm list (ω values or setting dicts).
    arm : int, default 0
        Index of the arm to play.
    seed : int, optional
        Accepted for a uniform constructor; no randomness is used.

    Examples
    --------
    >>> p = FixedArm([1.0, 1.5, 1.8], arm=2)
    >>> p.select(), bool(np.isnan(p.predict()[2]))
    (2, True)
    """

    randomised = False

    def __init__(self, arms, arm=0, *, seed=None):
        super().__init__(arms, seed=seed)
        self.arm = self._check_arm(arm)

    def _config(self):
        return {"arm": self.arm}

    def _select(self, context):
        return self.arm

    def leader(self, context=None) -> tuple:
        """:meth:`Policy.leader`, without building every arm's prediction when only the fixed
        arm was ever told a cost (the Tuner asks every solve; the generic route costs tens
        of microseconds once a solve has pushed the interpreter out of the caches).

        Examples
        --------
        >>> p = FixedArm([1.0, 1.5], arm=1)
        >>> p.update(1, 20.0); p.update(1, 30.0)
        >>> p.leader()
        (1, 25.0)
        """
        k = self.arm
        n = self.counts[k]
        if n and n == self.t and self.converged_counts[k]:
            return k, float(self.cost_sums[k] / n)
        return super().leader(context)


class UniformRandom(Policy):
    """Play every arm with probability ``1/K`` (pure exploration; costs are ignored).

    Examples
    --------
    >>> p = UniformRandom([1.0, 1.5, 1.8], seed=0)
    >>> sorted({p.select() for _ in range(50)})
    [0, 1, 2]
    """

    def _select(self, context):
        self.p = np.full(self.n_arms, 1.0 / self.n_arms)
        return int(self.rng.integers(self.n_arms))
