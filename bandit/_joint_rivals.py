"""How :class:`bandit.JointCB` tells a rival family's stopped round without moving the
leader's family: the shift of :meth:`RivalRules._shift_rival`, used by the re-tries of
:attr:`~bandit.JointCB.context_retries` (:mod:`bandit._joint_retry`).

Two rules for a rival's rounds that lived here were measured and not adopted, and were
removed (their measurements stay in ``docs/studies/precond.md``): a family's first try
counted in units of its own predictive spread in ``σ̂`` (``spread_first_tries``), and a
rival the guard stopped moved on towards the model's expectation given its bound, holding
the leader's family (``impute_rivals``, whose shift this is).

A mixin of :class:`~bandit.JointCB`; its methods read and write the learner's own attributes.
"""
from __future__ import annotations

import numpy as np


class RivalRules:
    """A stopped rival's round told in coefficients that hold the leader's family."""

    def _shift_rival(self, arm, psi, held, target):
        """``target`` fed as one more observation of ``arm`` at features ``psi``, the model
        conditioned on every prediction of the arms ``held`` (the leader's family) staying as
        it is, at every context; nothing when ``target`` is not above the prediction.

        Fed as a round, a rival's stopped try moves the leader's family through the
        coefficients all arms share on the line.  Here the step lies in the coefficients
        ``ψ ⊗ v``, ``v`` orthogonal to the leader family's arm features (``E``, an orthonormal
        basis), with the covariance the model gives them once the rest is held,
        ``C = E (Eᵀ P⁻¹ E)⁻¹ Eᵀ``: ``θ += C φ (target − φᵀθ) / (1 + φᵀ C φ)``, which raises
        the arm's prediction and no prediction of the leader's family.  ``P`` and ``σ̂`` are
        left as they are."""
        phi = np.outer(psi, self._X[arm]).ravel()
        step = target - float(self.theta @ phi)
        if not step > 0.0:
            return
        _, sv, vt = np.linalg.svd(self._X[held], full_matrices=True)
        free = vt[int(np.sum(sv > sv[0] * 1e-10)):]  # rows: the complement of their span
        if free.shape[0] == 0:
            return
        E = np.kron(np.eye(psi.size), free.T)  # d × (m · free directions), orthonormal
        L = np.linalg.inv(self.P)
        L = 0.5 * (L + L.T)
        C = E @ np.linalg.solve(E.T @ L @ E, E.T)
        g = C @ phi
        self.theta += g * (step / (1.0 + float(phi @ g)))
