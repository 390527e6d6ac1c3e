"""How :class:`bandit.JointCB` takes the rounds of a rival family (configuration arms of
another family than the leader's), two rules measured and not adopted (off by default;
``docs/studies/precond.md``): a family's first try counted in units of its own predictive
spread in ``σ̂`` (:attr:`~bandit.JointCB.spread_first_tries`), and a rival the guard stopped
moved on towards the model's expectation given its bound, holding the leader's family
(:attr:`~bandit.JointCB.impute_rivals`).

A mixin of :class:`~bandit.JointCB` (its class path, settings and saved state stay in
:mod:`bandit.joint`, and so does the rival's imputed target, ``JointCB._rival_target``: it reads
``bandit.joint._CLIP``, which the tests replace there); its methods read and write the
learner's own attributes.
"""
from __future__ import annotations

import numpy as np

from ._kernels import played_argmin
from .smooth import family_positions


class RivalRules:
    """A rival family's first try in ``σ̂`` and a stopped rival's imputed cost."""

    _family_of = None  # a learner pickled before the attribute: one family

    def _first_try(self, arm):
        """Whether ``arm``'s round, before its update, is the first of its family while
        another family has been played (and :attr:`spread_first_tries` is on).

        A family never played has no data of its own: its prediction is the level the other
        families' rounds give it, and its first cost departs from it by what that
        extrapolation does not know (plain CG 30 times as dear as SSOR-PCG on the Monte
        Carlo sequence), not by the noise of a measurement.  Counted whole in ``σ̂`` (the
        mean squared one-step error, which scales every width and the Huber bound), the
        first try of each rival family raised the noise scale of the configuration learner
        to 5 times the ω-only learner's for the rest of the run (0.40 against 0.08 on mc3d
        m = 22, 0.44 against 0.16 on the adaptive-step heat loop), so within the leading
        family it kept exploring neighbouring ω the ω-only learner had settled.  Counted in
        units of the prediction's own spread (the standardised recursive residual, whose
        variance is ``σ²`` under the model), it weighs as one round of noise.  Measured side
        by side in the preconditioner study it is off: the noise scale the first tries raise
        is also what keeps the learner exploring where the model is wrong, and without it
        the learner locked onto plain CG or a small ω on the heat loop."""
        members = self._family_of
        if not self.spread_first_tries or members is None:
            return False
        counts = self.counts
        return not counts[members[arm]].any() and bool(counts.any())

    def _leader_family(self, arm, psi):
        """The arms of the leader's family at the round's context when ``arm`` is of another
        family (the leader: the played arm of least predicted cost before this update), else
        None (no leader, or the arm is of its family)."""
        family = family_positions(self.arms)[0]
        if family.max() == 0:
            return None
        memo = self._mu_of
        if memo is None or memo[1] != self.t or memo[0] is None or memo[0] != self._key:
            self._scores(psi, 0.0)  # the means at this context (the draw's memo is stale)
            self._mu_of = memo = (self._key, self.t, None)
        lead = memo[2] if memo[2] is not None else int(played_argmin(self._mu,
                                                                      self.converged_counts))
        if lead < 0 or family[lead] == family[arm]:
            return None
        return np.flatnonzero(family == family[lead])

    def _shift_rival(self, arm, psi, held, target):
        """After the update with the bound: the imputed ``target`` fed as one more observation
        of ``arm``, the model conditioned on every prediction of the arms ``held`` (the
        leader's family) staying as it is, at every context.

        ``max(bound, μ)``, the least cost the bound allows, left a rival stopped at the
        leader's predicted cost looking exactly as dear as the leader, so its lower confidence
        bound, wider than the leader's, stayed below it at every new context: the rival was
        drawn again and again, each time an attempt and a fall-back.  The truncated mean puts it
        above the bound by what the model's spread implies.  Fed whole, that guess also moved
        the leader's family through the coefficients all arms share on the line (the SSOR-PCG
        curve next to plain CG bent up, the learner kept to small ω).  Here the step lies in
        the coefficients ``ψ ⊗ v``, ``v`` orthogonal to the leader family's arm features
        (``E``, an orthonormal basis), with the covariance the model gives them once the rest
        is held, ``C = E (Eᵀ P⁻¹ E)⁻¹ Eᵀ``: ``θ += C φ (target − φᵀθ) / (1 + φᵀ C φ)``, which
        raises the arm's prediction and no prediction of the leader's family.  ``P``, ``σ̂``
        and the change test are those of the update with the bound (the overshoot is a guess,
        not a measurement)."""
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
