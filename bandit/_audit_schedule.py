"""Plans and rescalings of :class:`bandit.audit.Auditor`: the audit probabilities of each
epoch, from a plan's allocation over the arms, or before the first plan from the arms a
deterministic policy played (:func:`_played_costs`, read at the rounds of
:func:`_anchor_round`), rescaled so that audits spend the budget (:class:`Schedule`).

The column-audit probabilities without a plan of a randomised policy
(:meth:`bandit.audit.Auditor._follow`) stay in :mod:`bandit.audit`: they read the switch
``bandit.audit.FOLLOW``, set on that module.  Imported from :mod:`bandit.audit` once its
constants exist.
"""
from __future__ import annotations

import math

import numpy as np

from ._audit_plan import ANCHOR, allocate, anchor_weights
from ._audit_price import _solved, setup_prices
from . import audit as _audit
from .audit import (ANCHOR_AUDITS, CAP_FACTOR, COMPLETE, COMPLETE_SHARE, TARGET,
                    _ADJUST_EVERY, _CAP_FROM, _CAP_GAP, _EARLY, _FIRST_PLAN, _PLAN_FACTOR,
                    _SETTLE_FROM)


class Schedule:
    """The part of :class:`bandit.audit.Auditor` that plans and rescales its audit
    probabilities (a mixin: the Auditor's state is the Auditor's)."""

    def _plan(self, tuner, t, mini=False):
        """What auditing each arm costs and how much each needs, from the estimator's quick
        totals on the run so far (see :func:`allocate`; ``mini``: from
        :func:`bandit._audit_mini.mini_totals`, which caps no arm)."""
        K = self.K
        if not mini:
            self.next_plan = max(_PLAN_FACTOR * t, _FIRST_PLAN)
        solve = _solved(tuner)
        if t == 0 or solve <= 0.0:
            self.plan = None  # nothing known: every arm alike, an audit costs a solve
            return
        data = tuner._run_data()
        if mini:
            from ._audit_mini import mini_totals

            est = mini_totals(data)
            if not np.all(np.isfinite(est["S"])):
                return
            self.mini_plans += 1
            self.mini = True
        else:
            from .estimate import quick_totals

            self.plans += 1
            est = quick_totals(data)
        per_round = solve / t
        cost = est["mean_cost"]  # of one audit run of each arm, in the tuner's cost unit
        cost = np.where(np.isfinite(cost) & (cost > 0), cost, per_round)
        if not mini and tuner.cost == "iterations" and t >= _CAP_FROM and np.all(
                np.isfinite(est["S"])):
            sd = np.sqrt(est["V"])
            far = est["S"] - 3 * sd >= (1 + _CAP_GAP) * np.min(est["S"] + 3 * sd)
            self.capped |= far
        # a capped audit stops at CAP_FACTOR × the round's iterations
        cost = np.where(self.capped, np.minimum(cost, CAP_FACTOR * per_round), cost)
        row = est.get("row_cost", math.nan)
        row = float(row) if np.isfinite(row) and row > 0 else (K - 1) * per_round
        setups = setup_prices(tuner)
        if setups is not None:  # an audit that builds a set-up costs that set-up at least
            cost = np.maximum(cost, setups)
            row = max(row, float(setups.sum()))
        # the allocation at the current rate (rescaled in proportion from then on)
        rate = self._rate(tuner, t)
        ROW_SHARE = _audit.ROW_SHARE  # (read when used: a switch set on bandit.audit)
        self.plan = {"rate": rate, "row_cost": row,
                     "q": allocate(est, cost, (1 - ROW_SHARE) * rate, t, data.randomised)}

    def _anchored(self, tuner, t):
        """Whether the arm a deterministic policy has played most (:func:`anchor_weights`)
        needs no more audits: it was audited :data:`ANCHOR_AUDITS` times on rounds it was not
        played (its total is then bounded by its audits), or it was played on every round so
        far (its plays observed all of it).  The rescalings before round 512 then stop."""
        a = _anchor_round(t)
        if self._anchor is None or self._anchor[0] != a:
            self._anchor = _played_costs(tuner, a, self._anchor)
        counts = self._anchor[1]
        if not counts.any():
            return False
        if counts.max() == counts.sum():
            return True
        top = counts == counts.max()
        rec = self.records
        runs = sum(1 for k, row, sec in zip(rec["arm"], rec["row"], rec["seconds"])
                   if top[k] and not row and sec > 0)
        return runs >= ANCHOR_AUDITS

    def _rate(self, tuner, t):
        """Cost per round to spend from now on: the budget's share of the solves, plus what
        was not spent so far (or minus what was overspent) over the next ``t`` rounds."""
        solve = _solved(tuner)
        per_round = solve / t
        debt = TARGET * self.budget * solve - self.spent
        target = TARGET * self.budget * per_round  # a margin for the rescaling's lag
        rate = target + debt / max(t, _ADJUST_EVERY)
        # (at the least rate, a rescaling of the hard cap cannot lower the spending further:
        # Auditor.settle then waits for the next scheduled one, since a rescaling's CPU time
        # is charged too)
        self.floored = bool(rate <= 0.1 * target)
        return min(max(rate, 0.1 * target), 3.0 * target)

    def _rescale(self, tuner, t):
        """New probabilities for the next rounds, spending the budget (and paying back)."""
        K = self.K
        self.next_adjust = t + _ADJUST_EVERY
        if self.plan is None and not tuner.policy.randomised:
            early = [r for r in _EARLY if r > t]
            if early:
                self.next_adjust = min(self.next_adjust, early[0])
            if t in _EARLY and self._anchored(tuner, t) and not (
                    t >= _SETTLE_FROM and self.spent > self.budget * _solved(tuner)):
                return  # nothing to anchor: the probabilities stay (but for the hard cap)
        plan = self.plan
        c = COMPLETE
        ROW_SHARE = _audit.ROW_SHARE  # (read when used: a switch set on bandit.audit)
        setups = setup_prices(tuner)
        if not t or _solved(tuner) <= 0:
            # nothing measured yet: assume an audit run costs a solve (the round's), plus the
            # set-up it would build (setup_prices)
            q = np.full(K, self.budget * (1 - ROW_SHARE) / K)
            r = self.budget * ROW_SHARE / max(K - 1, 1)
            solve = _solved(tuner) / max(t, 1)
            if setups is not None and solve > 0:
                q = q * solve / (solve + setups)
                r = r * (K - 1) * solve / ((K - 1) * solve + float(setups.sum()))
        else:
            rate = self._rate(tuner, t)
            per_round = _solved(tuner) / t
            # completions of arms played with p < LIKELY: at most COMPLETE_SHARE of the rate
            runs, spent = self.completion
            each = spent / runs if runs else 3.0 * per_round
            stops = self.stopped / t * each  # cost per round of completing every stop
            if stops > 0:
                c = min(COMPLETE, COMPLETE_SHARE * rate / stops)
            rate -= c * stops
            if plan is None:  # before the first plan: at the measured cost, the played arms
                runs, spent = self.column
                each = spent / runs if runs else per_round
                # shares of the spending: an arm's audit is priced at its plays' mean cost
                # when it was played (the runs of a few poor arms, 5–10 × a solve, would
                # otherwise price every arm's audits and leave none for the played ones),
                # at a solve when it was not, as in the first rounds (priced at the runs
                # measured so early, a long run's first 512 rounds had fewer audits: heat2d,
                # JointCB, half-width 48 → 92 %; 68 % so)
                # the rounds before the last of 16, 32, …, 256, 512, 1024, 1536, … (a hard
                # cap's rescaling would otherwise read the run every round; a function of
                # the round, so a loaded tuner reads the same)
                if t < _FIRST_PLAN and not tuner.policy.randomised:
                    a = _anchor_round(t)
                    if self._anchor is None or self._anchor[0] != a:
                        self._anchor = _played_costs(tuner, a, self._anchor)
                    _, counts, n, total = self._anchor
                    price = np.where(n > 0, total / np.maximum(n, 1), 0.0)
                    # (at least a solve: an arm is played where it is cheap, and audited
                    # where it is not; priced below that, its audits overspent, and each
                    # overspend cost a rescaling)
                    price = np.maximum(np.where(price > 0, price, per_round), per_round)
                    if setups is not None:  # (a set-up the audit would build, at least)
                        price = np.maximum(price, per_round + setups)
                    q = (1 - ROW_SHARE) * rate * anchor_weights(counts, ANCHOR) / np.maximum(
                        price, 1e-300)
                else:  # a randomised policy before its first plan, or any run no plan fits
                    q = self._follow(tuner, t, (1 - ROW_SHARE) * rate, each, per_round,
                                     setups)
                row = (K - 1) * max(each, 1e-300) + (0.0 if setups is None else
                                                       float(setups.sum()))
                r = min(ROW_SHARE * rate / row, 1.0)
            else:
                q = plan["q"] * (rate / plan["rate"])
                r = min(ROW_SHARE * rate / plan["row_cost"], 1.0)
        q = np.minimum(q, 1.0)
        full = ~self.capped
        if self.q and float(np.max(np.abs(q - self.q[-1]) / np.maximum(self.q[-1], 1e-300))) \
                <= 0.05 and abs(r - self.r[-1]) <= 0.05 * self.r[-1] and np.array_equal(
                    full, self.full[-1]) and abs(c - self.c[-1]) <= 0.05 * self.c[-1]:
            return  # not worth a new epoch
        self.epoch_start.append(int(t))
        self.q.append(q)
        self.r.append(float(r))
        self.full.append(full)
        self.c.append(float(c))
        self.next_audit = t + self._skip() - 1

    def _relative_prices(self, log):
        """Per arm, its column runs' mean iterations over all column runs' (one run at the
        mean added, so an arm run once or never is priced near the mean): what ``each``,
        the mean cost of a column run, is multiplied by to price that arm's.  From the
        records, read incrementally (a cache of this process: a loaded tuner reads the same
        records).  Runs of the round's chosen arm (by the tuner's ``log``) are left out:
        they complete an attempt the guard stopped, on its dearest rounds, as ``each``
        leaves them out too."""
        rec = self.records
        n = len(rec["arm"])
        if self._priced is not None and self._priced[0] == n:
            return self._priced[1]
        from .report import _ARM

        n0, runs, its = (0, [0] * self.K, [0] * self.K) if self._priced is None else (
            self._priced[0], list(self._priced[2]), list(self._priced[3]))
        for t, k, row, sec, it in zip(rec["round"][n0:], rec["arm"][n0:], rec["row"][n0:],
                                      rec["seconds"][n0:], rec["iterations"][n0:]):
            # a column run of an arm the round did not choose (the chosen arm's own solve is
            # free, its completions are dear)
            if not row and sec > 0 and not (log is not None and t < len(log)
                                            and log[t][_ARM] == k):
                runs[k] += 1
                its[k] += it
        total, spent = sum(runs), sum(its)
        if total > 0 and spent > 0:
            mean = spent / total
            rel = (np.array(its, dtype=float) + mean) / ((np.array(runs, dtype=float) + 1.0)
                                                         * mean)
        else:
            rel = np.ones(self.K)
        self._priced = (n, rel, runs, its)
        return rel


def _anchor_round(t):
    """The rounds before this one decide the shares of :func:`anchor_weights` at round
    ``t``: the last of 16, 32, 64, 128, 256 and the multiples of 512 not after ``t`` (0
    before round 16)."""
    if t >= _ADJUST_EVERY:
        return t - t % _ADJUST_EVERY
    return max([r for r in _EARLY if r <= t], default=0)


def _played_costs(tuner, t, cache=None):
    """Per arm, how often it was chosen in the rounds before ``t`` and the mean cost of its
    plays whose attempt converged (NaN when none did), from the tuner's log (the current
    round is not logged yet).  ``cache``, the previous ``(rounds, counts, n, total)``,
    is extended by the rounds logged since (a few hundred Python steps in all, where
    converting the run's arrays cost ~0.1 ms a call)."""
    from .report import _ARM, _CENSORED, _COST

    K = tuner.policy.n_arms
    start, counts, n, total = cache if cache is not None and cache[0] <= t else (
        0, np.zeros(K, np.int64), np.zeros(K, np.int64), np.zeros(K))
    counts, n, total = counts.copy(), n.copy(), total.copy()
    for row in tuner._log[start:t]:
        k = row[_ARM]
        counts[k] += 1
        if not row[_CENSORED]:
            n[k] += 1
            total[k] += row[_COST]
    return t, counts, n, total
