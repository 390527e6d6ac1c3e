"""A rival family's evidence is local in context: :class:`bandit.JointCB`'s re-try of a family
where the context has moved far from every round it was played in
(:attr:`~bandit.JointCB.local_tries`, off by default; ``docs/studies/unseen.md``).

The joint model predicts a family's log-cost at every context from its rounds and the
coefficients all arms share.  A family played once, at one end of the context range, and
stopped there by the guard (a censored cost: a lower bound, fed as ``max(bound, prediction)``)
keeps the level that one round gave it and the *trend* of the families that were played: on a
sequence where two families' costs move opposite ways with the context (IC(0)-CG against
SSOR-PCG on the anisotropic diffusion sweep), it is predicted dear at the other end, where it
wins, and the draw never reaches it again.  Here a family's prediction at a context far from
all its rounds is taken as what it is, an extrapolation: its gap to the leader's prediction is
weighed by the try gate's rule (:func:`bandit._kernels.try_pays`, the allowance of a first
try) with a spread widened by how far the problem moved between the family's nearest round
and here, by the leader's own predicted log-cost (the family's gap may move as much: a
family 40 % dearer where it was seen may win where the leader has grown 60 % dearer; one
20 times dearer is not re-tried).  A first version widened the spread by the gap itself times
the distance in spans: scale-free, so it re-tried AMG (set-up and all) as readily as a close
rival, and cost 10 % on the heat sequence.  A budget bounds what the rule can cost: one re-try
per family per region (a family counts as seen within half the learnt span of any of its
rounds, the re-try's round included) and :attr:`LocalTries.LOCAL_BUDGET` re-tries per family
in all.  Only scalar contexts and a model of the log-cost take the rule.

Functions over the learner (called from two hooks in ``JointCB.select`` and one in
``JointCB.update``); the state they keep is the learner's own attributes ``_local_seen``
(each family's contexts and gaps) and ``_local_used`` (each family's re-tries).
"""
from __future__ import annotations

import math

import numpy as np

from ._kernels import try_pays
from .smooth import family_positions

#: A family counts as seen at a context within this fraction of the learnt context span
#: of one of its rounds.
LOCAL_REACH = 0.5
#: Re-tries per family in a run (beyond its rounds drawn by the model itself).
LOCAL_BUDGET = 2


def _scalar(context):
    """The context as a float when it is one number, else None (the rule is inert)."""
    if isinstance(context, (float, int, np.floating, np.integer)) and not isinstance(
            context, bool):
        return float(context)
    arr = np.asarray(context, dtype=float) if context is not None else None
    if arr is not None and arr.size == 1:
        return float(arr.reshape(-1)[0])
    return None


def _state(policy):
    seen = policy.__dict__.get("_local_seen")
    if seen is None:
        seen = policy._local_seen = {"ctx": [math.inf, -math.inf, 0], "gap": {}, "where": {},
                                     "family": family_positions(policy.arms)[0]}
        policy._local_used = {}
    return seen


def note_local(policy, arm, cost, context, censored):
    """Before ``policy``'s update: record the round's context and, for a round of another
    family than the leader's, the log-cost gap it showed against the leader's prediction
    (a censored cost as the model takes it, ``max(bound, prediction)``)."""
    c = _scalar(context)
    if c is None or policy.models_cost or policy._mu is None:
        return
    seen = _state(policy)
    lo_hi = seen["ctx"]  # the least and largest context seen, and the rounds
    lo_hi[0], lo_hi[1], lo_hi[2] = min(lo_hi[0], c), max(lo_hi[1], c), lo_hi[2] + 1
    family = seen["family"]
    f = int(family[arm])
    seen["where"].setdefault(f, []).append(c)
    memo = policy._mu_of
    lead = -1  # the leader of this round's draw (none: an update without a draw here)
    if memo is not None and memo[2] is not None and memo[1] == policy.t and memo[0] == c:
        lead = memo[2]
    if lead < 0 or family[lead] == f or not (math.isfinite(cost) and cost >= 0.0):
        return
    mu = policy._mu
    y = math.log(cost / policy.unit + 1e-2)
    if censored:
        y = max(y, float(mu[arm]))
    seen["gap"].setdefault(f, []).append(y - float(mu[lead]))


def local_try(policy, k, context):
    """The arm ``policy`` plays after its draw ``k`` at ``context``: ``k``, unless ``k`` is of
    the leader's family and a rival family not seen near ``context`` (:data:`LOCAL_REACH` of
    the learnt span), within its budget, is worth a re-try by the gate's rule with a spread
    widened by the leader's predicted log-cost change between that family's nearest round and
    ``context``; then that family's arm of least predicted log-cost (of such families, the one
    of least predicted gap)."""
    c = _scalar(context)
    seen = policy.__dict__.get("_local_seen")
    memo = policy._mu_of
    if (c is None or seen is None or memo is None or memo[2] is None or memo[2] < 0
            or policy.models_cost or seen["ctx"][2] < 2):
        return k
    lead = int(memo[2])
    family = seen["family"]
    fl = family[lead]
    if family[k] != fl:
        return k  # the draw already weighs a rival (the try gate)
    ctx = seen["ctx"]
    if len(seen["where"]) < 2:
        return k  # one family played: no rival to re-try
    span = ctx[1] - ctx[0]
    if not span > 0.0:
        return k
    mu = policy._mu
    psi = policy._query(context)
    P = policy.P
    X = policy._X
    sigma = policy._scale()

    def width(j):
        phi = np.outer(psi, X[j]).ravel()
        return float(phi @ P @ phi)

    wl = width(lead)
    evidence = 1.0 / wl if wl > 0.0 else math.inf
    allow = float(policy._try_spec[1][1]) if policy._try_spec is not None else 1.0
    used = policy._local_used
    here = float(mu[lead])
    best = None
    for f, where in seen["where"].items():
        if f == fl or used.get(f, 0) >= LOCAL_BUDGET or f not in seen["gap"]:
            continue
        near = min(where, key=lambda x: abs(c - x))
        if abs(c - near) < LOCAL_REACH * span:
            continue
        members = np.flatnonzero(family == f)
        j = int(members[np.argmin(mu[members])])
        gap = float(mu[j] - mu[lead])
        # how far the problem moved between the family's nearest round and here, by the
        # leader's own predicted log-cost: the family's gap may move as much
        psi_near = policy.features(near)
        moved = abs(here - float(np.outer(psi_near, X[lead]).ravel() @ policy.theta))
        policy._query(context)  # (the feature map's cache back at this round's context)
        spread = math.sqrt(sigma * sigma * (width(j) + wl) + moved * moved)
        if try_pays(gap, spread, evidence, allow) and (best is None or gap < best[0]):
            best = (gap, j, f)
    if best is None:
        return k
    used[best[2]] = used.get(best[2], 0) + 1
    policy.local_retries = getattr(policy, "local_retries", 0) + 1
    return best[1]
