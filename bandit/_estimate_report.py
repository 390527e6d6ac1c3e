"""The parts of a regret report that need no estimation (:mod:`bandit.estimate`): the exact
report of a run that observed every entry of its cost matrix, a regret that is undefined
and why, and the words that describe the best-fixed-arm estimate's method."""
from __future__ import annotations

import math
import time

import numpy as np

from ._checks import count_of
from ._regretdata import RegretEstimate, RegretReport


def _exact_report(data, C, cps, paid_cum, level, unit, t0, conv=None):
    """Both regrets of a run that observed every entry of its cost matrix: exact, with
    intervals of zero width (nothing was estimated); undefined against a best fixed arm that
    never converged (``conv``: per arm, its converged observations)."""
    best = int(np.argmin(C.sum(axis=0)))
    bf = paid_cum - np.cumsum(C[:, best])[cps - 1] + 0.0  # + 0.0: no "-0" in the report
    io = paid_cum - np.cumsum(C.min(axis=1))[cps - 1] + 0.0
    method = "exact: every arm's cost observed on every round, nothing estimated"
    out = [RegretEstimate(name, float(c[-1]), float(c[-1]), float(c[-1]), level, method, True,
                          cps, c, c.copy(), c.copy(), arm)
           for name, c, arm in (("best_fixed", bf, best), ("instance_optimal", io, None))]
    if conv is not None and not conv[best]:  # every entry of the comparator a failure
        out[0] = _undefined("best_fixed", _never_converged(
            data, best, np.sum(C[:, best] >= data.fail_cost), unit), cps,
                            level, best)
    return RegretReport(*out, float(data.paid.sum()), unit, data.T,
                        {"report_seconds": time.perf_counter() - t0})


def _fmt_fail(data: RunData, unit):
    if unit == "iterations":
        return f"{data.fail_cost:,.0f} iteration{'' if data.fail_cost == 1 else 's'}"
    return f"{data.fail_cost:.4g} {'seconds' if unit == 'seconds' else 'work'}"


def _never_converged(data: RunData, arm, runs, unit):
    """The method of a regret against a best fixed arm that was never seen to converge."""
    return (f"undefined: the arm with the smallest estimated total, arm {arm}, never converged: "
            f"{count_of(int(runs), 'run')} of it failed, none converged, so its "
            f"total is made of the failure cost ({_fmt_fail(data, unit)} per failed run), a "
            "penalty, not a cost to compare what the run paid with")


def _undefined(comparator, why, cps, level, arm=None):
    """A regret that cannot be given: NaN estimate, interval and curves, ``why`` as the
    method."""
    nan = np.full(cps.size, np.nan)
    return RegretEstimate(comparator, math.nan, math.nan, math.nan, level, why, False, cps,
                          nan, nan.copy(), nan.copy(),
                          arm if comparator == "best_fixed" else None)


def _method_bf(data, unbiased, have_model, n_boot, certain=0, at_bound=False, bare=0):
    if not have_model:
        return "nothing observed yet"
    n_audit = int(np.sum(~np.asarray(data.audits["row"], dtype=bool))) if len(
        data.audits["round"]) else 0
    parts = ["cost model (hats in the context, or the round, × arms; cross-fitted)"]
    if data.randomised:
        parts.append("importance weights of the policy's probabilities")
    if n_audit:
        parts.append(f"{n_audit} column audit observations")
    if not unbiased:
        return (" + ".join(parts) + ": some arms could not be observed on some rounds (a "
                "deterministic policy without audits), so the model fills in: biased, no "
                "interval")
    return (" + ".join(parts) + f" (doubly robust, unbiased); interval of the minimum from "
            f"{n_boot} multiplier bootstrap draws: lower end from each arm's own one-sided "
            "bound, upper end simultaneous over the arms that could be the minimum; point "
            "estimate weighted by each arm's chance of being the minimum (among the arms "
            "sampled at least twice, and the estimated best)" + (
                f"; {certain} of those arms sampled fewer than twice: their upper bound is "
                "certain, observed costs plus the failure cost on every other round"
                if certain else "") + (
                f"; {data.T} rounds, fewer than the cost model's cross-fitting needs (it "
                f"would predict the rounds it was fitted on): the lower bound of {bare} "
                "arms sampled fewer than twice is certain, observed costs and 0 on every "
                "other round (a conservative interval)" if bare else "") + (
                "; no point estimate: the weighted total of the candidate arms came out "
                "below 0, which no arm costs (too few audits of the candidates for this run: "
                "a larger audit_budget helps), so the estimate is put at its bound, the cost "
                "paid, and only the interval says something" if at_bound else ""))
