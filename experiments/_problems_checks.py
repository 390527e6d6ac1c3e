"""Checks of the problem generators' arguments (:mod:`experiments.problems`): sizes, positive
numbers, and the state a user's ``solve`` returns."""
from __future__ import annotations

import numpy as np


def _integer(value, name: str, low: int) -> int:
    """``value`` as an int if it is an integer >= ``low`` (numpy integers and integral floats
    such as ``1e3`` too), else ``ValueError`` naming ``name``: never truncated silently."""
    ok = not isinstance(value, (bool, np.bool_))
    try:
        ok = ok and float(value) == int(value) and int(value) >= low
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _positive(value, name: str) -> float:
    """``value`` as a float if it is a finite real number > 0, else ``ValueError``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))
    if not (ok and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _finite(value, name: str) -> float:
    """``value`` as a float if it is a finite real number, else ``ValueError`` (a NaN angle
    had made a matrix of NaN, a string Python's own "could not convert")."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))
    if not (ok and np.isfinite(value)):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _state(out, n: int, where: str) -> np.ndarray:
    """The new state from what a user's ``solve`` returned (an array, or a result with
    ``x``), checked to be a solution of ``n`` entries."""
    x = getattr(out, "x", out)
    try:
        u = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        u = None
    if u is None or u.shape != (n,):
        what = f"shape {u.shape}" if u is not None else type(x).__name__
        raise ValueError(f"{where} {what}; expected a solution of {n} entries (an "
                         "array, or a result with .x such as a SolveResult)")
    return u
