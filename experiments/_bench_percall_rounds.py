"""``relaxtune bench percall --rounds``: the configuration learner's own round alone —
its draw, its leader and its update, as a Tuner calls them — timed warm and cache-cold, on
this checkout's code and on a baseline checkout's side by side (:func:`run_rounds`), and the
cache eviction that ``--cold`` also puts before every Tuner call of ``--parts``
(:func:`evict`)."""
from __future__ import annotations

import os
import time

import numpy as np

from ._bench import machine_header

__all__ = ["evict", "run_rounds", "main_rounds"]


def evict(junk):
    """Write one float in every 64-byte line of ``junk`` (as the solve of a user's loop that
    works through that many bytes would): what was in the caches before is pushed out."""
    junk[::8] += 1.0


def run_rounds(kind="heat3d", size=22, steps=60, seed=0, rounds=400, cold=32, baseline=None):
    """The configuration learner's own round alone — :meth:`~bandit.JointCB.select`,
    :meth:`~bandit.JointCB.drawn_leader` and :meth:`~bandit.JointCB.update`, as a Tuner
    calls them — timed in a loop, warm and cache-cold (``cold`` MB written before the draw and
    before the update, as a solve comes between them), on this checkout's code and on ``baseline``'s side by side.

    Each learner (:func:`bandit.default_policy` over the configuration grid,
    ``cost="work"``: no clock in its choices, so both checkouts hold the same state) is first
    taught by a Tuner over ``steps`` systems of the sequence; the loop then draws at those
    systems' contexts in turn and tells a cost near the learner's unit.  Returns
    ``{code version: {"select" | "update" | "round": {"warm" | "cold": seconds a call, per
    round}}}``, the versions' rounds interleaved (the same machine state for both)."""
    from experiments.precond_study import default_grid, make_sequence

    from .bench_overhead import _solvers_of

    import bandit

    grid = default_grid()
    seq = make_sequence(kind, size, steps=steps, samples=steps)
    versions = {"this checkout": bandit}
    if baseline is not None:
        versions["baseline"] = baseline
    learners, contexts = {}, []
    for name, pkg in versions.items():
        with _solvers_of(pkg if name == "baseline" else None):
            tuner = pkg.Tuner(pkg.default_policy(None, grid, context_bounds=seq.bounds,
                                                 seed=seed), cost="work")
            state = seq.initial_state()
            contexts = []
            for t in range(steps):
                A, b, x0, ctx = seq.system(seq.shared(t), state)
                r = tuner.solve(A, b, x0=x0, context=ctx)
                contexts.append(ctx)
                state = seq.advance(state, r.x)
        learners[name] = tuner.policy
    junk = np.zeros(int(cold * 2 ** 20) // 8)
    clock = time.perf_counter
    out = {n: {part: {"warm": [], "cold": []} for part in ("select", "update", "round")}
           for n in learners}
    for mode in ("warm", "cold"):
        for r in range(rounds):
            c = float(contexts[r % len(contexts)])
            for name in (list(learners) if r % 2 == 0 else list(learners)[::-1]):
                p = learners[name]
                if mode == "cold":
                    evict(junk)
                t0 = clock()
                k = p.select(c)
                t1 = clock()
                t2 = clock()
                p.drawn_leader(c)
                t3 = clock()
                if mode == "cold":
                    evict(junk)
                cost = p.unit * (1.0 + 0.01 * (r % 5))
                t4 = clock()
                p.update(int(k), cost, c, False, True)
                t5 = clock()
                rec = out[name]
                rec["select"][mode].append(t1 - t0 + t3 - t2)
                rec["update"][mode].append(t5 - t4)
                rec["round"][mode].append(t1 - t0 + t3 - t2 + t5 - t4)
    return out


def _print_rounds(out, cold):
    us = 1e6
    names = list(out)
    print(f"  µs a call, median [p25, p75]; cold: {cold} MB written before each call")
    print(f"  {'part':8s} {'mode':5s}" + "".join(f" {n:>26s}" for n in names)
          + ("   this checkout − baseline, per round" if len(names) > 1 else ""))
    for part in ("select", "update", "round"):
        for mode in ("warm", "cold"):
            row = f"  {part:8s} {mode:5s}"
            for n in names:
                v = us * np.array(out[n][part][mode])
                row += (f" {np.median(v):9.2f} [{np.percentile(v, 25):6.2f}, "
                        f"{np.percentile(v, 75):6.2f}]")
            if len(names) > 1:
                d = us * (np.array(out[names[0]][part][mode]) - np.array(out[names[1]][part][mode]))
                row += (f" {np.median(d):7.2f} [{np.percentile(d, 25):6.2f}, "
                        f"{np.percentile(d, 75):6.2f}]")
            print(row)


def main_rounds(ap, args):
    """``--rounds``'s checks of ``args``, its run and its table (:func:`run_rounds`)."""
    if args.parts:
        ap.error("--rounds and --parts are two benchmarks: give one")
    if args.rounds < 10:
        ap.error(f"--rounds must be >= 10, got {args.rounds}")
    cold = 32.0 if args.cold is None else args.cold
    if not cold > 0:
        ap.error(f"--cold must be > 0 with --rounds, got {cold}")
    steps = 60 if args.samples is None else args.samples
    if steps < 12 or (args.sequence == "heat3d" and steps > 180):
        ap.error(f"--samples must be in [12, 180] with --rounds, got {steps}")
    size = args.nx if args.sequence == "heat2d" else args.m
    print(machine_header())
    print(f"# load average {os.getloadavg()[0]:.2f}; {args.sequence} size {size}: the "
          f"configuration learner taught {steps} systems (cost='work'), then {args.rounds} "
          f"rounds warm and {args.rounds} cache-cold")
    baseline = None
    if args.baseline is not None:
        from pathlib import Path

        from .bench_overhead import _load_baseline

        baseline = _load_baseline(Path(args.baseline))
        print(f"# baseline: {args.baseline}")
    out = run_rounds(args.sequence, size, steps, args.seed, args.rounds, cold, baseline)
    _print_rounds(out, cold)
    return out
