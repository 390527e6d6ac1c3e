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
same iterations, not 0; per part the medians of both and of their difference (the
learner's *excess*, [p25, p75]) are printed, in µs a call.  The paired benchmark
(``experiments.bench_percall --parts``) runs three Tuners; here the caches are those of the
study's figures.
"""
from __future__ import annotations

import sys
import time

from .bench_percall import _part_rows

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


def _instrumented_method(method, acc, records, clock):
    """``experiments.precond_study._method`` with every Tuner it builds instrumented: its
    rounds' parts appended to ``records[key]``."""
    from .bench_percall import _instrument_parts

    def wrapped(key, *args, **kwargs):
        factory, kind = method(key, *args, **kwargs)
        if kind == "anchor":
            return factory, kind

        def fac():
            solve, tuner = factory()
            _instrument_parts(tuner, acc, clock)
            recs = records.setdefault(key, [])

            def timed_solve(A, b, x0, ctx):
                rec = {}
                acc[0] = rec
                try:
                    res = solve(A, b, x0, ctx)
                finally:
                    acc[0] = None
                rec["arm"], rec["iterations"] = res[3], res[1]
                recs.append(rec)
                return res
            return timed_solve, tuner
        return fac, kind
    return wrapped


def excess_rows(records, learner="learner") -> list[str]:
    """Per part, the learner's rounds against the fixed Tuner of the arm each played in the
    same round (``records["fixed/<arm>"]``, one record per round in the same order), where
    both took the same iterations, not 0: ``learner − fixed: excess [p25, p75]`` in µs."""
    rounds = records.get(learner, [])
    pairs = []
    for t, rec in enumerate(rounds):
        fixed = records.get(f"fixed/{rec['arm']}")
        if fixed is not None and t < len(fixed) and rec["iterations"] > 0 and (
                fixed[t]["iterations"] == rec["iterations"]):
            pairs.append((rec, fixed[t]))
    out = [f"  {learner} − the fixed Tuner of its arm, {len(pairs)} of {len(rounds)} rounds "
           f"(same iterations, not 0), µs a call:"]
    if not pairs:
        return out
    labels = sorted({k for a, b in pairs for k in (*a, *b)} - {"arm", "iterations"})
    return out + _part_rows(pairs, labels + ["outside the solver"], keep_zero=True)


def main(argv=None):
    import os

    import experiments.precond_study as ps

    from ._bench import machine_header
    from .cli import main as cli_main

    argv = list(sys.argv[1:] if argv is None else argv)
    acc, records, clock = [None], {}, time.perf_counter
    _timed_kernels(acc, clock)
    method = ps._method
    ps._method = _instrumented_method(method, acc, records, clock)
    print(machine_header())
    print(f"# load average {os.getloadavg()[0]:.2f} at the start")
    try:
        status = cli_main(["precond", *argv])
    finally:
        ps._method = method
    print(f"# load average {os.getloadavg()[0]:.2f} at the end")
    # (the configuration learners: their arms index the grid, as the fixed Tuners' keys do)
    for learner in [k for k in records if k in ps.CONFIG_LEARNERS]:
        for line in excess_rows(records, learner):
            print(line)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
