"""How :class:`bandit.JointCB` takes a round's context: the features of a context that may
widen the learnt range (the model's coefficients rescaled to the new range's features) and of
one that may not (a query: :meth:`~bandit.JointCB.predict`, :meth:`~bandit.JointCB.leader`,
:meth:`~bandit.JointCB.phi`), and the error for a missing context; the model's size for a
context length (:meth:`~bandit.JointCB.check_context_length`), allocated once the length is
known, and the learnt range as saved (:attr:`~bandit.JointCB.context_range`, split from
:mod:`bandit.joint`).

A mixin of :class:`~bandit.JointCB`; its methods read and write the learner's own attributes.
"""
from __future__ import annotations

import numpy as np

from ._base import memo_key
from .features import check_model_size, rescale_ridge


class ContextRules:
    """A round's context: its features, the learnt range's widening, a missing context."""

    def _no_context_refused(self):
        d = self.features.context_dim
        return ValueError(f"JointCB is contextual since its first round, which gave a context "
                          f"of {d} number{'s' if d > 1 else ''}: pass context=... every round "
                          f"(a learner that starts without a context works without one "
                          f"throughout)")

    def _context(self, context):
        # select/update: the range may widen (the model follows)
        if context is None and self.features.context_dim not in (None, 0):
            raise self._no_context_refused()
        self._key = memo_key(context)
        psi, S = self.features.observe(context)
        if self.P is None:
            self._allocate()
            psi = self.features(context)
        if S is not None:
            Sf = np.kron(S, np.eye(self._X.shape[1]))
            self.P, self.theta = rescale_ridge(self.P, self.theta, Sf, np.diag(self._penalty_diag()))
            if self.prior_dir is not None:
                self.prior_dir = self.prior_dir @ Sf.T
            self._mu_of = None
        if self.target == "auto" and context is not None and (self.auto_span is not None
                                                              or self.t == 0):
            # after the features took it (a refused context changes nothing); when the
            # context has come to vary, the model of the log-cost takes it
            if self._auto_target(context):
                return self._context(context)
        return psi

    def _query(self, context):
        if context is None and self.features.context_dim not in (None, 0):
            raise self._no_context_refused()
        psi = self.features(context)
        if self.P is None:
            self._allocate()  # may switch to the vector default of m
            psi = self.features(context)
        return psi

    def check_context_length(self, D):
        """Raise ``ValueError`` if a context of ``D`` numbers needs a model too large to keep
        and refit (:func:`bandit.features.check_model_size`); changes nothing."""
        n = self.features.count(D)
        check_model_size(1, n, D, f"{self.features.kind} features (m = "
                         f"{self.features.m_for(D)})", ", or a smaller m")
        # one d × d matrix over the joint (context, ω) features
        check_model_size(1, n * self._X.shape[1], D, "JointCB", ", or a smaller m")

    def _allocate(self):
        try:
            self.check_context_length(self.features.context_dim)
        except ValueError:
            self.features.forget()  # the context length is not fixed by a refused context
            raise
        self.P = np.diag(1.0 / self._penalty_diag())
        self.theta = np.zeros(self.P.shape[0])

    @property
    def context_range(self):
        """The learnt context range (part of the saved state)."""
        return self.features.state()

    @context_range.setter
    def context_range(self, state):
        if state["dim"] is not None and self.features.context_dim is None:
            self.features.range.dim = int(state["dim"])
            self._allocate()
        self.features.load(state)
        self._mu_of = None
