"""Replay a policy over a precomputed cost matrix (experiments with deterministic costs)."""
from __future__ import annotations

import numpy as np

from ._base import Policy

__all__ = ["simulate"]


def simulate(policy: Policy, costs, contexts=None, *, cap=None) -> np.ndarray:
    """Run ``policy`` for ``T`` rounds on ``C[t, k]`` and return the arms it played.

    Parameters
    ----------
    policy : Policy
        Any policy; it is updated in place (pass a fresh one per trial).
    costs : array_like, shape (T, K)
        Cost of every arm on every instance (minimised), ``K == policy.n_arms``; ``inf`` (or
        NaN) where the arm fails on that instance (an audit's record of a diverged solve).
    contexts : array_like, shape (T,) or (T, d), optional
        Context of each round; required for a policy that needs one (a learner that works
        with or without one, such as :class:`bandit.JointCB`, runs without), else ignored.
    cap : float or array_like of shape (T,), optional
        Censoring cap: a cost above it is reported as ``cap`` with ``censored=True`` and
        ``converged=False`` (what a solve stopped at ``maxiter = cap`` would report); a failure
        is reported the same way, as a :class:`bandit.Tuner` charges a failed arm ``maxiter``.
        Required when ``costs`` has failures.

    Returns
    -------
    ndarray of int, shape (T,)
        Arm index played at each round; score it with :func:`bandit.regret`.

    Examples
    --------
    >>> from bandit import FixedArm
    >>> simulate(FixedArm([1.0, 1.5], arm=1), [[3, 2], [4, 1]]).tolist()
    [1, 1]
    >>> p = FixedArm([1.0, 1.5], arm=1)
    >>> simulate(p, [[3, np.inf]], cap=100).tolist(), p.cost_sums.tolist(), p.leader()[0]
    ([1], [0.0, 100.0], None)
    """
    C = np.asarray(costs, dtype=float)
    if C.ndim != 2 or C.shape[1] != policy.n_arms:
        raise ValueError(f"costs must have shape (T, {policy.n_arms}), got {C.shape}")
    T = C.shape[0]
    if contexts is None:
        # the policy itself says whether it needs a context: a learner that also works
        # without one (JointCB, the default learner) had been refused for its class flag
        ctx = [None] * T
    else:
        ctx = np.asarray(contexts, dtype=float)
        if ctx.shape[0] != T:
            raise ValueError(f"contexts has {ctx.shape[0]} rows, costs has {T}")
    if cap is None and not np.isfinite(C).all():
        raise ValueError("costs has non-finite entries (arms that failed): pass cap=..., the "
                         "cost a failure is reported as (a Tuner reports maxiter)")
    caps = np.broadcast_to(np.inf if cap is None else np.asarray(cap, dtype=float), (T,))
    arms = np.empty(T, dtype=np.int64)
    select, update = policy.select, policy.update
    for t in range(T):
        c = ctx[t]
        try:
            k = select(c)
        except ValueError as exc:
            if contexts is None and t == 0 and policy.contextual:  # (a refused draw
                # changes nothing) said in simulate's terms
                raise ValueError(f"{type(policy).__name__} needs a context every round: pass "
                                 f"contexts, shape (T,) or (T, d) ({exc})") from None
            raise
        cost = C[t, k]
        if not cost <= caps[t]:  # capped, or failed (inf, NaN)
            update(k, caps[t], c, True, False)
        else:
            update(k, cost, c)
        arms[t] = k
    return arms
