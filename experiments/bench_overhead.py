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


def main(argv=None) -> int:
    ap = BenchParser("overhead",
                                 description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another checkout whose bandit package is the reference")
    ap.add_argument("--nx", type=int, default=25)
    ap.add_argument("--steps", type=int, default=400, help="solves per batch")
    ap.add_argument("--batches", type=int, default=30)
    args = ap.parse_args(argv)
    for name, value, low in (("--nx", args.nx, 2), ("--steps", args.steps, 1),
                             ("--batches", args.batches, 1)):
        if value < low:
            ap.error(f"{name} must be >= {low}, got {value}")
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
