"""Audits: a few extra solves, off the user's clock, that make regret estimates unbiased.

After a tuned solve, an audit may run other arms on the same system (never told to the
policy, never part of the returned result).  Two kinds, drawn with the auditor's own seeded
generator (saved with the tuner, so a resumed run audits the same rounds):

* **column audits** — arm ``k`` is run with probability ``q_k``, so every entry ``C[t, k]``
  has a known chance of being observed (the best-fixed-arm comparator); ``q`` favours the
  arms most likely to be the best fixed arm and keeps a floor for every arm (which keeps
  every column total unbiased).  An arm run in full gives ``C[t, k]``; once the run shows
  an arm to be far from the best (its total at least 30 % above the smallest, with three
  standard errors to spare on both), it is run *capped* at :data:`CAP_FACTOR` × the iterations the round
  paid, which gives ``min(C[t, k], cap)``: enough to keep it excluded from the minimum
  (totals of capped costs are lower bounds), at a fraction of the cost;
* **row audits** — with probability ``r`` every arm not yet known on the round is run,
  each capped at the cheapest cost found so far (an arm that needs more cannot be the
  minimum), which gives the round's exact minimum (the instance-optimal comparator).

*Planning* (which arms matter, what an audit of each costs) refits the estimator's cost
model at rounds 0, 512, 4096, … (×8); every 512 rounds the probabilities are rescaled so
that audit solves spend 90 % of ``budget`` × what the user's solves cost (an overspend is
paid back, but the floor is never given up; the other 10 % leave room for planning, which
is timed and reported but not budgeted).  Costs are counted in the tuner's cost unit:
iterations with ``cost="iterations"`` — the same measure of solve time for every arm of
one solver, since an SOR or SSOR-PCG iteration costs the same whatever ω, and not a noisy
clock — so the audited rounds are a function of the seeded generator and the run alone: a
rerun audits the same rounds, and a saved and loaded tuner continues exactly where it
stopped (with ``cost="time"``, as far as the clock agrees).  Each change starts an *epoch*
(its first round and probabilities are recorded: the estimators need them).  Within an
epoch the rounds with an audit are found by a geometric skip, so a round without one costs
one comparison.
"""
from __future__ import annotations

import math
import time

import numpy as np

__all__ = ["Auditor", "AUDIT_COLUMNS", "ROW_SHARE", "FLOOR", "CAP_FACTOR",
           "PLAN_SECONDS_PER_ROUND", "capped_cap", "allocate"]

#: One list per field, one entry per audit run.
AUDIT_COLUMNS = ("round", "arm", "row", "value", "iterations", "seconds", "converged",
                 "budget", "cap", "p")
#: Share of the budget spent on row audits (the instance-optimal comparator).
ROW_SHARE = 0.1
#: Share of the column-audit budget spread over all arms in proportion to 1/cost (every arm
#: keeps a chance of being audited; the rest goes where the estimate needs it).
FLOOR = 0.2
#: Capped column audits stop at this many times the iterations the round paid.
CAP_FACTOR = 3.0
_PLAN_FACTOR, _FIRST_PLAN, _ADJUST_EVERY = 8, 512, 512
_CAP_FROM, _CAP_GAP = 1024, 0.3


def _solved(tuner):
    """What the user's solves have cost so far, in the tuner's cost unit."""
    return float(tuner._work[0] if tuner.cost == "time" else tuner._work[1])


def _warm_up():
    """Load (or compile) the estimator's Numba kernels now, so no plan pays for it."""
    from .estimate import CostModel

    model = CostModel(np.arange(4.0), 2, order=np.arange(2))
    model.fit(np.arange(4), np.zeros(4, np.int64), np.ones(4))


def capped_cap(paid_iterations, maxiter):
    """Iteration cap of a capped column audit on a round that paid ``paid_iterations``."""
    return int(max(1, min(maxiter, math.ceil(CAP_FACTOR * paid_iterations))))


class Auditor:
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
        self.epoch_start, self.q, self.r, self.full = [], [], [], []
        self.capped = np.zeros(self.K, dtype=bool)  # arms audited capped from now on
        self.next_plan = 0
        self.next_adjust = 0
        self.next_audit = -1
        self.records = {c: [] for c in AUDIT_COLUMNS}
        self.seconds = 0.0  # audit solves
        self.spent = 0.0  # the same in the tuner's cost unit (iterations or seconds)
        self.planning = 0.0  # choosing them (measured and reported, not budgeted)
        # the latest plan: allocation at a rate, row cost (saved with the tuner)
        self.plan = None
        _warm_up()

    # --- per round ----------------------------------------------------------------------------
    def due(self, t) -> bool:
        """Whether round ``t`` needs the auditor (a plan, a rescaling, or a drawn audit)."""
        return t == self.next_audit or t >= self.next_adjust

    def draw(self, tuner, t):
        """Plan or rescale if due; return ``(column arms, row)`` to audit on round ``t``
        (``([], False)`` on most rounds)."""
        if t >= self.next_adjust:
            start = time.perf_counter()
            if t >= self.next_plan:
                self._plan(tuner, t)
            self._rescale(tuner, t)
            self.planning += time.perf_counter() - start
        if t != self.next_audit:
            return [], False
        probs = np.append(self.q[-1], self.r[-1])
        hits = self._coins(probs)
        self.next_audit = t + self._skip()
        return [j for j in hits if j < self.K], self.K in hits

    def column_cap(self, k, paid_iterations, maxiter):
        """Iteration cap of a column audit of arm ``k`` this round (``maxiter``: in full)."""
        return capped_cap(paid_iterations, maxiter) if self.capped[k] else maxiter

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
               spent):
        """One audit observation: the run's cost ``value`` (the failure cost if it failed),
        iterations, seconds (0 for the played arm's own solve, observed for free), whether it
        converged, the cap an attempt of this arm would have had on this round, the run's own
        cap, the policy's probability of this arm and what the run spent in the tuner's cost
        unit."""
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

    # --- planning -----------------------------------------------------------------------------
    def _plan(self, tuner, t):
        """What auditing each arm costs and how much each needs, from the estimator's quick
        totals on the run so far (see :func:`allocate`)."""
        K = self.K
        self.next_plan = max(_PLAN_FACTOR * t, _FIRST_PLAN)
        solve = _solved(tuner)
        if t == 0 or solve <= 0.0:
            self.plan = None  # nothing known: every arm alike, an audit costs a solve
            return
        from .estimate import quick_totals

        data = tuner._run_data()
        est = quick_totals(data)
        per_round = solve / t
        cost = est["mean_cost"]  # of one audit run of each arm, in the tuner's cost unit
        cost = np.where(np.isfinite(cost) & (cost > 0), cost, per_round)
        if tuner.cost == "iterations" and t >= _CAP_FROM and np.all(np.isfinite(est["S"])):
            sd = np.sqrt(est["V"])
            far = est["S"] - 3 * sd >= (1 + _CAP_GAP) * np.min(est["S"] + 3 * sd)
            self.capped |= far
        # a capped audit stops at CAP_FACTOR × the round's iterations
        cost = np.where(self.capped, np.minimum(cost, CAP_FACTOR * per_round), cost)
        row = est["row_cost"]
        row = float(row) if np.isfinite(row) and row > 0 else (K - 1) * per_round
        # the allocation at the current rate (rescaled in proportion from then on)
        rate = self._rate(tuner, t)
        self.plan = {"rate": rate, "row_cost": row,
                     "q": allocate(est, cost, (1 - ROW_SHARE) * rate, t, data.randomised)}

    def _rate(self, tuner, t):
        """Cost per round to spend from now on: the budget's share of the solves, plus what
        was not spent so far (or minus what was overspent) over the next ``t`` rounds."""
        solve = _solved(tuner)
        per_round = solve / t
        debt = 0.9 * self.budget * solve - self.spent
        target = 0.9 * self.budget * per_round  # a margin for planning and rescaling's lag
        return min(max(target + debt / max(t, _ADJUST_EVERY), 0.1 * target), 3.0 * target)

    def _rescale(self, tuner, t):
        """New probabilities for the next rounds, spending the budget (and paying back)."""
        K = self.K
        self.next_adjust = t + _ADJUST_EVERY
        plan = self.plan
        if plan is None or not t or _solved(tuner) <= 0:
            # nothing measured yet: assume an audit run costs a solve
            q = np.full(K, self.budget * (1 - ROW_SHARE) / K)
            r = self.budget * ROW_SHARE / max(K - 1, 1)
        else:
            rate = self._rate(tuner, t)
            q = plan["q"] * (rate / plan["rate"])
            r = min(ROW_SHARE * rate / plan["row_cost"], 1.0)
        q = np.minimum(q, 1.0)
        full = ~self.capped
        if self.q and float(np.max(np.abs(q - self.q[-1]) / np.maximum(self.q[-1], 1e-300))) \
                <= 0.05 and abs(r - self.r[-1]) <= 0.05 * self.r[-1] and np.array_equal(
                    full, self.full[-1]):
            return  # not worth a new epoch
        self.epoch_start.append(int(t))
        self.q.append(q)
        self.r.append(float(r))
        self.full.append(full)
        self.next_audit = t + self._skip() - 1

    # --- persistence --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"epoch_start": list(self.epoch_start),
                "q": [np.asarray(v) for v in self.q], "r": list(self.r),
                "full": [np.asarray(v) for v in self.full],
                "next_plan": self.next_plan, "next_adjust": self.next_adjust,
                "next_audit": self.next_audit,
                "records": {k: list(v) for k, v in self.records.items()},
                "seconds": self.seconds, "spent": self.spent, "planning": self.planning,
                "plan": None if self.plan is None else dict(self.plan),
                "capped": np.asarray(self.capped),
                "rng": self.rng.bit_generator.state}

    def load_state(self, state: dict) -> None:
        self.epoch_start = [int(v) for v in state["epoch_start"]]
        self.q = [np.asarray(v, dtype=float) for v in state["q"]]
        self.r = [float(v) for v in state["r"]]
        self.full = [np.asarray(v, dtype=bool) for v in state["full"]]
        self.capped = np.asarray(state["capped"], dtype=bool)
        self.next_plan = int(state["next_plan"])
        self.next_adjust = int(state["next_adjust"])
        self.next_audit = int(state["next_audit"])
        self.records = {k: list(state["records"][k]) for k in AUDIT_COLUMNS}
        self.seconds = float(state["seconds"])
        self.planning = float(state["planning"])
        self.spent = float(state["spent"])
        plan = state["plan"]
        self.plan = None if plan is None else {"rate": float(plan["rate"]),
                                               "row_cost": float(plan["row_cost"]),
                                               "q": np.asarray(plan["q"], dtype=float)}
        self.rng.bit_generator.state = state["rng"]


def allocate(est, cost, rate, t, randomised, floor=FLOOR):
    """Column-audit probabilities that spend ``rate`` seconds per round.

    With ``σ_k`` the spread of arm ``k``'s model residuals and ``u_k`` the share of rounds
    its cost is not known for sure (all of them for a randomised policy; those it was not
    played on for a deterministic one), auditing it with probability ``q_k`` leaves an
    error variance of about ``t u_k σ_k² / q_k`` on its column total and costs
    ``q_k u_k cost_k`` per round.  Minimising ``Σ_k P_k · variance_k`` — ``P_k`` the
    chance that arm ``k`` is the best fixed arm — within the budget gives
    ``q_k ∝ σ_k √(P_k / (u_k cost_k))``: the likely best arms are audited most, and an arm
    that cannot be the best gets nothing but its share of the ``floor``, which is spread
    over all arms in proportion to 1/cost so that every arm stays observable.

    Examples
    --------
    >>> est = {"p_best": np.array([0.6, 0.4, 0.0]), "sigma": np.ones(3),
    ...        "played_share": np.zeros(3)}
    >>> q = allocate(est, np.ones(3), 0.05, t=1000, randomised=False)
    >>> bool(q[0] > q[1] > q[2] > 0), round(float(q.sum()), 3)
    (True, 0.05)
    """
    K = est["sigma"].size
    cost = np.maximum(np.asarray(cost, dtype=float), 1e-300)
    share = np.clip(np.nan_to_num(est["played_share"]), 0.0, 1.0)
    u = np.ones(K) if randomised else np.maximum(1.0 - share, 1e-3)
    spend = u * cost  # seconds per round per unit of q
    sigma = np.nan_to_num(est["sigma"], nan=1.0)
    q_floor = _scale(1.0 / spend, spend, floor * rate)
    w = sigma * np.sqrt(np.clip(est["p_best"], 0.0, 1.0) / spend)
    q = _scale(w, spend, (1 - floor) * rate) if np.any(w > 0) else np.zeros(K)
    return np.minimum(q + q_floor, 1.0)


def _scale(w, cost, rate):
    """``q = min(1, λ w)`` with ``Σ q·cost = rate``, exactly: the arms with the largest ``w``
    saturate at 1 first, and λ follows from the others (``O(K log K)``).

    Examples
    --------
    >>> _scale(np.array([1.0, 1.0, 4.0]), np.ones(3), 1.5).tolist()
    [0.25, 0.25, 1.0]
    """
    w = np.asarray(w, dtype=float)
    cost = np.maximum(np.asarray(cost, dtype=float), 1e-300)
    if rate <= 0 or not np.any(w > 0):
        return np.zeros_like(w)
    if np.sum(cost[w > 0]) <= rate:
        return (w > 0).astype(float)
    order = np.argsort(-w, kind="stable")
    ws, cs = w[order], cost[order]
    sat = np.concatenate([[0.0], np.cumsum(cs)])[:-1]  # cost of saturating the first j
    rest = np.cumsum((ws * cs)[::-1])[::-1]  # Σ w·cost of the others
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(rest > 0, (rate - sat) / np.where(rest > 0, rest, 1.0), np.inf)
        ok = (lam * ws <= 1.0) & (rest > 0)
    j = int(np.argmax(ok)) if ok.any() else w.size
    q = np.minimum(1.0, lam[j] * w) if j < w.size else np.ones_like(w)
    q[order[:j]] = 1.0
    return q
