"""Does ``Tuner.regret()`` hold on the configuration learner?  Its interval against the exact
regret of the preconditioner study's lockstep.

Run ``python -m experiments.bench_regret_config``.  On each sequence of the preconditioner
study (:mod:`experiments.precond_study`: heat2d, mc3d, finadapt, heatadapt) and each seed, one
lockstep (:func:`experiments.precond_study._lockstep`) runs side by side on the same systems:

* the study's **configuration learner** — :func:`bandit.default_policy` over the study's grid
  (SSOR-PCG ω, plain CG, Jacobi-CG, IC(0)-CG, AMG set up every solve and every 20) through a
  :class:`bandit.Tuner` with the default cost for configuration arms (``"timed_work"``) — with
  its regret report on (``audit_budget``, ``audit_seed`` = the seed);
* the same learner with ``cost="work"`` (matrix-pass equivalents: deterministic), audited
  alike;
* every **fixed configuration** of the grid, each through a Tuner of one arm
  (:class:`bandit.FixedArm`) with the learner's cost, so each step's cost of every arm is
  known in the learner's unit (``"timed_work"``: its work at the median seconds per unit of
  work of its own warm solves), in the solver's clock seconds and in work.

The exact regret against the best fixed configuration is what the learner paid (its
report's ``paid``) minus the smallest total of the fixed configurations:

* ``told``: in the learner's cost (``timed_work``), the fixed configurations' told costs;
* ``clock``: the learner's solver seconds (every run of every solve) minus the fixed
  configurations' solver seconds — the clock itself, one sample of each step;
* ``work``: the work learner's paid minus the fixed configurations' work (deterministic:
  no noise of its own).

A fixed configuration's seconds are one sample each, so the exact regret in seconds is noisy
itself.  ``--aa N`` runs every fixed configuration twice in the first ``N`` seeds' locksteps
(A/A): the difference of the two copies' totals, and of the two best totals, is the noise of
the exact regret.  On heat2d, heatadapt and finadapt each method's right-hand side and start
come from its own previous solution, so a fixed configuration solves systems close to, not
equal to, the learner's (to the solver's tolerance); mc3d's systems are the same for every
method.

Per sequence: coverage of the 90 % interval (share of runs whose interval contains the exact
regret), the median half-width relative to the exact regret's size, the median error of the
estimate, and the estimator's cost — audit runs and planning over the solve seconds
(``report.cost["fraction"]``) and what the budget counted (``budget_used``).  Per arm with
set-up reuse (``reuse > 0``, AMG set up every 20 solves): the estimator's column total and
the Horvitz–Thompson total of its observed entries over the exact total its fixed run paid
(:func:`reuse_rows`).
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np

from ._bench import BenchParser, format_table, machine_header

__all__ = ["SEQUENCES", "run_lockstep", "exact_regret", "summarise", "format_rows", "reuse_rows",
           "format_reuse", "main"]

#: The sequences measured, and their default sizes (small: a lockstep of 30 runs takes a
#: minute or two on one core).
SEQUENCES = {"heat2d": 50, "mc3d": 10, "finadapt": 8, "heatadapt": 40}


def exact_regret(paid: float, totals) -> tuple[float, int]:
    """``(paid − min_k totals[k], argmin)``: the regret against the best fixed
    configuration in hindsight, from every configuration's total (NaN: not run to the end,
    left out).

    Examples
    --------
    >>> exact_regret(10.0, [12.0, 7.5, float("nan")])
    (2.5, 1)
    """
    t = np.asarray(totals, dtype=float)
    ok = np.isfinite(t)
    if not ok.any():
        return math.nan, -1
    k = int(np.flatnonzero(ok)[np.argmin(t[ok])])
    return float(paid - t[k]), k


def _tuner_factory(make):
    from .precond_study import _tuner_method

    return _tuner_method(make)


def run_lockstep(kind: str, size: int, seed: int, *, budget=0.05, learner="default",
                 steps=1000, samples=300, aa=False, rtol=1e-8, maxiter=10_000, block=1,
                 work=True, grid=None, warm=True) -> dict:
    """One lockstep of sequence ``(kind, size)`` for ``seed``: the configuration learner
    (default cost, audited), the work learner (audited, when ``work``) and every fixed
    configuration (twice with ``aa``).  Returns the per-step records of every fixed
    configuration (told cost, solver seconds, work, call seconds) and each learner's report.
    """
    import bandit

    from .learners import derive_seed
    from .precond_study import (OMEGAS, _lockstep, _policy, _Run, _warm_up, default_grid,
                                 make_sequence)

    seq = make_sequence(kind, size, steps=steps, samples=samples, seed=derive_seed(0, 7))
    grid = default_grid() if grid is None else list(grid)
    settings = {"rtol": rtol, "maxiter": maxiter}
    if warm:
        _warm_up([seq], grid, list(OMEGAS), learner, [], 50, settings)
    s = derive_seed(0, seed, 101)  # the study's learner seed of round `seed`

    def learner_tuner(cost):
        return lambda: bandit.Tuner(_policy(learner, grid, s, seq.bounds), cost=cost,
                                    audit_budget=budget, audit_seed=seed, **settings)

    def fixed_tuner(k):
        return lambda: bandit.Tuner(bandit.FixedArm(grid, arm=k), cost="timed_work",
                                    **settings)

    runs = [_Run("learner", _tuner_factory(learner_tuner(None)), seq.T)]
    if work:
        runs.append(_Run("learner_work", _tuner_factory(learner_tuner("work")), seq.T))
    copies = 2 if aa else 1
    for c in range(copies):
        runs += [_Run(f"fixed/{k}" if c == 0 else f"fixed2/{k}", _tuner_factory(fixed_tuner(k)),
                      seq.T) for k in range(len(grid))]
    t0 = time.perf_counter()
    _lockstep(seq, runs, rtol=rtol, seed=derive_seed(0, seed, 103), block=block)
    elapsed = time.perf_counter() - t0
    out = {"sequence": seq.name, "kind": kind, "seed": seed, "T": seq.T,
           "labels": list(bandit.Tuner(bandit.FixedArm(grid)).arm_labels),
           "elapsed": elapsed, "learners": {}}
    fixed = {}
    for run in runs:
        tuner = run.owner
        h = tuner.history
        if run.key.startswith("fixed"):
            copy, _, k = run.key.partition("/")
            rec = fixed.setdefault(copy, {f: np.full((len(grid), seq.T), np.nan)
                                          for f in ("cost", "seconds", "work", "call",
                                                    "converged", "paid")})
            n = len(h["cost"])
            rec["cost"][int(k), :n] = h["cost"]
            # what each step paid (a reuse arm's history is told its set-up's share)
            rec["paid"][int(k), :n] = tuner._paid[:n]
            rec["seconds"][int(k), :n] = h["seconds"]
            rec["work"][int(k), :n] = run.work[:n]
            rec["call"][int(k), :n] = run.cpu[:n]
            rec["converged"][int(k), :n] = h["converged"]
            continue
        rep = tuner.regret(level=0.9)
        best = rep.best_fixed
        out["learners"][run.key] = {
            "paid": float(rep.paid), "unit": rep.unit, "estimate": float(best.estimate),
            "low": float(best.low), "high": float(best.high), "method": best.method,
            "comparator_arm": -1 if best.comparator_arm is None else int(best.comparator_arm),
            "unbiased": bool(best.unbiased), "at_bound": bool(best.at_bound),
            "seconds": float(np.sum(h["seconds"])), "work": float(np.nansum(run.work)),
            "call": float(np.nansum(run.cpu)),
            "cost": {k: v for k, v in rep.cost.items() if not isinstance(v, str)},
            "arm_counts": dict(tuner.summary()["arm_counts"]),
            "fallbacks": int((h["fallback_arm"] >= 0).sum()),
            "censored": int(h["censored"].sum()),
            "audits": _audit_table(tuner),
            "reuse": [int(getattr(p, "reuse", 0) or 0) if p is not None else 0
                      for p in tuner._arms._pcs],
            "columns": _column_totals(tuner)}
        if tuner.cost in (None, "timed_work") or tuner._arms.cost == "timed_work":
            arms = tuner._arms
            book = arms._price_book()
            # the learner's own price of each family at the end (seconds per unit of work),
            # and which arms build a set-up (priced on the clock, not by their work)
            out["learners"][run.key]["prices"] = [float(book.price(f)) for f in arms.family]
            out["learners"][run.key]["setup_arms"] = [p is not None for p in arms._pcs]
    out["fixed"] = fixed
    return out


def _column_totals(tuner) -> dict:
    """Per arm, the estimator's column total (:func:`bandit.estimate.column_totals`) and the
    Horvitz–Thompson total of its observed entries (``Σ v / π``), in the learner's cost."""
    from bandit.estimate import column_totals, inclusion_probabilities

    data = tuner._run_data()
    K = data.n_arms
    t, k, v, pi = inclusion_probabilities(data)
    return {"estimate": np.asarray(column_totals(data), dtype=float).tolist(),
            "ht": np.bincount(k, v / pi, K).tolist(),
            "audits": np.bincount(np.asarray(tuner._auditor.records["arm"], dtype=np.int64),
                                  minlength=K).tolist() if tuner._auditor else [0] * K}


def reuse_rows(runs: list) -> list:
    """Per sequence, learner and arm with set-up reuse (``reuse > 0``): the estimator's
    column total and the Horvitz–Thompson total of the observed entries over the exact
    total of that arm's fixed run (``paid``, its real cost: one set-up per window;
    ``"timed_work"`` at its own Tuner's prices, work for the work learner), medians over the
    runs, and the arm's audit runs (median)."""
    rows = []
    by = {}
    for run in runs:
        for key, L in run["learners"].items():
            if "columns" not in L:
                continue
            rec = run["fixed"].get("fixed")
            if rec is None:
                continue
            field = "work" if key == "learner_work" else "paid"
            exact = np.nansum(np.asarray(rec[field], dtype=float), axis=1)
            for k, reuse in enumerate(L["reuse"]):
                if not reuse:
                    continue
                e = by.setdefault((run["sequence"], key, run["labels"][k]),
                                  {"est": [], "ht": [], "audits": []})
                e["est"].append(L["columns"]["estimate"][k] / exact[k])
                e["ht"].append(L["columns"]["ht"][k] / exact[k])
                e["audits"].append(L["columns"]["audits"][k])
    for (seq, key, label), e in by.items():
        rows.append({"sequence": seq, "learner": key, "arm": label, "runs": len(e["est"]),
                     "estimate": float(np.median(e["est"])), "ht": float(np.median(e["ht"])),
                     "each_estimate": e["est"], "each_ht": e["ht"],
                     "audits": float(np.median(e["audits"]))})
    return rows


def format_reuse(rows, markdown=False) -> str:
    head = ("sequence", "learner", "reuse arm", "runs", "estimate / exact (median)",
            "each run", "HT / exact (median)", "each run", "audit runs")
    lines = [(r["sequence"], r["learner"], r["arm"], str(r["runs"]), f"{r['estimate']:.3f}",
              " ".join(f"{v:.2f}" for v in r["each_estimate"]), f"{r['ht']:.3f}",
              " ".join(f"{v:.2f}" for v in r["each_ht"]), f"{r['audits']:.0f}")
             for r in rows]
    return format_table(head, lines, markdown=markdown, align="lllrrlrlr")


def _audit_table(tuner) -> dict:
    """The learner's audit records as lists (round, arm, value, converged, seconds)."""
    aud = tuner._auditor
    if aud is None:
        return {}
    r = aud.records
    return {k: np.asarray(r[k]).tolist() for k in ("round", "arm", "row", "value", "converged",
                                                   "seconds", "iterations") if k in r}


def exacts(run: dict) -> dict:
    """Each learner's exact regrets of one lockstep (``told``, ``clock``, ``work``) and, with
    an A/A copy, the same against the second copy of the fixed configurations."""
    out = {}
    for copy, rec in run["fixed"].items():
        conv = np.nan_to_num(rec["converged"], nan=0.0).all(axis=1)
        tot = {f: np.where(conv, np.sum(rec[f], axis=1), np.nan) for f in ("cost", "seconds",
                                                                          "work")}
        lt = run["learners"]["learner"]
        e = {"told": exact_regret(lt["paid"], tot["cost"]),
             "clock": exact_regret(lt["seconds"], tot["seconds"])}
        if "prices" in lt:
            # in the learner's own prices: each fixed configuration's work at the learner's
            # price of its family (an arm with a set-up: its own Tuner's timed work)
            priced = np.where(lt["setup_arms"], tot["cost"],
                              tot["work"] * np.asarray(lt["prices"], dtype=float))
            e["priced"] = exact_regret(lt["paid"], priced)
            tot["priced"] = priced
        if "learner_work" in run["learners"]:
            e["work"] = exact_regret(run["learners"]["learner_work"]["paid"], tot["work"])
        e["totals"] = {f: np.asarray(v).tolist() for f, v in tot.items()}
        out[copy] = e
    return out


def summarise(runs: list) -> list:
    """Per sequence and exact: coverage, median half-width and error over the exact's size,
    the estimator's cost; and the A/A noise of the exact."""
    rows = []
    by_seq = {}
    for run in runs:
        by_seq.setdefault(run["sequence"], []).append(run)
    for name, rs in by_seq.items():
        ex = [exacts(r) for r in rs]
        for key, which in (("learner", "priced"), ("learner", "told"), ("learner", "clock"),
                           ("learner_work", "work")):
            ok, hw, err, frac, used, audits, ests, exs, best_arms = ([] for _ in range(9))
            for r, e in zip(rs, ex):
                if key not in r["learners"] or which not in e["fixed"]:
                    continue
                L = r["learners"][key]
                x, arm = e["fixed"][which]
                if not (math.isfinite(L["low"]) and math.isfinite(x)):
                    ok.append(False)
                    continue
                ok.append(L["low"] <= x <= L["high"])
                hw.append((L["high"] - L["low"]) / 2 / max(abs(x), 1e-300))
                err.append(abs(L["estimate"] - x) / max(abs(x), 1e-300))
                frac.append(L["cost"]["fraction"])
                used.append(L["cost"]["budget_used"])
                audits.append(L["cost"]["audit_runs"])
                ests.append(L["estimate"])
                exs.append(x)
                best_arms.append(r["labels"][arm])
            if not ok:
                continue
            # the A/A: the exact against the second copy of the fixed configurations
            aa = [abs(e["fixed"][which][0] - e["fixed2"][which][0]) for e in ex
                  if "fixed2" in e and which in e["fixed2"]]
            rows.append({"sequence": name, "learner": key, "exact": which, "runs": len(ok),
                         "cover": float(np.mean(ok)), "covered": int(np.sum(ok)),
                         "exact_median": float(np.median(exs)) if exs else math.nan,
                         "estimate_median": float(np.median(ests)) if ests else math.nan,
                         "half_width": float(np.median(hw)) if hw else math.nan,
                         "error": float(np.median(err)) if err else math.nan,
                         "fraction": float(np.median(frac)) if frac else math.nan,
                         "fraction_max": float(np.max(frac)) if frac else math.nan,
                         "budget_used": float(np.median(used)) if used else math.nan,
                         "budget_used_max": float(np.max(used)) if used else math.nan,
                         "audits": float(np.median(audits)) if audits else math.nan,
                         "aa": float(np.median(aa)) / max(abs(float(np.median(exs))), 1e-300)
                         if aa and exs else math.nan,
                         "best": max(set(best_arms), key=best_arms.count) if best_arms else ""})
    return rows


def format_rows(rows, markdown=False) -> str:
    head = ("sequence", "learner", "exact", "runs", "exact (median)", "estimate (median)",
            "cover", "half-width", "error", "A/A", "cost", "cost max", "budget used",
            "audits", "best fixed")

    def pct(v):
        return "-" if not math.isfinite(v) else f"{100 * v:.1f}%"

    def num(v):
        return "-" if not math.isfinite(v) else f"{v:.4g}"

    lines = [(r["sequence"], r["learner"], r["exact"], str(r["runs"]), num(r["exact_median"]),
              num(r["estimate_median"]), f"{r['covered']}/{r['runs']}", pct(r["half_width"]),
              pct(r["error"]), pct(r["aa"]), pct(r["fraction"]), pct(r["fraction_max"]),
              pct(r["budget_used"]), f"{r['audits']:.0f}", r["best"]) for r in rows]
    return format_table(head, lines, markdown=markdown, align="lllrrrrrrrrrrrl")


def main(argv=None) -> int:
    ap = BenchParser("regret_config", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--sequences", nargs="+", default=list(SEQUENCES), choices=list(SEQUENCES))
    ap.add_argument("--nx", type=int, default=None, help="heat2d and heatadapt size")
    ap.add_argument("--m", type=int, default=None, help="mc3d size")
    ap.add_argument("--ny", type=int, default=None, help="finadapt size")
    ap.add_argument("--steps", type=int, default=1000, help="heat2d steps")
    ap.add_argument("--samples", type=int, default=300, help="mc3d samples")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=0.05)
    ap.add_argument("--aa", type=int, default=1,
                    help="seeds (the first ones) whose lockstep runs every fixed "
                         "configuration twice (default %(default)s)")
    ap.add_argument("--no-work", action="store_true", help="without the work learner")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", default=None, help="write every run's records here")
    args = ap.parse_args(argv)
    for name, value, low in (("--seeds", args.seeds, 1), ("--first-seed", args.first_seed, 0),
                             ("--steps", args.steps, 2), ("--samples", args.samples, 2),
                             ("--aa", args.aa, 0)):
        if value < low:
            ap.error(f"{name} must be >= {low}, got {value}")
    if not 0.0 < args.budget <= 1.0:
        ap.error(f"--budget must be a fraction in (0, 1], got {args.budget}")
    sizes = dict(SEQUENCES)
    for kind, value in (("heat2d", args.nx), ("heatadapt", args.nx), ("mc3d", args.m),
                        ("finadapt", args.ny)):
        if value is not None:
            if value < 2:
                ap.error(f"size of {kind} must be >= 2, got {value}")
            sizes[kind] = value
    import warnings

    import bandit

    # the Tuner's own time against tiny solves is not what this measures
    warnings.simplefilter("ignore", bandit.TunerCostWarning)
    runs = []
    t0 = time.perf_counter()
    for kind in args.sequences:
        for i, seed in enumerate(range(args.first_seed, args.first_seed + args.seeds)):
            run = run_lockstep(kind, sizes[kind], seed, budget=args.budget, steps=args.steps,
                               samples=args.samples, aa=i < args.aa, work=not args.no_work,
                               warm=i == 0)
            runs.append(run)
            _progress(run)
            if args.json:  # kept as it goes: a long measurement keeps its finished runs
                from .results import write_json

                write_json(args.json, {"runs": [_jsonable(r) for r in runs]})
    print(machine_header())
    print(f"Tuner.regret() of the configuration learner against the lockstep's exact regrets: "
          f"{args.seeds} seeds from {args.first_seed}, audit_budget = {args.budget}, 90 % "
          f"intervals ({time.perf_counter() - t0:.0f} s)")
    print(format_rows(summarise(runs), args.markdown))
    print("Column totals of the arms with set-up reuse against their fixed runs' exact totals")
    print(format_reuse(reuse_rows(runs), args.markdown))
    return 0


def _progress(run) -> None:
    ex = exacts(run)
    parts = []
    for key, which in (("learner", "priced"), ("learner", "told"), ("learner", "clock"),
                       ("learner_work", "work")):
        if key in run["learners"] and which in ex["fixed"]:
            L = run["learners"][key]
            x = ex["fixed"][which][0]
            parts.append(f"{which}: exact {x:.4g} est {L['estimate']:.4g} "
                         f"[{L['low']:.4g}, {L['high']:.4g}] frac {L['cost']['fraction']:.3f}")
    print(f"# {run['sequence']} seed {run['seed']} ({run['elapsed']:.0f} s): " + "; ".join(parts),
          file=sys.stderr, flush=True)


def _jsonable(run):
    out = dict(run)
    out["fixed"] = {c: {f: np.asarray(v).tolist() for f, v in rec.items()}
                    for c, rec in run["fixed"].items()}
    out["exacts"] = exacts(run)
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
