"""What a Tuner's first calls cost: fresh Tuners in a process that has run the study's warm-up,
or one Tuner in a fresh process.

Run under the shared lock, pinned to one core::

    flock /tmp/relaxtune-bench.lock taskset -c 1 python -m experiments.bench_first_call \
        --sequence refine2d --tuners 7

makes the sequence's first systems (:func:`experiments.precond_study.make_sequence` at the
unseen study's size), runs the study's warm-up on its tiny sequence
(:func:`experiments.precond_study._warm_up`: every kernel loaded, the once-per-process clocks
taken), then ``--tuners`` times each of the configuration learner, the ω-only learner and the
fixed SSOR-PCG Tuner at ``--omega`` (made as the study makes them,
:func:`experiments.precond_study._method`), one after the other, each through ``--calls``
systems from the sequence's start.  It prints, per kind, the medians [least, most] of the
construction's and of each call's CPU time (``time.thread_time``), in ms.  ``--fresh KIND``
(``learner``, ``omega`` or ``fixed``) skips the warm-up and makes a single Tuner of that kind:
a user's first Tuner in a fresh process (run it in a new process each time).
"""
from __future__ import annotations

import argparse
import statistics
import time

KINDS = {"learner": "learner", "omega": "omega_learner", "fixed": "fixed"}


def _keys(grid, omega):
    """The study's method keys of the three kinds (the fixed one: SSOR-PCG at ``omega``)."""
    fixed = [k for k, c in enumerate(grid) if isinstance(c, dict)
             and c.get("method") == "ssor_pcg" and abs(c.get("omega", 0.0) - omega) < 1e-9]
    if not fixed:
        raise ValueError(f"no SSOR-PCG arm at ω = {omega} in the study's grid")
    return {"learner": "learner", "omega": "omega_learner", "fixed": f"fixed/{fixed[0]}"}


def measure(sequence="refine2d", tuners=7, calls=3, omega=1.8, fresh=None, size=None):
    """``{kind: {"construction": [s, ...], "calls": [[s of call 0, ...], ...]}}`` (CPU seconds).

    Examples
    --------
    >>> m = measure("heat3d", tuners=1, calls=2, size=6, omega=1.5)
    >>> sorted(m), len(m["learner"]["calls"][0])
    (['fixed', 'learner', 'omega'], 2)
    """
    from . import precond_study as ps
    from ._unseen_study import SIZES

    sq = ps.make_sequence(sequence, size or SIZES.get(sequence, 100), seed=1)
    grid = ps.default_grid(ps.OMEGAS)
    omega_arms = [float(w) for w in ps.OMEGAS]
    settings = {"rtol": 1e-8, "maxiter": 10_000}
    keys = _keys(grid, omega)
    kinds = [fresh] if fresh else list(keys)
    if fresh is None:
        ps._warm_up([sq], grid, omega_arms, "default", [], 50, settings)
    shared = [sq.shared(t) for t in range(min(calls, sq.T))]
    out = {k: {"construction": [], "calls": []} for k in kinds}
    for rep in range(1 if fresh else tuners):
        for kind in kinds:
            factory, _ = ps._method(keys[kind], grid, omega_arms, "default", sq, rep, 0, 50,
                                    settings)
            c0 = time.thread_time()
            solve, _tuner = factory()
            out[kind]["construction"].append(time.thread_time() - c0)
            state, times = sq.initial_state(), []
            for sh in shared:
                A, b, x0, ctx = sq.system(sh, state)
                c0 = time.thread_time()
                x = solve(A, b, x0, ctx)[0]
                times.append(time.thread_time() - c0)
                state = sq.advance(state, x)
            out[kind]["calls"].append(times)
    return out


def _ms(values) -> str:
    return (f"{1e3 * statistics.median(values):.2f} [{1e3 * min(values):.2f}, "
            f"{1e3 * max(values):.2f}]")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.bench_first_call",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--sequence", default="refine2d")
    p.add_argument("--size", type=int, help="instead of the unseen study's size")
    p.add_argument("--tuners", type=int, default=7, help="Tuners of each kind")
    p.add_argument("--calls", type=int, default=3, help="calls of each Tuner")
    p.add_argument("--omega", type=float, default=1.8, help="the fixed Tuner's SSOR-PCG ω")
    p.add_argument("--fresh", choices=sorted(KINDS), help="one Tuner of this kind, no warm-up")
    args = p.parse_args(argv)
    if args.tuners < 1 or args.calls < 1:
        p.error("--tuners and --calls must be at least 1")
    out = measure(args.sequence, args.tuners, args.calls, args.omega, args.fresh, args.size)
    for kind, m in out.items():
        parts = [f"construction {_ms(m['construction'])}"] + [
            f"call {i} {_ms([c[i] for c in m['calls']])}" for i in range(len(m["calls"][0]))]
        print(f"{kind:8s} " + "  ".join(parts) + " ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
