"""What the regret estimators read and return: :class:`RunData` (a run as plain arrays),
:class:`RegretEstimate` (one comparator) and :class:`RegretReport` (both, and their cost).

Kept apart from the estimators (:mod:`bandit.estimate`, which exports them) so that the
records can be read without the estimation code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._base import count_of

__all__ = ["RunData", "RegretEstimate", "RegretReport", "format_interval"]


def no_minus_zero(spec: str):
    """``spec.format`` whose figures never read ``-0``: a regret of -0.3 iterations rounds to
    0, and "regret vs the best fixed arm -0" suggests the run beat it.

    Examples
    --------
    >>> show = no_minus_zero("{:,.0f}")
    >>> show(-0.3), show(-1234.6), show(0.0)
    ('0', '-1,235', '0')
    """
    def show(value) -> str:
        text = spec.format(value)
        return text[1:] if text.startswith("-") and set(text[1:]) <= set("0,.") else text
    return show


def format_interval(low, high, fmt) -> str:
    """An interval's two ends as ``"LOW to HIGH"``, each written by ``fmt``.

    With thousands separators, ``[-79,308, 600]`` reads as a list of three numbers: the
    separator between the ends is a word, not a comma.

    Examples
    --------
    >>> format_interval(-79308, 600, "{:,.0f}".format)
    '-79,308 to 600'
    """
    return f"{fmt(low)} to {fmt(high)}"


@dataclass
class RunData:
    """Everything the estimators read about a run (one entry per round unless said).

    Attributes
    ----------
    paid : ndarray (T,)
        Cost paid each round (every run of the round), in the run's cost unit.
    x : ndarray (T,)
        Coordinate of the cost model: the context (the first coordinate of a vector that
        changes), or the round index when the run has no context or it never changes.
    arm : ndarray of int (T,)
        Arm the policy chose.
    p : ndarray (T,)
        Probability the policy gave that arm (1 for a deterministic policy).
    played : ndarray (T,)
        ``C[t, arm_t]`` when the chosen arm's attempt converged, else NaN.
    epoch_start, q, r : ndarray (E,), (E, K), (E,)
        Audit plans: from round ``epoch_start[e]`` on, arm ``k`` is audited with probability
        ``q[e, k]`` and the whole round with probability ``r[e]``.
    audits : dict of ndarray
        One entry per audit run: ``round``, ``arm``, ``row`` (bool: part of a row audit),
        ``value`` (cost; ``fail_cost`` when it failed), ``iterations``, ``converged``,
        ``budget`` (the iteration cap an attempt of that arm would have had on that round:
        the guard's, else ``maxiter``), ``p`` (the policy's probability of that arm on that
        round).
    fail_cost : float
        What a failed solve costs (``maxiter`` iterations, or their seconds).
    arm_order : ndarray of int or None
        Arms in ω order (the model smooths along it), or None (arms unrelated).
    randomised : bool
        Whether ``p`` comes from a randomised policy (else every entry is 1).
    full : ndarray of bool (E, K) or None
        Whether each epoch audited each arm in full (else capped at ``cap``); None: in full.
    cap : ndarray (T,) or None
        Cap of the capped audits of each round, ``⌈3 × iterations paid⌉`` (an arm that
        needs more cannot be the best on that round by much): they give lower bounds.
    maxiter : int
        The solves' iteration cap (a run with this cap was an audit in full).
    budget : ndarray (T,) or None
        The cap of the chosen arm's attempt, in the cost unit (None: unknown); a stopped
        attempt shows the arm's cost to be above it.
    complete : ndarray (E,) or None
        Per epoch, the probability that the auditor completes a chosen arm the guard stopped
        (None: :data:`bandit.audit.COMPLETE` in every epoch).
    failed : ndarray of bool (T,) or None
        Rounds whose chosen arm's attempt failed (diverged, broke down or reached
        ``maxiter``; not stopped by the guard's budget): an observation of
        ``C[t, arm_t] = fail_cost``, as an audit's failed run is.  None: failed plays are
        not known (then they are not observations, nor are audits' failures for the plays).
    refused : ndarray of bool (T,) or None
        Rounds whose chosen arm's attempt the guard did not start (its set-up alone over
        the attempt's allowance): the auditor never completes those (a completion would
        build the set-up the guard refused), so the entry is observed by a column audit
        alone.  None: every stopped attempt was completed with the epoch's probability.
    solved : int or None
        Rounds whose solve converged, by any run — the fallback chain's too, which the
        estimators do not read (None: not known).  Only the report's wording uses it: a run
        whose chosen arms and audits all failed, while fallbacks solved some rounds, is not
        one in which "every run failed".
    """

    paid: np.ndarray
    x: np.ndarray
    arm: np.ndarray
    p: np.ndarray
    played: np.ndarray
    epoch_start: np.ndarray
    q: np.ndarray
    r: np.ndarray
    audits: dict
    fail_cost: float
    n_arms: int
    arm_order: np.ndarray | None = None
    randomised: bool = True
    full: np.ndarray | None = None
    cap: np.ndarray | None = None
    maxiter: int = 10_000
    budget: np.ndarray | None = None
    complete: np.ndarray | None = None
    failed: np.ndarray | None = None
    solved: int | None = None
    refused: np.ndarray | None = None

    @property
    def T(self) -> int:
        return int(self.paid.size)


@dataclass(frozen=True)
class RegretEstimate:
    """Estimated regret against one comparator, with its interval, method and cost.

    Attributes
    ----------
    comparator : str
        ``"best_fixed"`` (``min_k Σ_t C[t, k]``) or ``"instance_optimal"``
        (``Σ_t min_k C[t, k]``).
    estimate : float
        Total regret ``Σ_t paid_t − comparator`` (bias-corrected, see :mod:`bandit.estimate`);
        NaN when it is undefined: no arm converged in any round, or the best fixed arm's
        observed runs all failed (its total would be the failure cost, a penalty; ``method``
        says why).
    low, high : float
        The interval at ``level`` (NaN when the method gives none: cost model only, or
        undefined).
    level : float
        Confidence level of the interval (0.9 by default).
    method : str
        How it was estimated, and whether it is biased.
    unbiased : bool
        Whether every entry the comparator needs was observable (an interval is given).
    rounds : ndarray of int
        Checkpoint rounds of the curves (the number of rounds so far, ending with ``T``).
    curve, curve_low, curve_high : ndarray
        Cumulative regret at each checkpoint and its interval (the comparator of the whole
        run, as :func:`bandit.regret`).
    comparator_arm : int or None
        The estimated best fixed arm (``best_fixed`` only).
    at_bound : bool
        Whether ``estimate`` is no estimate but its bound, for either comparator: its
        estimated total came out below 0, which no arm and no per-round choice costs (for
        ``best_fixed`` the weighted total, when a few audits of tiny probability outweighed
        the cost model; for ``instance_optimal`` the sum of the model's per-round minima
        corrected by a few row audits), so ``estimate`` is the cost paid (the comparator put
        at 0), an upper end, and only the interval, if any, is informative (the printed
        report says "at most").
    """

    comparator: str
    estimate: float
    low: float
    high: float
    level: float
    method: str
    unbiased: bool
    rounds: np.ndarray = field(repr=False)
    curve: np.ndarray = field(repr=False)
    curve_low: np.ndarray = field(repr=False)
    curve_high: np.ndarray = field(repr=False)
    comparator_arm: int | None = None
    at_bound: bool = False

    @property
    def half_width(self) -> float:
        return 0.5 * (self.high - self.low)

    def as_dict(self) -> dict:
        """Plain numbers (no curves), for summaries and JSON: the comparator and the number
        of rounds the estimate covers (the last checkpoint) with them."""
        return {"comparator": self.comparator,
                "rounds": int(self.rounds[-1]) if self.rounds.size else 0,
                "estimate": self.estimate, "low": self.low, "high": self.high,
                "level": self.level, "method": self.method, "unbiased": self.unbiased,
                **({"comparator_arm": self.comparator_arm}
                   if self.comparator == "best_fixed" else {}),
                "at_bound": self.at_bound}


@dataclass(frozen=True)
class RegretReport:
    """:meth:`bandit.Tuner.regret`: both comparators and what the estimation cost.

    Attributes
    ----------
    best_fixed, instance_optimal : RegretEstimate
    paid : float
        Total cost paid by the run (the cost unit of the tuner).
    unit : str
        ``"iterations"``, ``"seconds"`` (``cost="time"`` or ``"timed_work"``) or ``"work"``.
    rounds : int
    cost : dict
        ``audit_runs``, ``audit_iterations``, ``audit_seconds`` (solves run by audits),
        ``planning_seconds`` (choosing them), ``solve_seconds`` (the user's solves),
        ``solve_iterations`` (the user's solves' iterations), ``fraction`` (audit plus
        planning over solve seconds), ``audit_share`` (audit over solve iterations: free of
        the clock, whose first solve includes loading compiled code), ``planning_share``
        (planning over solve seconds), ``budget`` (the tuner's
        ``audit_budget``), ``budget_used`` (audits and plans over the user's solves in the
        tuner's cost unit, ``unit``: what the budget bounds) and ``report_seconds`` (this
        computation).
    """

    best_fixed: RegretEstimate
    instance_optimal: RegretEstimate
    paid: float
    unit: str
    rounds: int
    cost: dict

    def as_dict(self) -> dict:
        return {"paid": self.paid, "unit": self.unit, "rounds": self.rounds,
                "best_fixed": self.best_fixed.as_dict(),
                "instance_optimal": self.instance_optimal.as_dict(), "cost": dict(self.cost)}

    def __str__(self):
        fmt = no_minus_zero("{:,.0f}" if self.unit == "iterations" else "{:.4g}")
        lines = [f"regret over {self.rounds} round{'s' if self.rounds != 1 else ''} ({self.unit}; "
                 f"paid {fmt(self.paid)}):"]
        for e in (self.best_fixed, self.instance_optimal):
            what = "best fixed arm" if e.comparator == "best_fixed" else "instance-optimal"
            if not math.isfinite(e.estimate):  # the method says why
                lines.append(f"  vs {what}: {e.method}")
                continue
            ci = (f"{e.level:.0%} interval {format_interval(e.low, e.high, fmt)}"
                  if math.isfinite(e.low) else "no interval (biased)")
            if e.at_bound:  # the comparator's total fell below 0: no point estimate
                lines.append(f"  vs {what}: at most {fmt(e.estimate)} (no point estimate: too "
                             f"few audits for this run), {ci}")
                continue
            lines.append(f"  vs {what}: {fmt(e.estimate)}, {ci}")
        c = self.cost
        if "audit_runs" in c:
            runs = c["audit_runs"]
            head = f"  audits: {count_of(runs, 'run')}, "
            if "audit_share" in c:  # audit solves and planning apart (planning is no audit)
                lines.append(head + f"{c['audit_iterations']:,} iterations "
                             f"({c['audit_share']:.1%} of the {c['solve_iterations']:,} "
                             f"iterations of the solves); planning (choosing what to audit) "
                             f"{c['planning_seconds']:.2g} s ({c['planning_share']:.1%} of the "
                             "solve seconds)")
            else:
                lines.append(head + f"{c['fraction']:.1%} of the solve time (audits and "
                             "planning)")
        return "\n".join(lines)
