"""The change and drift tests of :class:`bandit.JointCB` (``detect_changes``,
``detect_drift``): sequences whose costs change, abruptly or slowly, without a context that
says so, and the forgetting an alarm starts.

A mixin of :class:`~bandit.JointCB` with the tests' documented constants (``CHANGE_*``,
``DRIFT_*``, moved from :mod:`bandit.joint`; documented on the class's page).
"""
from __future__ import annotations

import math

import numpy as np


class ChangeTests:
    """Page's CUSUM of the one-step errors, the drift test, and the discounted ridge
    regression an alarm applies (:meth:`_forget`)."""

    #: The change test (``detect_changes``): a one-sided CUSUM each way of the standardised
    #: one-step errors, each error capped at ``CHANGE_CAP`` standard deviations, with
    #: drift ``CHANGE_DRIFT`` (a shift of the mean error by more than this many standard
    #: deviations accumulates) and alarm level ``CHANGE_LIMIT``; on an alarm everything seen
    #: before is kept as ``CHANGE_KEEP`` rounds' worth of data.
    CHANGE_DRIFT = 1.0
    CHANGE_CAP = 3.0
    CHANGE_LIMIT = 8.0
    CHANGE_KEEP = 3.0
    #: The drift test (``detect_drift``, with ``detect_changes``, no context): the rates
    #: ``γ`` of the exponentially weighted levels of the standardised errors, and the alarm
    #: level of the CUSUM of their log-likelihood ratio against the model's level 0; on an
    #: alarm everything seen is kept as ``DRIFT_KEEP`` rounds' worth.
    DRIFT_RATES = (0.9,)
    DRIFT_LIMIT = 8.0
    DRIFT_KEEP = 3.0

    def _change_test(self, z):
        """Page's CUSUM, both ways, of the standardised one-step errors ``z`` of the played arm
        (error before the clip over ``σ̂ sqrt(1 + φᵀPφ)``, each capped at ±3); an alarm
        forgets the past (:meth:`_forget`).

        While the model fits, the errors have mean 0 and unit spread, and a sum that only
        grows with errors beyond ``CHANGE_DRIFT`` standard deviations crosses
        ``CHANGE_LIMIT`` rarely; when the costs move away from what the model learnt (a new
        phase of the simulation that no context announces), the errors keep one sign and the
        sum crosses it within a few rounds (``≈ CHANGE_LIMIT / (shift − CHANGE_DRIFT)``).
        """
        if not math.isfinite(z):
            return
        cap = self.CHANGE_CAP  # one wild reading is no change: it takes several beyond 3
        z = min(max(z, -cap), cap)
        self.cusum_up = max(0.0, self.cusum_up + z - self.CHANGE_DRIFT)
        self.cusum_down = max(0.0, self.cusum_down - z - self.CHANGE_DRIFT)
        if max(self.cusum_up, self.cusum_down) > self.CHANGE_LIMIT:
            self.changes += 1
            self._forget(self.CHANGE_KEEP)
        elif self.detect_drift and self.features.context_dim == 0:
            self._drift_test(z)

    def _drift_test(self, z):
        """A test for a slow drift of the costs, when there is no context to explain it.

        A drift shifts the one-step errors by less than the CUSUM's ``CHANGE_DRIFT`` standard
        deviations for a long time.  Per rate ``γ`` of :attr:`DRIFT_RATES` an exponentially
        weighted level ``m ← γ m + (1 − γ) z`` of the capped standardised errors predicts the
        next one; the log-likelihood ratio of that prediction against the model's own (level
        0, unit spread), ``z m − m²/2``, feeds a CUSUM ``S ← max(0, S + z m − m²/2)``.  While
        the model fits, ``m`` is noise and ``S`` falls by ``(1 − γ)/(2(1 + γ))`` a round on
        average; while the errors keep a level ``δ`` it grows by about ``δ²/2`` a round.
        Above :attr:`DRIFT_LIMIT` everything learnt is kept as :attr:`DRIFT_KEEP` rounds'
        worth (:meth:`_forget`), counted in :attr:`drifts`.
        """
        rates = np.asarray(self.DRIFT_RATES)
        m, S = self.drift_level, self.drift_score
        S[:] = np.maximum(0.0, S + z * m - 0.5 * m * m)
        m[:] = rates * m + (1.0 - rates) * z
        if (S > self.DRIFT_LIMIT).any():
            self.drifts += 1
            self._forget(self.DRIFT_KEEP)

    def _forget(self, keep):
        """Keep what was learnt before a detected change (or drift) as ``keep`` rounds' worth.

        The fit's data statistics (the measured rounds and the prior's pseudo-observations
        alike) ``G = P⁻¹ − λΛ`` and ``Σ φ y = P⁻¹ θ`` are multiplied by
        ``ρ = keep / n`` (``n`` the rounds they hold), the penalty is kept:
        ``P ← (λΛ + ρ G)⁻¹``, ``θ ← P ρ Σ φ y`` — the ridge fit of the same data at weight
        ``ρ`` (discounted ridge regression, one discount at the change).  The widths grow
        back towards the prior's, so the lower confidence bound explores again next to the
        predicted best, and the costs measured from now on outweigh the old ones after a
        few rounds; ``σ̂``'s sum and count are discounted alike (its level is kept), and so
        is the weight of the prior's shared error (:attr:`prior_scale`).  ``O(d³)``, once
        per detected change.
        """
        from ._kernels_ridge import spd_inverse

        self.cusum_up = self.cusum_down = 0.0
        self.drift_level[:] = 0.0  # both tests start afresh
        self.drift_score[:] = 0.0
        n = self.t + 1 - self.forgotten  # rounds in σ̂'s count, this one included
        rho = min(1.0, keep / n)
        if rho >= 1.0:
            return
        pen = self._penalty_diag()
        A = spd_inverse(self.P)
        b = A @ self.theta
        A *= rho
        A[np.diag_indices_from(A)] += (1.0 - rho) * pen
        self.P = spd_inverse(A)
        self.theta = self.P @ (rho * b)
        self.sq_err *= rho
        self.log_sq_err *= rho
        self.forgotten += (1.0 - rho) * n
        if self.prior_c is not None:
            self.prior_c = rho * self.prior_c
            self.prior_scale *= rho
        self._mu_of = None
        self.p = None
