"""Where a learner's ``Tuner.solve`` spends its time besides the solver, against a fixed Tuner.

Run under the shared lock, pinned to one core::

    flock /tmp/relaxtune-bench.lock taskset -c 1 python -m experiments.bench_percall

The Tuners run in lockstep, in an order rotating every step (``--order shuffle``: a random
order every step), on the same mc3d systems
(:func:`experiments.precond_study.make_sequence`): one ``FixedArm`` Tuner (``cost="time"``) per
SSOR-PCG ω of :func:`experiments.precond_study.default_grid`, and the learners — ChebCB and
the default learner over the whole grid (timed work), and ChebCB over the ω alone
(``solver="ssor_pcg"``).  Sections of each call are timed with ``time.perf_counter``
(validation, the policy's draw and leader, the guard's budget, the run and the solver's own
``seconds`` within it, the work bookkeeping, telling the policy; garbage collections through
``gc.callbacks``), so every step pays the same few wrappers.  Each learner step that chose an
SSOR-PCG ω, did not fall back and took the fixed Tuner's iteration count is matched to that
fixed Tuner's call on the same system; the medians of both and of their difference are
printed, with the CPU time of the whole call outside the solver's ``seconds``.
"""
from __future__ import annotations

import gc
import os
import time

import numpy as np

from ._bench import BenchParser, machine_header

__all__ = ["main", "SECTIONS"]

#: The timed sections: (label, object path on a Tuner, method name).
SECTIONS = (("validate", "", "_validate"), ("decide", "", "_decide"),
            ("  select", "policy", "select"), ("  leader", "policy", "leader"),
            ("budget", "", "_budget"), ("stale_cap", "_arms", "stale_cap"), ("run", "", "_run"),
            ("  attach_work", "_arms", "attach_work"), ("  observe", "_arms", "observe"),
            ("tell", "", "tell"), ("fall_back", "", "_fall_back"))


def _tuners(grid, bounds, seed):
    import bandit

    omegas = [c["omega"] for c in grid if c.get("method") == "ssor_pcg"]
    tuners = {f"fixed ω={w:g}": bandit.Tuner(bandit.FixedArm(grid, arm=k), cost="time")
              for k, w in enumerate(omegas)}
    tuners["chebcb (configurations)"] = bandit.Tuner(
        bandit.make_policy("chebcb", grid, seed=seed, context_bounds=bounds))
    tuners["default (configurations)"] = bandit.Tuner(
        bandit.default_policy(None, grid, context_bounds=bounds, seed=seed))
    tuners["chebcb (ω only)"] = bandit.Tuner(
        bandit.make_policy("chebcb", omegas, seed=seed, context_bounds=bounds), solver="ssor_pcg")
    return tuners, omegas


def _instrument(tuner, current):
    """Wrap the sections of ``tuner`` (instance attributes) to add their time to
    ``current[0]``."""
    clock = time.perf_counter

    def wrap(obj, name, label):
        fn = getattr(obj, name)

        def timed(*args, **kwargs):
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                acc = current[0]
                acc[label] = acc.get(label, 0.0) + clock() - t0

        setattr(obj, name, timed)

    for label, path, name in SECTIONS:
        wrap(getattr(tuner, path) if path else tuner, name, label)


def run(m=22, samples=150, seed=0, warmup=10, order="rotate"):
    """Per Tuner, one dict of section seconds per step (and ``cpu``, ``wall``, ``seconds``,
    ``arm``, ``iterations``, ``fallback``, ``gc``); returns ``(records, the fixed Tuners'
    names by arm)``."""
    from experiments.precond_study import default_grid, make_sequence

    grid = default_grid()
    seq = make_sequence("mc3d", m, samples=samples)
    systems = [seq.system(seq.shared(s), None) for s in range(samples)]
    tuners, omegas = _tuners(grid, seq.bounds, seed)
    current = [None]
    for tuner in tuners.values():
        _instrument(tuner, current)
    start = [0.0]

    def on_gc(phase, info):
        if current[0] is None:
            return
        if phase == "start":
            start[0] = time.perf_counter()
        else:
            current[0]["gc"] = current[0].get("gc", 0.0) + time.perf_counter() - start[0]
            current[0]["collections"] = current[0].get("collections", 0) + 1

    gc.callbacks.append(on_gc)
    names = list(tuners)
    records = {n: [] for n in names}
    shuffle = np.random.default_rng(seed)
    try:
        for t, (A, b, x0, ctx) in enumerate(systems):
            if order == "rotate":  # every Tuner follows the same one (cyclic order kept)
                steps = names[t % len(names):] + names[:t % len(names)]
            else:  # a new predecessor every step
                steps = [names[i] for i in shuffle.permutation(len(names))]
            for n in steps:
                tuner, acc = tuners[n], {}
                current[0] = acc
                c0, w0 = time.thread_time(), time.perf_counter()
                r = tuner.solve(A, b, x0=x0, context=ctx)
                acc["cpu"] = time.thread_time() - c0
                acc["wall"] = time.perf_counter() - w0
                current[0] = None
                row = tuner._log[-1]
                acc.update(seconds=r.seconds, arm=row[0], iterations=r.iterations,
                           fallback=row[8], step=t)
                records[n].append(acc)
    finally:
        gc.callbacks.remove(on_gc)
    return {n: v[warmup:] for n, v in records.items()}, names[:len(omegas)]


def matched(records, fixed, learner):
    """Pairs ``(learner step, fixed step)`` of the learner's SSOR-PCG steps without fallback
    and with the fixed Tuner's iteration count."""
    out = []
    for i, rec in enumerate(records[learner]):
        if rec["arm"] < len(fixed) and rec["fallback"] < 0:
            ref = records[fixed[rec["arm"]]][i]
            if ref["iterations"] == rec["iterations"]:
                out.append((rec, ref))
    return out


def main(argv=None):
    ap = BenchParser("percall", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--m", type=int, default=22, help="mc3d grid size (default 22)")
    ap.add_argument("--samples", type=int, default=150, help="systems (default 150)")
    ap.add_argument("--seed", type=int, default=0, help="learner seed (default 0)")
    ap.add_argument("--order", choices=("rotate", "shuffle"), default="rotate",
                    help="order of the Tuners in a step: rotated by one each step, so each "
                         "follows the same Tuner (default), or a new random order each step")
    args = ap.parse_args(argv)
    for name, value, low in (("--m", args.m, 3), ("--samples", args.samples, 12),
                             ("--seed", args.seed, 0)):
        if value < low:  # before the header: a negative seed had failed in numpy, status 1
            ap.error(f"{name} must be >= {low}, got {value}")
    print(machine_header())
    print(f"load average {os.getloadavg()[0]:.2f}; mc3d m = {args.m}, {args.samples} systems, "
          f"first 10 steps left out, order {args.order}; µs per call, medians over matched "
          f"steps")
    records, fixed = run(args.m, args.samples, args.seed, order=args.order)
    labels = [s[0] for s in SECTIONS] + ["gc"]
    for learner in [n for n in records if n not in fixed]:
        pairs = matched(records, fixed, learner)
        print(f"\n{learner}: {len(pairs)} matched steps")
        if not pairs:
            continue
        print(f"  {'section':16s} {'learner':>9s} {'fixed':>9s} {'difference [p25, p75]':>28s}")
        for label in labels + ["outside the solver"]:
            if label == "outside the solver":
                a = np.array([p[0]["cpu"] - p[0]["seconds"] for p in pairs])
                b = np.array([p[1]["cpu"] - p[1]["seconds"] for p in pairs])
            else:
                a = np.array([p[0].get(label, 0.0) for p in pairs])
                b = np.array([p[1].get(label, 0.0) for p in pairs])
            d = 1e6 * (a - b)
            print(f"  {label:16s} {1e6 * np.median(a):9.1f} {1e6 * np.median(b):9.1f} "
                  f"{np.median(d):9.1f} [{np.percentile(d, 25):7.1f}, {np.percentile(d, 75):7.1f}]")
        ratio = np.array([p[0]["cpu"] / p[1]["cpu"] for p in pairs])
        n_gc = sum(p[0].get("collections", 0) for p in pairs)
        print(f"  CPU time of the call / the fixed Tuner's: median {np.median(ratio):.4f} "
              f"[{np.percentile(ratio, 25):.4f}, {np.percentile(ratio, 75):.4f}]; "
              f"garbage collections during these calls: {n_gc}")
    return records


if __name__ == "__main__":  # pragma: no cover
    main()
