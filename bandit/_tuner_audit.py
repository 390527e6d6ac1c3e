"""The audit step of a :class:`bandit.Tuner`'s solve (:mod:`bandit.audit` decides which
arms): after the solve, off the user's clock and never told to the policy, other arms run
on the same system."""
from __future__ import annotations

import copy
import math

import numpy as np

from . import mpi as _mpi
from ._audit_reuse import recorded_cost


class AuditSteps:
    """The audit runs of a round: the column arms, then the row."""

    def _audit(self, t, op, b, x0, arm, best, pred, pv, first, paid, context):
        """The audit step (``bandit/audit.py``): after the solve, off the user's clock and
        never told to the policy, run the arms the audit generator drew on this system."""
        aud = self._auditor
        # an attempt the guard did not start (its set-up alone over the allowance) is not
        # completed: a completion would build the set-up the guard refused, at the cost of
        # hundreds of solves against a budget priced at a few (bandit.estimate knows: the
        # history's budget 0)
        refused = bool(first.info.get("skipped"))
        stopped = not first.converged and not refused
        # a randomised policy's probability of the arm (a deterministic one favours none)
        p_arm = 0.0 if pv is None or not self.policy.randomised else float(pv[arm])
        if self._comm is None:
            cols, row, complete = aud.decide(self, t, stopped, p_arm)
        else:  # rank 0 draws; every rank then holds the same plans and generator
            cols, row, complete = self._audit_plan(lambda: aud.decide(self, t, stopped, p_arm))
        if complete and arm not in cols:
            cols = [arm] + list(cols)  # the stopped arm, run to the end
        if not cols and not row:
            return
        self._audit_runs(t, op, b, x0, arm, best, pred, pv, first, paid, context, cols, row,
                         refused)
        aud.settle(self, t)

    def _audit_plan(self, draw):
        """``draw()`` (a step of the audit schedule) on rank 0, its result and the schedule
        it leaves (:meth:`Auditor.control_state`) on every rank: one exchange.  If any rank
        failed (rank 0's draw, or another rank's failure since the round's last exchange,
        raised on every rank here), rank 0's schedule is put back as it was before the draw,
        so every rank keeps the same schedule (the others never took the draw's)."""
        aud = self._auditor
        comm = self._comm
        root = _mpi.is_root(comm)
        before = copy.deepcopy(aud.control_state()) if root else None
        try:
            value, ctl = _mpi.on_root(comm, lambda: (draw(), aud.control_state()))
        except BaseException:
            if root:
                aud.load_control(before)
            raise
        if not root:
            aud.load_control(ctl)
        return value

    def _audit_runs(self, t, op, b, x0, arm, best, pred, pv, first, paid, context, cols, row,
                    refused=False):
        """The audit runs of round ``t``: the column arms ``cols``, then the row if ``row``
        (``refused``: the guard did not start the chosen arm's attempt, whose cap is then
        recorded as 0, the attempt's).  Each run is recorded at its arm's cost per step of
        a fixed run — an arm that keeps its set-up (``reuse=k``) at its solve plus a
        ``1 / (1 + k)`` share of the set-up, whether the run built one or reused the held
        one (:func:`bandit._audit_reuse.recorded_cost`), the played arm's own solve too —
        and the budget counts what the run spent."""
        aud = self._auditor
        fail = self._failure_cost(0.0)
        known = {arm: self._cost_of(first)} if first.converged else {}

        def prob(k):
            return (1.0 if k == arm else 0.0) if pv is None else float(pv[k])

        def cap_of(k):  # what an attempt of arm k would have been capped at this round
            if k == arm and refused:
                return 0
            return self.maxiter if k == best else self._budget(k, best, pred, op)

        for k in cols:
            run_cap = aud.column_cap(k, paid, self.maxiter)
            if k in known:  # the played arm converged: observed for free
                aud.record(t, k, False, recorded_cost(self, k, first, known[k], op),
                           first.iterations, 0.0, True, cap_of(k), run_cap, prob(k), 0.0)
                continue
            res = self._run(op, b, k, x0, run_cap, True, tally=False)
            spent = self._cost_of(res)
            # the record's value is the arm's cost per step of a fixed run (a reuse arm's
            # set-up at its share: recorded_cost); the budget counts what the run spent
            value = recorded_cost(self, k, res, spent, op) if res.converged else fail
            aud.record(t, k, False, value, res.iterations, res.seconds, res.converged,
                       cap_of(k), run_cap, prob(k), spent, completion=k == arm)
            if res.converged:
                known[k] = value
        if not row:
            return
        # every other arm, capped at the cheapest cost found so far (it cannot be the minimum
        # if it needs more); cheapest predicted first so the cap falls fast
        low = min(known.values(), default=math.inf)
        order = _mpi.on_root(self._comm, self._row_order, context)
        for k in order:
            if k in known:
                continue
            cap = self.maxiter
            if self.cost == "iterations" and math.isfinite(low):
                cap = min(self.maxiter, int(low) - 1)
                if cap < 1:
                    break  # nothing can beat the minimum
            res = self._run(op, b, k, x0, cap, True, tally=False)
            spent = self._cost_of(res)
            value = recorded_cost(self, k, res, spent, op) if res.converged else fail
            aud.record(t, k, True, value, res.iterations, res.seconds, res.converged,
                       cap_of(k), cap, prob(k), spent)
            if res.converged and value < low:
                low = value

    def _row_order(self, context):
        pred = np.asarray(self.policy.predict(context), dtype=float)
        pred = np.where(np.isfinite(pred), pred, math.inf)
        rank = {k: i for i, k in enumerate(self._safe)}
        return sorted(range(self.policy.n_arms), key=lambda k: (pred[k], rank[k]))
