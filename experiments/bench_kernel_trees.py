"""Per-iteration seconds of the Numba solvers of two or more checkouts, side by side in one
process (``python -m experiments.bench_kernel_trees``).

Each checkout's ``solvers`` package is loaded under a name of its own (its kernels compiled or
loaded from that checkout's cache), and every kernel is timed on the same model Laplacian,
the checkouts interleaved and their order swapped every round: a change to the kernels' machine
code is read against the same moment of the machine, not against another process's.  A
round times ``maxiter``-bound runs of ``k1`` and ``k2`` iterations (``rtol = 1e-300``: never
met) and takes ``(T(k2) − T(k1)) / (k2 − k1)``, so the call's fixed cost drops out; the table
gives the first checkout's median and every other's median of the per-round ratios.  Give a
second copy of the first checkout as a third for an A/A column (the spread of identical code).

Examples
--------
``python -m experiments.bench_kernel_trees --rounds 9 base=/tmp/before new=. aa=/tmp/before-copy``
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time

import numpy as np

TOL = dict(rtol=1e-300, atol=1e-300)
#: grid side m (n = m²) and the two run lengths of a round
SIZES = ((100, (100, 400)), (316, (40, 160)))


def load(name, path):
    """The ``solvers`` package of checkout ``path``, imported as ``name``."""
    spec = importlib.util.spec_from_file_location(
        name, f"{path}/solvers/__init__.py", submodule_search_locations=[f"{path}/solvers"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def calls(s, A, b):
    """The timed solves of package ``s`` on ``A``, each a function of ``maxiter``."""
    return {
        "sor": lambda k: s.sor(A, b, 1.5, maxiter=k, **TOL),
        "ssor_pcg": lambda k: s.ssor_pcg(A, b, 1.5, maxiter=k, **TOL),
        "cg": lambda k: s.cg(A, b, maxiter=k, **TOL),
        "pcg ssor": lambda k: s.pcg(A, b, {"pc": "ssor", "omega": 1.5}, maxiter=k, **TOL),
        "pcg jacobi": lambda k: s.pcg(A, b, {"pc": "jacobi"}, maxiter=k, **TOL),
        "pcg ic0": lambda k: s.pcg(A, b, {"pc": "ic0"}, maxiter=k, **TOL)}


def measure(packages, rounds):
    """``{(kernel, n): {name: [seconds per iteration, one per round]}}``."""
    out = {}
    for m, (k1, k2) in SIZES:
        matrix = next(iter(packages.values())).gallery.laplacian_2d(m)
        fns = {}
        for name, s in packages.items():
            A = s.prepare(matrix.copy())
            fns[name] = calls(s, A, np.ones(A.n))
            for f in fns[name].values():
                f(k2)  # compiled or loaded, and warm
        for kernel in calls(None, None, None):
            per = {name: [] for name in packages}
            for r in range(rounds):
                for name in (list(packages) if r % 2 == 0 else list(reversed(packages))):
                    f = fns[name][kernel]
                    t0 = time.perf_counter()
                    a = f(k1)
                    t1 = time.perf_counter()
                    c = f(k2)
                    t2 = time.perf_counter()
                    if (a.iterations, c.iterations) != (k1, k2):
                        raise RuntimeError(f"{name} {kernel}: {a.iterations}, {c.iterations} "
                                           f"iterations, not {k1}, {k2}")
                    per[name].append(((t2 - t1) - (t1 - t0)) / (k2 - k1))
            out[kernel, m * m] = per
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", metavar="NAME=PATH",
                    help="checkouts to compare; the first is the reference")
    ap.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    args = ap.parse_args(argv)
    pairs = [t.split("=", 1) for t in args.trees]
    if len(pairs) < 2 or any(len(p) != 2 for p in pairs) or args.rounds < 1:
        ap.error("give two or more NAME=PATH checkouts and --rounds >= 1")
    packages = {name: load(f"solvers_{name}", path) for name, path in pairs}
    names = list(packages)
    timings = measure(packages, args.rounds)
    print("| kernel | n | " + f"{names[0]} µs | " + " | ".join(f"{x} / {names[0]}" for x in names[1:])
          + " |")
    print("|---|---:|---:|" + "---:|" * (len(names) - 1))
    for (kernel, n), per in timings.items():
        ref = per[names[0]]
        ratios = [statistics.median([x / y for x, y in zip(per[x_], ref)]) for x_ in names[1:]]
        print(f"| {kernel} | {n} | {statistics.median(ref) * 1e6:.1f} | "
              + " | ".join(f"{v:.3f}" for v in ratios) + " |")


if __name__ == "__main__":
    main()
