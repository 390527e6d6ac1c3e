"""Short-horizon learner benchmark: ``relaxtune bench learners``.

Sequences that none of the paper's studies uses, each replayed from a cached full cost matrix
``C[t, k]`` (iterations of system ``t`` with arm ``k``), so a learner run costs only its own
``select``/``update`` calls:

* ``mc3d`` -- SOR on a Monte Carlo batch of 3-D random-coefficient diffusion problems
  (:class:`experiments.problems.DiffusionMC3D`, m = 24, n = 13 824; context σ, the contrast),
  100 samples; ``mc3d16`` the same on a 16³ grid (n = 4 096) with 1000 samples;
* ``offset_high`` / ``offset_low`` -- the paper's offset-Laplacian SOR sequences, but short;
* ``heat2d`` -- SSOR-PCG along ``relaxtune heat2d --nx 100 --steps 1000`` (dt = 0.005);
* ``elast`` -- SOR on one plane linear-elasticity matrix in block order
  (:class:`experiments.problems.PlaneElasticity`) with 200 right-hand sides, where Young's
  theory (the default learner's prior) puts the best ω at 1.65 and the best fixed ω is 1.45;
* ``fem`` -- SSOR-PCG along an unstructured P1 finite-element heat loop
  (:class:`experiments.problems.FEMHeat2D`, 600 steps), a flat landscape;
* the long runs the short-horizon work must not spoil: ``heat2d_5000`` (nx = 100, 5000 steps)
  and ``offset_high_5000`` / ``offset_low_5000`` (the ``relaxtune contextual`` trials).

Cost matrices are computed once per (case, sequence seed) and cached as NPZ files under
``--cache`` (default ``results/cache/learners``, git-ignored).  Independent systems (mc3d,
offsets) are solved from ``x0 = 0``; the time loops (heat2d, fem) along a reference trajectory
that advances with the cheapest arm's solution (every solve meets ``rtol``, so any method's
trajectory agrees with it to tolerance), as in the heat2d study.

Replay follows the :class:`bandit.Tuner`'s guard (``guard = 3``): an arm other than the
policy's leader gets a budget of ``⌈3 × the leader's predicted cost⌉`` iterations; a solve that
needs more is stopped there and finished by the leader.  The matrix cannot say what the
leader needs from the stopped iterate, so the fallback is charged ``C[t, leader] · (1 − budget /
C[t, k])``: linear convergence, the attempt having done that fraction of the work (nothing
when the arm did not converge within ``maxiter``).  The policy is told the attempt censored at
the budget, or the whole round's cost when it asks for that (``report_round_cost``), as the
Tuner does.  Before any leader exists an arm is run to ``maxiter``.

Reported per case and horizon ``T`` (prefix of the sequence): the learner's total iterations,
its ratio to the best fixed arm in hindsight over those ``T`` systems and to the per-system
grid minimum, averaged over runs (sequence seeds × learner seeds, ≥ 5 runs each).

The parts are kept in private modules of their own (``experiments/_bench_learners_*.py``: the
cases, the cost matrices, the guarded replay, the learners and runs); every name is importable
from here.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from . import _bench as B
from ._bench import BenchParser
from ._bench_learners_cases import (CASES, ELAST_CONTEXT_BOUNDS, LONG, SHORT, Case,  # noqa: F401
                                    _cases, _study_seeds)
from ._bench_learners_costs import (COST_VERSION, MAXITER, OMEGAS, RTOL,  # noqa: F401
                                    SPECTRAL_STEPS, cached_rows, cost_matrix, first_matrix,
                                    spectral_contexts)
from ._bench_learners_replay import GUARD, replay  # noqa: F401
from ._bench_learners_runs import (DEFAULT_LEARNERS, DEFAULT_MODES, LEARNER_MODES,  # noqa: F401
                                   PREVIOUS_EXPLORE_WITHIN, _ORDER_KEY, _prime, make_policy,
                                   run_case, sample_order)


__all__ = ["CASES", "Case", "cost_matrix", "log_cost_floor", "replay", "run_case", "main"]


def log_cost_floor(C):
    """``(arm, ratio)``: the fixed arm of least mean log-cost over the systems of ``C``
    (``T × K`` costs, all > 0) and its total over the least total of any fixed arm.

    A learner that fits the expected log-cost without a context converges to that arm (the
    least geometric mean); the ratio is what it pays at best against the best fixed arm in
    hindsight, however well it explores.  It exceeds 1 where the spread between systems
    differs between arms.

    Examples
    --------
    >>> k, r = log_cost_floor(np.array([[1.0, 4.0], [100.0, 30.0]]))  # geometric means 10, √120
    >>> k, round(r, 3)                                                 # totals 101, 34
    (0, 2.971)
    """
    C = np.asarray(C, dtype=float)
    if C.ndim != 2 or not np.all(C > 0):
        raise ValueError("log_cost_floor needs a T × K matrix of positive costs")
    k = int(np.log(C).mean(axis=0).argmin())
    totals = C.sum(axis=0)
    return k, float(totals[k] / totals.min())


def floors(result, case=None, cache="results/cache/learners") -> list[dict]:
    """Per horizon of ``result`` (:func:`run_case` of ``case``, default the registered case of
    that name): the mean over its sequences of :func:`log_cost_floor` of their first ``T``
    systems (each sequence once, in its generated order; the cached cost matrices)."""
    case = CASES[result["case"]] if case is None else case
    rows = []
    seeds = sorted({r["seed"] for runs in result["runs"].values() for r in runs})
    for h in result["horizons"]:
        ratios = []
        for seed in seeds:
            n = cached_rows(case, seed, cache)
            C, _, _ = cost_matrix(case, seed, cache=cache, T=min(n, case.length(seed)) or None,
                                  progress=False)
            if len(C) >= h:
                ratios.append(log_cost_floor(C[:h])[1])
        if ratios:
            rows.append({"case": case.name, "T": h, "sequences": len(ratios),
                         "log_cost_floor": float(np.mean(ratios)),
                         "range": (float(np.min(ratios)), float(np.max(ratios)))})
    return rows


def summarise(result) -> list[dict]:
    """One row per (learner, horizon): mean total and ratios to the comparators (run by run)."""
    rows = []
    comps = result["comparators"]
    for spec, runs in result["runs"].items():
        for h in result["horizons"]:
            idx = [i for i, c in enumerate(comps) if h in c]
            if not idx:
                continue
            tot = np.array([runs[i]["paid"][:h].sum() for i in idx])
            bf = np.array([comps[i][h][0] for i in idx])
            gm = np.array([comps[i][h][1] for i in idx])
            rows.append({"case": result["case"], "T": h, "learner": spec, "runs": len(idx),
                         "total": float(tot.mean()), "best_fixed": float(bf.mean()),
                         "grid_min": float(gm.mean()),
                         "vs_best_fixed": float(np.mean(tot / bf)),
                         "vs_best_fixed_range": (float(np.min(tot / bf)), float(np.max(tot / bf))),
                         "vs_grid_min": float(np.mean(tot / gm)),
                         "us_per_round": float(np.mean([r["us"] for r in runs]))})
    return rows


def format_rows(rows, markdown=False) -> str:
    """The summary rows as a table (plain text or Markdown)."""
    head = ("case", "T", "learner", "runs", "iterations", "best fixed", "grid min",
            "/ best fixed (min–max)", "/ grid min")
    body = [(r["case"], str(r["T"]), r["learner"], str(r["runs"]), f"{r['total']:.0f}",
             f"{r['best_fixed']:.0f}", f"{r['grid_min']:.0f}",
             f"{r['vs_best_fixed']:.3f} ({r['vs_best_fixed_range'][0]:.3f}–"
             f"{r['vs_best_fixed_range'][1]:.3f})", f"{r['vs_grid_min']:.3f}") for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 3 + "---:|" * (len(head) - 3)]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = lambda r: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(head)] + [fmt(b) for b in body])


def main(argv=None) -> int:
    ap = BenchParser("learners",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=list(SHORT), choices=sorted(CASES),
                    help="sequences to run (default: the short-horizon suite)")
    ap.add_argument("--long", action="store_true",
                    help="also the long runs (heat2d 5000 steps, offsets T = 5000)")
    ap.add_argument("--learners", nargs="+", default=list(DEFAULT_LEARNERS),
                    help="'default', default@MODE (MODE one of "
                         f"{', '.join(DEFAULT_MODES)}: e.g. default@nocontext, no context, "
                         "default@auto, the automatic context alone), bandit.POLICIES names, "
                         "or NAME@online (no bounds)")
    ap.add_argument("--cache", type=B.output_folder, default=Path("results/cache/learners"),
                    help="folder of the cached cost matrices (default %(default)s)")
    ap.add_argument("--orders", type=int, default=1,
                    help="replay each independent-sample sequence in this many orders (the "
                         "generated one and seeded permutations; default %(default)s)")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="sequence seeds (default: each case's own)")
    ap.add_argument("--max-T", type=int, default=None,
                    help="use at most this many systems of each sequence (default: all)")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--json", type=B.output_file, default=None, help="also write the rows as JSON")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--log-floor", action="store_true",
                    help="also print, per case and T, the total of the fixed arm of least mean "
                         "log-cost over the best fixed arm's (what a learner of the log-cost "
                         "converges to without a context)")
    args = ap.parse_args(argv)
    import bandit

    if args.max_T is not None and args.max_T < 2:
        ap.error(f"--max-T must be >= 2, got {args.max_T}")
    if args.orders < 1:
        ap.error(f"--orders must be >= 1, got {args.orders}")
    if args.seeds is not None and any(s < 0 for s in args.seeds):
        ap.error(f"--seeds must be non-negative integers, got {args.seeds}")
    if args.seeds is not None and len(set(args.seeds)) < len(args.seeds):
        ap.error(f"--seeds must be distinct (a repeated seed would count its runs twice), got "
                 f"{args.seeds}")
    def known(spec):
        name, at, mode = spec.partition("@")
        if name == "default":
            return not at or mode in DEFAULT_MODES
        return name in bandit.POLICIES and (not at or mode in LEARNER_MODES)

    unknown = [s for s in args.learners if not known(s)]
    if unknown:
        ap.error(f"--learners: unknown learner(s) {unknown}; known: 'default', "
                 f"{', '.join(sorted(bandit.POLICIES))}, NAME@online, "
                 f"{', '.join('default@' + m for m in DEFAULT_MODES)}")
    cases = list(args.cases) + ([c for c in LONG if c not in args.cases] if args.long else [])
    spectral = [s for s in args.learners
                if s.partition("@")[2] in ("spectral", "auto", "noshift+auto")]
    loops = [c for c in cases if CASES[c].kind != "samples"]
    if spectral and loops:  # refused before any case is run, not after the first ones
        ap.error(f"--learners {' '.join(spectral)}: the spectral context is measured on "
                 f"independent samples only, not on the time loops {', '.join(loops)}")
    rows = []
    t0 = time.perf_counter()
    for name in cases:
        res = run_case(CASES[name], args.learners, cache=args.cache, max_T=args.max_T,
                       progress=not args.quiet, orders=args.orders, seeds=args.seeds)
        new = summarise(res)
        rows += new
        print(format_rows(new, markdown=args.markdown), flush=True)
        if args.log_floor:
            for f in floors(res, CASES[name], cache=args.cache):
                print(f"{f['case']} T = {f['T']}: the fixed arm of least mean log-cost pays "
                      f"{f['log_cost_floor']:.3f} × the best fixed arm's total "
                      f"({f['range'][0]:.3f}–{f['range'][1]:.3f} over {f['sequences']} "
                      f"sequences)")
        print()
    print(f"{time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
