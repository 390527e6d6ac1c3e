"""Learner overhead: microseconds per round (select + update) at t = 10 … 10⁵, every policy.

Run ``python -m experiments.bench_bandit`` (``--rounds 10000`` for a quick look).  Each policy
plays ``rounds`` rounds on a synthetic smooth cost (20 arms, scalar context); the time of
``select`` + ``update`` is averaged over a window of rounds ending at each checkpoint, after a
warm-up that compiles the Numba kernels.  Target: < 50 µs, flat in t.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from ._bench import BenchParser, machine_header

__all__ = ["main", "overhead"]

ARMS = list(np.linspace(1.0, 1.95, 20))
BOUNDS = (-0.15, 0.65)


def _make(name, seed=0):
    import bandit

    if name == "default":  # bandit.default_policy("sor") with its theory prior, no bounds
        p = bandit.default_policy("sor", ARMS, seed=seed)
        from solvers import gallery

        p.prime(gallery.laplacian_2d(10), "sor")
        return p
    if name == "fixed":
        return bandit.make_policy(name, ARMS, arm=10, seed=seed)
    if name == "squarecb":
        return bandit.make_policy(name, ARMS, context_dim=1, context_bounds=[BOUNDS], seed=seed)
    return bandit.make_policy(name, ARMS, seed=seed, context_bounds=BOUNDS)


def overhead(name, rounds=100_000, checkpoints=(10, 1_000, 10_000, 100_000), window=200):
    """Median seconds per round of ``select`` + ``update`` in a window ending at each checkpoint.

    The median (not the mean) so that the other processes of a shared machine preempting a
    few rounds do not show up as learner cost.
    """
    p = _make(name)
    rng = np.random.default_rng(0)
    ctx = rng.uniform(*BOUNDS, size=rounds)
    best = 8 + 8 * (ctx - BOUNDS[0]) / (BOUNDS[1] - BOUNDS[0])
    cost = 30.0 + 2.0 * (np.arange(len(ARMS))[None, :] - best[:, None]) ** 2
    per_round = np.empty(rounds)
    clock = time.perf_counter
    for t in range(rounds):
        c = ctx[t]
        t0 = clock()
        k = p.select(c)
        p.update(k, cost[t, k], context=c)
        per_round[t] = clock() - t0
    return {c: float(np.median(per_round[max(0, c - window):c])) for c in checkpoints
            if c <= rounds}


def main(argv=None) -> int:
    import bandit

    names = ["default"] + sorted(bandit.POLICIES)
    ap = BenchParser("bandit", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rounds", type=int, default=100_000,
                    help="rounds per policy, >= 10 (the first checkpoint; default 100000)")
    ap.add_argument("--policies", nargs="*", default=names, choices=names, metavar="POLICY",
                    help="'default' (bandit.default_policy('sor')) and bandit.POLICIES names")
    args = ap.parse_args(argv)
    if args.rounds < 10:
        ap.error(f"--rounds must be >= 10 (the first checkpoint), got {args.rounds}")
    checkpoints = [c for c in (10, 1_000, 10_000, 100_000) if c <= args.rounds]
    print(machine_header(), flush=True)
    for name in args.policies:  # warm-up: compile every kernel before timing
        overhead(name, rounds=30, checkpoints=(30,))
    print(f"learner overhead, µs per round (select + update), K = {len(ARMS)} arms")
    print(f"{'policy':16s}" + "".join(f"{'t=' + format(c, ','):>12s}" for c in checkpoints)
          + f"{'max/min':>9s}")
    worst = 0.0
    for name in args.policies:
        res = overhead(name, rounds=args.rounds, checkpoints=checkpoints)
        us = [res[c] * 1e6 for c in checkpoints]
        worst = max(worst, max(us))
        print(f"{name:16s}" + "".join(f"{u:12.1f}" for u in us) + f"{max(us) / min(us):9.2f}",
              flush=True)
    print(f"worst: {worst:.1f} µs (target < 50 µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
