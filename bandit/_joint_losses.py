"""A rival family's lost tries charged together (:attr:`bandit.JointCB.gate_losses`, off by
default; measured in ``docs/studies/precond.md``).

The try gate (:attr:`bandit.JointCB.try_gate`) weighs each try of a rival family alone: its
expected saving per solve times the leader's evidence at the context must reach what a try
that loses may cost (its allowance, in leader's solves).  A family that loses is weighed
again, at the next context where the model's band around it is wide — on a sweep that
comes back to its stiff end, at each new end of the range — and each of those tries is
charged as if it were the family's only one.  What the family could save is one thing,
though, and every try of it is a search for the same saving: the tries of a family are
bounded together by what it could save.  With this rule a rival family whose last ``L``
tries all lost (a try loses when the guard stopped it, it did not converge, or its cost was
above the leader's predicted cost of its round) is tried again only when the gate's value
of the try covers those ``L`` tries as well: ``saving × evidence ≥ (L + 1) × allowance``.  A
try that saves (converged below the leader's prediction) clears its family's count; a
family never tried, or whose last try saved, is weighed as the gate weighs it.  With
:attr:`bandit.JointCB.gate_pick` the rival weighed is the one of greatest value by these
charged terms.

The gate itself runs inside the draw's compiled call; this rule is a second, stricter check
after it, only on the rounds whose draw plays a rival (a few a run), in one compiled call
(:func:`charged_arm`).  The counts are the learner's attribute ``_lost_tries`` (per family;
pickled with the learner, not in a saved state file: a learner loaded from a file starts
them at 0).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._kernels import _argmin_first, _gate_value, joint_scores


@njit(cache=True)
def charged_arm(k, lead, theta, P, psi, X, mu, score, sigma, family, allow, converged,
                near_mask, lost, pick):
    """The arm a round plays when its gated draw played ``k``, a rival of the leader
    ``lead``'s family, with each rival family's lost tries charged: ``k`` (or, with ``pick``,
    the rival arm of greatest ``gain / ((lost[f] + 1) allowance)``, ``k`` on a tie) when that
    value reaches 1, else the least score among the leader's family next to that family's
    predicted best (``near_mask``), as the gate's own decline.  The widths are recomputed
    from the model (``sqrt(φᵀPφ)``), so a capped score does not enter them."""
    K = mu.size
    m1 = np.empty(K)
    wide = np.empty(K)
    joint_scores(theta, P, psi, X, 1.0, m1, wide)
    for j in range(K):
        wide[j] = m1[j] - wide[j]
    proven = np.zeros(family.max() + 1, dtype=np.bool_)
    for j in range(K):
        if converged[j] > 0:
            proven[family[j]] = True
    fl = family[lead]
    none = np.empty(0)
    g, a = _gate_value(k, lead, mu, wide, sigma, none, proven[family[k]], allow)
    best, value = k, g / (a * (lost[family[k]] + 1.0))
    if pick:
        for j in range(K):
            if family[j] == fl or j == k:
                continue
            g, a = _gate_value(j, lead, mu, wide, sigma, none, proven[family[j]], allow)
            v = g / (a * (lost[family[j]] + 1.0))
            if v > value or value != value:
                best, value = j, v
    if value >= 1.0:
        return best
    mask = np.empty(K, dtype=np.bool_)
    for j in range(K):
        mask[j] = family[j] == fl
    if near_mask.size:
        near = near_mask[_argmin_first(mu, mask)]
        for j in range(K):
            mask[j] = mask[j] and near[j]
    return _argmin_first(score, mask)


def load():
    """Run :func:`charged_arm` once on a hand-made model of three arms: its compiled code,
    which a process otherwise loads at the first rival draw — inside a timed solve, some
    milliseconds once — is loaded when the option is switched on (the types of a learner's
    own call: int64 counts, a Boolean neighbour mask, float64 arrays, the context's
    features read-only as the feature map hands them out)."""
    family = np.array([0, 1, 2], dtype=np.int64)
    eye = np.eye(3)
    mu, score = np.zeros(3), np.zeros(3)
    psi = np.ones(1)
    psi.flags.writeable = False
    for near in (np.empty((0, 0), dtype=np.bool_), np.ones((3, 3), dtype=np.bool_)):
        charged_arm(2, 0, np.zeros(3), eye, psi, eye, mu, score, 0.2, family,
                    np.array([1.5, 1.0]), np.array([1, 0, 0], dtype=np.int64), near,
                    np.zeros(3), True)


def _lost(policy):
    v = policy.__dict__.get("_lost_tries")
    if v is None:
        v = policy._lost_tries = np.zeros(int(policy._gate_family.max()) + 1)
    return v


def check(policy, k, context):
    """After the draw (``k``): the arm to play with lost tries charged; notes a rival's try
    for :func:`note`.  Inert without the gate's families, without a leader, or when ``k`` is
    of the leader's family."""
    policy.__dict__.pop("_pending_try", None)
    family = policy._gate_family
    memo = policy._mu_of
    if (not family.size or memo is None or memo[2] is None or memo[2] < 0
            or policy.exploration != "lcb" or policy.models_cost or policy.smears):
        return k  # (the gate weighs no try in these draws)
    lead = memo[2]
    if family[k] == family[lead]:
        return k
    lost = _lost(policy)
    sigma = policy._scale()
    psi = policy.features(context)  # (read-only: the type load() compiled for)
    if psi.dtype != np.float64 or not psi.flags.c_contiguous or psi.flags.writeable:
        psi = np.ascontiguousarray(psi, dtype=np.float64)
        psi.flags.writeable = False
    k = int(charged_arm(k, lead, policy.theta, policy.P, psi, policy._X, policy._mu,
                        policy._score, sigma, family, policy._gate_allow,
                        policy.converged_counts, policy._near_mask, lost, policy._gate_pick))
    if family[k] != family[lead]:
        policy._pending_try = (k, float(policy._cost(policy._mu[lead])))
    return k


def note(policy, arm, cost, censored, converged):
    """Before the model is told a round: when it is the rival's try :func:`check` noted,
    count it lost (stopped, not converged, or dearer than the leader's predicted cost) or
    clear its family's count (it saved)."""
    pending = policy.__dict__.pop("_pending_try", None)
    if pending is None or pending[0] != arm:
        return
    f = policy._gate_family[arm]
    ok = (not censored) and (converged is None or bool(converged))
    lost = _lost(policy)
    if ok and math.isfinite(pending[1]) and float(cost) < pending[1]:
        lost[f] = 0.0
    else:
        lost[f] += 1.0
