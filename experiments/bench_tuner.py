"""The Tuner's own cost: a tuned solve against the same solve on a prepared operator
(``relaxtune bench tuner``).

A simulation that adopts :class:`bandit.Tuner` hands it a freshly assembled scipy matrix every
step — new ``data`` *and* new index arrays, on the pattern of the previous step — where a user
who tuned ω by hand would prepare the operator once and call the solver with a fixed ω.  This
benchmark times both, side by side in one process, on the same systems:

* **tuned**: ``Tuner(FixedArm([ω]), solver).solve(A, b, x0=x0)`` with ``A`` a fresh copy of
  the step's scipy matrix (``A.copy()``: new ``data``, ``indices`` and ``indptr``), so every
  call pays what a user's loop pays: checking the new matrix against the previous pattern,
  refreshing the operator's values and their checks, checking ``b`` and ``x0``, the policy's
  draw and update, the guard's bookkeeping and the history;
* **fixed**: ``solver(op, b, ω, x0=x0)`` on an operator prepared before the clock starts, as a
  loop with a fixed ω keeps it: a working copy refreshed with the step's matrix
  (``op = solvers.prepare(A, like=op, overwrite=True)``, :class:`FixedLoop`), so its work
  vectors are those of the previous solve.  A new ``solvers.prepare(A)`` per call, as before,
  left the solve to touch new work vectors page by page (at n = 10⁴, 40 µs of an 820 µs
  SSOR-PCG solve) and put that in the fixed time;
* **refresh**: that refresh alone, timed in the same rounds (the work the tuned call does
  before its draw that the fixed call does not: ``tuned ≈ operator + refresh``).  A loop
  with a fixed ω on freshly assembled matrices pays it too, so ``tuned / (fixed + refresh)``
  is printed beside the target ratio: what replacing such a loop's solve by a tuned call
  costs;
* **operator**: ``Tuner(...).solve(op, b, x0=x0)`` with ``op`` a working copy the loop refreshes
  itself (``op = solvers.prepare(A, like=op, overwrite=True)``, not timed): the Tuner's own
  price without the refresh — the path of a loop that prepares (or refreshes) its operator
  anyway;
* **read**: one streaming read of the fresh matrix's three CSR arrays and of ``b`` and ``x0``
  (``bench_kernels.stream_csr``).  Whatever checks every entry of a new matrix reads it at
  least once, so ``1 + read / fixed`` is the floor of the tuned ratio: no complete check of
  the new matrix can get below it.

Both solve the same system from the same start with the same ω, so they run the same
iterations (checked on every call); the ratio is the price of the Tuner.  A *round* is one
system: both methods solve it once, in a random order, on the process CPU clock (wall-clock
is recorded too and its excess reported), and what is not timed — the tuner's fresh copy, the
fixed side's preparation — is done just before each call, as in a loop that has just assembled
its matrix; the ratio is the median of the per-round ratios with its inter-quartile range, and
the ratio of the summed times (what a loop over these systems sees) is printed beside it.

Problems (each at n ≈ 1e4, 1e5, 1e6 by default):

* ``heat2d``: consecutive Crank–Nicolson steps of the heat2d study (5-point stencil,
  ``experiments.problems.Heat2D``, 5000 steps on [0, 5]) from step 240, where κ ≈ 0.1 and a
  step takes about ten SSOR-PCG iterations — the half period where per-call costs weigh most;
  each step warm-starts from the previous state (two untimed steps first);
* ``heat2d-hi``: the same from step 740 (κ ≈ 10, the stiff half period);
* ``mc3d``: samples of the 3-D random-coefficient diffusion problem
  (``experiments.problems.DiffusionMC3D``, 7-point stencil, σ in [0.25, 0.75]), each solved
  from zero, as in a Monte Carlo loop.

ω: 1.7 for SSOR-PCG; for SOR, Young's ω* of the row's model problem (the constant-coefficient
stencil on the same grid; for heat2d from the first timed step's κ).

Examples
--------
``python -m experiments.bench_tuner --sizes 1e4 --rounds 3 --problems heat2d``
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from . import _bench as B

__all__ = ["main", "PROBLEMS", "SOLVER_NAMES", "make_systems", "measure_row", "TARGET",
           "FixedLoop"]

PROBLEMS = ("heat2d", "heat2d-hi", "mc3d")
SOLVER_NAMES = ("ssor_pcg", "sor")
#: The Tuner's price this benchmark checks: tuned / fixed at most this.
TARGET = 1.03
SSOR_OMEGA = 1.7
HEAT_START = {"heat2d": 240, "heat2d-hi": 740}
HEAT_WARMUP = 2  # untimed steps before the timed ones: the warm start is a real one
MC_SIGMA = (0.25, 0.75)


def _grid_side(n: float, dim: int) -> int:
    return max(3, int(round(n ** (1.0 / dim))))


def too_big_row(problem: str, n: float, rounds: int) -> str | None:
    """The refusal of a row whose systems cannot fit in memory (:func:`_bench.too_big`), or
    None: a row holds its ``rounds + 1`` systems (matrix, b, x0) at once, three prepared
    operators (a copy of the matrix and its two triangles each: the tuned, fixed and operator
    loops') and the tuned call's fresh copy."""
    dim, per_row = (3, 7) if problem == "mc3d" else (2, 5)
    m = _grid_side(n, dim)
    return B.too_big(f"--sizes {n:g}", f"{problem} at m = {m:,} per side", m ** dim, per_row,
                     matrices=rounds + 8, vectors=2 * (rounds + 1), peak=B.PEAK_FACTORS["tuner"])


def make_systems(problem: str, n: float, count: int):
    """``count`` systems ``(A, b, x0)`` of ``problem`` at about ``n`` unknowns, and a dict
    describing them (label, n, nnz, the SOR ω).

    The heat2d states are advanced by SSOR-PCG solves (ω = 1.7, rtol 1e-8), so each system
    is one step of a real trajectory.
    """
    from solvers import ssor_pcg

    from .problems import DiffusionMC3D, Heat2D

    if problem in HEAT_START:
        m = _grid_side(n, 2)
        sim = Heat2D(nx=m + 1, steps=5000, t_end=5.0)
        u = sim.initial()
        out = []
        first = HEAT_START[problem]
        for k in range(first, first + HEAT_WARMUP + count):
            A, b, kap = sim.system(k, u)
            if k - first >= HEAT_WARMUP:
                out.append((A, b, u))
            u = ssor_pcg(A, b, SSOR_OMEGA, x0=u).x
        # Young's ω* of A = I + α L (L the 5-point Laplacian): ρ_J = 4α cos(πh) / (1 + 4α)
        kap = float(sim.contexts()[first + HEAT_WARMUP])
        alpha = kap * sim.dt / (2.0 * sim.dx ** 2)
        rho = 4.0 * alpha * math.cos(math.pi / sim.nx) / (1.0 + 4.0 * alpha)
        label = f"heat2d nx={sim.nx}, steps {first + HEAT_WARMUP}–, κ≈{kap:.2g}"
    elif problem == "mc3d":
        m = _grid_side(n, 3)
        seq = DiffusionMC3D(m=m, samples=count, sigma_range=MC_SIGMA, seed=0)
        out = [(seq.matrix(t), seq.b.copy(), None) for t in range(count)]
        rho = math.cos(math.pi / (m + 1))
        label = f"mc3d m={m}, σ∈[{MC_SIGMA[0]:g}, {MC_SIGMA[1]:g}]"
    else:
        raise ValueError(f"unknown problem {problem!r}; known: {PROBLEMS}")
    A = out[0][0]
    sor_omega = 2.0 / (1.0 + math.sqrt(max(0.0, 1.0 - rho * rho)))
    return out, {"problem": problem, "label": label, "n": A.shape[0], "nnz": int(A.nnz),
                 "sor_omega": round(sor_omega, 4)}


class FixedLoop:
    """The fixed side of the benchmark: a loop that solves every step with one ω on its own
    working copy of the operator, refreshed with each new matrix before the clock starts
    (``op = solvers.prepare(A, like=op, overwrite=True)``, timed apart as the refresh).

    Calling it with ``(A, b, x0)`` refreshes the working copy with a fresh copy of ``A`` and
    returns ``(wall-clock, process CPU, result)`` of the solve alone; ``refresh`` holds the
    ``(wall-clock, process CPU)`` seconds of the last refresh.  The operator keeps its work
    vectors per pattern, so every solve after the first finds them touched, as in a loop.
    """

    def __init__(self, solve, omega: float):
        self.solve, self.omega, self.op, self.refresh = solve, omega, None, (0.0, 0.0)

    def __call__(self, A, b, x0):
        import solvers

        fresh = A.copy()
        wall, cpu, self.op = _timed(lambda: solvers.prepare(fresh, like=self.op, overwrite=True))
        self.refresh = (wall, cpu)
        op = self.op
        return _timed(lambda: self.solve(op, b, self.omega, x0=x0))


def measure_row(systems, solver: str, omega: float, *, rounds: int, seed: int = 0,
                clock: str = "cpu") -> dict:
    """Tuned and fixed whole calls on ``systems[1:rounds + 1]``, one system per round, in a
    random order within each round (``systems[0]`` warms both up: the tuner's first calls
    prepare the pattern and refresh it, every kernel is loaded).

    What is not timed happens just before each timed call, as in a loop that has just
    assembled its matrix: the tuner's fresh copy (``A.copy()``: new data and index arrays),
    and the fixed side's refresh of its working copy (:class:`FixedLoop`, timed apart: the
    ``refresh`` estimate, on ``clock``).  Returns the :class:`_bench.Estimate` of each
    method (seconds per call, ``clock``), the paired ratios, the ratio of the sums, the
    wall-clock seconds and the iteration counts of every call.
    """
    import gc

    import solvers
    from bandit import FixedArm, Tuner

    if clock not in B.CLOCKS:
        raise ValueError(f"clock must be one of {B.CLOCKS}, got {clock!r}")
    if len(systems) < rounds + 1:
        raise ValueError(f"need {rounds + 1} systems, got {len(systems)}")
    from .bench_kernels import stream_csr

    solve = solvers.SOLVERS[solver]
    tuner = Tuner(FixedArm([omega]), solver=solver)
    tuner_op = Tuner(FixedArm([omega]), solver=solver)
    A0, b0, x00 = systems[0]
    mine = [solvers.prepare(A0, overwrite=True)]  # the "operator" loop's working copy
    fixed = FixedLoop(solve, omega)
    for _ in range(3):  # the first call prepares the pattern, the next ones refresh values
        tuner.solve(A0.copy(), b0, x0=x00)
        fixed(A0, b0, x00)
        mine[0] = solvers.prepare(A0.copy(), like=mine[0], overwrite=True)
        tuner_op.solve(mine[0], b0, x0=x00)
        stream_csr(A0.indptr, A0.indices, A0.data, b0, b0 if x00 is None else x00)

    def tuned(A, b, x0):
        fresh = A.copy()
        return _timed(lambda: tuner.solve(fresh, b, x0=x0))

    def operator(A, b, x0):
        mine[0] = solvers.prepare(A.copy(), like=mine[0], overwrite=True)
        return _timed(lambda: tuner_op.solve(mine[0], b, x0=x0))

    def read(A, b, x0):
        fresh = A.copy()
        out = _timed(lambda: stream_csr(fresh.indptr, fresh.indices, fresh.data, b,
                                        b if x0 is None else x0))
        return out[0], out[1], None

    methods = {"tuned": tuned, "fixed": fixed, "operator": operator, "read": read}
    names = list(methods)
    rng = np.random.default_rng(seed)
    cpu = {m: np.empty(rounds) for m in names}
    wall = {m: np.empty(rounds) for m in names}
    its = {m: [] for m in names}
    refresh = {"cpu": np.empty(rounds), "wall": np.empty(rounds)}
    enabled = gc.isenabled()
    gc.disable()  # a collection inside a timed call is noise, not the method's cost
    try:
        for r in range(rounds):
            A, b, x0 = systems[r + 1]
            for i in rng.permutation(len(names)):
                m = names[i]
                wall[m][r], cpu[m][r], res = methods[m](A, b, x0)
                if res is not None:
                    its[m].append((res.iterations, res.converged))
                if m == "fixed":
                    refresh["wall"][r], refresh["cpu"][r] = fixed.refresh
    finally:
        if enabled:
            gc.enable()
    T = cpu if clock == "cpu" else wall
    est = {m: B.Estimate(T[m]) for m in names}
    return {"tuned": est["tuned"], "fixed": est["fixed"], "operator": est["operator"],
            "read": est["read"], "ratio": B.ratio(est["tuned"], est["fixed"]),
            "operator_ratio": B.ratio(est["operator"], est["fixed"]),
            "refresh": B.Estimate(refresh[clock]),
            "refresh_ratio": B.Estimate(refresh[clock] / T["fixed"]),
            "loop_ratio": B.Estimate(T["tuned"] / (T["fixed"] + refresh[clock])),
            "floor": B.Estimate(1.0 + T["read"] / T["fixed"]),
            "sum_ratio": float(T["tuned"].sum() / T["fixed"].sum()), "wall": wall,
            "iterations": [k for k, _ in its["fixed"]],
            "converged": all(c for _, c in its["fixed"] + its["tuned"] + its["operator"]),
            "same_iterations": its["tuned"] == its["fixed"] == its["operator"]}


def _timed(fn):
    """``(wall-clock, process CPU, result)`` of ``fn()``."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = fn()
    t1 = time.perf_counter()
    c1 = time.process_time()
    return t1 - t0, c1 - c0, out


def run(problems, sizes, solver_names, *, rounds=7, seed=0, progress=None):
    rows = []
    for problem in problems:
        for n in sizes:
            systems, meta = make_systems(problem, n, rounds + 1)
            for solver in solver_names:
                omega = SSOR_OMEGA if solver == "ssor_pcg" else meta["sor_omega"]
                if progress:
                    progress(f"{meta['label']} (n = {meta['n']:,}): {solver}, ω = {omega:g}, "
                             f"{rounds} rounds")
                res = measure_row(systems, solver, omega, rounds=rounds, seed=seed)
                rows.append({**meta, "solver": solver, "omega": omega, **res})
            del systems
    return rows


def warnings_of(rows) -> list[str]:
    msgs = []
    for r in rows:
        where = f"{r['label']} {r['solver']}"
        if not r["same_iterations"]:
            msgs.append(f"BENCHMARK ERROR: {where}: tuned, fixed and operator ran different "
                        "iterations")
        if not r["converged"]:
            msgs.append(f"{where}: some solve did not converge")
        if r["ratio"].q3 < 1.0:
            msgs.append(f"IMPOSSIBLE: {where}: the tuned call (the fixed solve plus the "
                        f"Tuner's work) is faster than the fixed call ({B.fmt(r['ratio'], 1, 3)})")
        if "operator_ratio" in r and r["operator_ratio"].q3 < 1.0:
            msgs.append(f"IMPOSSIBLE: {where}: the tuned call on a refreshed operator (the "
                        "fixed solve plus the Tuner's work) is faster than the fixed call "
                        f"({B.fmt(r['operator_ratio'], 1, 3)})")
        if r["ratio"].q3 < r["floor"].q1:
            msgs.append(f"IMPOSSIBLE: {where}: the tuned call, which reads the new matrix, "
                        f"beats one read of it ({B.fmt(r['ratio'], 1, 3)} < floor "
                        f"{B.fmt(r['floor'], 1, 3)})")
        cpu = r["tuned"].samples.sum() + r["fixed"].samples.sum()
        wall = r["wall"]["tuned"].sum() + r["wall"]["fixed"].sum()
        cpu += r["operator"].samples.sum()
        wall += r["wall"]["operator"].sum()
        if wall > 1.10 * cpu:
            msgs.append(f"shared machine: {where}: wall-clock {100 * (wall / cpu - 1):.0f}% "
                        "above CPU time (other processes held the CPU; figures are CPU time)")
    return msgs


def report(rows, info, *, markdown=False, out=None) -> list[str]:
    out = sys.stdout if out is None else out
    print(B.machine_header(info), file=out)
    print(f"\ntuned = Tuner(FixedArm([ω]), solver).solve(fresh scipy A, b, x0); fixed = "
          "solver(operator the loop refreshed itself, b, ω, x0); operator = Tuner(...).solve("
          "operator the loop refreshed itself, b, x0); refresh = that refresh alone; floor = 1 "
          "+ one streaming read of (A, b, x0) / fixed; "
          "whole calls, process CPU time, one system per round, interleaved", file=out)
    head = ["problem", "n", "solver", "ω", "iterations", "tuned ms", "fixed ms",
            "tuned / fixed", "Σ tuned / Σ fixed", "extra ms per call", "floor",
            "operator / fixed", "refresh / fixed", "tuned / (fixed + refresh)"]
    table = []
    for r in rows:
        its = r["iterations"]
        extra = B.Estimate(r["tuned"].samples - r["fixed"].samples)
        table.append([r["label"], f"{r['n']:,}", r["solver"], f"{r['omega']:g}",
                      f"{min(its)}–{max(its)}" if min(its) != max(its) else str(its[0]),
                      B.fmt(r["tuned"]), B.fmt(r["fixed"]), B.fmt(r["ratio"], 1, 3),
                      f"{r['sum_ratio']:.3f}", B.fmt(extra), B.fmt(r["floor"], 1, 3),
                      B.fmt(r["operator_ratio"], 1, 3), B.fmt(r["refresh_ratio"], 1, 3),
                      B.fmt(r["loop_ratio"], 1, 3)])
    print("\nmedian [inter-quartile range] over rounds; ratios paired per round "
          f"(target tuned / fixed <= {TARGET})", file=out)
    print(B.format_table(head, table, markdown=markdown, align="lrlrrrrrrrrrrr"), file=out)
    msgs = warnings_of(rows)
    if msgs:
        print("\n" + "!" * 78, file=out)
        for m in msgs:
            print(("!! " if "IMPOSSIBLE" in m or "ERROR" in m else "   ") + m, file=out)
        print("!" * 78, file=out)
    return msgs


def to_json(rows, info) -> dict:
    def enc(r):
        return {k: (v.to_dict() if isinstance(v, B.Estimate) else
                    {kk: vv.tolist() for kk, vv in v.items()} if k == "wall" else v)
                for k, v in r.items()} | {
            "tuned_s": r["tuned"].samples.tolist(), "fixed_s": r["fixed"].samples.tolist(),
            "operator_s": r["operator"].samples.tolist(), "read_s": r["read"].samples.tolist(),
            "refresh_s": r["refresh"].samples.tolist()}
    return {"machine": info, "rows": [enc(r) for r in rows]}


#: The most unknowns a size may ask for: a matrix of at most 2⁶³ − 1 entries (7 per row for
#: mc3d), the kernels' index range; a larger one had failed inside the problem's constructor.
MAX_UNKNOWNS = (2**63 - 1) // 7


def _size(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(v) and 16 <= v <= MAX_UNKNOWNS):
        raise argparse.ArgumentTypeError(f"must be a number of unknowns in 16..{MAX_UNKNOWNS:.3g}"
                                         f", got {text}")
    return v


def main(argv=None) -> int:
    """Command-line entry point (also ``relaxtune bench tuner``)."""
    from .cli import OneLineParser, UsageError, print_error

    ap = OneLineParser(prog="relaxtune bench tuner", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sizes", type=_size, nargs="+", default=[1e4, 1e5, 1e6],
                    help="numbers of unknowns (rounded to a grid; default 1e4 1e5 1e6)")
    ap.add_argument("--problems", nargs="+", choices=PROBLEMS, default=list(PROBLEMS))
    ap.add_argument("--solvers", nargs="+", choices=SOLVER_NAMES, default=list(SOLVER_NAMES))
    ap.add_argument("--rounds", type=int, default=7, help="rounds = systems per row (>= 3)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the order within rounds")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--json", type=B.output_file, help="also write the raw timings (seconds) to this file")
    try:
        args = ap.parse_args(argv)
        if args.rounds < 3:
            raise UsageError("--rounds must be >= 3 (a median and a spread)")
        if args.seed < 0:
            raise UsageError(f"--seed must be >= 0, got {args.seed}")
        for problem in args.problems:
            for n in args.sizes:
                refusal = too_big_row(problem, n, args.rounds)
                if refusal:
                    raise UsageError(refusal)
    except UsageError as exc:  # one line, before anything is computed
        print_error(f"bench tuner: {exc}")
        return 2
    info = B.machine_info()
    rows = run(args.problems, args.sizes, args.solvers, rounds=args.rounds, seed=args.seed,
               progress=lambda s: print(s, file=sys.stderr, flush=True))
    msgs = report(rows, info, markdown=args.markdown)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(to_json(rows, info), fh, indent=1)
    return 1 if any("IMPOSSIBLE" in m or "ERROR" in m for m in msgs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
