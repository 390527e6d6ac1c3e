"""A rival family re-tried where its evidence does not reach (:attr:`bandit.JointCB.
context_retries`, off by default; measured in ``docs/studies/precond.md``).

The joint model predicts a family's log-cost at a context from the family's own rounds and
the coefficients all arms share, so a family played once, at one end of the context range,
is predicted at the other end by *the leader's* trend: on a sequence where two families'
costs move opposite ways with the context (IC(0)-CG against SSOR-PCG on the anisotropic
diffusion sweep) it is predicted dear where it wins, and never drawn there.  That trend is not
the family's own.  Where the context is farther than :data:`REACH` of the learnt span from
every round of a rival family, the family is re-tried when

* its predicted cost at its nearest round (where its own reading holds it), kept without a
  trend, is below the leader's predicted cost here: only the shared trend says it loses
  here; and
* the try pays by the try gate's rule (:func:`bandit._kernels.try_pays`, the allowance of a
  first try) with the spread of its predicted gap widened by how much the leader's own
  predicted log-cost moved between that round and here (the family's gap may have moved as
  much);

its arm of least predicted log-cost is played (of several such families, the one of least
predicted gap), at most :data:`BUDGET` re-tries per family in a run, one per region (the
re-try's round counts as a round of the family there).

A re-try the guard stops (a censored cost) says the rival is dear there and nothing about the
leader: it is told *held*, its bound (target ``max(bound, μ)``) moving the rival's prediction
as one observation would, in coefficients that move no prediction of the leader's family
(``JointCB._shift_rival``), the model's covariance, noise scale and round count left as they
were.  (Told as any round, as an earlier rule of this kind told them, a stopped try moves the
shared coefficients and the leader's choice of ω with them.)  A re-try that converges is told
as any round: it is what the rule looks for.

Scalar contexts and a model of the log-cost only.  Functions over the learner, called from
``JointCB.select`` (after the draw) and ``JointCB.update`` (before the model is told); their
state is the learner's attribute ``_retry_state``.
"""
from __future__ import annotations

import bisect
import math

import numpy as np

from ._kernels import try_pays
from .smooth import family_positions

#: A family counts as seen at a context within this fraction of the learnt context span of
#: one of its rounds.
REACH = 0.5
#: Re-tries per family in a run.
BUDGET = 2
#: A family's round's context is kept unless one kept is within this fraction
#: of the reach.
KEEP = 0.125


def _scalar(context):
    """The context as a float when it is one number, else None (the rule is inert)."""
    if type(context) is float:
        return context
    if isinstance(context, (int, np.floating, np.integer)) and not isinstance(context, bool):
        return float(context)
    return None


def _state(policy):
    st = policy.__dict__.get("_retry_state")
    if st is None:
        family = family_positions(policy.arms)[0]
        st = policy._retry_state = {
            "lo": math.inf, "hi": -math.inf, "family": family,
            # per family: the sorted contexts of its rounds (the leader's family too: a
            # rival family may lead later)
            "where": [[] for _ in range(int(family.max()) + 1)],
            "used": [0] * (int(family.max()) + 1), "pending": -1, "retries": 0}
    return st


def note(policy, arm, context, censored):
    """Before ``policy``'s update of ``arm`` at ``context``: record the round's context for its
    family; True when the round is a re-try the guard stopped (``censored``), which the
    caller tells held (:func:`tell_held`) instead of as a round."""
    c = _scalar(context)
    if c is None or not (isinstance(arm, (int, np.integer)) and 0 <= arm < policy.n_arms):
        return False  # (a bad arm: refused by the update's own checks)
    st = _state(policy)
    if c < st["lo"]:
        st["lo"] = c
    if c > st["hi"]:
        st["hi"] = c
    f = int(st["family"][arm])
    where = st["where"][f]
    # a round next to one kept adds nothing to how far a context is from the family (and a
    # family played every round keeps a list that does not grow with the run)
    if not where or _far(where, c, KEEP * REACH * (st["hi"] - st["lo"])):
        bisect.insort(where, c)
    pending, st["pending"] = st["pending"], -1
    return censored and pending == arm and not policy.models_cost


def _far(where, c, reach):
    """Whether ``c`` is farther than ``reach`` from every entry of the sorted ``where`` (which
    is not empty)."""
    i = bisect.bisect_left(where, c)
    if i < len(where) and where[i] - c < reach:
        return False
    return not (i > 0 and c - where[i - 1] < reach)


def retry(policy, k, context):
    """The arm ``policy`` plays after its draw ``k`` at ``context``: ``k``, unless ``k`` is of the
    leader's family and a rival family played before, far from ``context`` (:data:`REACH`)
    and within its budget, is worth a re-try by the gate's rule with its spread widened by
    the leader's predicted log-cost move between the family's nearest round and here; then
    that family's arm of least predicted log-cost (of several such families, the one of
    least predicted gap)."""
    st = policy.__dict__.get("_retry_state")
    c = _scalar(context)
    if st is None or c is None:
        return k
    memo = policy._mu_of
    if memo is None or memo[2] is None or memo[2] < 0 or policy.models_cost:
        return k
    lead = int(memo[2])
    family = st["family"]
    fl = family[lead]
    if family[k] != fl:
        return k  # the draw already weighs a rival (the try gate)
    reach = REACH * (st["hi"] - st["lo"])
    if not reach > 0.0:
        return k
    used, where = st["used"], st["where"]
    todo = [f for f in range(len(where))
            if f != fl and where[f] and used[f] < BUDGET and _far(where[f], c, reach)]
    if not todo:
        return k
    mu = policy._mu
    psi = policy._query(context)
    P, X, theta = policy.P, policy._X, policy.theta
    sigma = policy._scale()

    def width(j):
        phi = np.outer(psi, X[j]).ravel()
        return float(phi @ P @ phi)

    wl = width(lead)
    evidence = 1.0 / wl if wl > 0.0 else math.inf
    allow = float(policy._try_spec[1][1]) if policy._try_spec is not None else 1.0
    here = float(mu[lead])
    best = None
    for f in todo:
        fw = where[f]
        i = bisect.bisect_left(fw, c)
        near = min(fw[max(i - 1, 0):i + 1], key=lambda x: abs(c - x))
        members = np.flatnonzero(family == f)
        j = int(members[np.argmin(mu[members])])
        psi_near = policy.features(near)
        if not here > float(np.outer(psi_near, X[j]).ravel() @ theta):
            continue  # kept at its predicted cost there, the family would lose here too
        gap = float(mu[j] - mu[lead])
        # the leader's own predicted log-cost between the family's nearest round and here:
        # the family's gap may have moved as much
        moved = here - float(np.outer(psi_near, X[lead]).ravel() @ theta)
        spread = math.sqrt(sigma * sigma * (width(j) + wl) + moved * moved)
        if try_pays(gap, spread, evidence, allow) and (best is None or gap < best[0]):
            best = (gap, j, f)
    policy._query(context)  # (the feature map's cache back at this round's context)
    if best is None:
        return k
    used[best[2]] += 1
    st["pending"] = best[1]
    st["retries"] += 1
    return best[1]


def tell_held(policy, arm, cost, context):
    """Tell a censored re-try of ``arm`` at ``context`` held: its counts, and its bound raising
    its prediction there (target ``max(bound, μ)``) without moving any prediction of the
    leader's family (the leader of the round's draw); ``P``, ``σ̂``, the change test and the
    round count ``t`` as they were."""
    policy.counts[arm] += 1
    policy.cost_sums[arm] += cost
    memo = policy._mu_of
    if memo is None or memo[2] is None or memo[2] < 0 or not cost > 0.0:
        return
    family = _state(policy)["family"]
    held = np.flatnonzero(family == family[int(memo[2])])
    psi = policy._query(context)
    phi = np.outer(psi, policy._X[arm]).ravel()
    target = max(math.log(cost / policy.unit + 1e-2), float(policy.theta @ phi))
    policy._shift_rival(arm, psi, held, target)
    policy._mu_of = None
    policy.p = None
