"""Learning from a clock with a few bad readings: the default learner on a virtual clock.

Per problem the full table ``C[t, k]`` of SSOR-PCG iterations (instance ``t``, grid ω ``k``)
is computed once.  The default learner (:func:`bandit.default_policy`, a
:class:`~bandit.JointCB`) is then replayed over it, told each solve's *reading* of a virtual
clock: ``C[t, k]`` iterations at 1 µs each, times a small per-call jitter (the clock only adds:
a factor ``1 + Exp(0.03)``), and in the bad cases

* ``x50 once``: one reading, at a random round, 50 times the solve's seconds;
* ``x100 three times``: three readings 100 times theirs;
* ``1-ms ticks``: a coarse clock — the solves last ~40 µs and a reading is the number of
  1-ms ticks that passed during the solve (0 or 1 mostly), in seconds.

What the run paid is the iterations of the played arms (the virtual seconds without the
bad readings).  The learner's noise scale clips a one-step prediction error beyond
``bandit.joint._CLIP`` predictive standard deviations; ``_CLIP = inf`` is the learner
without the clip (the "before" column), run in the same process on the same readings.

The second part runs the :class:`~bandit.Tuner` itself over configuration arms (SSOR-PCG at
three ω and IC(0)-CG, :class:`~bandit.FamilyCB`) on the heat sequence, its solvers reading a
virtual clock (``time.perf_counter`` of :mod:`solvers` replaced): SSOR-PCG 1 µs per iteration,
IC(0)-CG 0.5 µs, an IC(0) set-up 2 µs, each times the jitter, and in the bad cases the first
IC(0) set-up read at 100 × (``cost="time"``), or a busy start — the first 40 solves 4 × slower
(``cost="timed_work"``), each beside the clean clock with the same cost.  It prints the virtual seconds the run would have taken on the clean
clock (the learner's decisions, without the bad readings' own cost).  It uses no switch of
the library, so run on an older version of the library it gives that version's figures.

Run: ``python -m experiments.clock_study`` (deterministic; a few minutes);
``--part policy`` or ``--part tuner`` for one part.
"""
from __future__ import annotations

import argparse
import math

import numpy as np
import scipy.sparse.linalg as spla

import bandit
import bandit.joint
import solvers
from bandit.defaults import DEFAULT_ARMS

from experiments.problems import DiffusionMC3D, Heat2D, OffsetLaplacianSequence

SECONDS_PER_ITERATION = 1e-6
TICK = 1e-3


def heat_table(T=300, nx=24):
    """Iterations of every arm on the heat sequence (one period of κ in T steps), each solve
    started from the previous step's solution."""
    sim = Heat2D(nx=nx, steps=T, t_end=1.0)
    u = sim.initial()
    C = np.empty((T, len(DEFAULT_ARMS)))
    ctx = np.empty(T)
    for t in range(T):
        A, b, kap = sim.system(t, u)
        C[t] = [solvers.ssor_pcg(A, b, w, x0=u).iterations for w in DEFAULT_ARMS]
        ctx[t] = kap
        u = spla.spsolve(A.tocsc(), b)
    return C, ctx


def mc_table(T=300, m=8, seed=0):
    """Iterations of every arm on a Monte Carlo sequence of 3-D diffusion problems."""
    seq = DiffusionMC3D(m=m, samples=T, seed=seed)
    C = np.empty((T, len(DEFAULT_ARMS)))
    ctx = np.empty(T)
    for t in range(T):
        A, b, sigma = seq[t]
        C[t] = [solvers.ssor_pcg(A, b, w).iterations for w in DEFAULT_ARMS]
        ctx[t] = sigma
    return C, ctx


def offset_replay(seed, solver, T=300, clip=None):
    """The default learner for ``solver`` ("sor": with its theory prior) over the paper's
    offset-Laplacian sequence (high variance), told iteration counts: (iterations, arms)."""
    seq = OffsetLaplacianSequence(T, "high", seed=seed)
    fn = solvers.sor if solver == "sor" else solvers.ssor_pcg
    p = bandit.default_policy(solver)
    p.prime(seq[0][0], solver)
    paid, played = 0.0, []
    for t in range(T):
        A, b, c = seq[t]
        k = p.select(c)
        its = fn(A, b, p.arms[k]).iterations
        p.update(k, its, context=c)
        paid += its
        played.append(k)
    return paid, played


def readings(C, kind, seed):
    """The virtual clock's reading of arm k's solve at round t, as a function ``(t, k)``."""
    rng = np.random.default_rng(seed)
    T, K = C.shape
    jitter = 1.0 + rng.exponential(0.03, size=(T, K))
    bad = np.ones(T)
    if kind == "x50 once":
        bad[rng.integers(10, T)] = 50.0
    elif kind == "x100 three times":
        bad[rng.choice(np.arange(10, T), 3, replace=False)] = 100.0
    phase = rng.uniform(0.0, TICK, size=T)
    # the coarse case: solves of ~40 µs (the table's median arm scaled to it)
    scale = 40e-6 / (SECONDS_PER_ITERATION * np.median(C))

    def read(t, k):
        sec = C[t, k] * SECONDS_PER_ITERATION * jitter[t, k]
        if kind == "1-ms ticks":
            sec *= scale
            return TICK * (math.floor((phase[t] + sec) / TICK))
        return sec * bad[t]
    return read


def replay(C, ctx, read, cost="time"):
    """The default learner over the table: (iterations paid, arms played)."""
    p = bandit.default_policy("ssor_pcg")
    paid, played = 0.0, []
    for t in range(C.shape[0]):
        k = p.select(ctx[t])
        p.update(k, C[t, k] if cost == "iterations" else read(t, k), context=ctx[t])
        paid += C[t, k]
        played.append(k)
    return paid, played


def with_clip(clip, fn, *args, **kw):
    old = bandit.joint._CLIP
    bandit.joint._CLIP = clip
    try:
        return fn(*args, **kw)
    finally:
        bandit.joint._CLIP = old


KINDS = ("clean", "x50 once", "x100 three times", "1-ms ticks")


class VirtualClock:
    """``perf_counter`` of :mod:`solvers` standing still except when a solve ends (its
    iterations at the solver's seconds per iteration, times the jitter and the load) or a
    set-up is built; ``clean`` sums the same without the load and the bad set-up readings."""

    def __init__(self, per_iteration, seed, load, setup, setup_bad):
        self.per_iteration, self.load = per_iteration, load
        self.setup, self.setup_bad = setup, setup_bad
        self.rng = np.random.default_rng(seed)
        self.now = self.clean = 0.0
        self.round, self.setups, self._in_setup = 0, 0, False

    def perf_counter(self):
        return self.now

    def setup_counter(self):
        if self._in_setup:
            dt = self.setup * (1.0 + self.rng.exponential(0.03))
            self.clean += dt
            self.now += dt * self.setup_bad(self.setups)
            self.setups += 1
        self._in_setup = not self._in_setup
        return self.now

    def finish(self, original):
        def finish(name, op, b, x, omega, out, t0, *args):
            dt = int(out[0]) * self.per_iteration.get(name, 1e-6) * (
                1.0 + self.rng.exponential(0.03))
            self.clean += dt
            self.now += dt * self.load(self.round)
            return original(name, op, b, x, omega, out, t0, *args)
        return finish


def tuner_run(kind, cost, seed, T=300, nx=24):
    """The Tuner over SSOR-PCG (three ω) and IC(0)-CG on the heat sequence on the virtual
    clock: (clean virtual seconds, rounds that ran IC(0)-CG)."""
    import types

    import solvers._api
    import solvers.precond

    clock = VirtualClock({"ssor_pcg": 1e-6, "pcg": 0.5e-6}, seed,
                         (lambda i: 4.0 if i < 40 else 1.0) if kind == "busy start"
                         else (lambda i: 1.0), 2e-6,
                         (lambda j: 100.0 if j == 0 else 1.0) if kind == "slow first set-up"
                         else (lambda j: 1.0))
    saved = solvers._api._finish, solvers._api.time, solvers.precond.time
    arms = bandit.config_grid([1.3, 1.5, 1.7], ["ic0"])
    tuner = bandit.Tuner(bandit.FamilyCB(arms, seed=seed), cost=cost)
    try:
        solvers._api._finish = clock.finish(saved[0])
        solvers._api.time = types.SimpleNamespace(perf_counter=clock.perf_counter)
        solvers.precond.time = types.SimpleNamespace(perf_counter=clock.setup_counter)
        sim = Heat2D(nx=nx, steps=T, t_end=1.0)
        u = sim.initial()
        for t in range(T):
            clock.round = t
            A, b, kap = sim.system(t, u)
            u = tuner.solve(A, b, x0=u, context=kap).x
    finally:
        solvers._api._finish, solvers._api.time, solvers.precond.time = saved
    ran = np.asarray(tuner.history["arm"]) == 3
    return clock.clean, int((ran & ~np.asarray(tuner.history["censored"])).sum())


def tuner_part(T, seeds):
    print(f"\nTuner, SSOR-PCG (3 ω) and IC(0)-CG, FamilyCB, heat (nx=24), T = {T}, seeds "
          f"0..{seeds - 1}: clean virtual seconds (mean, min-max) and rounds run with IC(0)-CG")
    for kind, cost in (("clean", "time"), ("slow first set-up", "time"),
                       ("clean", "timed_work"), ("busy start", "timed_work")):
        runs = [tuner_run(kind, cost, s, T) for s in range(seeds)]
        sec = np.array([r[0] for r in runs]) * 1e3
        print(f"  {kind:18s} {cost:10s} {sec.mean():7.3f} ms ({sec.min():.3f}-{sec.max():.3f})"
              f"  IC(0)-CG rounds {[r[1] for r in runs]}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=300)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--part", choices=("policy", "tuner", "all"), default="all")
    args = ap.parse_args(argv)
    if args.part != "policy":
        tuner_part(args.T, args.seeds)
    if args.part == "tuner":
        return
    problems = {"heat (nx=24)": heat_table(args.T)}
    for s in range(2):
        problems[f"Monte Carlo (m=8, seed {s})"] = mc_table(args.T, seed=s)
    print("iteration costs (cost='iterations'): the same arms with and without the clip?")
    for name, (C, ctx) in problems.items():
        a = with_clip(math.inf, replay, C, ctx, None, "iterations")
        b = with_clip(bandit.joint._CLIP, replay, C, ctx, None, "iterations")
        print(f"  {name}: total {a[0]:.0f} -> {b[0]:.0f} iterations, "
              f"arms {'identical' if a[1] == b[1] else 'differ'}")
    for solver in ("sor", "ssor_pcg"):
        for seed in range(args.seeds):
            a = with_clip(math.inf, offset_replay, seed, solver, args.T)
            b = with_clip(bandit.joint._CLIP, offset_replay, seed, solver, args.T)
            print(f"  offset Laplacian (high variance, seed {seed}), {solver}: total "
                  f"{a[0]:.0f} -> {b[0]:.0f} iterations, "
                  f"arms {'identical' if a[1] == b[1] else 'differ'}")
    print(f"\nvirtual clock, T = {args.T}, seeds 0..{args.seeds - 1}: iterations paid "
          "(mean over seeds; best fixed arm in hindsight for scale)")
    print(f"  {'problem':30s} {'readings':18s} {'before':>9s} {'after':>9s} {'change':>8s}"
          f" {'best arm':>9s}")
    for name, (C, ctx) in problems.items():
        best = C.sum(axis=0).min()
        for kind in KINDS:
            before = np.mean([with_clip(math.inf, replay, C, ctx, readings(C, kind, s))[0]
                              for s in range(args.seeds)])
            after = np.mean([with_clip(bandit.joint._CLIP, replay, C, ctx,
                                       readings(C, kind, s))[0] for s in range(args.seeds)])
            print(f"  {name:30s} {kind:18s} {before:9.0f} {after:9.0f} "
                  f"{100 * (after / before - 1):+7.1f}% {best:9.0f}")


if __name__ == "__main__":
    main()
