"""A rival family's try where it has no reading, weighed by the solves ahead there
(:attr:`bandit.JointCB.region_tries`, off by default; measured in ``docs/studies/precond.md``).

The try gate (:attr:`bandit.JointCB.try_gate`) plays a rival family's arm when its expected
saving per solve times the *evidence* of the leader's prediction at the context (``1 / φᵀPφ``:
about the number of solves seen near it) reaches the try's allowance.  Where the context
sweeps a range, the leader's evidence at a context met for the first time is a fraction of a
solve, so no rival is tried there on the first sweep, and a family read once at one end of the
range is predicted at the other end by the leader's trend, which is not its own: a family
that wins only at the far end is never tried there (the anisotropic sweep, the cooling fin).

The evidence stands for the solves a saving would serve.  A try informs the family's
prediction over a neighbourhood of the context, and the solves it serves are those the run
will spend in that neighbourhood, not those it has spent there.  With this rule, for a rival
family none of whose rounds lies within :data:`REACH` of the context span (the model's
context range, :func:`_span`) of the context, the gate's evidence is at least the run's converged solves times the neighbourhood's
share of the span (``2 × REACH``, at most 1): the solves ahead there if the run goes on as
long as it has gone and its contexts spread evenly over the range seen.  The rest of the gate
is unchanged (its expected saving from the model's predicted gap and spread, the allowance of
a first try or of a proven family), so a family predicted clearly dearer is still not tried;
once the family has a round in the neighbourhood, the gate weighs it as before.  At most one
try per family and neighbourhood before it has a reading there, so a run pays at most about
``1 / REACH`` tries per family for the rule.

Scalar contexts only (another context leaves the gate as it was).  Functions over the learner,
called from ``JointCB.select`` (before the draw's compiled call, which reads the evidence
from the gate's ``allow[2:]``) and ``JointCB.update``; their state is the learner's attribute
``_region_state``.
"""
from __future__ import annotations

import bisect
import math

import numpy as np

from .smooth import family_positions

#: A family's round counts as a reading at contexts within this fraction of the learnt
#: context span of it (a quarter: the range falls into about four neighbourhoods).
REACH = 0.25
#: A round's context is kept for its family unless a kept one is within this fraction of the
#: reach (the list stays short whatever the run's length).
KEEP = 0.25


def _scalar(context):
    """The context as a float when it is one number, else None (the rule is inert)."""
    if type(context) is float:
        return context
    if isinstance(context, (int, np.floating, np.integer)) and not isinstance(context, bool):
        return float(context)
    return None


def _state(policy):
    st = policy.__dict__.get("_region_state")
    if st is None:
        family = family_positions(policy.arms)[0]
        F = int(family.max()) + 1
        st = policy._region_state = {
            "lo": math.inf, "hi": -math.inf, "family": family.tolist(),
            "where": [[] for _ in range(F)], "conv": 0.0}
    return st


def _span(policy, st, c):
    """The context span the neighbourhoods are counted in: the model's context range (which
    holds the range the learner was given, :mod:`bandit.features`) with every context seen
    and ``c``.  A range known from the start keeps the neighbourhoods of a first sweep as
    wide as later ones; learnt only from the contexts seen, a sweep into new contexts would
    meet a new neighbourhood at every step by a quarter of the span so far."""
    lo, hi = min(st["lo"], c), max(st["hi"], c)
    r = policy.features.range
    if r.dim == 1 and r.lo is not None:
        lo, hi = min(lo, float(r.lo[0])), max(hi, float(r.hi[0]))
    return hi - lo


def _near(where, c, reach):
    """Whether some entry of the sorted ``where`` is within ``reach`` of ``c``."""
    i = bisect.bisect_left(where, c)
    if i < len(where) and where[i] - c <= reach:
        return True
    return i > 0 and c - where[i - 1] <= reach


def note(policy, arm, context, converged):
    """After ``policy``'s update of ``arm`` at ``context``: keep the round's context for the
    arm's family (a stopped try is a reading too: the family was weighed there) and count a
    converged solve."""
    c = _scalar(context)
    if c is None or not (isinstance(arm, (int, np.integer)) and 0 <= arm < policy.n_arms):
        return
    st = _state(policy)
    if c < st["lo"]:
        st["lo"] = c
    if c > st["hi"]:
        st["hi"] = c
    if converged:
        st["conv"] += 1.0
    where = st["where"][st["family"][int(arm)]]
    if not where or not _near(where, c, KEEP * REACH * _span(policy, st, c)):
        bisect.insort(where, c)


def refresh(policy, context):
    """Before ``policy``'s gated draw at ``context``: raise ``allow[2 + k]`` (the evidence a
    try of arm ``k`` may count, :func:`bandit._kernels._gated_arm`) to the run's converged
    solves times ``min(1, 2 × REACH)`` for the arms of every family with no round within
    :data:`REACH` of the span (:func:`_span`) of ``context``; leave the others as the gate has them
    (0, or a first try's evidence with :attr:`~bandit.JointCB.first_try_run`)."""
    allow = policy._gate_allow
    st = policy.__dict__.get("_region_state")
    c = _scalar(context)
    if st is None or c is None or allow.size <= 2:
        return
    span = _span(policy, st, c)
    if not span > 0.0:
        return
    reach = REACH * span
    value = st["conv"] * min(1.0, 2.0 * REACH)
    where, family = st["where"], st["family"]
    # the first-try rule refreshed allow[2:] for this draw (else its entries are this
    # rule's own of the draw before)
    first = policy._first_try_run and policy._first_run
    for f, w in enumerate(where):
        v = value if not _near(w, c, reach) else 0.0
        for k, fk in enumerate(family):
            if fk == f:
                # the first-try rule's value stays when it is larger (both are evidence)
                allow[2 + k] = max(allow[2 + k], v) if first else v
