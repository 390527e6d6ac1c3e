"""Preconditioned CG timings, side by side in one run (``relaxtune bench pcg``).

For each problem (2-D 5-point Laplacian, 3-D 7-point random-coefficient diffusion) and size,
times one iteration of CG, Jacobi-PCG, SSOR-PCG, IC(0)-PCG and AMG-PCG (pyamg smoothed
aggregation, V-cycle) against one product with the matrix (our Numba SpMV), and each
preconditioner's set-up, and prints the ratios with their spread.

Method
------
* Every preconditioner is set up once before timing; the timed solves apply it unchanged.
  Every kernel is run once before timing (JIT compilation).
* A timed solve is capped at ``k`` iterations with an unreachable tolerance, for four ``k``
  (chosen so the longest takes about ``--target`` seconds).  Per-iteration time is the
  Theil–Sen slope of the process's CPU seconds against ``k`` (the median of the six pairwise
  slopes), so per-call costs (validation, initial residual, final true residual) drop out
  and one disturbed call cannot move it.  The SpMV is timed the same way (``k`` products in
  one compiled loop).  The timing is :func:`experiments._bench.measure`.
* Repeats (rounds) are interleaved: each round times every method at every ``k`` once, in a
  new random order, so slow phases of a shared machine hit all methods alike.  Each round
  gives one slope per method and one ratio to that round's SpMV (paired); the table prints
  the median ratio and its [min, max] over the rounds.
* Set-up: ``Preconditioner.setup`` on the same object (the IC(0) pattern analysis is cached, as
  in a sequence that rebuilds on a fixed pattern), interleaved across preconditioners,
  reported as a multiple of one SpMV with spread, next to the work model's figure.
* Sanity check: no PCG iteration may be faster than one SpMV (each contains one).  A median
  ratio below 1, or any single round's ratio below 1 (the minimum printed beside the median),
  is a benchmark error: it is printed as IMPOSSIBLE and the command exits with status 1.  On
  a tiny problem (the timed solves of a method differ by less than 20 µs, or some round fits
  a slope <= 0) the timer's jitter dominates: such rows are printed as UNRESOLVED and not
  checked; when that is true of the SpMV itself, every ratio of the problem (set-ups
  included) is.

What this replaced: one wall-clock call per ``k`` per round, a least-squares slope, and a
check of the median ratio only.  A call slowed by another job moved a whole round's slope,
and the minimum over rounds (printed, never checked) once read 0.28 SpMV per SSOR-PCG
iteration at n = 10⁶.

Examples
--------
``python -m experiments.bench_pcg --sizes 1e4 --repeats 3``
"""
from __future__ import annotations

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


def grid(kind: str, n: float):
    """``(m, dim, per_row)`` of problem ``kind`` near ``n`` unknowns: the grid's side, its
    dimension and the stencil's entries a row (what :func:`make_problem` builds)."""
    dim, per_row = (3, 7) if kind == "diff3d" else (2, 5)
    return int(round(n ** (1 / dim))), dim, per_row


def make_problem(kind: str, n: float):
    """``(label, A)``: the 5-point Laplacian on an m × m grid or one sample of the 3-D
    random-coefficient diffusion problem on an m × m × m grid, with m³ or m² close to n."""
    if kind == "lap2d":
        m = grid(kind, n)[0]
        return f"lap2d m={m}", gallery.laplacian_2d(m)
    if kind == "diff3d":
        from .problems import DiffusionMC3D

        m = grid(kind, n)[0]
        return f"diff3d m={m}", DiffusionMC3D(m=m, samples=1, seed=0).matrix(0)
    raise ValueError(f"unknown problem {kind!r}; known: {PROBLEMS}")


def measure(A, *, repeats=5, target=0.05, methods=METHODS, setups=SETUPS, solve=True,
            clock="cpu"):
    """Timings of one problem; returns a dict of seconds and ratios (see module doc).

    The timing itself is :func:`experiments._bench.measure` (Theil–Sen slope of ``T(k)`` over
    four ``k`` per round, every method and ``k`` in a new random order each round, process CPU
    time), so a round's ratio pairs a method's slope with the SpMV's slope of the same round,
    and one disturbed call cannot move a slope.
    """
    op = prepare(A)
    n = op.n
    b = np.ones(n)
    x = np.random.default_rng(0).standard_normal(n)
    y = np.empty(n)
    pcs = {m: preconditioner(PC[m]).setup(op) for m in (*methods, *setups)}
    timed = [B.Method("spmv", lambda k: _spmv_repeat(op.indptr, op.indices, op.data, x, y, k),
                      "our Numba CSR SpMV, k products in one compiled loop", max_k=1000)]
    for m in methods:
        # cap k at 5 × the iterations to 1e-8: the recursive residual of the longest timed
        # solve stays far from underflow (where pᵀAp or rᵀz vanish: a breakdown; Jacobi-PCG
        # on a 7³ problem broke down after 12 × its count to 1e-8)
        # (a count of 200 or more already allows the largest k: stop there)
        cap = min(5 * max(pcg(op, b, pcs[m], maxiter=200).iterations, 1), 1000)
        timed.append(B.Method(m, lambda k, pc=pcs[m]: pcg(op, b, pc, maxiter=k, **TINY),
                              f"pcg(preconditioner={PC[m]!r}), maxiter=k", floor="spmv",
                              max_k=max(cap, 4)))
    timings = B.measure(timed, rounds=repeats, target=target, clock=clock)
    for m in methods:
        k = timings[m].ks[-1]
        res = timed[1 + list(methods).index(m)].run(k)
        if res.iterations != k:
            raise RuntimeError(f"{m}: a timed solve stopped early ({res.reason})")
    setup_s = B.measure_calls({m: (lambda pc=pcs[m]: pc.setup(op)) for m in setups},
                              rounds=repeats, clock=clock) if setups else {}
    out = {"n": n, "nnz": op.nnz, "clock": clock, **summarise(timings),
           "setup": {}}
    for m in methods:
        out["methods"][m]["work"] = work_model("pcg", op, pcs[m]).per_iteration
    for m in setups:
        s = setup_s[m]
        out["setup"][m] = {"seconds": s.median,
                           "spmvs": s.median / out["spmv_seconds"],
                           "spmvs_min": s.lo / out["spmv_seconds"],
                           "spmvs_max": s.hi / out["spmv_seconds"],
                           "work": pcs[m].setup_work}
    if solve:  # iterations to the default tolerance, and that solve's seconds (one run each)
        for m in methods:
            pc = preconditioner(PC[m])
            c0 = time.process_time()  # CPU time, as the per-iteration figures (set-up included)
            res = pcg(op, b, pc)
            cpu = time.process_time() - c0
            out["methods"][m].update(iterations=res.iterations, converged=res.converged,
                                     solve_seconds=cpu, solve_wall_seconds=res.seconds,
                                     solve_work=res.info["work"])
    return out


def summarise(timings) -> dict:
    """The SpMV's figures and each method's per-iteration seconds and ratios to the SpMV
    (paired per round: median, [min, max], quartiles and every round's ratio), from the
    :class:`experiments._bench.Timing` of ``"spmv"`` and of each method."""
    spmv = timings["spmv"].per_iter
    out = {"spmv_seconds": spmv.median,
           "spmv": {"seconds": spmv.median, "min": spmv.lo, "max": spmv.hi,
                    "ks": list(timings["spmv"].ks)},
           "methods": {}, "checks": B.check(timings)}
    for m, t in timings.items():
        if m == "spmv":
            continue
        ratio = B.ratio(t, timings["spmv"])
        out["methods"][m] = {"seconds": t.per_iter.median, "ratio": ratio.median,
                             "ratio_min": ratio.lo, "ratio_max": ratio.hi,
                             "ratio_q1": ratio.q1, "ratio_q3": ratio.q3,
                             "ratios": ratio.samples.tolist(), "ks": list(t.ks)}
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
    below 1 (nor any, when the SpMV itself is unresolved) — neither the median nor any single
    round's ratio, since every one of them is printed (the [min, max] beside the median): a
    round below one SpMV is a wrong measurement, not a fast iteration."""
    bad = []
    for label, r in results.items():
        if _spmv_unresolved(r):
            continue
        for m, v in r["methods"].items():
            if _unresolved(v):
                continue
            if v["ratio"] < 1.0:
                bad.append(f"{label} {m}: {v['ratio']:.2f} × SpMV per iteration (< 1)")
            elif v.get("ratio_min", v["ratio"]) < 1.0:
                below = sum(x < 1.0 for x in v.get("ratios", [v["ratio_min"]]))
                rounds = len(v.get("ratios", [])) or "?"
                bad.append(f"{label} {m}: {below} of {rounds} rounds measured an iteration "
                           f"below one SpMV (min {v['ratio_min']:.2f} × SpMV, median "
                           f"{v['ratio']:.2f}): that round's timing is wrong")
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
    if args.repeats < 3:  # a median and a spread need three rounds
        print(f"note: --repeats {args.repeats} raised to 3 (a median and a spread need three)")
        args.repeats = 3
    if args.target <= 0:
        ap.error(f"--target must be > 0 (seconds), got {args.target}")
    if any(not size >= 8 for size in args.sizes):
        ap.error(f"--sizes must be numbers of unknowns >= 8, got {args.sizes}")
    for kind in args.problems:
        for size in args.sizes:  # the matrix, the prepared operator and its triangles, six
            # vectors (refused before the header is printed)
            m, dim, per_row = grid(kind, size)
            refusal = B.too_big(f"--sizes {size:g}", f"{kind} m={m}", m ** dim, per_row,
                                matrices=3, vectors=6, peak=B.PEAK_FACTORS["pcg"])
            if refusal:
                ap.error(refusal)
    print(machine_header())
    print(f"CPU: {cpu_model()}")
    print("per-iteration time: Theil–Sen slope over four k of solves capped at k iterations, "
          "process CPU time; ratios: paired per round, median [min, max] over interleaved "
          f"rounds ({args.repeats}); work: matrix-pass equivalents (solvers.work_model)")
    results = {}
    for kind in args.problems:
        for n in args.sizes:
            label, A = make_problem(kind, n)
            setups = [m for m in SETUPS if m in args.methods]
            results[label] = measure(A, repeats=args.repeats, target=args.target,
                                     methods=args.methods, setups=setups,
                                     solve=not args.no_solve)
            print("\n".join(format_rows(label, results[label])), flush=True)
            for line in results[label]["checks"]:
                if not line.startswith("IMPOSSIBLE"):  # (the bound is checked below, on
                    print(f"  note: {line}")            # the ratios, resolved rows only)
    for line in unresolved(results):
        print(f"UNRESOLVED: {line}")
    bad = sanity(results)
    for line in bad:
        print(f"IMPOSSIBLE: {line}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cpu": cpu_model(), "results": results}, fh, indent=2)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
