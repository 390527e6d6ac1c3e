"""A stopped solve's lower bound told to :class:`bandit.JointCB`'s model of the log-cost: what
it rules out, and whether it read the arm at all.

A censored cost ``c`` ("at least ``c``": a try the guard stopped) is fed to the ridge fit as
``max(y(c), μ)``, the least target the bound allows (*A rival's censored cost* in
``docs/studies/precond_rules.md``: feeding its expectation given the bound moved the leading
family's curve and was removed).  Where the bound lies *below* the prediction that target is
the prediction itself: the mean does not move, as it should not, since the bound rules out
nothing the model believed.  But fed as an exact reading, it shrank the arm's uncertainty as
much as a solve that converged at the prediction would: on the 3-D heat sequence a plain-CG
try stopped by its budget at 3 iterations (0.34 ms, the leader's solves 0.65 ms) was told a
bound 0.37 × its prediction, and its predicted log-cost's width fell from 0.78 to 0.28 with
its mean 0.8 above the leader's: the family was never weighed again.

The rule here is the normal model's own answer for a reading known only to exceed ``c``
(a lower-truncated normal; *assumed density filtering*).  With ``y`` the predictive
distribution ``N(μ, S²)``, ``S² = σ̂² (1 + φᵀPφ)``, and ``α = (y(c) − μ)/S``, the bound
removes the fraction ``δ(α) = λ(λ − α)`` of the variance an exact reading removes, ``λ =
φ(α)/Φ(−α)`` the inverse Mills ratio: ``δ → 0`` for a bound far below the prediction (it says
nothing), ``δ(0) = 2/π``, ``δ → 1`` far above it (where the bound is fed whole as
before).  So a bound below the prediction updates the covariance by ``δ`` of a reading's
rank-one step (:func:`censored_shrink`), the coefficients not at all; and such a try leaves
its family *unread* for the first-try rule (:func:`bandit._joint_first.first_pick`): it was
played, but nothing was learnt of it.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["censored_shrink", "truncation_share"]


def truncation_share(alpha):
    """``δ(α) = λ(λ − α)``, ``λ = φ(α)/Φ(−α)``: the fraction of a normal's variance removed by
    learning that it exceeds the point ``α`` standard deviations from its mean (the variance
    of ``N(0, 1)`` truncated below at ``α`` is ``1 − δ(α)``).

    Examples
    --------
    >>> round(truncation_share(0.0), 4)  # half the normal ruled out: 2/pi
    0.6366
    >>> truncation_share(-8.0) < 1e-12, round(truncation_share(6.0), 3)
    (True, 0.976)
    """
    alpha = float(alpha)
    tail = 0.5 * math.erfc(alpha / math.sqrt(2.0))  # Φ(−α)
    dens = math.exp(-0.5 * alpha * alpha) / math.sqrt(2.0 * math.pi)
    if not tail > 0.0:
        return 1.0
    lam = dens / tail
    return min(1.0, max(0.0, lam * (lam - alpha)))


def censored_shrink(P, phi, gap, scale):
    """Update the ridge covariance ``P`` in place for a lower bound ``gap`` (log-cost, less the
    prediction; negative: below it) at joint features ``phi``, with noise scale ``scale``:
    ``P ← P − δ(α)/(1 + w) · (Pφ)(Pφ)ᵀ``, ``w = φᵀPφ``, ``α = gap / (scale √(1 + w))``
    (:func:`truncation_share`), so that ``φᵀPφ`` falls to ``w − δ w²/(1 + w)``: the
    predictive variance of the mean given only that the reading exceeds the bound.  Returns
    ``δ``.

    Examples
    --------
    >>> import numpy as np
    >>> P, phi = np.eye(2), np.array([1.0, 0.0])
    >>> d = censored_shrink(P, phi, -10.0, 1.0)   # far below: nothing learnt
    >>> bool(d < 1e-9), round(float(P[0, 0]), 9)
    (True, 1.0)
    >>> d = censored_shrink(P, phi, 0.0, 1.0)     # at the prediction: 2/pi of a reading's step
    >>> round(float(P[0, 0]), 4), float(P[1, 1])  # an exact reading leaves 0.5
    (0.6817, 1.0)
    """
    Pphi = P @ phi
    w = float(phi @ Pphi)
    if not (w > 0.0 and scale > 0.0):
        return 0.0
    delta = truncation_share(gap / (scale * math.sqrt(1.0 + w)))
    if delta > 0.0:
        P -= (delta / (1.0 + w)) * np.outer(Pphi, Pphi)
    return delta
