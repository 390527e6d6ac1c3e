"""CPU time of an audit plan's computation: this checkout against another, side by side.

Run under the shared lock, pinned to one core::

    flock /tmp/relaxtune-bench.lock taskset -c 1 python -m experiments.bench_plan \\
        --baseline /path/to/other/checkout --cache DIR

A plan computes the estimator's quick totals of the run so far
(:func:`bandit.estimate.quick_totals`); the auditor charges it to the audit budget, and
puts it off while that charge exceeds a share of the budget.  This benchmark replays a
policy on a study's cost matrix (:mod:`experiments.bench_regret`, cached in ``--cache``)
through a real Tuner with audits, and at the given rounds times the quick totals of that
run's arrays with this checkout's ``bandit`` and with the baseline's (loaded under another
name, on the same arrays), interleaved, in CPU seconds of the process; also the fixed part
(``bandit.audit._warm_up``: a plan of a tiny run of 64 rounds).  Printed: the medians of
each and the median ratio with its 10th and 90th percentiles over the pairs.
"""
from __future__ import annotations

import dataclasses
import importlib
import sys
import time
from pathlib import Path

import numpy as np

from ._bench import BenchParser, machine_header

__all__ = ["main", "plan_seconds"]


def _cpu(f) -> float:
    start = time.process_time()
    f()
    return time.process_time() - start


def plan_seconds(variants, data, pairs):
    """CPU seconds of ``quick_totals`` of ``data`` for each ``(estimate module)`` in
    ``variants``, interleaved, ``pairs`` times: an array (pairs, len(variants))."""
    own = [v.RunData(**{f.name: getattr(data, f.name) for f in dataclasses.fields(data)})
           for v in variants]
    for v, d in zip(variants, own):  # first calls (compilation, caches) are not measured
        v.quick_totals(d)
    return np.array([[_cpu(lambda: v.quick_totals(d)) for v, d in zip(variants, own)]
                     for _ in range(pairs)])


def _row(label, t):
    return f"| {label} | " + " | ".join(f"{1e3 * np.median(t[:, j]):.3f} ms"
                                        for j in range(t.shape[1]))


def _ratio(t):
    r = t[:, 1] / t[:, 0]
    return f" | {np.median(r):.2f} ({np.percentile(r, 10):.2f}…{np.percentile(r, 90):.2f}) |"


def main(argv=None) -> int:
    ap = BenchParser("plan", description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another checkout whose bandit package is timed alongside")
    ap.add_argument("--study", default="offset_low", choices=("offset_high", "offset_low",
                                                               "heat2d_25", "heat2d_50"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--policies", nargs="+", default=["tsallis_inf", "chebcb"])
    ap.add_argument("--rounds", nargs="+", type=int, default=[1024, 4096])
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--T", type=int, default=5000)
    ap.add_argument("--cache", type=Path, default=Path("results/regret-costs"))
    args = ap.parse_args(argv)
    if args.pairs < 1:
        ap.error(f"--pairs must be >= 1, got {args.pairs}")
    bad = [t for t in args.rounds if not 1 <= t < args.T]
    if bad:
        ap.error(f"--rounds must lie in [1, T = {args.T}), got {bad}")
    import bandit
    from bandit import audit, estimate

    from .bench_regret import ReplaySolver, _policy, cost_matrix

    unknown = [p for p in args.policies if p not in bandit.POLICIES]
    if unknown:
        ap.error(f"--policies: unknown learner(s) {unknown}; known: {sorted(bandit.POLICIES)}")
    variants, audits, names = [estimate], [audit], ["this checkout"]
    if args.baseline is not None:
        from .bench_overhead import _load_baseline

        _load_baseline(args.baseline)
        variants.append(importlib.import_module("bandit_baseline.estimate"))
        audits.append(importlib.import_module("bandit_baseline.audit"))
        names.append("baseline")
    data = cost_matrix(args.study, args.seed, args.cache, args.T)
    C = np.asarray(data["C"], dtype=np.int64)
    ctx = np.asarray(data["contexts"], dtype=float)
    lines = []
    K = C.shape[1]
    for a in audits:
        a._warm_up(K)
    fixed = np.array([[a._warm_up(K) for a in audits] for _ in range(args.pairs)])
    lines.append(_row(f"a tiny run (64 rounds, {K} arms: the fixed part)", fixed)
                 + (_ratio(fixed) if len(names) > 1 else " |"))
    for name in args.policies:
        tuner = bandit.Tuner(_policy(name, args.study, data["omegas"], args.seed),
                             solver=ReplaySolver(C, data["S"], data["omegas"]),
                             audit_budget=0.05, audit_seed=args.seed)
        marks = sorted(set(args.rounds))
        for t in range(marks[-1] + 1):
            if t in marks:
                times = plan_seconds(variants, tuner._run_data(), args.pairs)
                lines.append(_row(f"{args.study} seed {args.seed}, {name}, round {t}", times)
                             + (_ratio(times) if len(names) > 1 else " |"))
            tuner.solve(t, None, context=float(ctx[t]))
    print(machine_header())
    print(f"CPU time of a plan's quick totals: medians of {args.pairs} interleaved "
          f"{'pairs' if len(names) > 1 else 'runs'}")
    head = ["plan of", *names] + (["ratio baseline/this (p10…p90)"] if len(names) > 1 else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
