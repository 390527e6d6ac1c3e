"""The reference family re-read during a rival's long stretch (:attr:`bandit.JointCB.
reread_reference`, off by default; measured in ``docs/studies/precond_rules.md``).

Under ``timed_work`` a rival family's price is the reference family's fixed price times its
ratio to the reference, and a ratio sample needs a partner: a reading of another family taken
since the rival's own reading before (:class:`bandit._prices._Prices`, ``fresh_pairs``).
While the learner plays one rival alone the clock reads that family only, so its price rests
on the sample taken at the stretch's first solve, however many solves ago, and a change of
the machine's load then cannot be told from a change of the rival's cost.  The book cannot
fix that; the learner can, by playing the reference family once.

The rule: when the draw picks an arm of a rival family that has been played alone for ``N``
solves since its last round next to another family, the round plays instead the reference
family's arm of least predicted cost (its best ω), told as any round.  The rival's next
reading is then paired with a reading of this moment.  ``N`` is the larger of

* the book's own pairing age (:data:`bandit._prices._PAIR_AGE`, 8 solves: a partner older
  than that pairs with nothing, so re-reading sooner adds no evidence the book can use), and
* ``ceil(excess / SHARE)``, ``excess`` the predicted cost of the re-read over the rival's
  solve it replaces, relative to the rival's (0 when the reference is predicted no dearer):
  one re-read every ``N`` solves then costs at most :data:`SHARE` of the stretch's cost, by
  the model's own predictions, however dear the reference is against the rival.

The *reference family* is the family of the learner's first round (the Tuner's price book
takes as reference the first family run on the clock: the same one when the learner's first
round is the run's first solve).  Rounds of one family only, or a learner that has not yet
played a second family, never re-read.  The rule is for costs read on a clock (``timed_work``,
``"time"``): with a deterministic cost a re-read buys nothing.

Functions over the learner, called from ``JointCB.select`` (after the draw) and
``JointCB.update`` (before the model is told); their state is the learner's attribute
``_reread_state``.
"""
from __future__ import annotations

import math

import numpy as np

from ._prices import _PAIR_AGE
from .smooth import family_positions

#: The largest share of a rival's stretch (in the model's predicted cost) its re-reads of
#: the reference family may add.
SHARE = 0.02


def _state(policy):
    st = policy.__dict__.get("_reread_state")
    if st is None:
        family = family_positions(policy.arms)[0]
        st = policy._reread_state = {
            "family": family, "ref": -1, "last": -1,
            # per family: its solves since its last round right after another family's
            "alone": [0] * (int(family.max()) + 1), "rereads": 0}
    return st


def interval(excess) -> int:
    """Solves of a rival played alone between two re-reads: ``max(_PAIR_AGE, ceil(excess /
    SHARE))`` for a re-read predicted ``excess`` (relative) dearer than the rival's solve."""
    if not excess > 0:
        return _PAIR_AGE
    return max(_PAIR_AGE, math.ceil(min(excess, 1e6) / SHARE))


def reread(policy, k) -> int:
    """The arm to play for the draw's ``k``: ``k``, or the reference family's arm of least
    predicted cost when ``k``'s family has been played alone past its interval."""
    st = _state(policy)
    family, ref = st["family"], st["ref"]
    fam = int(family[k])
    if ref < 0 or fam == ref or st["last"] != fam or st["alone"][fam] < _PAIR_AGE:
        return k
    mu = policy._mu  # the draw's predictions (every path of JointCB.select fills them)
    members = np.flatnonzero(family == ref)
    played = members[policy.converged_counts[members] > 0]
    if played.size == 0:
        return k
    j = int(played[np.argmin(mu[played])])
    cost = policy._cost(np.array([mu[j], mu[k]]))
    excess = cost[0] / cost[1] - 1.0 if cost[1] > 0 else math.inf
    if st["alone"][fam] < interval(excess):
        return k
    st["rereads"] += 1
    return j


def note(policy, arm) -> None:
    """Before ``policy``'s update of ``arm``: count the round for its family's stretch."""
    st = _state(policy)
    fam = int(st["family"][arm])
    if st["ref"] < 0:
        st["ref"] = fam
    alone = st["alone"]
    alone[fam] = alone[fam] + 1 if st["last"] == fam else 0
    st["last"] = fam
