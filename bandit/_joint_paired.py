"""A rival family's first reading told against the leader's latest readings
(``JointCB.paired_first``, an option, off; measured side by side in
``docs/studies/precond_rules.md``, *A rival's first reading paired with the leader's latest*).

A family never played is known by one reading, its first; the model places the family by that
reading's log-gap to its *prediction* of the leader at the context.  Where the leader's cost at
a step is not a function of the context alone (a time-stepping sequence's warm start: the
iterations depend on how far the previous solution is; the same context read on two passes of a
sweep at 1 and 2 iterations), the smooth prediction of the leader can be off by as much as the
rival's own gap: on heat3d the leader's seven readings before plain CG's first try were each
told 1.6-1.7 × its prediction (one-step errors +0.5 in log), and plain CG, read at 0.61 × the
leader's step before it, was placed at the leader's prediction and then 1.3 × it.

The rule reads the first reading as a *paired* one, as the price book pairs a rival's clock
reading with the leader's (a busy core slows every family alike; a hard step costs every
family more): the rival's log-cost is told less the mean error of the model on the leader's
family's latest :data:`KEEP` readings (``log(c / u + 0.01) − μ̂`` in the model's own target,
each before it was told: the one-step errors the noise scale sums).  The family's offset is then learnt from its gap to the
leader's readings next to it, not to the leader's smooth curve.  Only a family's first reading
is so told (its later ones compare with its own readings); nothing is fitted to a sequence:
the window is the latest few of the leader's readings, before the rival's.
"""
from __future__ import annotations

import math

__all__ = ["told"]

#: The leader's family's latest readings a first reading is paired with
KEEP = 3
#: The readings kept (of any arm: the leader's family's latest are among them)
_RECENT = 8
#: (to compare) every reading of a family other than the leader's so told, not only a
#: family's first: the leader's readings among the latest _RECENT rounds
EVERY = False
_FLOOR = 1e-2  # (bandit.joint's log target: log(cost/unit + 0.01))


def offset(policy, lead_family):
    """The mean one-step error (the model's error on a reading before it was told, in the log
    target) of the latest :data:`KEEP` readings of ``lead_family`` kept, or None."""
    fams = policy._paired_fams
    errs = []
    for arm, err in reversed(policy.__dict__.get("_paired_recent", ())):
        if err is not None and fams[arm] == lead_family and math.isfinite(err):
            errs.append(err)
            if len(errs) == KEEP:
                break
    return sum(errs) / len(errs) if errs else None


def told(policy, arm, cost, context, censored):
    """The cost :meth:`bandit.JointCB.update` tells for ``arm``'s reading ``cost`` at
    ``context`` with :attr:`~bandit.JointCB.paired_first`: ``cost`` itself, unless it is the
    first reading of a family never played (under the try gate's families, a scalar context,
    a reading not censored, a leader of another family); then ``cost`` with its log target
    lowered by the leader's family's mean one-step error (:func:`offset`).  Keeps each
    reading's one-step error (the update's, read at the next call); once every family has a
    reading (:data:`EVERY` off) it returns at once, as nothing is left to pair."""
    d = policy.__dict__
    if d.get("_paired_done") and not EVERY:
        return cost
    kept = d.get("_paired_recent")
    if kept is None:
        kept = policy._paired_recent = []
        fam = policy._gate_family
        policy._paired_fams = fam.tolist()
        policy._paired_played = set()
    fams = policy._paired_fams
    if not fams:
        return cost  # no try gate's families: nothing to pair
    if kept and kept[-1][1] is None:
        # the previous round's update left its one-step error in _info (if it reached it)
        info = policy._info
        kept[-1] = (kept[-1][0], float(info[0]) if info is not None
                    and policy.t == policy._paired_t + 1 else None)
    policy._paired_t = policy.t
    kept.append((arm, None))
    if len(kept) > _RECENT:
        del kept[0]
    f = fams[arm]
    played = policy._paired_played
    first = f not in played
    if not censored:
        played.add(f)
        if len(played) == len(set(fams)):
            policy._paired_done = True
    if not (first or EVERY) or censored or type(context) is not float or not cost > 0:
        return cost
    if math.isnan(policy.unit):
        return cost
    memo = policy._mu_of
    lead = memo[2] if memo is not None and memo[0] == context else None
    if lead is None or lead < 0 or fams[lead] == f:
        return cost
    e = offset(policy, fams[lead])
    if e is None:
        return cost
    target = math.log(cost / policy.unit + _FLOOR) - e
    return max(policy.unit * (math.exp(target) - _FLOOR), 0.0)
