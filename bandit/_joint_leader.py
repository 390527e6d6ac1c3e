"""What :class:`bandit.JointCB` reports between draws: the predicted cost of every arm
(:meth:`~bandit.JointCB.predict`), the leader, the played arm of least predicted cost
(:meth:`~bandit.JointCB.leader`, :meth:`~bandit.JointCB.drawn_leader`, from the means the
round's draw already computed when it can), and the joint feature vector
(:meth:`~bandit.JointCB.phi`).

A mixin of :class:`~bandit.JointCB`, split from :mod:`bandit.joint`.
"""
from __future__ import annotations

import math

import numpy as np

from ._base import memo_key
from ._kernels import played_argmin


class Reports:
    """Predictions and the leader, from the round's means when the draw computed them."""

    def phi(self, context, arm):
        """Joint feature vector ``ψ(context) ⊗ χ_arm`` (length ``m · m_omega``)."""
        return np.outer(self._query(context), self._X[self._check_arm(arm)]).ravel()

    def drawn_leader(self, context):
        """The arm :meth:`leader` returns at ``context`` when this round's one-call draw found
        it there and :meth:`leader` would change nothing (its feature map's cache already at
        ``context``); None otherwise (ask :meth:`leader`).  A :class:`~bandit.Tuner` whose
        round plays that arm reads no predicted cost (nothing does without audits)."""
        memo = self._mu_of
        if (type(context) is float and memo is not None and memo[0] == context
                and memo[1] == self.t and memo[2] is not None and memo[2] >= 0
                and self.features._key == context and not math.isnan(self.unit)):
            return memo[2]
        return None

    def leader(self, context=None):
        """Played arm with the lowest predicted cost and that cost (:meth:`Policy.leader`),
        from the means the round's draw already computed when it can."""
        memo = self._mu_of
        if (type(context) is float and memo is not None and memo[0] == context
                and memo[1] == self.t and memo[2] is not None):
            # the draw of this round at this context (which it checked) found the leader
            if self.features._key != context:  # (the feature map's cache as _query leaves it)
                self.features(context)
            k = memo[2]
            if k < 0 or math.isnan(self.unit):
                return None, math.nan
            return k, float(self._cost(self._mu[k]))
        psi = self._query(context)
        if math.isnan(self.unit):
            return None, math.nan
        key, memo = memo_key(context), self._mu_of
        if memo is None or memo[1] != self.t or key is None or memo[0] != key:
            self._scores(psi, 0.0)
            self._mu_of = memo = (key, self.t, None)
        # the draw's leader: converged_counts change only in update, which ends the round
        k = memo[2] if memo[2] is not None else int(played_argmin(self._mu, self.converged_counts))
        if k < 0:
            return None, math.nan
        return k, float(self._cost(self._mu[k]))

    def predict(self, context=None):
        """Predicted cost of every arm at ``context`` in raw units (NaN before any cost).

        Unlike the per-arm learners, arms never played get a prediction too (from the shared
        model); :class:`~bandit.Tuner` only trusts arms with data for its guard.
        """
        psi = self._query(context)
        if math.isnan(self.unit):
            return np.full(self.n_arms, np.nan)
        key, memo = memo_key(context), self._mu_of
        if memo is None or memo[1] != self.t or key is None or memo[0] != key:
            self._scores(psi, 0.0)
            self._mu_of = (key, self.t, None)
        # else the round's draw (or an earlier call of this round) left these means in _mu,
        # as leader() reads them: a guarded Tuner's fallback order asks for them right after
        # a solve, where computing them again cost ~16 µs of a fallback round (mc3d m = 22)
        return self._cost(self._mu)
