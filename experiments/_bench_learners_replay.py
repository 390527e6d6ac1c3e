"""The guarded replay of ``relaxtune bench learners`` (part of :mod:`experiments.bench_learners`,
importable from there): a policy played over a cost matrix as a guarded :class:`bandit.Tuner`
would."""
from __future__ import annotations

import math

import numpy as np

from ._bench_learners_costs import MAXITER


GUARD = 3.0


def replay(policy, C, ok, contexts=None, *, guard=GUARD, maxiter=MAXITER):
    """Play ``policy`` over the cost matrix as a guarded :class:`bandit.Tuner` would.

    Parameters
    ----------
    policy : bandit.Policy
        Updated in place.
    C, ok : ndarray, shape (T, K)
        Iterations and convergence of every arm on every system (``C = maxiter`` where not
        converged).
    contexts : array_like, shape (T,) or (T, d), optional
        Passed to ``select``/``leader``/``update`` (``None``: no context).
    guard : float or None
        Budget factor of an exploratory arm (see the module notes).

    Returns
    -------
    (ndarray, ndarray)
        Iterations paid per round (attempt plus fallback) and the arm the policy chose.

    Examples
    --------
    >>> from bandit import FixedArm
    >>> C = np.array([[10, 40], [10, 40]]); ok = np.ones_like(C, bool)
    >>> paid, arms = replay(FixedArm([1.0, 1.5], arm=1), C, ok)
    >>> paid.tolist(), arms.tolist()
    ([40.0, 40.0], [1, 1])
    """
    C = np.asarray(C)
    T = C.shape[0]
    paid = np.zeros(T)
    arms = np.zeros(T, dtype=np.int64)
    select, update, leader = policy.select, policy.update, policy.leader
    round_cost = bool(policy.report_round_cost)
    for t in range(T):
        c = None if contexts is None else contexts[t]
        k = select(c)
        lead, pred = leader(c)
        arms[t] = k
        budget = maxiter
        if guard is not None and lead is not None and lead != k and math.isfinite(pred):
            budget = int(min(maxiter, max(1, math.ceil(guard * pred))))
        cost = int(C[t, k])
        if ok[t, k] and cost <= budget:
            paid[t] = cost
            update(k, float(cost), c)
            continue
        if lead is None or lead == k:  # nothing to fall back to
            paid[t] = budget
            update(k, float(budget), c, True)
            continue
        done = budget / cost if ok[t, k] else 0.0
        rest = math.ceil(C[t, lead] * max(0.0, 1.0 - done))
        paid[t] = budget + rest
        if round_cost:
            update(k, float(paid[t]), c)
        else:
            update(k, float(budget), c, True)
    return paid, arms
