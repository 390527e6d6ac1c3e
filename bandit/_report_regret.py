"""The regret report of a :class:`bandit.Tuner` (part of :mod:`bandit.report`, importable from
there): :meth:`bandit.Tuner.regret` assembled from the estimators' report, the run's costs and
how its failed solves and fallbacks are counted."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._base import count_of
from ._report_costs import audit_cost, cost_unit
from ._report_data import _estimator_input
from ._report_history import history
from .estimate import RegretEstimate, RegretReport, estimate_regret


@dataclass(frozen=True)
class TunerRegretReport(RegretReport):
    """:meth:`bandit.Tuner.regret`: a :class:`~bandit.estimate.RegretReport` that also says
    how the run's failed solves are counted.

    Attributes
    ----------
    failures : dict
        Over the report's rounds: ``not_converged`` (solves no arm finished),
        ``fallback_ran`` (solves whose fallback chain ran: the chosen arm was stopped,
        failed or not started), ``fallback_finished`` (those of them that an arm of the
        chain finished: converged), ``failure_cost`` (what an arm is counted on a round where
        it does not converge, in ``unit``) and ``maxiter``. Failed solves and fallbacks are
        *included*: the run at what it paid for them, every arm it ran; each comparator's arm
        at the failure cost on a round it does not finish. ``fallbacks`` is the older name
        of ``fallback_finished``, kept for code that reads it (:meth:`bandit.Tuner.summary`'s
        ``fallbacks`` counts ``fallback_ran``).

    Examples
    --------
    >>> from bandit.report import failure_note
    >>> print(failure_note({"rounds": 12, "not_converged": 4, "fallback_ran": 4,
    ...                     "fallback_finished": 0, "failure_cost": 30.0, "maxiter": 30},
    ...                    "iterations"))
    4 of 12 solves did not converge; included: the run at what it paid for them, an arm at the failure cost (30 iterations, maxiter) on a round it does not finish
    """

    failures: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "failures": dict(self.failures)}

    def __str__(self):
        head, _, rest = super().__str__().partition("\n")
        note = failure_note(self.failures, self.unit)
        return "\n".join(filter(None, [head, f"  {note}" if note else "", rest]))


def failure_note(f: dict, unit: str) -> str:
    """One line: how many of the report's solves failed or fell back, and that they are in
    both totals (the run's and the comparators'); empty for a report over no rounds."""
    T = f.get("rounds", 0)
    if not T:
        return ""
    n, fb = f["not_converged"], f.get("fallback_finished", f.get("fallbacks", 0))
    fell = (f"{count_of(fb, 'solve')} finished by a fallback arm after the chosen one "
            f"stopped (the run paid both)") if fb else ""
    if not n:
        return (f"all {T} solves converged" if T > 1 else "the solve converged") + (
            f"; {fell}" if fell else "")
    fail = f["failure_cost"]
    cost = (f"{fail:,.0f} iterations, maxiter" if unit == "iterations" else
            f"{fail:.4g} {unit}: maxiter = {f['maxiter']:,} iterations of the dearest arm")
    return (f"{n} of {T} solves did not converge; included: the run at what it paid for "
            f"them, an arm at the failure cost ({cost}) on a round it does not finish"
            + (f"; {fell}" if fell else ""))


def regret(tuner, *, level=0.9, n_boot=200, seed=0, rounds=None) -> TunerRegretReport:
    """:meth:`bandit.Tuner.regret`."""
    data, kept, T, paid = _estimator_input(tuner, rounds=rounds)
    rep = estimate_regret(data, level=level, n_boot=n_boot, seed=seed,
                          unit=cost_unit(tuner.cost))
    cost = audit_cost(tuner)
    cost["report_seconds"] = rep.cost["report_seconds"]
    best, opt = rep.best_fixed, rep.instance_optimal
    if kept is not None and T:
        best, opt = (_on_run_rounds(e, kept, T, level) for e in (best, opt))
    h = history(tuner)
    ran, finished = fallback_counts(h, T)
    failures = {"rounds": T,
                "not_converged": int(np.count_nonzero(~h["converged"][:T])),
                "fallback_ran": ran, "fallback_finished": finished,
                "fallbacks": finished,  # the older name of fallback_finished
                "failure_cost": float(data.fail_cost), "maxiter": int(tuner.maxiter)}
    return TunerRegretReport(best, opt, paid if kept is not None else rep.paid, rep.unit, T,
                             cost, failures)


def fallback_counts(h, T=None) -> tuple[int, int]:
    """Of a history's first ``T`` rounds (all by default): the solves whose fallback chain
    ran (``fallback_arm >= 0``: the chosen arm was stopped, failed or not started), and
    those of them an arm of the chain finished (converged; on a solve no arm finished the
    chain only ran)."""
    ran = h["fallback_arm"][:T] >= 0
    return int(np.count_nonzero(ran)), int(np.count_nonzero(ran & h["converged"][:T]))


def _on_run_rounds(e, kept, T, level):
    """A regret estimate over the kept rounds (:func:`estimator_data`) stated over the run's
    ``T`` rounds: each checkpoint at the run's round, and one more at ``T`` on the last
    values when the run ends in rounds left out (they add 0 to the regret, so the curve
    holds between kept rounds).  With no kept round at
    all, every arm cost what each round paid: both regrets are exactly 0."""
    import dataclasses

    if not kept.size:
        zero = np.zeros(1)
        return RegretEstimate(e.comparator, 0.0, 0.0, 0.0, level,
                              "exact: every round's start already met the stopping rule, so "
                              "every arm costs what the round paid", True,
                              np.array([T], dtype=np.int64), zero, zero.copy(), zero.copy(),
                              None)
    at = kept[np.asarray(e.rounds, dtype=np.int64) - 1] + 1
    if at[-1] == T:
        return dataclasses.replace(e, rounds=at)
    # the last kept round's checkpoint stays where it is; the rounds after it add nothing,
    # so the curves end at T on the same values (moving that checkpoint to T would drop it)
    return dataclasses.replace(e, rounds=np.append(at, T),
                               **{k: np.append(getattr(e, k), getattr(e, k)[-1:])
                                  for k in ("curve", "curve_low", "curve_high")})
