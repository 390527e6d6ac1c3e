"""Held decisions: a :class:`bandit.Tuner` whose learner's own work is a large share of its
solves keeps the learner's greedy arm for a few solves and tells those rounds together at the
next decision.

The learner's own work per solve — a draw and an update of :class:`~bandit.JointCB`, each a
pass over a model that every solve evicts from the caches — is about the same whatever the
solve costs: ~100 µs a round inside the configuration study, 1 % of a 10 ms solve but 8 % of
a 1.3 ms one (heat3d).  The rule keeps it a small share of the solve it chooses for: after a
round whose draw was the model's greedy choice (the played arm is the leader, not an
exploration or a first try), once every family has had its first try, that converged without
the guard or a fallback, the next ``n`` rounds play the same arm without a draw, as long as
their context stays within one ``m``-th of the learnt context range of the decision's (the
model's own resolution: ``m`` Chebyshev features over that range), where

    ``n = min(HOLD_MAX, ceil(D / (HOLD_SHARE · S)) − 1)``,

``D`` the learner's measured time at the decision (the held rounds' updates and the draw)
and ``S`` the measured seconds of the decision's solve: the decision's cost spread over the
``n + 1`` rounds it serves is at most ``HOLD_SHARE`` of a solve.  On slow solves ``n = 0``
and nothing changes.  A held round that fails to converge (a guard stop, a fallback) ends the
hold and is told at once; so does a context that leaves the range or moves too far.

The held rounds' costs are told to the learner in order, each as :meth:`JointCB.update`
takes it, at the next decision (or whenever anything reads :attr:`bandit.Tuner.policy`): the
learner's update does not depend on its draws, so the model, its noise scale, its change test
and its counts are those of telling each round when it was played, bit for bit, and a change
alarm among them forgets at the round it fires.  The updates run back to back on a warm
model in one compiled call (:func:`bandit._kernels_fold.fold_rounds`) instead of one after
each solve.  Only with a cost read off the clock (``"time"``, ``"timed_work"``: the default
of configuration arms), whose choices already depend on the machine — a counted cost keeps a
seeded run's choices the same on every machine.  Off under MPI, with audits, for learners
other than :class:`~bandit.JointCB`'s lower-confidence-bound draw.  Measured side by side
in ``docs/studies/precond_rules.md`` ("Held decisions").
"""
from __future__ import annotations

import math
import time

import numpy as np

from ._kernels_fold import fold_rounds

__all__ = ["HoldSteps", "hold_rounds"]


def hold_rounds(own, seconds, share, cap):
    """How many rounds after a decision keep its arm: the least ``n >= 0`` with
    ``own / (n + 1) <= share · seconds`` (the decision's ``own`` seconds spread over the
    rounds it serves, at most ``share`` of a solve of ``seconds``), at most ``cap``; 0 when
    either time is not a positive finite number.

    Examples
    --------
    >>> hold_rounds(100e-6, 1.3e-3, 0.02, 8)   # 100 µs of learner on a 1.3 ms solve
    3
    >>> hold_rounds(100e-6, 20e-3, 0.02, 8)    # on a 20 ms solve: a draw every solve
    0
    """
    if not (0.0 < own < math.inf and 0.0 < seconds < math.inf):
        return 0
    n = math.ceil(own / (share * seconds)) - 1
    return max(0, min(int(cap), n))


def _policy_property():
    """:attr:`bandit.Tuner.policy`: the learner, told every held round first."""
    from ._tuner_checks import _fixed

    fixed = _fixed("policy")

    def policy(self):
        if self._pending:
            self._fold()
        return self._policy

    return property(policy, fixed.fset, doc=fixed.__doc__)


class HoldSteps:
    """A Tuner's held decisions (see the module's notes)."""

    #: The largest share of a solve's seconds the learner's own work may take per round
    #: before a decision is kept for the next solves.
    HOLD_SHARE = 0.02
    #: The most rounds one decision is kept for after its own.
    HOLD_MAX = 8

    # class defaults: a tuner made or pickled before the rule, or one that never holds
    _hold_on = False
    _holding = None  # [arm, rounds left, the decision's context, the context's reach]
    _pending = ()  # the held rounds' tells, (arm, cost, context, censored, converged) each
    _fold_seconds = 0.0  # the latest fold's time (part of the next decision's own time)

    def _hold_setup(self):
        """At construction: whether this tuner may hold decisions at all."""
        from .joint import JointCB

        p = self._policy
        # (a counted cost keeps a seeded run's choices the same whatever the machine: only a
        # learner whose costs read the clock already holds for as long as the clock says)
        self._hold_on = (self._cost in ("time", "timed_work") and self._comm is None
                         and self._auditor is None
                         and isinstance(p, JointCB) and p.exploration == "lcb")
        self._pending = [] if self._hold_on else ()
        self._holding = None

    def _held(self, context):
        """At the start of a solve: whether this round plays the held arm without a draw;
        otherwise the hold ends and the rounds held so far are told now."""
        hold = self._holding
        if hold is not None:
            if type(context) is float and hold[1] > 0 and abs(context - hold[2]) <= hold[3]:
                fast = self._policy.features._fast
                if fast is not None and fast[0] <= context <= fast[1]:
                    hold[1] -= 1
                    _note_context(self._policy, context)
                    return True
            self._holding = None
        if self._pending:
            start = time.perf_counter()
            self._fold()
            self._fold_seconds = time.perf_counter() - start
        else:
            self._fold_seconds = 0.0
        return False

    def _fold(self):
        """Tell the learner every held round, in order, in one compiled call where its update
        would be one (:func:`bandit._kernels_fold.fold_rounds`: the same numbers; a round is
        removed once told, so an interrupted fold leaves the rest to the next)."""
        fold_rounds(self._policy, self._pending)

    def _defers(self, held, arm, best, r, fallback, context, own):
        """After a round's runs, before its tell: whether the tell waits for the next
        decision — a held round that converged without a fallback, or a greedy decision
        that starts a hold."""
        if held:
            if fallback < 0 and r.converged:
                return True
            self._holding = None  # a guard stop or a failure: told now, the next round draws
            return False
        if (arm != best or fallback >= 0 or not r.converged or type(context) is not float
                or self._arms._early is not None):
            return False
        n = hold_rounds(own, r.seconds, self.HOLD_SHARE, self.HOLD_MAX)
        if n < 1 or not self._families_tried():
            return False
        fast = self._policy.features._fast
        if fast is None or not fast[0] <= context <= fast[1]:
            return False
        # the model's own resolution: m features over the learnt range
        self._holding = [arm, n, context, (fast[1] - fast[0]) / fast[5]]
        return True

    def _families_tried(self):
        """Whether every family the learner's try gate knows has had a round (always, over
        one family or without the gate): before, a draw may place a rival's first try at
        any round, and the cheap solves a hold would skip are where the leader's regime
        sends a weaker family's first try (:attr:`bandit.JointCB.first_pick`)."""
        if self.__dict__.get("_tried_all"):
            return True
        p = self._policy
        fam = p._gate_family
        if fam.size and np.unique(fam[p.counts > 0]).size < np.unique(fam).size:
            return False
        self._tried_all = True  # (counts only grow)
        return True


def _note_context(policy, context):
    """A held round's context in the range :attr:`bandit.JointCB.first_pick`'s rule reads
    (kept by every draw until every family has been played), as a draw would have kept it."""
    if not policy._first_pick or policy.__dict__.get("_first_done"):
        return
    seen = policy.__dict__.get("_first_seen")
    if seen is None:
        policy._first_seen = [context, context]
    elif context < seen[0]:
        seen[0] = context
    elif context > seen[1]:
        seen[1] = context
