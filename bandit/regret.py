"""Regret of a run against the best fixed arm and the per-round (instance-optimal) minimum."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Regret", "regret", "regret_of_costs", "best_fixed_arm"]


class Regret(NamedTuple):
    """Cumulative regret curves (length ``T``; the last entry is the total)."""

    #: ``cumsum_t (C[t, k_t] - C[t, k*])`` with ``k*`` the best fixed arm over the whole run.
    best_fixed: np.ndarray
    #: ``cumsum_t (C[t, k_t] - min_k C[t, k])``.
    instance_optimal: np.ndarray


def _check(costs, arms):
    C = np.asarray(costs, dtype=float)
    if C.ndim != 2 or C.shape[0] == 0 or C.shape[1] == 0:
        raise ValueError(f"costs must be a non-empty 2-D matrix C[t, k], got shape {C.shape}")
    if not np.all(np.isfinite(C)):
        raise ValueError("costs contain NaN or inf")
    k = np.asarray(arms)
    if k.shape != (C.shape[0],) or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"arms must be {C.shape[0]} integer indices, got {k.dtype} {k.shape}")
    if k.min() < 0 or k.max() >= C.shape[1]:
        raise ValueError(f"arm index outside 0..{C.shape[1] - 1}")
    return C, k


def best_fixed_arm(costs) -> int:
    """Column of ``C[t, k]`` with the least total cost (first one on ties).

    Examples
    --------
    >>> best_fixed_arm([[3, 1], [1, 5]])
    0
    """
    return int(np.argmin(np.asarray(costs, dtype=float).sum(axis=0)))


def regret(costs, arms) -> Regret:
    """Cumulative regret of the arm sequence ``arms`` on a full cost matrix (costs minimised).

    Parameters
    ----------
    costs : array_like, shape (T, K)
        ``C[t, k]``: cost of arm ``k`` on instance ``t``.
    arms : array_like of int, shape (T,)
        Arm played at each round.

    Returns
    -------
    Regret
        ``best_fixed[-1] = Σ_t C[t, k_t] − min_k Σ_t C[t, k]`` and
        ``instance_optimal[-1] = Σ_t C[t, k_t] − Σ_t min_k C[t, k]``; the curves
        are the running sums of the per-round differences against the same comparators.

    Examples
    --------
    >>> r = regret([[3, 1], [1, 5], [2, 2]], [1, 1, 0])
    >>> [r.best_fixed.tolist(), r.instance_optimal.tolist()]
    [[-2.0, 2.0, 2.0], [0.0, 4.0, 4.0]]
    """
    C, k = _check(costs, arms)
    return regret_of_costs(C[np.arange(C.shape[0]), k], C)


def regret_of_costs(paid, costs) -> Regret:
    """Cumulative regret of the per-round costs ``paid`` of any method (a learner, a fixed
    rule, plain CG...) against the best fixed column of ``costs`` and its per-round minimum.

    Stacks of runs work alike: ``paid`` of shape ``(..., T)`` against ``costs`` of shape
    ``(..., T, K)``, each run with its own best fixed column.  For a method that plays the
    columns of ``costs`` this is :func:`regret`.

    Examples
    --------
    >>> r = regret_of_costs([1., 1., 2.], [[3, 1], [1, 5], [2, 2]])
    >>> r.best_fixed.tolist(), r.instance_optimal.tolist()
    ([-2.0, -2.0, -2.0], [0.0, 0.0, 0.0])
    """
    C = np.asarray(costs, dtype=float)
    paid = np.asarray(paid, dtype=float)
    best = np.argmin(C.sum(axis=-2), axis=-1)  # first one on ties, as best_fixed_arm
    best_col = np.take_along_axis(C, best[..., None, None], axis=-1)[..., 0]
    return Regret(np.cumsum(paid - best_col, axis=-1), np.cumsum(paid - C.min(axis=-1), axis=-1))
