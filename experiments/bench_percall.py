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

``--parts``: the fixed-ω Tuner (``--fixed cg``: a fixed plain-CG Tuner, heat3d's best fixed
configuration; the configuration learner's excess is then also printed over the steps where
it played CG for the same iterations), the default ω-only learner and the default configuration
learner (:func:`bandit.default_policy` over the ω of the grid with ``solver="ssor_pcg"``, and
over the configuration grid with the default cost) in one lockstep over the same steps of a
sequence (``--sequence heat2d|mc3d|heat3d``; heat3d's schedule has 180 steps), the order of
the three alternated step by step (:func:`step_order`).  Every part of ``Tuner.solve`` is
timed *exclusively* (a part's own time, its timed sub-parts taken off, so the parts of a call
sum to the whole call: the ``rest`` rows are the Python of ``solve`` and ``_solve`` between the timed calls), with
``time.perf_counter`` by default (one read costs about 0.06 µs on the benchmark VM against
0.8 µs for ``time.thread_time``, a system call there; ``--clock thread_time`` for the CPU
clock).  Medians per call with the 25th–75th percentiles, and each learner's median excess per
part over the fixed Tuner on the same step.  ``--general`` adds the same two learners with
every round on :class:`~bandit.JointCB`'s general path (``one_call = False``: the features,
the draw and the update as separate compiled calls with Python between them) to the same
lockstep, to compare the two paths side by side.  ``--baseline CHECKOUT`` adds the two
learners on another checkout's ``bandit`` (with its own solvers) to the lockstep, and prints
each part's per-step difference, this checkout less the baseline, over the steps where both
played the same arm for the same iterations.  The *floor* row is one pass reading ``A``'s
values, timed in its own slot of the same rotation (after a Tuner's solve, as a ``validate``
is): ``validate`` reads them at least once, so a median ``validate`` below it is flagged
IMPOSSIBLE.  ``--cold MB`` writes that many megabytes before every Tuner's call, outside
its timing (a user's loop whose solve works through more memory than the caches hold).

``--rounds N``: the configuration learner's own round alone — its ``select``,
``drawn_leader`` and ``update`` as a Tuner calls them — N times warm and N times cache-cold
(``--cold`` MB, default 32, written before the draw and before the update), after a Tuner
with ``cost="work"`` taught it ``--samples`` systems of ``--sequence`` (default 60); with
``--baseline`` the same learner on the other checkout's code, the rounds interleaved, and the
per-round difference.
"""
from __future__ import annotations

import gc
import os
import time

import numba
import numpy as np

from ._bench import BenchParser, machine_header
from ._bench_percall_rounds import evict, main_rounds as _main_rounds

__all__ = ["main", "SECTIONS", "PARTS", "run_parts", "step_order"]

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


class _Timed:
    """A method of one object, timed: stored as that object's instance attribute.

    A deep copy of the object (the first solve's warm-up runs the learner's rounds on one, the
    configuration Tuner re-tells its first rounds on one) gets the object's own method back,
    untimed: a copied wrapper had called the *original's* bound method, so the copy's rounds
    ran on the instrumented learner and were timed as its sections."""

    __slots__ = ("owner", "name", "call")

    def __init__(self, owner, name, call):
        self.owner, self.name, self.call = owner, name, call

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def __deepcopy__(self, memo):
        new = memo.get(id(self.owner))
        if new is None:  # copied apart from its owner: nothing to time or call it on
            return self
        return getattr(type(new), self.name).__get__(new)


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

        setattr(obj, name, _Timed(obj, name, timed))

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

#: The parts of ``Tuner.solve`` timed by ``--parts``: (label, object path on a Tuner, method).
#: Each part's time is its own: the time of the parts it calls is taken off it.
PARTS = (("solve: rest", "", "solve"), ("validate", "", "_validate"),
         ("draw state", "policy", "_draw_state"), ("_solve: rest", "", "_solve"),
         ("select", "policy", "select"), ("leader", "policy", "leader"),
         ("budget", "", "_budget"), ("stale_cap", "_arms", "stale_cap"),
         ("run: rest", "", "_run"), ("solver", "", "_run_checked"),
         ("account", "", "_account"),
         ("attach_work", "_arms", "attach_work"), ("cold_time", "_arms", "cold_time"),
         ("observe", "_arms", "observe"), ("cost_of", "", "_cost_of"),
         ("refuse check", "", "_refuse_inconsistent"), ("fall_back: rest", "", "_fall_back"),
         ("settings", "", "_settings"), ("row", "", "_row"), ("update", "policy", "update"))

#: The fixed Tuner's ω per sequence (the best fixed configuration of the study's runs).
PARTS_OMEGA = {"heat2d": 1.8, "mc3d": 1.6, "heat3d": 1.2}


def _instrument_parts(tuner, acc, clock):
    """Wrap the :data:`PARTS` of ``tuner`` (instance attributes) to add each part's own time
    (its wrapped callees' taken off) to ``acc[0][label]`` while ``acc[0]`` is a dict."""
    stack = []  # per open part: [time in its wrapped callees]

    def wrap(obj, name, label):
        fn = getattr(obj, name)

        def timed(*args, **kwargs):
            rec = acc[0]
            if rec is None:
                return fn(*args, **kwargs)
            stack.append(0.0)
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = clock() - t0
                inner = stack.pop()
                rec[label] = rec.get(label, 0.0) + dt - inner
                if stack:
                    stack[-1] += dt
                else:
                    rec["whole"] = rec.get("whole", 0.0) + dt

        setattr(obj, name, _Timed(obj, name, timed))
        return timed

    for label, path, name in PARTS:
        wrap(getattr(tuner, path) if path else tuner, name, label)
    # an arm run through its public solver function (a set-up, a fallback): the solver too
    calls = tuner._calls
    for k, (fn, kw) in enumerate(calls):
        holder = type("Call", (), {"fn": staticmethod(fn)})
        calls[k] = (wrap(holder, "fn", "solver"), kw)


def _ssor_omegas(grid):
    return [c["omega"] for c in grid if c.get("method") == "ssor_pcg"]


def _omega_refusal(grid, omega):
    """Why ``omega`` cannot be the fixed Tuner's (not an SSOR-PCG ω of ``grid``), or None."""
    omegas = _ssor_omegas(grid)
    if omega not in omegas:
        return f"--omega must be one of the grid's SSOR-PCG ω {omegas}, got {omega}"
    return None


def _parts_tuners(kind, grid, bounds, seed, omega, general=False, baseline=None,
                  fixed="ssor_pcg"):
    import bandit

    omegas = _ssor_omegas(grid)
    if fixed == "cg":  # plain CG: the best fixed configuration where solves are cheap (heat3d)
        k = next(i for i, c in enumerate(grid) if c.get("method") == "cg"
                 and c.get("pc", "none") == "none")
        name = "fixed cg"
    else:
        refusal = _omega_refusal(grid, omega)
        if refusal:
            raise ValueError(refusal)
        k = next(i for i, c in enumerate(grid) if c.get("method") == "ssor_pcg"
                 and c["omega"] == omega)
        name = f"fixed ω={omega:g}"
    tuners = {name: bandit.Tuner(bandit.FixedArm(grid, arm=k), cost="time")}
    for path in ("", " (general)") if general else ("",):
        tuners["ω-only learner" + path] = bandit.Tuner(bandit.default_policy(
            "ssor_pcg", omegas, context_bounds=bounds, seed=seed), solver="ssor_pcg")
        tuners["configuration learner" + path] = bandit.Tuner(bandit.default_policy(
            None, grid, context_bounds=bounds, seed=seed))
        if path:  # every round through JointCB's general path (several compiled calls)
            for name in ("ω-only learner", "configuration learner"):
                tuners[name + path].policy.one_call = False
    if baseline is not None:  # the same two learners on another checkout's code
        from .bench_overhead import _solvers_of

        with _solvers_of(baseline):
            tuners["ω-only learner (baseline)"] = baseline.Tuner(baseline.default_policy(
                "ssor_pcg", omegas, context_bounds=bounds, seed=seed), solver="ssor_pcg")
            tuners["configuration learner (baseline)"] = baseline.Tuner(
                baseline.default_policy(None, grid, context_bounds=bounds, seed=seed))
    return tuners


def run_parts(kind="mc3d", size=22, steps=300, seed=0, warmup=20, omega=None,
              clock="perf_counter", general=False, baseline=None, fixed="ssor_pcg", cold=0):
    """The three Tuners of ``--parts`` in lockstep over ``steps`` systems of sequence
    ``kind`` (``size``: heat2d's nx, mc3d's or heat3d's m), the order of the three (and the
    floor's slot) rotated every step; with ``general`` two more, the same learners with every
    round on :class:`~bandit.JointCB`'s general path (``one_call = False``); ``fixed="cg"``:
    the fixed Tuner plays plain CG (``omega`` unused) instead of SSOR-PCG at ``omega``;
    ``cold``: megabytes written before every Tuner's call, outside its timing
    (:func:`evict`: each call then starts with the caches of a user's loop whose solve has
    just pushed the learner out).

    Returns ``{Tuner name: [per step after the warm-up: {part label: seconds, "whole": the
    call's seconds, "cpu" and "wall": the call's thread CPU and perf_counter seconds read around
    it, "arm", "iterations", "collections", "floor": the seconds of one pass reading the
    step's ``A.data`` in its own slot of the rotation, "entries": its size}]}``.
    """
    from experiments.precond_study import default_grid, make_sequence

    read = {"perf_counter": time.perf_counter, "thread_time": time.thread_time}[clock]
    grid = default_grid()
    seq = make_sequence(kind, size, steps=steps, samples=steps)
    if steps > seq.T:  # heat3d's schedule has its own length
        raise ValueError(f"{kind} has {seq.T} steps, fewer than the {steps} asked for")
    tuners = _parts_tuners(kind, grid, seq.bounds, seed,
                           PARTS_OMEGA[kind] if omega is None else omega, general, baseline,
                           fixed)
    from .bench_overhead import _solvers_of
    from contextlib import nullcontext

    # a baseline Tuner's calls run with its own solver modules in sys.modules (swapped
    # outside the timed call)
    scope = {n: (lambda: _solvers_of(baseline)) if "(baseline)" in n else nullcontext
             for n in tuners}
    acc = [None]
    for tuner in tuners.values():
        _instrument_parts(tuner, acc, read)
    names = list(tuners)
    records = {n: [] for n in names}
    count = [0]

    def on_gc(phase, info):
        if acc[0] is not None and phase == "start":
            count[0] += 1

    gc.callbacks.append(on_gc)
    floor = []  # per step: the floor's seconds (one pass reading A's values)
    _read_once(np.zeros(8))  # (compiled or loaded before the first step)
    junk = np.zeros(int(cold * 2 ** 20) // 8) if cold else None
    try:
        state = seq.initial_state()  # one state: the fixed Tuner's solution (heat2d)
        for t in range(steps):
            A, b, x0, ctx = seq.system(seq.shared(t), state)
            for n in step_order(names, t):
                if n is _FLOOR:  # in the rotation: after a Tuner's solve, as a validate is
                    data = A.data
                    w0 = read()
                    _read_once(data)
                    floor.append((read() - w0, data.size))
                    continue
                rec = {}
                count[0] = 0
                if junk is not None:
                    evict(junk)
                with scope[n]():
                    acc[0] = rec
                    c0, w0 = time.thread_time(), time.perf_counter()
                    r = tuners[n].solve(A, b, x0=x0, context=ctx)
                    rec["wall"] = time.perf_counter() - w0
                    rec["cpu"] = time.thread_time() - c0
                    acc[0] = None
                rec.update(arm=r.arm, iterations=r.iterations, collections=count[0])
                records[n].append(rec)
                if n == names[0]:
                    fixed_x = r.x
            state = seq.advance(state, fixed_x)
    finally:
        gc.callbacks.remove(on_gc)
    for recs in records.values():
        for rec, (f, size) in zip(recs, floor):
            rec["floor"], rec["entries"] = f, size
    return {n: v[warmup:] for n, v in records.items()}


_FLOOR = object()  # the floor's slot in a step's rotation



def step_order(names, t):
    """The order of step ``t``: the Tuners of ``names`` and the floor's slot (:data:`_FLOOR`).

    Units — the fixed Tuner, each learner with the same learner on the general path and on
    the baseline's code next to it, the floor — are rotated by one every step, and within
    each unit the order is reversed on alternate full rotations, every combination in turn:
    each learner and its counterparts follow the same predecessors equally often.  (A plain rotation of the Tuners had each
    follow one and the same Tuner every step, and the code compared with the baseline's
    followed another Tuner than the baseline's did: identical code measured 3-15 µs apart
    in ``validate``, the call outside the solver up to 30 µs.)

    Examples
    --------
    >>> names = ["fixed", "ω", "ω (baseline)"]
    >>> [["floor" if n is _FLOOR else n for n in step_order(names, t)] for t in (0, 1, 6)]
    [['fixed', 'ω', 'ω (baseline)', 'floor'], ['ω', 'ω (baseline)', 'floor', 'fixed'], \
['fixed', 'ω (baseline)', 'ω', 'floor']]
    """
    units, where = [], {}
    for n in names:
        base = n.replace(" (general)", "").replace(" (baseline)", "")
        if base in where:
            units[where[base]].append(n)
        else:
            where[base] = len(units)
            units.append([n])
    units.append([_FLOOR])
    r, cycle = t % len(units), t // len(units)
    # unit i reversed on bit i of the cycle's number: every combination of the units' orders
    # comes round, so a learner follows the one before it as often as its counterpart does
    out = []
    for i in list(range(r, len(units))) + list(range(r)):
        out.extend(units[i][::-1] if (cycle >> i) & 1 else units[i])
    return out


@numba.njit(cache=True)
def _read_once(v):
    """The sum of ``v``, reading each entry once (four running sums: the loop waits on
    memory, not on the adds): the floor of any step that reads ``A``'s values."""
    s0 = s1 = s2 = s3 = 0.0
    m = v.size
    k = 0
    while k + 3 < m:
        s0 += v[k]
        s1 += v[k + 1]
        s2 += v[k + 2]
        s3 += v[k + 3]
        k += 4
    for k in range(k, m):
        s0 += v[k]
    return (s0 + s1) + (s2 + s3)


def _excess_label(name):
    """``excess, ω-only`` or ``excess, configuration`` (``..., general`` for the general
    path's Tuners)."""
    return "excess, " + name.split()[0] + (", general" if "(general)" in name else "") + (
        ", baseline" if "(baseline)" in name else "")


def _same_steps(a, b) -> list[tuple]:
    """The pairs of records of ``a`` and ``b`` (step by step) that played the same arm for the
    same iterations: the same solver work, so what differs is the Tuner's own cost."""
    return [(x, y) for x, y in zip(a, b)
            if x["arm"] == y["arm"] and x["iterations"] == y["iterations"]]


def _part_rows(same, labels=None, keep_zero=False) -> list[str]:
    """One line per part over the paired steps ``same`` (``(x, y)`` records): medians of
    ``x`` and ``y`` and their per-step difference, median [p25, p75] in µs; parts zero in
    both left out unless ``keep_zero``.  ``labels``: the parts (default the timed sections,
    the whole call and its CPU time), each followed by "outside the solver" where named."""
    out = []
    if labels is None:
        labels = [p[0] for p in PARTS] + ["whole", "outside the solver", "cpu"]
    for label in labels:
        if label == "outside the solver":
            get = lambda r: r.get("whole", 0.0) - r.get("solver", 0.0)  # noqa: E731
        else:
            get = lambda r, lab=label: r.get(lab, 0.0)  # noqa: E731
        a = 1e6 * np.array([get(x) for x, _ in same])
        b = 1e6 * np.array([get(y) for _, y in same])
        if not (keep_zero or a.any() or b.any()):
            continue
        d = a - b
        out.append(f"    {label:20s} {np.median(a):9.1f} − {np.median(b):9.1f}: "
                   f"{np.median(d):7.1f} [{np.percentile(d, 25):6.1f}, "
                   f"{np.percentile(d, 75):6.1f}]")
    return out


def _same_arm_report(records) -> list[str]:
    """The configuration learners' excess over the fixed Tuner (the first) on the steps where
    they played the fixed Tuner's arm for the same iterations (the same solver work: what is
    left is the learner's own cost), per part, median [p25, p75] in µs, and the call's CPU
    time over the fixed Tuner's on those steps."""
    names = list(records)
    fixed = records[names[0]]
    out = []
    for name in names[1:]:
        if not name.startswith("configuration"):
            continue
        same = _same_steps(records[name], fixed)
        out.append(f"  {name} − {names[0]} on the steps where it played the same arm for the "
                   f"same iterations ({len(same)} of {len(fixed)}), µs a call:")
        if not same:
            continue
        out.extend(_part_rows(same))
        ratio = np.array([x["cpu"] / y["cpu"] for x, y in same])
        out.append(f"    cpu / the fixed Tuner's: {np.median(ratio):.3f} "
                   f"[{np.percentile(ratio, 25):.3f}, {np.percentile(ratio, 75):.3f}]")
    return out


def _pair_report(records) -> list[str]:
    """Per code version (this checkout, and the baseline's if run): the configuration
    learner's time outside the solver and its whole call less the ω-only learner's on the
    same step, medians with the 25th–75th percentiles over steps where both took the same
    iterations (the same solver work)."""
    out = []
    for suffix in ("", " (baseline)", " (general)"):
        c, o = records.get("configuration learner" + suffix), records.get(
            "ω-only learner" + suffix)
        if c is None or o is None:
            continue
        same = [(x, y) for x, y in zip(c, o) if x["iterations"] == y["iterations"]]
        if not same:
            continue
        row = []
        for what, get in (("outside the solver", lambda r: r["whole"] - r.get("solver", 0.0)),
                          ("cpu", lambda r: r["cpu"])):
            d = 1e6 * np.array([get(x) - get(y) for x, y in same])
            row.append(f"{what} {np.median(d):6.1f} [{np.percentile(d, 25):6.1f}, "
                       f"{np.percentile(d, 75):6.1f}]")
        name = {"": "this checkout", " (baseline)": "baseline", " (general)": "general path"}
        out.append(f"  configuration − ω-only learner, {name[suffix]} ({len(same)} steps of "
                   f"equal iterations), µs a call: " + "; ".join(row))
    return out


def _baseline_report(records) -> list[str]:
    """Per learner run on both code versions (``--baseline``): each part's per-step
    difference, this checkout less the baseline, median [p25, p75] in µs, over the steps
    where both played the same arm for the same iterations (the same solver work; the
    other steps left out); parts zero in both left out."""
    out = []
    for name in records:
        base = records.get(name + " (baseline)")
        if "(baseline)" in name or base is None:
            continue
        same = _same_steps(records[name], base)
        out.append(f"  {name}, this checkout − baseline on the same step, µs a call "
                   f"({len(same)} of {len(base)} steps with the same arm and iterations):")
        if not same:
            continue
        out.extend(_part_rows(same))
    return out


def _print_parts(records):
    names = list(records)
    fixed = records[names[0]]
    labels = [p[0] for p in PARTS]
    us = 1e6
    print(f"  {'part (µs a call)':16s}" + "".join(f" {n:>26s}" for n in names)
          + "".join(f" {_excess_label(n):>24s}" for n in names[1:]))
    for label in labels + ["whole", "outside the solver", "cpu"]:
        def vals(recs):
            if label == "outside the solver":
                return np.array([r["whole"] - r.get("solver", 0.0) for r in recs])
            return np.array([r.get(label, 0.0) for r in recs])

        cols = []
        for n in names:
            v = us * vals(records[n])
            cols.append(f" {np.median(v):9.1f} [{np.percentile(v, 25):6.1f}, "
                        f"{np.percentile(v, 75):6.1f}]")
        for n in names[1:]:
            d = us * (vals(records[n]) - vals(fixed))
            cols.append(f" {np.median(d):7.1f} [{np.percentile(d, 25):6.1f}, "
                        f"{np.percentile(d, 75):6.1f}]")
        print(f"  {label:16s}" + "".join(cols))
    if "floor" in fixed[0]:
        v = us * np.array([r["floor"] for r in fixed])
        print(f"  {'floor':16s} {np.median(v):9.1f} [{np.percentile(v, 25):6.1f}, "
              f"{np.percentile(v, 75):6.1f}]  one pass reading A's values "
              f"({fixed[-1]['entries']:,} entries) in the same rotation: validate's bound")
    for n in names:
        its = sum(r["iterations"] for r in records[n])
        gcs = sum(r["collections"] for r in records[n])
        print(f"  {n}: {its} iterations, {gcs} garbage collections during the calls")
    for line in _same_arm_report(records):
        print(line)
    for line in _pair_report(records):
        print(line)
    for line in _baseline_report(records):
        print(line)
    for msg in _impossible_parts(records):
        print("!! " + msg)


def _impossible_parts(records) -> list[str]:
    """IMPOSSIBLE messages: a Tuner whose median time outside the solver (the call less the
    solver's part, both by the same clock) is negative — the call holds the solver, so that
    is the clock's error (a preempted or unpinned run), not a figure to read."""
    msgs = []
    for n, recs in records.items():
        if "floor" in recs[0]:
            validate = 1e6 * np.median([r.get("validate", 0.0) for r in recs])
            floor = 1e6 * np.median([r["floor"] for r in recs])
            if not validate >= floor:
                msgs.append(f"IMPOSSIBLE: {n}: median validate {validate:.1f} µs is below the "
                            f"floor {floor:.1f} µs (one pass reading A's values, which "
                            f"validate reads): the benchmark, not the code, is wrong")
            its = sum(r.get("iterations", 0) for r in recs)
            per = 1e6 * sum(r.get("solver", 0.0) for r in recs) / max(its, 1)
            if its and not per >= floor:
                msgs.append(f"IMPOSSIBLE: {n}: the solver's {per:.1f} µs an iteration is below "
                            f"one pass reading A's values ({floor:.1f} µs), and an iteration "
                            f"reads A at least once (a product with A): the benchmark, not "
                            f"the code, is wrong")
        outside = 1e6 * np.median([r["whole"] - r.get("solver", 0.0) for r in recs])
        if not outside >= 0.0:
            msgs.append(f"IMPOSSIBLE: {n}: median time outside the solver {outside:.1f} µs "
                        f"is below zero (the call contains the solver): a clock error; "
                        f"time it pinned under the lock")
    return msgs


def main(argv=None):
    ap = BenchParser("percall", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--m", type=int, default=22,
                    help="mc3d's (and with --parts heat3d's) grid size (default 22)")
    ap.add_argument("--samples", type=int, default=None,
                    help="systems (default 150; with --parts, steps: default 300, heat3d "
                         "all 180)")
    ap.add_argument("--parts", action="store_true",
                    help="time every part of Tuner.solve for a fixed-ω Tuner, the ω-only and "
                         "the configuration default learners in one lockstep")
    for flag, kw in (  # the options of --parts
            ("--sequence", dict(choices=("mc3d", "heat2d", "heat3d"), default="mc3d",
                                help="the sequence (default mc3d)")),
            ("--nx", dict(type=int, default=100, help="heat2d's grid size (default 100)")),
            ("--omega", dict(type=float, default=None, help="the fixed Tuner's SSOR-PCG ω "
                                                            "(default 1.6 on mc3d, 1.8 on heat2d, "
                                                            "1.2 on heat3d)")),
            ("--clock", dict(choices=("perf_counter", "thread_time"), default="perf_counter",
                             help="the clock of the parts (default perf_counter)")),
            ("--warmup", dict(type=int, default=20,
                              help="first steps left out (default 20)")),
            ("--baseline", dict(default=None, metavar="CHECKOUT",
                                help="two more Tuners: the same learners on another "
                                     "checkout's bandit package (its own solvers), in the "
                                     "same lockstep")),
            ("--fixed", dict(choices=("ssor_pcg", "cg"), default="ssor_pcg",
                             help="the fixed Tuner's arm: SSOR-PCG at --omega (default) or "
                                  "plain CG (heat3d's best fixed configuration)")),
            ("--general", dict(action="store_true",
                               help="two more Tuners: the same learners with every round on "
                                    "JointCB's general path (one_call = False), side by "
                                    "side"))):
        kw["help"] = "with --parts: " + kw["help"]
        ap.add_argument(flag, **kw)
    ap.add_argument("--rounds", type=int, default=None, metavar="N",
                    help="time the configuration learner's own round alone (select, "
                         "drawn_leader, update) N times warm and N times cache-cold, after a "
                         "Tuner taught it --samples systems of --sequence (default 60; with "
                         "--baseline side by side)")
    ap.add_argument("--cold", type=float, default=None, metavar="MB",
                    help="megabytes written before every call, outside its timing (with "
                         "--parts: before each Tuner's solve, default 0; with --rounds: "
                         "the cold calls, default 32)")
    ap.add_argument("--seed", type=int, default=0, help="learner seed (default 0)")
    ap.add_argument("--order", choices=("rotate", "shuffle"), default="rotate",
                    help="order of the Tuners in a step: rotated by one each step, so each "
                         "follows the same Tuner (default), or a new random order each step")
    args = ap.parse_args(argv)
    if args.rounds is not None:
        return _main_rounds(ap, args)
    if args.cold is not None and not (args.parts and args.cold >= 0):
        ap.error("--cold is an option of --parts or --rounds (and must be >= 0)")
    if not args.parts:  # they had been ignored: --omega 2.5 ran the other benchmark, status 0
        given = [flag for flag in ("--sequence", "--nx", "--omega", "--clock", "--warmup",
                                   "--general", "--baseline", "--fixed")
                 if getattr(args, flag[2:]) != ap.get_default(flag[2:])]
        if given:
            ap.error(f"{', '.join(given)} {'is an option' if len(given) == 1 else 'are options'}"
                     f" of --parts (the per-part timing); add --parts, or leave "
                     f"{'it' if len(given) == 1 else 'them'} out")
    if args.samples is None:
        args.samples = 150 if not args.parts else 180 if args.sequence == "heat3d" else 300
    for name, value, low in (("--m", args.m, 3), ("--samples", args.samples, 12),
                             ("--seed", args.seed, 0), ("--nx", args.nx, 3),
                             ("--warmup", args.warmup, 0)):
        if value < low:  # before the header: a negative seed had failed in numpy, status 1
            ap.error(f"{name} must be >= {low}, got {value}")
    if args.parts and args.sequence == "heat3d" and args.samples > 180:
        ap.error(f"--samples must be <= 180 with --sequence heat3d (its schedule's steps), "
                 f"got {args.samples}")
    if args.parts and args.warmup >= args.samples:
        ap.error(f"--warmup must be below --samples ({args.samples}), got {args.warmup}")
    if args.parts and args.fixed == "cg" and args.omega is not None:
        ap.error("--omega is the SSOR-PCG fixed Tuner's: leave it out with --fixed cg")
    if args.parts and args.omega is not None:
        from experiments.precond_study import default_grid

        refusal = _omega_refusal(default_grid(), args.omega)
        if refusal:
            ap.error(refusal)
    print(machine_header())
    if args.parts:
        size = args.nx if args.sequence == "heat2d" else args.m
        print(f"# load average {os.getloadavg()[0]:.2f}; {args.sequence} size {size}, "
              f"{args.samples} steps, first {args.warmup} left out, order rotated every step; "
              f"each part's own time by time.{args.clock}, µs a call: median [p25, p75]; "
              f"excess: the learner's part minus the fixed Tuner's on the same step; cpu: "
              f"the whole call by time.thread_time")
        baseline = None
        if args.baseline is not None:
            from pathlib import Path

            from .bench_overhead import _load_baseline

            baseline = _load_baseline(Path(args.baseline))
            print(f"# baseline: {args.baseline}")
        records = run_parts(args.sequence, size, args.samples, args.seed, args.warmup,
                            args.omega, args.clock, args.general, baseline, args.fixed,
                            args.cold or 0)
        _print_parts(records)
        return records
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
