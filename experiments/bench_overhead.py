"""Per-solve overhead of ``Tuner.solve``: this checkout against another, side by side.

Run under the shared lock, pinned to one core::

    flock /tmp/relaxtune-bench.lock taskset -c 1 python -m experiments.bench_overhead \\
        --baseline /path/to/other/checkout

The systems are heat2d steps (``--nx``, default 25: ~30 µs per tuned solve) along one
trajectory, prepared once; every batch replays them through a fresh Tuner (same policy, same
seed, so both versions choose the same arms and do the same solver work).  Batches of this
checkout and of the baseline (its ``bandit`` package loaded under another name) alternate,
and the median time per solve of each, the difference and its spread over batch pairs are
printed.  Also measured: this checkout with a no-op ``callback`` (the cost of the hook when
on), and a stand-in solver that does no work (the Tuner's own overhead alone).

``--parts`` measures instead where a call's time outside the solver goes, part by part, at
several sizes (``--sizes``, heat2d at about that many unknowns, consecutive steps from step
240 where a step takes about ten SSOR-PCG iterations), for the default learner and a fixed
arm (SSOR-PCG, ω = 1.7), on CSR input that is (a) a new matrix every call (``A.copy()`` of the
step's matrix: new data and index arrays, the same pattern), (b) the same object with the
step's values written into its ``data``, (c) the same matrix unchanged (``b`` and ``x0`` of
the step).  This checkout and the baseline run the same calls, interleaved in a random order
per step; each part is timed by a timer around it (process CPU time is not resolved at this
scale: wall-clock, ``perf_counter``): the refresh of the Tuner's working copy (every check of
``A``), the check of ``b`` and ``x0``, the solvers' requirements (diagonal, symmetry), the
policy's draw and its update; *outside* is the call less the solver's own ``seconds``, *rest*
what the parts leave of it.  *read*, timed in the same rounds, is one streaming read of the
input's three CSR arrays, ``b`` and ``x0``: a check of every entry reads at least that, so a
refresh plus check of ``b`` and ``x0`` below it is flagged IMPOSSIBLE.
"""
from __future__ import annotations

import contextlib
import importlib.util
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ._bench import BenchParser, machine_header

__all__ = ["main"]


def _load_baseline(root: Path):
    """The ``bandit`` package of another checkout, imported as ``bandit_baseline``, on that
    checkout's own ``solvers`` (kept in ``bandit_baseline.solver_modules``: the two checkouts'
    solver APIs may differ, so a baseline batch runs with them in ``sys.modules``)."""
    init = root / "bandit" / "__init__.py"
    if not init.is_file():
        raise SystemExit(f"--baseline {root}: no bandit/__init__.py there")
    own = _take_solvers()
    sys.path.insert(0, str(root))
    try:
        spec = importlib.util.spec_from_file_location("bandit_baseline", init,
                                                      submodule_search_locations=[str(init.parent)])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["bandit_baseline"] = mod
        spec.loader.exec_module(mod)
        import solvers  # noqa: F401  (the baseline's, if its bandit did not import it yet)
    finally:
        sys.path.remove(str(root))
        mod.solver_modules = _take_solvers()
        sys.modules.update(own)
    return mod


def _take_solvers() -> dict:
    """Remove the ``solvers`` package and its modules from ``sys.modules``; return them."""
    names = [k for k in sys.modules if k == "solvers" or k.startswith("solvers.")]
    return {k: sys.modules.pop(k) for k in names}


@contextlib.contextmanager
def _solvers_of(pkg):
    """``pkg``'s own solver modules in ``sys.modules`` for the duration (none: as they are)."""
    modules = getattr(pkg, "solver_modules", None)
    if modules is None:
        yield
        return
    own = _take_solvers()
    sys.modules.update(modules)
    try:
        yield
    finally:
        _take_solvers()
        sys.modules.update(own)


def _systems(nx, steps):
    from experiments.problems import Heat2D

    import solvers

    sim = Heat2D(nx=nx, steps=steps)
    u = sim.initial()
    out = []
    for k in range(steps):
        A, b, kappa = sim.system(k, u)
        out.append((A, b, u.copy(), float(kappa)))
        u = solvers.ssor_pcg(A, b, 1.5, x0=u).x
    return out


class _Free:
    """A stand-in solver that does no work: 5 iterations, converged."""

    __name__ = "free"

    def __call__(self, A, b, omega=None, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000,
                 backend="numba"):
        from solvers import SolveResult

        return SolveResult(x=b, iterations=5, converged=True, residual_norm=0.0, omega=omega,
                           solver="free", reason="converged", seconds=1e-6, maxiter=maxiter)


def _batch(pkg, systems, solver, **kw):
    policy = pkg.ChebCB(np.linspace(1.0, 1.95, 20), context_bounds=(0.0, 10.0), seed=0)
    tuner = pkg.Tuner(policy, solver=solver, **kw)
    solve = tuner.solve
    t0 = time.perf_counter()
    for A, b, x0, c in systems:
        solve(A, b, x0=x0, context=c)
    return (time.perf_counter() - t0) / len(systems)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: The parts of a call timed by ``--parts`` (the Tuner's attribute or the operator method
#: wrapped), in the order printed.
PARTS = ("refresh", "b, x0", "require", "draw", "update")
CASES = {"a": "new matrix", "b": "same object, new data", "c": "same matrix"}
LEARNERS = ("fixed", "default")


def _parts_systems(n: float, count: int):
    """``count`` consecutive heat2d steps ``(A, b, x0)`` at about ``n`` unknowns from step 240
    (each warm-started from the previous state)."""
    from .bench_tuner import make_systems

    systems, meta = make_systems("heat2d", n, count)
    return systems, meta


class _PartTimer:
    """A Tuner of ``pkg`` whose parts are timed: wrappers around the operator's refresh (of
    ``pkg``'s own solvers, patched on the class while its calls run) and the Tuner's and its
    policy's methods, each appending its wall-clock seconds to ``self.t[part]``."""

    def __init__(self, pkg, learner: str):
        policy = (pkg.FixedArm([1.7]) if learner == "fixed"
                  else pkg.default_policy("ssor_pcg", seed=0))
        self.tuner = tuner = pkg.Tuner(policy, solver="ssor_pcg")
        self.t = {p: 0.0 for p in PARTS}
        for attr, part in (("_check_rhs", "b, x0"), ("_require", "require")):
            setattr(tuner, attr, self._timed(getattr(tuner, attr), part))
        pol = tuner.policy
        pol.select = self._timed(pol.select, "draw")
        pol.leader = self._timed(pol.leader, "draw")
        pol.update = self._timed(pol.update, "update")

    def _timed(self, fn, part):
        t = self.t
        clock = time.perf_counter

        def timed(*args, **kw):
            t0 = clock()
            try:
                return fn(*args, **kw)
            finally:
                t[part] += clock() - t0
        return timed

    def call(self, A, b, x0):
        """``(outside, solver seconds, {part: seconds})`` of one ``solve``."""
        import solvers._operator as O  # (the package's own, under _solvers_of)

        t = self.t
        for p in PARTS:
            t[p] = 0.0
        cls = O.CSROperator
        refresh = cls._refresh_in_place
        cls._refresh_in_place = self._timed(refresh, "refresh")
        try:
            t0 = time.perf_counter()
            res = self.tuner.solve(A, b, x0=x0)
            total = time.perf_counter() - t0
        finally:
            cls._refresh_in_place = refresh
        return total - res.seconds, res.seconds, dict(t)


def _inputs(case, systems, r, same):
    """The input of step ``r`` for ``case`` (``same``: the object cases b and c reuse)."""
    A, b, x0 = systems[r]
    if case == "a":
        return A.copy(), b, x0
    if case == "b":
        same.data[:] = A.data
    return same, b, x0


def measure_parts(versions: dict, n: float, rounds: int, seed: int = 0) -> list[dict]:
    """Rows of :func:`main`'s ``--parts`` table at about ``n`` unknowns: for each learner and
    case, each version's per-call outside time, solver time and parts (seconds, arrays over
    the rounds), and the streaming read of the input (the floor of a complete check)."""
    import gc

    from .bench_kernels import stream_csr

    systems, meta = _parts_systems(n, rounds + 3)
    rng = np.random.default_rng(seed)
    rows = []
    for learner in LEARNERS:
        for case in CASES:
            timers, same = {}, {}
            for name, pkg in versions.items():
                with _solvers_of(pkg):
                    timers[name] = _PartTimer(pkg, learner)
                    same[name] = systems[0][0].copy()
                    for r in range(3):  # the pattern's first call, then refreshes: warm
                        timers[name].call(*_inputs(case, systems, r, same[name]))
            names = list(versions) + ["read"]
            out = {v: {"outside": [], "solve": [], **{p: [] for p in PARTS}} for v in versions}
            read = []
            enabled = gc.isenabled()
            gc.disable()  # a collection inside a timed call is noise, not the Tuner's cost
            try:
                for r in range(3, rounds + 3):
                    for i in rng.permutation(len(names)):
                        name = names[i]
                        if name == "read":
                            A, b, x0 = _inputs("a", systems, r, None)
                            t0 = time.perf_counter()
                            stream_csr(A.indptr, A.indices, A.data, b, x0)
                            read.append(time.perf_counter() - t0)
                            continue
                        with _solvers_of(versions[name]):
                            args = _inputs(case, systems, r, same[name])
                            outside, solve, parts = timers[name].call(*args)
                        rec = out[name]
                        rec["outside"].append(outside)
                        rec["solve"].append(solve)
                        for p in PARTS:
                            rec[p].append(parts[p])
            finally:
                if enabled:
                    gc.enable()
            rows.append({"n": meta["n"], "nnz": meta["nnz"], "learner": learner, "case": case,
                         "read": np.array(read),
                         **{v: {k: np.array(x) for k, x in rec.items()}
                            for v, rec in out.items()}})
    return rows


def _parts_report(rows, versions) -> list[str]:
    """Print the ``--parts`` tables; return the IMPOSSIBLE messages."""
    from ._bench import Estimate, fmt, format_table

    us = 1e6
    new = "this checkout"
    old = "baseline" if "baseline" in versions else None
    head = ["n", "learner", "input", "solve µs", "outside µs" + (" before" if old else ""),
            *(["outside µs after", "after / before (paired)", "share before", "share after"]
              if old else ["share"]), "read µs"]
    table, msgs, parts_table = [], [], []
    for r in rows:
        mine = r[new]
        solve = Estimate(mine["solve"])
        line = [f"{r['n']:,}", r["learner"], f"({r['case']}) {CASES[r['case']]}",
                fmt(solve, us, 3)]
        if old:
            base = r[old]
            line += [fmt(Estimate(base["outside"]), us, 3), fmt(Estimate(mine["outside"]), us, 3),
                     fmt(Estimate(mine["outside"] / base["outside"]), 1, 3),
                     f"{np.median(base['outside'] / base['solve']):.1%}",
                     f"{np.median(mine['outside'] / mine['solve']):.1%}"]
        else:
            line += [fmt(Estimate(mine["outside"]), us, 3),
                     f"{np.median(mine['outside'] / mine['solve']):.1%}"]
        line.append(fmt(Estimate(r["read"]), us, 3))
        table.append(line)
        for v in ([old] if old else []) + [new]:
            rec = r[v]
            parts = [np.median(rec[p]) * us for p in PARTS]
            rest = np.median(rec["outside"] - sum(rec[p] for p in PARTS)) * us
            parts_table.append([f"{r['n']:,}", r["learner"], f"({r['case']})",
                                "before" if v == old else "after",
                                *(f"{x:.1f}" for x in parts), f"{rest:.1f}",
                                f"{np.median(rec['outside']) * us:.1f}"])
            # every entry of the input is read by a complete check: not faster than one read
            checks = rec["refresh"] + rec["b, x0"]
            if np.percentile(checks, 75) < np.percentile(r["read"], 25):
                msgs.append(f"IMPOSSIBLE: n = {r['n']:,} {r['learner']} ({r['case']}) {v}: "
                            f"the checks of A, b and x0 ({np.median(checks) * us:.1f} µs) beat "
                            f"one read of them ({np.median(r['read']) * us:.1f} µs)")
    print("\ntime per call outside the solver (the call less the solver's seconds), µs, median "
          "[inter-quartile range] over the rounds; share = outside / solver seconds (median of "
          "the per-call ratios)")
    print(format_table(head, table, align="rll" + "r" * (len(head) - 3)))
    print("\nparts, µs per call (medians; rest = outside less the parts, the timers' own cost "
          "included)")
    print(format_table(["n", "learner", "input", "tree", *PARTS, "rest", "outside"],
                       parts_table, align="rlll" + "r" * (len(PARTS) + 2)))
    for m in msgs:
        print("!! " + m)
    return msgs


def _main_parts(args) -> int:
    import bandit

    versions = {"this checkout": bandit}
    if args.baseline is not None:
        versions["baseline"] = _load_baseline(args.baseline)
    print(machine_header())
    print(f"Tuner.solve outside the solver, part by part; heat2d from step 240, SSOR-PCG; "
          f"{args.rounds} rounds per row, the trees interleaved; CPU: {_cpu()}")
    msgs = []
    for n in args.sizes:
        rows = measure_parts(versions, n, args.rounds if n < 5e4 else max(
            5, args.rounds // 4))
        msgs += _parts_report(rows, versions)
        sys.stdout.flush()
    return 1 if msgs else 0


def main(argv=None) -> int:
    ap = BenchParser("overhead",
                                 description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another checkout whose bandit package is the reference")
    ap.add_argument("--nx", type=int, default=25)
    ap.add_argument("--steps", type=int, default=400, help="solves per batch")
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--parts", action="store_true",
                    help="time the parts of a call outside the solver instead (see --sizes)")
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e3, 1e4, 1e5],
                    help="--parts: numbers of unknowns (default 1e3 1e4 1e5)")
    ap.add_argument("--rounds", type=int, default=40,
                    help="--parts: calls per row (a quarter of them from 5e4 unknowns on)")
    args = ap.parse_args(argv)
    for name, value, low in (("--nx", args.nx, 2), ("--steps", args.steps, 1),
                             ("--batches", args.batches, 1), ("--rounds", args.rounds, 3)):
        if value < low:
            ap.error(f"{name} must be >= {low}, got {value}")
    if any(not 16 <= n <= 1e7 for n in args.sizes):
        ap.error(f"--sizes must be numbers of unknowns in 16..1e7, got {args.sizes}")
    if args.parts:
        return _main_parts(args)
    import bandit

    systems = _systems(args.nx, args.steps)
    variants = {"this checkout": (bandit, "ssor_pcg", {}),
                "this, callback on": (bandit, "ssor_pcg", {"callback": lambda r: None}),
                "this, no-work solver": (bandit, _Free(), {})}
    if args.baseline is not None:
        base = _load_baseline(args.baseline)
        variants["baseline"] = (base, "ssor_pcg", {})
        variants["baseline, no-work solver"] = (base, _Free(), {})
    for pkg, solver, kw in variants.values():  # warm-up: JIT, caches
        with _solvers_of(pkg):
            _batch(pkg, systems[:50], solver, **kw)
    times = {name: [] for name in variants}
    for _ in range(args.batches):
        for name, (pkg, solver, kw) in variants.items():  # interleaved
            with _solvers_of(pkg):
                times[name].append(_batch(pkg, systems, solver, **kw))
    print(machine_header())
    print(f"Tuner.solve per-call time, heat2d nx={args.nx}, {args.steps} solves x "
          f"{args.batches} interleaved batches; CPU: {_cpu()}")
    for name, v in times.items():
        v = np.array(v) * 1e6
        print(f"  {name:28s} median {np.median(v):8.2f} µs/solve  "
              f"(p10 {np.percentile(v, 10):.2f}, p90 {np.percentile(v, 90):.2f})")
    pairs = [("this checkout", "baseline"), ("this, no-work solver", "baseline, no-work solver"),
             ("this, callback on", "this checkout")]
    for a, b in pairs:
        if a in times and b in times:
            d = (np.array(times[a]) - np.array(times[b])) * 1e6
            print(f"  {a} − {b}: median {np.median(d):+.2f} µs/solve "
                  f"(p10 {np.percentile(d, 10):+.2f}, p90 {np.percentile(d, 90):+.2f})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
