"""Where a learner's call goes *inside the configuration study's lockstep*, part by part.

Run under the shared lock, pinned to one core, with the arguments of ``relaxtune precond``::

    flock /tmp/relaxtune-bench.lock taskset -c 1 python -m experiments.bench_study_parts \\
        --sequences heat3d --seeds 1 --seed 0 --learner default --no-work-learner --no-plots \\
        --out DIR

The study runs as ``relaxtune precond`` runs it (its methods in a random order every step,
each solve evicting the others' data), with every Tuner it builds instrumented with
:func:`experiments.bench_percall._instrument_parts` (each part's own time, its timed callees
taken off) and :class:`bandit.JointCB`'s two compiled calls (``joint_decide``,
``joint_tell``) timed inside ``select`` and ``update``.  Each configuration learner's round
is paired with the fixed Tuner of the arm it played in the same round when both took the
same iterations, not 0, an arm's first play in a round left out; per part the medians of
both and of their difference (the learner's *excess*, [p25, p75], and its p90) are printed,
in µs a call, and the excess's sum over the paired calls in ms (the study adds up seconds),
then the calls of the largest excess and the two parts that made each.  The study's warm-up
on tiny sequences is not recorded, and each round's calls are paired within the round.  The paired benchmark
(``experiments.bench_percall --parts``) runs three Tuners; here the caches are those of the
study's figures.
"""
from __future__ import annotations

import sys
import time

import numpy as np

__all__ = ["main", "excess_rows", "KERNELS"]

#: :class:`bandit.JointCB`'s compiled calls timed inside its draw and update.
KERNELS = ("joint_decide", "joint_tell")


def _timed_kernels(acc, clock):
    import bandit.joint as joint

    for name in KERNELS:
        fn = getattr(joint, name)

        def timed(*args, _fn=fn, _label="k:" + name):
            rec = acc[0]
            if rec is None:
                return _fn(*args)
            t0 = clock()
            try:
                return _fn(*args)
            finally:
                rec[_label] = rec.get(_label, 0.0) + clock() - t0

        setattr(joint, name, timed)


def _instrumented_method(method, acc, records, clock, warming=(False,)):
    """``experiments.precond_study._method`` with every Tuner it builds instrumented: its
    calls' parts appended to ``records[r][key]`` (``r``: the study's round; a method built
    again for a round starts a new list), none while ``warming[0]`` (the study's warm-up on
    tiny sequences)."""
    from .bench_percall import _instrument_parts

    def wrapped(key, *args, **kwargs):
        factory, kind = method(key, *args, **kwargs)
        if kind == "anchor" or warming[0]:
            return factory, kind
        r = args[4]  # the round

        def fac():
            solve, tuner = factory()
            _instrument_parts(tuner, acc, clock)
            recs = records.setdefault(r, {})[key] = []

            def timed_solve(A, b, x0, ctx):
                rec = {}
                acc[0] = rec
                c0 = time.thread_time()
                try:
                    res = solve(A, b, x0, ctx)
                finally:
                    acc[0] = None
                rec["call cpu"] = time.thread_time() - c0
                rec["arm"], rec["iterations"] = res[3], res[1]
                recs.append(rec)
                return res
            return timed_solve, tuner
        return fac, kind
    return wrapped


def _gc_timer(acc, clock):
    """A :data:`gc.callbacks` entry adding the time of each garbage collection that runs
    inside an instrumented call to its record's ``"gc"`` (informational: the collection's
    time is also inside whichever part it fell in)."""
    start = [0.0]

    def on_gc(phase, info):
        rec = acc[0]
        if rec is None:
            return
        if phase == "start":
            start[0] = clock()
        else:
            rec["gc"] = rec.get("gc", 0.0) + clock() - start[0]
            rec["collections"] = rec.get("collections", 0) + 1
    return on_gc


def _pairs(records, learner, skip_first):
    """The learner's calls paired with the fixed Tuner of the arm each played at the same
    step where both took the same iterations, not 0 (with ``skip_first``, an arm's first
    play left out); and the number of the learner's calls.  ``records``: ``{method key:
    [one record per step]}``, or a list of such dicts (the study's rounds)."""
    pairs, n = [], 0
    for rnd in [records] if isinstance(records, dict) else records:
        steps = rnd.get(learner, [])
        n += len(steps)
        seen = set()
        for t, rec in enumerate(steps):
            first = rec["arm"] not in seen
            seen.add(rec["arm"])
            fixed = rnd.get(f"fixed/{rec['arm']}")
            if not (first and skip_first) and fixed is not None and t < len(fixed) and (
                    rec["iterations"] > 0 and fixed[t]["iterations"] == rec["iterations"]):
                pairs.append((rec, fixed[t]))
    return pairs, n


def _value(rec, label):
    if label == "outside the solver":
        return rec.get("whole", 0.0) - rec.get("solver", 0.0)
    return rec.get(label, 0.0)


def excess_rows(records, learner="learner", skip_first=False) -> list[str]:
    """Per part, the learner's rounds against the fixed Tuner of the arm each played in the
    same round (``records["fixed/<arm>"]``, one record per round in the same order), where
    both took the same iterations, not 0 (with ``skip_first``, an arm's first play left
    out; ``records`` may be a list of rounds' records): the medians of both, the excess's
    median [p25, p75] and p90 in µs and its sum over the paired calls in ms (the study adds
    up seconds, so the sum is what a part costs it), then the largest excesses of the call's
    CPU time and the two parts that made each."""
    pairs, n = _pairs(records, learner, skip_first)
    out = [f"  {learner} − the fixed Tuner of its arm, {len(pairs)} of {n} rounds "
           f"(same iterations, not 0{', not an arm’s first play' if skip_first else ''}), "
           f"µs a call:"]
    if not pairs:
        return out
    special = {"arm", "iterations", "call cpu", "gc", "collections", "whole"}
    labels = sorted({k for a, b in pairs for k in (*a, *b)} - special)
    labels += ["outside the solver", "whole", "gc", "call cpu"]
    out.append(f"    {'part':24s} {'learner':>9s}   {'fixed':>9s}  {'excess [p25, p75]':>24s}"
               f" {'p90':>7s} {'sum':>7s}")
    for label in labels:
        a = 1e6 * np.array([_value(x, label) for x, _ in pairs])
        b = 1e6 * np.array([_value(y, label) for _, y in pairs])
        d = a - b
        out.append(f"    {label:24s} {np.median(a):9.1f} − {np.median(b):9.1f}: "
                   f"{np.median(d):7.1f} [{np.percentile(d, 25):6.1f}, "
                   f"{np.percentile(d, 75):6.1f}] {np.percentile(d, 90):7.1f} "
                   f"{1e-3 * d.sum():7.2f}")
    gcs = sum(x.get("collections", 0) for x, _ in pairs), sum(
        y.get("collections", 0) for _, y in pairs)
    out.append(f"    garbage collections during the calls: learner {gcs[0]}, fixed {gcs[1]}")
    # the tail: the largest excesses of the call, and the part that made each
    worst = sorted(range(len(pairs)), key=lambda i: -(
        _value(pairs[i][0], "call cpu") - _value(pairs[i][1], "call cpu")))[:8]
    for i in worst:
        x, y = pairs[i]
        parts = sorted(labels[:-4], key=lambda lab: -(_value(x, lab) - _value(y, lab)))[:2]
        what = ", ".join(f"{lab} {1e6 * (_value(x, lab) - _value(y, lab)):.0f}"
                         for lab in parts)
        out.append(f"    tail: call cpu +{1e6 * (_value(x, 'call cpu') - _value(y, 'call cpu')):.0f} µs "
                   f"(gc {1e6 * x.get('gc', 0.0):.0f}): {what}")
    return out


def main(argv=None):
    import os

    import experiments.precond_study as ps

    from ._bench import machine_header
    from .cli import main as cli_main

    argv = list(sys.argv[1:] if argv is None else argv)
    acc, records, clock, warming = [None], {}, time.perf_counter, [False]
    _timed_kernels(acc, clock)
    method, warm_up = ps._method, ps._warm_up
    ps._method = _instrumented_method(method, acc, records, clock, warming)

    def warm(*args, **kwargs):
        warming[0] = True
        try:
            return warm_up(*args, **kwargs)
        finally:
            warming[0] = False
    ps._warm_up = warm
    import gc

    on_gc = _gc_timer(acc, clock)
    gc.callbacks.append(on_gc)
    print(machine_header())
    print(f"# load average {os.getloadavg()[0]:.2f} at the start")
    try:
        status = cli_main(["precond", *argv])
    finally:
        ps._method, ps._warm_up = method, warm_up
        gc.callbacks.remove(on_gc)
    print(f"# load average {os.getloadavg()[0]:.2f} at the end")
    # (the configuration learners: their arms index the grid, as the fixed Tuners' keys do)
    rounds = [records[r] for r in sorted(records)]
    learners = sorted({k for rnd in rounds for k in rnd if k in ps.CONFIG_LEARNERS})
    for learner in learners:
        for line in excess_rows(rounds, learner, skip_first=True):
            print(line)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
