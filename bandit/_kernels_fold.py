"""The held rounds of a :class:`bandit.Tuner` told to :class:`~bandit.JointCB` in one compiled
call (:mod:`bandit._tuner_hold`): each round exactly as :meth:`bandit.JointCB.update`'s
one-call path tells it (:func:`bandit._kernels.joint_tell`), back to back on the warm model.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import joint_tell

__all__ = ["joint_tell_rounds", "fold_rounds"]


@njit(cache=True)
def joint_tell_rounds(cs, arms, ys, censored, converged, costs, mid, scale, kind, m, P, theta,
                      X, info, clip, sq_err, t, forgotten, detect, cusum_up,
                      cusum_down, cap, drift, limit, counts, converged_counts, cost_sums):
    """Rounds ``j = 0, 1, …`` told in turn as :func:`bandit._kernels.joint_tell` tells one,
    each with the noise scale of the rounds before it, ``σ̂ = sqrt((sq_err + 0.1)/(t + j −
    forgotten + 1))`` (``clip`` = the Huber bound's multiple of it), its fed squared error
    added to ``sq_err``, until the change test's
    CUSUM passes ``limit`` (``detect``): that round is the last told.  Returns ``(rounds
    told, sq_err, cusum_up, cusum_down)``; the caller forgets on an alarm (the last round's
    CUSUMs beyond ``limit``) and goes on with the rest."""
    n = cs.size
    for j in range(n):
        sigma = np.sqrt((sq_err + 0.1) / (t + j - forgotten + 1.0))
        e, up, down = joint_tell(cs[j], mid, scale, kind, m, P, theta, X, arms[j], ys[j],
                                 censored[j], clip * sigma, info, sigma, detect, cusum_up,
                                 cusum_down, cap, drift, counts, converged_counts, cost_sums,
                                 costs[j], converged[j])
        sq_err += e
        if detect:
            cusum_up, cusum_down = up, down
            if up > limit or down > limit:
                return j + 1, sq_err, cusum_up, cusum_down
    return n, sq_err, cusum_up, cusum_down


def _one_call(policy, row):
    """Whether :meth:`bandit.JointCB.update` would tell ``row`` on its one-call path, whose
    numbers :func:`joint_tell_rounds` computes (its conditions, as there), and the policy has
    nothing that path leaves to Python between rounds (the prior's shared error)."""
    arm, cost, context, censored, converged = row
    fast = policy.features._fast
    return (type(context) is float and fast is not None and fast[0] <= context <= fast[1]
            and policy.one_call and policy.auto_span is None
            and policy.target != "cost"
            and type(arm) is int and 0 <= arm < policy.n_arms
            and type(cost) is float and 0.0 <= cost < math.inf
            and type(censored) is bool and (converged is None or type(converged) is bool)
            and policy._auto_kept is None and not (censored and converged)
            and not math.isnan(policy.unit) and policy.prior_dir is None)


def fold_rounds(policy, pending):
    """Tell ``policy`` (a :class:`~bandit.JointCB`) the rounds of ``pending`` (a list of
    ``(arm, cost, context, censored, converged)``, removed as they are told) in order: the
    longest run of them :meth:`~bandit.JointCB.update` would tell on its one-call path in one
    compiled call, a detected change forgotten at its round, every other round through
    ``update`` — the same numbers as ``update`` round by round, bit for bit."""
    from .joint import _CLIP, _FLOOR

    while pending:
        run = 0
        while run < len(pending) and _one_call(policy, pending[run]):
            run += 1
        if run < 2:  # (one round: update itself, as cheap)
            policy.update(*pending[0])
            del pending[0]
            continue
        rows = pending[:run]
        fast = policy.features._fast
        unit = policy.unit
        cs = np.array([r[2] for r in rows])
        arms = np.array([r[0] for r in rows], dtype=np.int64)
        costs = np.array([r[1] for r in rows])
        ys = np.array([math.log(r[1] / unit + _FLOOR) for r in rows])
        cens = np.array([r[3] for r in rows], dtype=np.bool_)
        conv = np.array([(not r[3]) if r[4] is None else r[4] for r in rows], dtype=np.bool_)
        info = policy._info
        if info is None:
            info = policy._info = np.zeros(2)
        detect = policy.detect_changes
        told, sq_err, up, down = joint_tell_rounds(
            cs, arms, ys, cens, conv, costs, fast[2], fast[3], fast[4], fast[5], policy.P,
            policy.theta, policy._X, info, _CLIP, policy.sq_err, float(policy.t),
            policy.forgotten, detect,
            policy.cusum_up, policy.cusum_down, policy.CHANGE_CAP, policy.CHANGE_DRIFT,
            policy.CHANGE_LIMIT, policy.counts, policy.converged_counts, policy.cost_sums)
        policy.sq_err = sq_err
        policy.p = None
        last = rows[told - 1][2]
        policy._key = last
        if policy.features._key != last:  # the feature map's cache, as update leaves it
            policy.features(last)
        policy.t += told - 1
        if detect:
            policy.cusum_up, policy.cusum_down = up, down
            if up > policy.CHANGE_LIMIT or down > policy.CHANGE_LIMIT:
                policy.changes += 1
                policy._forget(policy.CHANGE_KEEP)
        policy.t += 1
        del pending[:told]
