"""Audits: a few extra solves, off the user's clock, that make regret estimates unbiased.

After a tuned solve, an audit may run other arms on the same system (never told to the
policy, never part of the returned result).  Two kinds, drawn with the auditor's own seeded
generator (saved with the tuner, so a resumed run audits the same rounds):

* **column audits** — arm ``k`` is run with probability ``q_k``, so every entry ``C[t, k]``
  has a known chance of being observed (the best-fixed-arm comparator); ``q`` favours the
  arms that could be the minimum — likely to be the best fixed arm, or with a lower end
  that may fall below the smallest total (:func:`contender_weight`) — and keeps a floor for
  every arm (which keeps every column total unbiased).  An arm run in full gives ``C[t, k]``; once the run shows
  an arm to be far from the best (its total at least 30 % above the smallest, with three
  standard errors to spare on both), it is run *capped* at :data:`CAP_FACTOR` × the
  iterations the round paid, which gives ``min(C[t, k], cap)``: enough to keep it excluded
  from the minimum (totals of capped costs are lower bounds), at a fraction of the cost;
  and when the guard stopped the chosen arm's attempt, that arm is run to the end with
  probability :data:`COMPLETE` (its costs above the guard's cap are otherwise seen by audits
  alone).  With a cost in iterations every other column run is capped at what the budget
  has accrued and not spent, never below that same :data:`CAP_FACTOR` ×
  (:meth:`Auditor.column_cap`): one run of a dear arm cannot spend the budget of hundreds
  of rounds, and an arm one of whose runs stopped there is known by a lower bound only
  (:mod:`bandit.estimate`);
* **row audits** — with probability ``r`` every arm not yet known on the round is run,
  each capped at the cheapest cost found so far (an arm that needs more cannot be the
  minimum), which gives the round's exact minimum (the instance-optimal comparator).

An audit run is recorded at its arm's cost per step of a fixed run: an arm that keeps its
set-up for ``reuse=k`` rounds (a fixed run of it builds one set-up ``S`` per ``1 + k``
solves) at its solve plus ``S / (1 + k)``, whether the run built the set-up or reused the
one the learner holds (:func:`bandit._audit_reuse.recorded_cost`); the budget counts what
the run spent.

*Planning* (which arms matter, what an audit of each costs) refits the estimator's cost
model at rounds 0, 512, 1024, 2048, … (×2); before the first plan a deterministic policy's
audits go mostly to the arm it has played most (:func:`anchor_weights`, read at rounds 16,
32, …, 256: a short run buys a dozen audits, and spread evenly they bound no arm's total),
a randomised policy's evenly (with the switch :data:`FOLLOW`, from round 512 on, while no
plan fits, mostly to the arms within two steps in ω of the arms it chose, weighed by what
those rounds paid: :func:`play_weights`); every 512 rounds the probabilities are rescaled so
that audit solves and plans spend :data:`TARGET` (80 %) of ``budget`` × what the user's
solves cost (an overspend is paid back, but the floor is never given up; the rest is a
margin for the rescaling's lag), and as soon as the audits of a round take the spending above
the whole budget the next round rescales (a hard cap: one epoch's overspend cannot run on for
512 rounds).  Costs are counted in the tuner's cost unit: iterations with
``cost="iterations"`` — the same measure of solve time for every arm of one solver, since
an SOR or SSOR-PCG iteration costs the same whatever ω, and not a noisy clock.  A plan is
charged the CPU time of a plan of a tiny run (measured when the auditor is made) plus what
the first one cost beyond that per round of history (measured once, converted to the cost
unit, saved) times the rounds it reads (:meth:`Auditor.plan_charge`; the run's arrays are
kept up to date as rounds are logged, :class:`bandit.report.RunArrays`), and put off while
that would exceed :data:`PLAN_SHARE` of the budget so far (so small, cheap solves are
planned for less often, or never).  Apart from that one
measurement the audited rounds are a function of the seeded generator and the run: a saved
and loaded tuner continues exactly where it stopped (with ``cost="time"``, as far as the
clock agrees).  Each change starts an *epoch*
(its first round and probabilities are recorded: the estimators need them).  Within an
epoch the rounds with an audit are found by a geometric skip, so a round without one costs
one comparison.

This module holds the constants, the switch :data:`FOLLOW`, the per-round steps of the
:class:`Auditor`, a plan's charge and what reads that switch; the Auditor's other parts are
kept in private modules and imported from here: the plan weights and allocation
(``bandit/_audit_plan.py``), what the solves and a plan cost (``bandit/_audit_price.py``),
the plans and rescalings (``bandit/_audit_schedule.py``) and the persistence
(``bandit/_audit_state.py``).
"""
from __future__ import annotations

import gc
import math
import time

import numpy as np

from solvers.amg import calibration_seconds

from ._audit_plan import (ANCHOR, FLOOR, LOWER_Z, RADIUS, _scale,  # noqa: F401 - re-exported
                          _spread_matrix, allocate, anchor_weights, contender_weight,
                          play_weights)

__all__ = ["Auditor", "AUDIT_COLUMNS", "ROW_SHARE", "FLOOR", "CAP_FACTOR", "COMPLETE", "TARGET",
           "PLAN_SHARE", "ANCHOR", "ANCHOR_AUDITS", "COMPLETE_SHARE", "LIKELY", "LOWER_Z",
           "FOLLOW", "MINI_PLAN", "RADIUS", "completion_probability", "contender_weight",
           "capped_cap", "allocate", "anchor_weights", "play_weights"]

#: One list per field, one entry per audit run.
AUDIT_COLUMNS = ("round", "arm", "row", "value", "iterations", "seconds", "converged",
                 "budget", "cap", "p")
#: Share of the budget spent on row audits (the instance-optimal comparator); read when used,
#: so a switch: 0 spends it on column audits (the best fixed arm's interval), and the
#: instance-optimal estimate is then the cost model's alone (``relaxtune bench regret
#: --row-share 0`` measures it; docs/regret_measurements.md, *Row audits' share to the
#: columns*).
ROW_SHARE = 0.1
#: Capped column audits stop at this many times the iterations the round paid.
CAP_FACTOR = 3.0
#: Probability of *completing* a chosen arm that the guard stopped: its cost there (above
#: the cap) is otherwise seen by column audits alone, and that is where its costs are high.
COMPLETE = 0.25
#: Largest share of the audit rate that completions may take: with many stopped attempts (a
#: randomised learner exploring poor arms) the completion probability is lowered from
#: :data:`COMPLETE` so that they stay within it (it is recorded per epoch, like ``q``).
COMPLETE_SHARE = 0.4
#: An arm played with at least this probability is always completed with :data:`COMPLETE`.
LIKELY = 0.5
#: Share of the budget the audits aim at (the rest is a margin for the rescaling's lag and for
#: audit runs whose seconds per iteration differ from the solves').
TARGET = 0.8
#: Largest share of the budget that plans may take (a plan is put off while it would exceed it).
PLAN_SHARE = 0.1
#: Audit runs of the arm :data:`ANCHOR` favours (on rounds it was not played) after which the
#: rescalings before the first plan stop: its total is bounded by them.
ANCHOR_AUDITS = 4
#: A switch, off (``None``) by default: without a plan from round 512 on (the first
#: plan's round: on a run whose plans do not fit the budget), the share of a randomised
#: policy's column-audit spending that follows the plays (:func:`play_weights`): spread over
#: each arm the policy chose and the arms within :data:`RADIUS` steps of it in ω order, in
#: proportion to what those rounds paid; the rest is spread evenly over all arms (``None``
#: or 0: all of it evenly).  Measured with 0.8 (``relaxtune bench regret --follow 0.8``):
#: narrower intervals for ChebCB and Tsallis-INF on the low-variance offsets, wider ones for
#: Tsallis-INF-CB on the high-variance offsets and SmoothIGW on heat2d, so not the default
#: (docs/regret_measurements.md, *Audits that follow the plays*).  Randomised policies only: a
#: deterministic policy's contenders, audited 6–16 times each instead of 2–4, got intervals
#: that missed the exact regret in 2–3 of 5 runs on the offset sequences (a contender's
#: total 18 % low with a reported error of 5 %: the Student factor of a few audits is what
#: had covered the model's error on the contexts its plays never reach).
FOLLOW = None
#: A switch, off (False) by default: when a plan is due and does not fit the budget, plan
#: from :func:`bandit._audit_mini.mini_totals` instead (binned means of the observed costs,
#: no cost model: a few array passes), charged its measured CPU time and put off, like a
#: plan, while that would exceed :data:`PLAN_SHARE` of the budget so far.  On solves of
#: tens of microseconds no plan of the cost model fits, and without one the audits stay
#: spread evenly over the arms (``relaxtune bench regret --mini-plan`` measures it;
#: docs/regret_measurements.md, *Plans without the cost model*).
MINI_PLAN = False
#: Rounds at which the probabilities are rescaled before :data:`_ADJUST_EVERY` (the
#: played arms of a short run change fast; a rescaling costs ``O(t)`` once).
_EARLY = (16, 32, 64, 128, 256)
_PLAN_FACTOR, _FIRST_PLAN, _ADJUST_EVERY = 2, 512, 512
_SETTLE_FROM = 64  # rounds before the hard cap applies (the first audits are a few runs)
_LOAD_FROM = 16  # other solves a first solve's loading is measured against
_CAP_FROM, _CAP_GAP = 1024, 0.3

# The Auditor is put together from parts kept in private modules (bandit/_audit_*.py), which
# read the constants above: imported once those exist.  The plans and rescalings and the
# persistence are there, with what a plan costs; the per-round steps, a plan's charge and
# what reads FOLLOW (a switch set on this module) stay here.
from ._audit_price import _plan_slope, _solved, _tiny_run, _warm_up  # noqa: E402,F401
from ._audit_schedule import Schedule, _anchor_round, _played_costs  # noqa: E402,F401
from ._audit_state import AuditState  # noqa: E402


def completion_probability(p, c):
    """Probability of completing a stopped attempt of an arm a randomised policy played with
    probability ``p`` (0 for a deterministic policy), in an epoch whose budgeted completion
    probability is ``c``: an arm the policy favours (``p ≥`` :data:`LIKELY`: the likely best
    arm, whose stops are few) is completed with :data:`COMPLETE` always; the budget only
    lowers the completions of arms tried now and then (a randomised learner exploring poor
    arms) and of every arm of a deterministic policy.

    Examples
    --------
    >>> completion_probability(np.array([0.9, 0.1]), 0.05).tolist()
    [0.25, 0.05]
    """
    return np.where(np.asarray(p) >= LIKELY, COMPLETE, np.minimum(c, COMPLETE))


def capped_cap(paid_iterations, maxiter):
    """Iteration cap of a capped column audit on a round that paid ``paid_iterations``."""
    return int(max(1, min(maxiter, math.ceil(CAP_FACTOR * paid_iterations))))


def _own_cpu():
    """This process's CPU seconds less those of the solvers' once-per-process calibrations
    (:func:`solvers.amg.calibration_seconds`: pyamg's set-up clock and price, timed on
    calibration matrices whoever asks first — the auditor pricing an AMG audit at a run's
    first rescaling, or the guard weighing AMG's first try): the auditor's own CPU clock.
    Counted, they had been a first Tuner's planning cost in a fresh process — 0.1 s, 40 % of
    a 60-solve run's solve seconds, charged to its audit budget — where the next Tuner's
    was 2.5 ms.  Read through this module's ``time``, as every clock of the auditor."""
    return time.process_time() - calibration_seconds()


class Auditor(Schedule, AuditState):
    """Plans, draws and records a tuner's audits (see the module notes).

    Parameters
    ----------
    n_arms : int
    budget : float
        Fraction of the user's solve seconds spent on audit solves, in (0, 1].
    seed : int or None
        Seed of the audit generator.
    """

    def __init__(self, n_arms, budget, seed=None):
        self.K = int(n_arms)
        self.budget = float(budget)
        self.rng = np.random.default_rng(seed)
        self.epoch_start, self.q, self.r, self.full, self.c = [], [], [], [], []
        # what completions and column runs cost so far (the rescaling's measured unit costs)
        self.stopped = 0
        self.completion = [0, 0.0]  # runs, cost
        self.column = [0, 0.0]
        self.capped = np.zeros(self.K, dtype=bool)  # arms audited capped from now on
        self.next_plan = 0
        self.next_adjust = 0
        self.next_audit = -1
        self.records = {c: [] for c in AUDIT_COLUMNS}
        self.seconds = 0.0  # audit solves
        self.spent = 0.0  # audits and plans in the tuner's cost unit (iterations or seconds)
        # the user's solves so far, in iterations, when the round's audits were drawn (None:
        # the cost is not counted in iterations, so no budget cap; set by decide)
        self.solved = None
        self.planning = 0.0  # choosing them (CPU seconds of this process, reported)
        # the planning seconds charged to the budget at their CPU time so far, and what was
        # charged in advance (plans' prices) for the seconds not settled yet (_settle_cpu)
        self.settled = 0.0
        self.prepaid = 0.0
        # whether the latest rescaling set the least rate (:meth:`_rate`), and the user's
        # solves when the latest settled adjustment was made with what it cost (cost unit)
        self.floored = False
        self.last_adjust = (0.0, 0.0)
        self.plan_cost = None  # a plan's cost per round of history above plan_floor (cost unit)
        # plans made after round 0 (the others were put off: over PLAN_SHARE); a diagnostic of
        # this process, not saved in the tuner's file
        self.plans = 0
        # the latest plan: allocation at a rate, row cost (saved with the tuner)
        self.plan = None
        # whether the latest plan was a mini plan (MINI_PLAN), the CPU seconds of the last
        # one and the rounds it read (its price), and how many were made (a diagnostic)
        self.mini = False
        self.mini_cost = None
        self.mini_plans = 0
        if MINI_PLAN:
            # the mini plans' price, measured when the auditor is made (as plan_slope; once
            # per process and number of arms: it loads the compiled kernel)
            from ._audit_mini import mini_price

            mini_price(self.K)
        # before the first plan: (the rounds read, and per arm its plays, its plays that
        # converged and their total cost; a cache of this process, not saved: a loaded tuner
        # reads the same rounds)
        self._anchor = None
        # the arms' ω order (:func:`bandit.report._arm_order`, in a 1-tuple once read) and the
        # per-arm column runs read from the records so far (caches of this process, not saved:
        # a loaded tuner reads the same)
        self._order = None
        self._priced = None
        # the CPU seconds any plan costs at least (saved: a loaded tuner keeps its value)
        self.plan_floor = _warm_up(self.K)
        # CPU seconds per round of history of a plan above the floor, until the first plan
        # measures it (a diagnostic of this process, not saved: a loaded tuner measures anew)
        self.plan_slope = _plan_slope(self.K, self.plan_floor)

    # --- per round ----------------------------------------------------------------------------
    def due(self, t, stopped=False) -> bool:
        """Whether round ``t`` needs the auditor (a plan, a rescaling, a drawn audit, or the
        completion coin of a chosen arm the guard ``stopped``)."""
        return stopped or t == self.next_audit or t >= self.next_adjust

    def decide(self, tuner, t, stopped, p=1.0):
        """:meth:`draw`, and for a chosen arm the guard stopped the completion coin (drawn
        after any rescaling with :func:`completion_probability` of the arm's probability
        ``p`` under the policy); returns ``(column arms, row, complete)``."""
        # what the user's solves have cost so far, for the budget caps of this round's
        # column runs (:meth:`column_cap`; in iterations only: the caps are iteration caps)
        self.solved = _solved(tuner) if tuner.cost == "iterations" else None
        if t == self.next_audit or t >= self.next_adjust:
            cols, row = self.draw(tuner, t)
        else:
            cols, row = [], False
        complete = False
        if stopped:
            if p < LIKELY:
                self.stopped += 1
            c = completion_probability(p, self.c[-1] if self.c else COMPLETE)
            complete = self.rng.random() < float(c)
        return cols, row, complete

    def pass_round(self, t) -> None:
        """Round ``t`` is not audited: its start already met the stopping rule, so every arm
        costs 0 iterations there and is known without a run.  An audit the schedule drew for
        it is not run, and the next one is drawn from here, as after an audited round: every
        other round keeps its probabilities of being audited (the geometric skip has no
        memory).  A plan or rescaling due waits for the next round not already solved."""
        if t == self.next_audit:
            self.next_audit = t + self._skip()

    def draw(self, tuner, t):
        """Plan or rescale if due; return ``(column arms, row)`` to audit on round ``t``
        (``([], False)`` on most rounds)."""
        if t >= self.next_adjust:
            # no garbage collection inside a plan: a full collection of the process's heap
            # (tens of milliseconds) would otherwise land on whichever plan triggers it,
            # and the first plan's time prices every later one
            collecting = gc.isenabled()
            gc.disable()
            try:
                self._adjust(tuner, t)
            finally:
                if collecting:
                    gc.enable()
        if t != self.next_audit:
            return [], False
        probs = np.append(self.q[-1], self.r[-1])
        hits = self._coins(probs)
        self.next_audit = t + self._skip()
        return [j for j in hits if j < self.K], self.K in hits

    def _adjust(self, tuner, t):
        """Plan if due and affordable, then rescale (measured in CPU seconds).

        A plan is charged its price before it runs, and made only when that price fits both
        :data:`PLAN_SHARE` of the budget so far and what the budget has accrued and not
        spent.  From the first plan's round (:data:`_FIRST_PLAN`) on, every adjustment then
        settles the auditor's account (:meth:`_settle_cpu`): the CPU time of everything it
        computed — plans, mini plans and rescalings, the rounds before included — replaces
        the prices charged for it, and a deficit is paid back by the next rescalings
        (:meth:`_rate`)."""
        cpu = _own_cpu()
        if t >= self.next_plan:
            # charged to the budget before it runs, and put off while it would exceed
            # PLAN_SHARE of the budget so far or what is left of the budget
            guess = self.plan_charge(tuner, t)
            solved = _solved(tuner)
            room = not t or self.spent + guess <= self.budget * solved
            share = guess <= PLAN_SHARE * self.budget * solved
            if share and room:
                self.mini = False
                self.spent += guess
                self.prepaid += guess
                self._plan(tuner, t)
                if self.plan_cost is None and t and solved > 0:
                    # this one measurement prices every later plan: the process's CPU
                    # time (a busy machine's wait is no cost of the plan) above the fixed
                    # cost, per round of history (the run's arrays are kept up to date as
                    # rounds are logged, so a plan's cost grows with the rounds it reads
                    # from a fixed part, not in proportion)
                    seconds = _own_cpu() - cpu
                    per_unit = self._solve_seconds(tuner) / solved  # per unit
                    self.plan_cost = max(seconds - self.plan_floor, 0.0) / t / max(
                        per_unit, 1e-300)
            elif not share:  # over PLAN_SHARE: put off until the run is twice as long
                self.next_plan = 2 * t
                if MINI_PLAN and t >= _FIRST_PLAN:
                    self._mini_plan(tuner, t)
            # (else the budget is spent for now: the plan is tried again at the next
            # adjustment, whose rescaling pays the overspend back)
        rescaling = _own_cpu()
        self._rescale(tuner, t)
        end = _own_cpu()
        self.planning += end - cpu
        self._settle_cpu(tuner, t, end - rescaling)

    def _settle_cpu(self, tuner, t, rescaling=0.0):
        """Charge the auditor's CPU time not charged yet at what it cost: the seconds of its
        plans and rescalings since the last settlement, in the tuner's cost unit (at the
        user's solves' seconds per unit, without the first solve's loading), less the prices
        already charged for them.  Before round :data:`_FIRST_PLAN` nothing is settled (a
        short run's audits stay a function of the seed and the run, as with counted costs
        they are: the CPU time first enters the budget where a plan's price already reads
        the clock); from there on every adjustment settles, so what a run reports as its
        cost (``fraction``: audit and planning seconds over the solve seconds) is what its
        budget bounded.  Before, only a plan's price was charged: the rescalings' CPU time
        (65–310 µs each, 1.0–1.7 % of the solve seconds of a JointCB run of 20–50 µs solves)
        was reported and never charged, and single runs reached 5.2–6.2 % of their solve
        time at a 5 % budget.  ``rescaling``: the CPU seconds of this adjustment's
        rescaling, what a rescaling of the hard cap is priced at (:meth:`settle`; a plan's
        seconds would put the hard cap off for a thousand rounds after each plan)."""
        solved = _solved(tuner)
        if t < _FIRST_PLAN or solved <= 0:
            return
        per_unit = self._solve_seconds(tuner) / solved  # seconds per cost unit
        cost = (self.planning - self.settled) / max(per_unit, 1e-300)
        self.spent += cost - self.prepaid
        self.settled, self.prepaid = self.planning, 0.0
        self.last_adjust = (solved, rescaling / max(per_unit, 1e-300))

    def _mini_plan(self, tuner, t):
        """A plan from :func:`bandit._audit_mini.mini_totals` (the switch :data:`MINI_PLAN`),
        when the full plan due at round ``t`` was put off: made when its price — its
        computation's CPU seconds on synthetic runs, a fixed part and a part per round, and
        the conversion of the rounds it reads into the run's arrays
        (:func:`bandit._audit_mini.mini_price`, measured when the auditor is made) — fits
        :data:`PLAN_SHARE` of the budget so far, and charged the CPU time it took."""
        from ._audit_mini import mini_price
        from ._report_data import _ARRAYS

        solved = _solved(tuner)
        if t <= 0 or solved <= 0:
            return
        per_unit = self._solve_seconds(tuner) / solved  # seconds per cost unit
        fixed, slope, per_row = mini_price(self.K)
        # a plan reads the run through the arrays kept with the tuner, which convert the
        # rounds logged since they were last read (about a microsecond a round where no
        # plan ran before: as much as the arithmetic, or more)
        seen = _ARRAYS.get(tuner)
        pending = len(tuner._log) - (seen.n if seen is not None else 0)
        guess = (fixed + slope * t + per_row * pending) / max(per_unit, 1e-300)
        if guess > PLAN_SHARE * self.budget * solved:
            return
        cpu = _own_cpu()
        self._plan(tuner, t, mini=True)
        seconds = _own_cpu() - cpu
        self.mini_cost = (seconds, int(t))
        charge = seconds / max(per_unit, 1e-300)
        self.spent += charge
        self.prepaid += charge  # (trued up with the rest of the adjustment: _settle_cpu)

    def plan_charge(self, tuner, t):
        """What a plan at round ``t`` is charged, in the tuner's cost unit: the fixed CPU
        time of any plan (:attr:`plan_floor`, measured when the auditor is made) plus
        :attr:`plan_cost` per round of history (measured at the first plan: the rest of its
        CPU time, per round it read; before it, :attr:`plan_slope`, measured on a synthetic
        run when the auditor is made).  The run's arrays are kept up to date as rounds are
        logged (:class:`bandit.report.RunArrays`), so a plan's cost grows from a fixed part
        with the rounds it reads, not in proportion to them.

        Examples
        --------
        >>> class Run:  # 1 ms per 1000 iterations: a microsecond per iteration
        ...     _paid, cost, _work = None, "iterations", [1e-3, 1000]
        >>> aud = Auditor(3, 0.05); aud.plan_floor, aud.plan_cost = 2e-4, 0.5
        >>> round(aud.plan_charge(Run(), 100), 6)   # 200 iterations' worth, 0.5 per round
        250.0
        """
        guess = 0.0 if self.plan_cost is None else self.plan_cost * t
        solved = _solved(tuner)
        if t and solved > 0:
            per_unit = self._solve_seconds(tuner) / solved  # seconds per cost unit
            # before the first plan, the synthetic run's price per round (_plan_slope)
            seconds = self.plan_floor + (self.plan_slope * t if self.plan_cost is None else 0.0)
            guess += seconds / max(per_unit, 1e-300)
        return guess

    def _solve_seconds(self, tuner):
        """The user's solve seconds without each process's first-solve loading of the
        compiled kernels (as the report's ``fraction`` leaves out ``load_seconds``): each
        start's seconds beyond its iterations at the seconds per iteration of the other
        solves.  Counted in, a fresh process's 20–35 ms of loading, against solves of tens
        of microseconds, had made a plan's CPU seconds look like fewer iterations (600 SOR
        solves of a 100-unknown system: a plan charged 0.64–0.67 × its price).  ``O(1)`` per
        process start from the tuner's running sums (a plan's price is tested on runs no plan
        fits, where reading the log would cost more than the plans it prices)."""
        seconds, its = float(tuner._work[0]), float(tuner._work[1])
        starts, log = getattr(tuner, "_starts", None), getattr(tuner, "_log", None)
        if starts is None or log is None:
            return seconds
        from .report import _ITERATIONS, _SECONDS

        rows = [log[r] for r in starts() if r < len(log)]
        if len(log) - len(rows) < _LOAD_FROM:  # too few other solves to measure against
            return seconds
        rate = (seconds - sum(row[_SECONDS] for row in rows)) / max(
            its - sum(row[_ITERATIONS] for row in rows), 1.0)
        load = sum(max(0.0, row[_SECONDS] - max(row[_ITERATIONS], 1) * rate) for row in rows)
        return seconds - load if seconds - load > 0 else seconds

    def settle(self, tuner, t):
        """After the audits of round ``t``: when they took the spending above the whole
        budget, rescale at the next round (the hard cap; for an overspend of the rounds before
        the cap applies, at its first round).  The decision reads only rounds up to
        ``t``, so the probabilities of every later round stay known in advance."""
        solved = _solved(tuner)
        if self.spent > self.budget * solved and not self.floored and (
                t < _FIRST_PLAN or PLAN_SHARE * self.budget * (solved - self.last_adjust[0])
                >= self.last_adjust[1]):
            # an overspend of the first rounds is rescaled as soon as the cap applies; not
            # when the last rescaling already set the least rate (another one would only
            # add its own CPU time, which is charged from round _FIRST_PLAN on), nor, from
            # there on, before the budget accrued since the last adjustment pays for what
            # its rescaling cost at PLAN_SHARE (on solves of tens of microseconds a rescaling
            # costs several solves, and rescalings of the hard cap after every audited
            # round had spent more than the audits they cut)
            self.next_adjust = min(self.next_adjust, max(t + 1, _SETTLE_FROM))

    def column_cap(self, k, paid_iterations, maxiter):
        """Iteration cap of a column audit of arm ``k`` this round (``maxiter``: in full).

        An arm audited capped (far from the best) stops at :func:`capped_cap`; any other at
        what the budget has accrued and not spent — ``budget`` × the user's solves so far
        minus the audits' and plans' spending, including the runs already made this round —
        but never below :func:`capped_cap` (an arm that needs more than that is no contender
        on the round, and one audit run stays bounded).  A run stopped at that cap gives
        ``min(C, cap)``, a lower bound (:mod:`bandit.estimate` then uses only the lower bound
        of that arm's total).  Without a cost in iterations (``cost="time"`` or work) the
        cap is ``maxiter``.

        Examples
        --------
        >>> aud = Auditor(3, 0.05)
        >>> aud.solved = 10_000.0; aud.spent = 100.0   # 500 accrued, 100 spent
        >>> aud.column_cap(0, 100, 10_000)    # what is left, above 3 × the 100 paid
        400
        >>> aud.spent = 450.0; aud.column_cap(0, 100, 10_000)   # at least 3 × the 100 paid
        300
        """
        floor = capped_cap(paid_iterations, maxiter)
        if self.capped[k]:
            return floor
        if self.solved is None:  # not in iterations
            return maxiter
        left = self.budget * self.solved - self.spent
        return int(min(maxiter, max(floor, math.floor(left))))

    def _coins(self, probs):
        """Independent coins with ``probs``, conditioned on at least one success (the round
        was drawn by the geometric skip with exactly that probability)."""
        tail = np.cumprod((1.0 - probs)[::-1])[::-1]  # P(no success among j..)
        hits = []
        for j, c in enumerate(probs):
            pj = c if hits else c / max(1.0 - tail[j], 1e-300)
            if self.rng.random() < pj:
                hits.append(j)
        return hits

    def _skip(self):
        p_any = 1.0 - float(np.prod(1.0 - self.q[-1])) * (1.0 - self.r[-1])
        if p_any <= 0.0:
            return 1 << 62
        return int(self.rng.geometric(min(p_any, 1.0)))

    def record(self, t, arm, row, value, iterations, seconds, converged, budget, cap, p,
               spent, completion=False):
        """One audit observation: the arm's cost ``value`` on this round (the failure cost if
        the run failed), iterations, seconds (0 for the played arm's own solve, observed for
        free), whether it converged, the cap an attempt of this arm would have had on this
        round, the run's own cap, the policy's probability of this arm and what the run spent
        in the tuner's cost unit (``completion``: the run completes the chosen arm's stopped
        attempt).  ``value`` and ``spent`` differ for an arm that keeps its set-up
        (``reuse=k``): the value is a fixed run's cost per step, its solve plus
        ``S / (1 + k)`` (:func:`bandit._audit_reuse.recorded_cost`), the budget counts what
        the run spent (the whole set-up it built, or none)."""
        if seconds > 0 and not row:
            tally = self.completion if completion else self.column
            tally[0] += 1
            tally[1] += float(spent)
        rec = self.records
        rec["round"].append(int(t))
        rec["arm"].append(int(arm))
        rec["row"].append(bool(row))
        rec["value"].append(float(value))
        rec["iterations"].append(int(iterations))
        rec["seconds"].append(float(seconds))
        rec["converged"].append(bool(converged))
        rec["budget"].append(int(budget))
        rec["cap"].append(int(cap))
        rec["p"].append(float(p))
        self.seconds += float(seconds)
        self.spent += float(spent)

    def _follow(self, tuner, t, rate, each, solve, setups=None):
        """Column-audit probabilities without a plan that spend ``rate`` per round: a share
        :data:`FOLLOW` in proportion to :func:`play_weights` (the plays' cost mass, spread
        along ω), the rest evenly over the arms, each arm's audit priced at its measured
        runs (:meth:`_relative_prices`; at least ``solve``, what a round paid on average) on
        the rounds it was not played (there its coin is free).

        The best fixed arm is the one whose costs are smallest on the rounds that cost most,
        and there a learner plays the arm that is best *there*: the arms within a few steps
        of the arms played on the dear rounds are the contenders.  An arm far from every
        played one — several times the best total on the benchmark's sequences — is
        audited through the even share alone.  Reads the policy's per-arm play counts and
        cost sums (``O(K)``, a dozen array operations: a hard cap's rescalings run it
        often): no pass over the run, so it fits where no plan does.  A function of past
        rounds only, so every probability is known before its round."""
        K = self.K
        follow = FOLLOW or 0.0
        pol = tuner.policy
        mass, counts = getattr(pol, "cost_sums", None), getattr(pol, "counts", None)
        even = rate / (K * max(each, 1e-300))
        if setups is not None:  # an audit that builds a set-up costs it too (setup_prices)
            even = rate / (K * (max(each, 1e-300) + setups))
        if follow <= 0 or t < _FIRST_PLAN or not pol.randomised or mass is None \
                or counts is None or len(mass) != K:
            # (before the first plan is due, a hard cap's rescaling keeps the audits even, as
            # before; a deterministic policy's stay even: concentrated on its contenders,
            # their intervals missed — see FOLLOW)
            return np.broadcast_to(even, (K,)).copy()
        if self._order is None:
            from .report import _arm_order

            self._order = (_spread_matrix(_arm_order(tuner), K),)
        spread = self._order[0]
        w = mass if spread is None else spread @ mass
        total, plays = float(w.sum()), float(counts.sum())
        if not (total > 0 and plays > 0):
            return np.broadcast_to(even, (K,)).copy()
        # an audit priced at a solve at least (priced below that, as the anchor's were at
        # first, the cheap arms' audits overspent, and each overspend cost a rescaling);
        # an arm's coin is free on the rounds it was played
        prices = np.maximum(self._relative_prices(getattr(tuner, "_log", None)) * each, solve)
        if setups is not None:
            prices = np.maximum(prices, solve + setups)
        spend = prices * np.maximum(1.0 - counts / plays, 1e-3)
        # (1 − follow) spread evenly, follow in proportion to w, as spending shares over the
        # arms' prices (a probability above 1 is rare at a budget of a few per cent)
        return np.minimum(((1.0 - follow) * rate / K + (follow * rate / total) * w) / spend,
                          1.0)
