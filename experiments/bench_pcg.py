"""Preconditioned CG timings, side by side in one run (``relaxtune bench pcg``).

For each problem (2-D 5-point Laplacian, 3-D 7-point random-coefficient diffusion) and size,
times one iteration of CG, Jacobi-PCG, SSOR-PCG, IC(0)-PCG and AMG-PCG (pyamg smoothed
aggregation, V-cycle) against one product with the matrix (our Numba SpMV), and each
preconditioner's set-up, and prints the ratios with their spread.

Method
------
* Every preconditioner is set up once before timing; the timed solves apply it unchanged.
  Every kernel is run once before timing (JIT compilation).
* A timed solve is capped at ``k`` iterations with an unreachable tolerance, for several ``k``
  (chosen so the longest takes about ``--target`` seconds).  Per-iteration time is the
  least-squares slope of seconds against ``k``, so per-call costs (validation, initial
  residual, final true residual) drop out.  The SpMV is timed the same way (``k`` products in
  one compiled loop).
* Repeats are interleaved: each repeat times every method and every ``k`` once, in turn, so
  slow phases of a shared machine hit all methods alike.  Each repeat gives one slope per
  method and one ratio to that repeat's SpMV; the table prints the median ratio and its
  [min, max] over the repeats.
* Set-up: ``Preconditioner.setup`` on the same object (the IC(0) pattern analysis is cached, as
  in a sequence that rebuilds on a fixed pattern), interleaved across preconditioners,
  reported as a multiple of one SpMV with spread, next to the work model's figure.
* Sanity check: no PCG iteration may be faster than one SpMV (each contains one); a ratio
  below 1 is a benchmark bug and makes the command exit with status 1.  On a tiny problem
  (the timed solves of a method differ by less than 20 µs, or some repeat fits a slope
  <= 0) the timer's jitter dominates: such rows are printed as UNRESOLVED and not checked;
  when that is true of the SpMV itself, every ratio of the problem (set-ups included) is.

Examples
--------
``python -m experiments.bench_pcg --sizes 1e4 --repeats 3``
"""
from __future__ import annotations

import gc
import json
import math
import os
import platform
import time

import numba
import numpy as np

from . import _bench as B
from ._bench import BenchParser, machine_header

from solvers import gallery, pcg, preconditioner, prepare, work_model

METHODS = ("cg", "jacobi", "ssor", "ic0", "amg")
#: the pcg preconditioner of each method
PC = {"cg": "none", "jacobi": "jacobi", "ssor": {"pc": "ssor", "omega": 1.5}, "ic0": "ic0",
      "amg": "amg"}
SETUPS = ("jacobi", "ic0", "amg")
PROBLEMS = ("lap2d", "diff3d")
TINY = dict(rtol=1e-300, atol=1e-300)  # never met: every timed solve runs exactly k iterations


@numba.njit(cache=True)
def _spmv_repeat(indptr, indices, data, x, y, k):
    """``k`` products ``y = A x`` (the reference unit), in one compiled loop."""
    n = indptr.size - 1
    for _ in range(k):
        for i in range(n):
            s = 0.0
            for j in range(np.uintp(indptr[i]), np.uintp(indptr[i + 1])):
                s += data[j] * x[indices[j]]
            y[i] = s


def cpu_model() -> str:
    """The CPU model string (``/proc/cpuinfo``), the cores this process may run on."""
    name = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:
        cores = []
    return f"{name}; pinned to CPUs {cores}" if cores else name


def make_problem(kind: str, n: float):
    """``(label, A)``: the 5-point Laplacian on an m × m grid or one sample of the 3-D
    random-coefficient diffusion problem on an m × m × m grid, with m³ or m² close to n."""
    if kind == "lap2d":
        m = int(round(n ** 0.5))
        return f"lap2d m={m}", gallery.laplacian_2d(m)
    if kind == "diff3d":
        from .problems import DiffusionMC3D

        m = int(round(n ** (1 / 3)))
        return f"diff3d m={m}", DiffusionMC3D(m=m, samples=1, seed=0).matrix(0)
    raise ValueError(f"unknown problem {kind!r}; known: {PROBLEMS}")


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _ks(seconds_per_iteration, target, cap):
    top = int(np.clip(target / max(seconds_per_iteration, 1e-9), 4, cap))
    return sorted({max(1, round(top * f)) for f in (0.25, 0.5, 0.75, 1.0)})


def measure(A, *, repeats=5, target=0.05, methods=METHODS, setups=SETUPS, solve=True):
    """Timings of one problem; returns a dict of raw seconds and ratios (see module doc)."""
    op = prepare(A)
    n = op.n
    b = np.ones(n)
    x = np.random.default_rng(0).standard_normal(n)
    y = np.empty(n)
    pcs = {m: preconditioner(PC[m]).setup(op) for m in methods}
    runs = {m: (lambda k, pc=pcs[m]: pcg(op, b, pc, maxiter=k, **TINY)) for m in methods}
    runs["spmv"] = lambda k: _spmv_repeat(op.indptr, op.indices, op.data, x, y, k)
    names = ["spmv", *methods]
    ks = {}
    for name in names:  # warm-up (JIT) and the choice of k
        runs[name](2)
        # cap k at 5 × the iterations to 1e-8: the recursive residual of the longest timed
        # solve stays far from underflow (where pᵀAp or rᵀz vanish: a breakdown; Jacobi-PCG
        # on a 7³ problem broke down after 12 × its count to 1e-8)
        cap = 1000 if name == "spmv" else 5 * max(pcg(op, b, pcs[name]).iterations, 1)
        ks[name] = _ks(_timed(lambda: runs[name](4)) / 4, target, min(cap, 1000))
    for m in methods:
        res = runs[m](ks[m][-1])
        if res.iterations != ks[m][-1]:
            raise RuntimeError(f"{m}: a timed solve stopped early ({res.reason})")
    slopes = {name: [] for name in names}
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            secs = {name: {k: [] for k in ks[name]} for name in names}
            for k_index in range(4):  # interleave: every method at each k in turn
                for name in names:
                    if k_index < len(ks[name]):
                        k = ks[name][k_index]
                        secs[name][k].append(_timed(lambda: runs[name](k)))
            for name in names:
                kk = np.array(ks[name], dtype=float)
                tt = np.array([secs[name][k][0] for k in ks[name]])
                slopes[name].append(np.polyfit(kk, tt, 1)[0] if kk.size > 1 else tt[0] / kk[0])
        setup_s = {m: [] for m in setups}
        for _ in range(repeats):
            for m in setups:
                pc = pcs.get(m) or preconditioner(PC[m]).setup(op)
                pcs[m] = pc
                setup_s[m].append(_timed(lambda: pc.setup(op)))
    finally:
        if gc_was:
            gc.enable()
    spmv = np.array(slopes["spmv"])
    out = {"n": n, "nnz": op.nnz, "spmv_seconds": float(np.median(spmv)),
           "spmv": {"seconds": float(np.median(spmv)), "min": float(spmv.min()),
                    "max": float(spmv.max()), "ks": ks["spmv"]},
           "methods": {}, "setup": {}}
    for m in methods:
        s = np.array(slopes[m])
        ratio = s / spmv
        out["methods"][m] = {"seconds": float(np.median(s)), "ratio": float(np.median(ratio)),
                             "ratio_min": float(ratio.min()), "ratio_max": float(ratio.max()),
                             "work": work_model("pcg", op, pcs[m]).per_iteration,
                             "ks": ks[m]}
    for m in setups:
        s = np.array(setup_s[m])
        out["setup"][m] = {"seconds": float(np.median(s)),
                           "spmvs": float(np.median(s) / out["spmv_seconds"]),
                           "spmvs_min": float(s.min() / out["spmv_seconds"]),
                           "spmvs_max": float(s.max() / out["spmv_seconds"]),
                           "work": pcs[m].setup_work}
    if solve:  # iterations to the default tolerance, and that solve's seconds (one run each)
        for m in methods:
            pc = preconditioner(PC[m])
            res = pcg(op, b, pc)
            out["methods"][m].update(iterations=res.iterations, converged=res.converged,
                                     solve_seconds=res.seconds, solve_work=res.info["work"])
    return out


def _span(lo, hi, fmt):
    return f"[{lo:{fmt}}, {hi:{fmt}}]"


def format_rows(label, r) -> list[str]:
    """Text table rows of one problem."""
    lines = [f"{label}: n = {r['n']}, nnz = {r['nnz']}, SpMV {r['spmv_seconds'] * 1e3:.3f} ms",
             f"  {'method':<8} {'ms/iter':>9} {'× SpMV':>7} {'[min, max]':>15} {'work':>6}"
             + (f" {'its→1e-8':>9} {'solve s':>8}" if "iterations" in
                next(iter(r["methods"].values())) else "")]
    for m, v in r["methods"].items():
        row = (f"  {m:<8} {v['seconds'] * 1e3:9.3f} {v['ratio']:7.2f} "
               f"{_span(v['ratio_min'], v['ratio_max'], '.2f'):>15} {v['work']:6.2f}")
        if "iterations" in v:
            flag = "" if v["converged"] else "*"
            row += f" {v['iterations']:>8d}{flag or ' '} {v['solve_seconds']:8.3f}"
        lines.append(row)
    lines.append(f"  {'set-up':<8} {'ms':>9} {'× SpMV':>7} {'[min, max]':>15} {'work':>6}")
    for m, v in r["setup"].items():
        lines.append(f"  {m:<8} {v['seconds'] * 1e3:9.3f} {v['spmvs']:7.1f} "
                     f"{_span(v['spmvs_min'], v['spmvs_max'], '.1f'):>15} {v['work']:6.1f}")
    return lines


#: A per-iteration slope is resolved when the timed solves it is fitted to differ by at least
#: this many seconds (longest minus shortest); below, the timer's jitter (about a microsecond
#: per call) is a large part of the difference.
RESOLVED_SPAN = 20e-6


def _unresolved(v) -> bool:
    """Is this method's per-iteration time below what the timing resolves (a tiny problem)?
    Some repeat fitted a slope <= 0, or the fitted slope spans under :data:`RESOLVED_SPAN`."""
    ks = v.get("ks")
    span = v["seconds"] * (ks[-1] - ks[0]) if ks else math.inf
    return v.get("ratio_min", 1.0) <= 0.0 or span < RESOLVED_SPAN


def _spmv_unresolved(r) -> bool:
    """Is the SpMV's own time per product unresolved (the rule of :func:`_unresolved`)?  Every
    figure of the problem is a multiple of it, set-ups included."""
    s = r.get("spmv")  # (absent from results saved before it was kept)
    return s is not None and (s["min"] <= 0.0 or _unresolved({**s, "ratio_min": s["min"]}))


def unresolved(results) -> list[str]:
    """The methods whose per-iteration time the timing could not resolve (see
    :func:`_unresolved`), and the SpMVs (then every ratio of that problem): reported, not
    checked against the physical bound."""
    out = []
    for label, r in results.items():
        spmv = _spmv_unresolved(r)
        if spmv:
            s = r["spmv"]
            out.append(f"{label} SpMV: {s['seconds'] * 1e3:.3g} ms per product "
                       f"[{s['min'] * 1e3:.3g}, {s['max'] * 1e3:.3g}] is below the timing's "
                       f"resolution at n = {r['n']} (use a larger size): every × SpMV figure "
                       "of this problem, set-ups included, says nothing")
        out += [f"{label} {m}: {v['ratio']:.2f} × SpMV per iteration [{v['ratio_min']:.2f}, "
                f"{v['ratio_max']:.2f}] is below the timing's resolution at n = {r['n']} (use "
                f"a larger size)" for m, v in r["methods"].items() if spmv or _unresolved(v)]
    return out


def sanity(results) -> list[str]:
    """Physical bound: each PCG iteration contains one SpMV, so no resolved ratio may be
    below 1 (nor any, when the SpMV itself is unresolved)."""
    bad = []
    for label, r in results.items():
        if _spmv_unresolved(r):
            continue
        for m, v in r["methods"].items():
            if v["ratio"] < 1.0 and not _unresolved(v):
                bad.append(f"{label} {m}: {v['ratio']:.2f} × SpMV per iteration (< 1)")
    return bad


def main(argv=None) -> int:
    """Command-line entry point (also ``relaxtune bench pcg``)."""
    ap = BenchParser("pcg",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6],
                    help="approximate unknowns (default 1e4 1e5 1e6)")
    ap.add_argument("--problems", nargs="+", choices=PROBLEMS, default=list(PROBLEMS))
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats (median kept)")
    ap.add_argument("--target", type=B.seconds, default=0.05,
                    help="seconds of the longest timed solve (default %(default)s)")
    ap.add_argument("--no-solve", action="store_true",
                    help="skip the full solves to rtol = 1e-8 (iterations, seconds)")
    ap.add_argument("--json", type=B.output_file, help="also write the raw results to this file")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    if args.target <= 0:
        ap.error(f"--target must be > 0 (seconds), got {args.target}")
    if any(not size >= 8 for size in args.sizes):
        ap.error(f"--sizes must be numbers of unknowns >= 8, got {args.sizes}")
    print(machine_header())
    print(f"CPU: {cpu_model()}")
    print("per-iteration time: slope over k of solves capped at k iterations; "
          "ratios: median [min, max] over interleaved repeats; work: matrix-pass equivalents "
          "(solvers.work_model)")
    results = {}
    for kind in args.problems:
        for n in args.sizes:
            label, A = make_problem(kind, n)
            setups = [m for m in SETUPS if m in args.methods]
            results[label] = measure(A, repeats=args.repeats, target=args.target,
                                     methods=args.methods, setups=setups,
                                     solve=not args.no_solve)
            print("\n".join(format_rows(label, results[label])), flush=True)
    for line in unresolved(results):
        print(f"UNRESOLVED: {line}")
    bad = sanity(results)
    for line in bad:
        print(f"SANITY CHECK FAILED: {line}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cpu": cpu_model(), "results": results}, fh, indent=2)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
