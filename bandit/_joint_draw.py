"""How :class:`bandit.JointCB` draws an arm on its general path: the noise scale and the
width's multiplier, the lower-confidence-bound draw (with the optimism cap, the exploration
radius and the try gate, in one compiled call), the inverse-gap-weighted draw, the first draw
that takes the theory prior, and when a round may instead be the one compiled call of
:meth:`~bandit.JointCB.select` (:attr:`~bandit.JointCB.one_call`).

A mixin of :class:`~bandit.JointCB`, split from :mod:`bandit.joint`, where
:meth:`~bandit.JointCB.select` itself stays (it reads ``joint_decide`` and ``first_pick`` as
globals of :mod:`bandit.joint`, which tests and benchmarks replace there).
"""
from __future__ import annotations

import math

import numpy as np

from ._kernels import igw_probabilities, joint_select_lcb


class Draw:
    """The draw's general path and its noise scale."""

    @property
    def randomised(self):
        """False for ``exploration="lcb"`` (the arm is a deterministic function of the data)."""
        return self.exploration == "igw"

    def _scale(self):
        """``σ̂``, the noise scale of the log-cost: ``sqrt((Σ fed squared errors + 0.1)/(n + 1))``,
        ``n = t`` less the rounds' worth a detected change forgot (:meth:`_forget`)."""
        return math.sqrt((self.sq_err + 0.1) / (self.t - self.forgotten + 1))

    def _bonus(self):
        return self.beta * self._scale()

    #: A round at a scalar context inside the learnt range, of a model of the log-cost with
    #: the lower confidence bound (the default learners' rounds once the context has varied),
    #: is one compiled call for the draw and one for the update (:func:`_kernels.joint_decide`,
    #: :func:`_kernels.joint_tell`) instead of several with Python between them: the same
    #: numbers, bit for bit.  False: every round takes the general path (kept to compare).
    one_call = True

    def _one_call_range(self, context):
        """The feature map's scalar range (:meth:`bandit.features.FeatureMap._scalar_fast`)
        when a round at ``context`` may be one compiled call, else None: a scalar context
        that widens nothing, a model of the log-cost (target ``"log"``, or ``"auto"`` once
        the context has varied: ``auto_span`` is None after the first round),
        :attr:`one_call` on.  :meth:`select` and :meth:`update` add their own conditions."""
        fast = self.features._fast
        if (type(context) is float and fast is not None and fast[0] <= context <= fast[1]
                and self.one_call and self.auto_span is None
                and self.target != "cost"):
            return fast
        return None

    def _select(self, psi):
        if self.prior_curve is not None and not self.prior_used:
            self._use_prior(psi)
            self._mu_of = None
            self.p = None
            return int(np.argmin(self.prior_curve))
        if self.exploration == "lcb":
            self.p = None
            # scores, optimism of at most log(explore_within), only next to the predicted
            # best (unimodal in ω), and the leader, in one compiled call
            raw = self.models_cost
            cap = (math.exp(-self._cap) if raw and self._cap < math.inf else self._cap)
            sigma = self._scale()
            k, lead = joint_select_lcb(self.theta, self.P, psi, self._X,
                                       self.beta * sigma, cap, self._near_mask, self._mu,
                                       self._score, self.converged_counts, raw,
                                       self._gate_family, self._gate_allow, sigma,
                                       self._gate_pick)
            self._mu_of = (self._key, self.t, lead)  # leader() of the same round reads these
            return k
        self._mu_of = (self._key, self.t, None)  # leader() of the same round reads _mu
        self._scores(psi, 0.0)
        return self._sample(igw_probabilities(self._mu, self.gamma * math.sqrt(self.t + 1)))
