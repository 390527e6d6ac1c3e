"""The stopping rule of a :class:`bandit.Tuner`'s solves: the constructor's ``rtol``/``atol``
and a solve's own (``Tuner.solve(A, b, rtol=..., atol=...)``, e.g. an inexact Newton
method's forcing term), checked by the same rules and used by every run of that solve —
attempt, fallbacks, last resort and audits — so that the costs compared within a round are
costs of one stopping rule."""
from __future__ import annotations

import math

from solvers._checks import check_rtol_below_one

from ._tuner_checks import _number


def check_tuner_tolerances(rtol, atol) -> tuple[float, float]:
    """``(rtol, atol)`` as floats, or ``ValueError`` naming the one refused: both finite and
    >= 0, ``rtol`` below 1 (:func:`solvers._checks.check_rtol_below_one`), not both 0 (the
    Tuner's constructor and :meth:`bandit.Tuner.solve` alike)."""
    rtol, atol = _number(rtol, "rtol"), _number(atol, "atol")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not 0.0 <= v < math.inf:  # NaN fails too
            raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
    check_rtol_below_one(rtol)
    if rtol == 0.0 and atol == 0.0:
        raise ValueError("rtol and atol cannot both be 0: the stopping rule could never hold")
    return rtol, atol


class ToleranceSteps:
    """A solve's own stopping rule (:meth:`bandit.Tuner.solve`'s ``rtol``/``atol``)."""

    #: ``(rtol, atol)`` of the solve in progress when it is not the Tuner's own; None: the
    #: Tuner's (set by every solve before its draw, under the tuner's lock)
    _tol = None

    def _solve_tolerance(self, rtol, atol):
        """The stopping rule a solve asks for: None for the Tuner's own (``rtol`` and ``atol``
        None, or equal to it), else the checked ``(rtol, atol)`` — one left None is the
        Tuner's.  Raises ``ValueError`` as the constructor does, before anything changes."""
        if rtol is None and atol is None:
            return None
        tol = check_tuner_tolerances(self._rtol if rtol is None else rtol,
                                     self._atol if atol is None else atol)
        return None if tol == (self._rtol, self._atol) else tol

    @property
    def _round_tol(self) -> tuple[float, float]:
        """``(rtol, atol)`` of the solve in progress (the last solve's between solves)."""
        tol = self._tol
        return (self._rtol, self._atol) if tol is None else tol
