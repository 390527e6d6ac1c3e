"""The report of a :func:`experiments.user_files.run`: its comparison table
(:func:`format_report`), the first unsolved system (:func:`format_failures`), the figures' data
with the exact regret curves (:func:`figure_data`), and the tuned run's and the best fixed arm's
exact costs that :func:`experiments.user_files.summarize` shares with them.  Importable from
:mod:`experiments.user_files` as before.
"""
from __future__ import annotations

import math

import numpy as np

def _tuned_costs(result, T) -> np.ndarray:
    """The tuned run's iterations per system, counted as the fixed ω's are: a system the run
    did not solve costs at least ``maxiter`` (the guard may stop a diverging solve early;
    a fixed ω that fails counts the cap, so the tuned run must too).  A continued tuner's
    earlier rounds (``result["start"]``) are not this run's."""
    h = result["tuner"].history
    s = result.get("start", 0)
    its = np.asarray(h["iterations"][s:s + T], dtype=float)
    cap = result.get("maxiter", result["tuner"].maxiter)
    failed = ~np.asarray(h["converged"][s:s + T], dtype=bool)
    its[failed] = np.maximum(its[failed], cap)
    return its


def _best_fixed(result):
    """``(k, totals, converged)``: the best fixed arm in hindsight — the cheapest of the arms
    that converged on every system (of all arms if none did) — each arm's exact total, and
    whether it converged on every system."""
    totals = result["C"].sum(axis=0)
    conv = result["converged"].all(axis=0)
    ok = np.flatnonzero(conv)
    k = int(ok[np.argmin(totals[ok])]) if ok.size else int(np.argmin(totals))
    return k, totals, conv



def format_report(s: dict) -> str:
    """The comparison table of :func:`summarize` as plain text."""
    from bandit._base import count_of

    stopped = (" (interrupted: the systems finished before the run was stopped)"
               if s.get("interrupted") else "")
    lines = [f"{count_of(s['systems'], 'system')}, {s['solver']}{stopped}"]
    resumed = s.get("resumed")
    if resumed:
        these = (f"these {count_of(s['systems'], 'system')}" if s["systems"] != 1
                 else "this system")
        lines[0] += (f" (a continued tuner: the table covers {these}, "
                     f"not its {count_of(resumed['earlier_rounds'], 'earlier round')})")
    tuned = s["tuned"]["iterations"]
    T = s["systems"]

    def failed(row):  # a summary written before the count: the flag alone
        return row.get("not_converged", 0 if row["all_converged"] else -1)

    rows = [("tuned (relaxtune)", tuned, failed(s["tuned"]))]
    if "auto_context" in s:  # an SOR sweep reads the matrix once, as a product does
        mv = s["auto_context"]["matvecs"]
        per = 1 if s["solver"] == "sor" else 2  # SSOR-PCG: about two passes an iteration
        rows.append((f"  + automatic context ({mv:,} products)", tuned + mv // per,
                     failed(s["tuned"])))
    if "best_fixed" in s:
        bf = s["best_fixed"]
        rows += [(f"best fixed ω = {bf['omega']:g} (hindsight)", bf["iterations"],
                  failed(bf)),
                 (f"fixed ω = {s['omega_one']['omega']:g}", s["omega_one"]["iterations"],
                  failed(s["omega_one"])),
                 ("instance-optimal (per system)", s["instance_optimal"]["iterations"],
                  failed(s["instance_optimal"]))]
    from bandit._regretdata import format_interval, no_minus_zero

    from .cli_common import shown  # measured as printed: ω may print as "omega"

    ref = s["best_fixed"]["iterations"] if "best_fixed" in s else None
    rows = [(shown(name), v, nf) for name, v, nf in rows]
    width = max(len(r[0]) for r in rows)
    lines.append(f"{'method':<{width}}  {'iterations':>11}  {shown('× best fixed'):>12}")
    for name, v, nf in rows:
        ratio = f"{v / ref:.3f}" if ref else shown("—")
        flag = ("" if nf == 0 else "  (some solves did not converge)" if nf < 0
                else "  (no solve converged)" if nf >= T
                else f"  ({nf} of {T} solves did not converge)")
        lines.append(f"{name:<{width}}  {v:>11,}  {ratio:>12}{flag}")
    e = s["estimate"]
    whole = no_minus_zero("{:,.0f}")  # (a regret of -0.3 iterations reads 0, not -0)
    band = (f"interval {format_interval(e['low'], e['high'], whole)}"
            if math.isfinite(e["low"]) and math.isfinite(e["high"]) else "no interval")
    # at its bound the 'estimate' is the cost paid, the interval's upper end: no estimate
    point = (f"at most {whole(e['best_fixed'])} (no point estimate: too few audits)"
             if e.get("at_bound") else whole(e["best_fixed"]))
    est = (f"regret against the best fixed arm: the Tuner's estimate {point}, "
           f"{band} ({e['method'].split(':')[0]})")
    if resumed:
        est = est.replace("the Tuner's estimate",
                          f"the Tuner's estimate over all {resumed['rounds']} rounds "
                          f"(earlier runs included)", 1)
    if not math.isfinite(e["best_fixed"]):  # had printed "estimate nan no interval"
        est = f"regret against the best fixed arm: the Tuner's estimate is {e['method']}"
    if "exact_regret" in s:
        est += (f"; exact {s['exact_regret']['best_fixed']:,}"
                + (f" over {these}" if resumed else ""))
        if band != "no interval" and "covered" in s:
            est += f" ({'inside' if s['covered'] else 'outside'} the interval)"
    lines.append(est)
    own = s.get("own_time")
    if own and own.get("exceeds_solves"):
        w = f"{s['best_fixed']['omega']:g}" if "best_fixed" in s else "W"
        lines.append(
            f"own time: relaxtune's work took {own['median_us']:,.0f} µs a solve against "
            f"{own['solver_median_us']:,.0f} µs of solver time (medians of the latest solves): "
            f"for systems this cheap the Tuner costs more time than tuning saves; in your own "
            f"loop call the solver itself at one ω (solvers.{s['solver']}(A, b, omega={w})"
            f"{', the best fixed above' if 'best_fixed' in s else ''})")
    return "\n".join(lines)


def format_failures(s: dict) -> str:
    """Why the tuned run of :func:`summarize` left systems unsolved, as its Tuner said it for
    the first of them (``""`` when it solved every one): the table says only how many."""
    failures = s.get("failures") or ()
    if not failures:
        return ""
    first = failures[0]
    which = f"system {first['system']}" + (f" ({first['name']})" if first["name"] else "")
    more = (f" ({len(failures) - 1} more in summary.json, \"failures\")"
            if len(failures) > 1 else "")
    return f"not solved by the tuned run: {which}: {first['why']}{more}"


def figure_data(result) -> dict:
    """:func:`experiments.plots.run_data` of the run, with the exact comparators and regret
    curves added where :func:`run` solved every system with every arm
    (``regret[kind]["exact"]``, ``regret[kind]["exact_comparator"]`` at the estimate's
    checkpoints), for :func:`experiments.plots.draw_run`."""
    from .plots import run_data

    data = run_data(result["tuner"])
    C = result["C"]
    if C is None or not C.shape[0] or data["unit"] != "iterations" or result.get("start"):
        # (a continued tuner's curves start at its first run; the exact costs at this one)
        return data
    k = _best_fixed(result)[0]
    columns = {"best_fixed": np.cumsum(C[:, k]), "instance_optimal": np.cumsum(C.min(axis=1))}
    tuned = np.cumsum(_tuned_costs(result, C.shape[0]))
    for kind, comp in columns.items():
        r = data["regret"][kind]
        at = np.asarray(r["rounds"], dtype=int) - 1
        # after Ctrl-C the tuner has a round (or more) the exact costs do not: NaN, not drawn
        known = at < C.shape[0]
        r["exact_comparator"] = np.full(at.shape, np.nan)
        r["exact"] = np.full(at.shape, np.nan)
        r["exact_comparator"][known] = comp[at[known]]
        r["exact"][known] = tuned[at[known]] - comp[at[known]]
    return data

