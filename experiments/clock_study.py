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

Run: ``python -m experiments.clock_study`` (deterministic; about a minute).
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

from .problems import DiffusionMC3D, Heat2D

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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=300)
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args(argv)
    problems = {"heat (nx=24)": heat_table(args.T)}
    for s in range(2):
        problems[f"Monte Carlo (m=8, seed {s})"] = mc_table(args.T, seed=s)
    print("iteration costs (cost='iterations'): the same arms with and without the clip?")
    for name, (C, ctx) in problems.items():
        a = with_clip(math.inf, replay, C, ctx, None, "iterations")
        b = with_clip(bandit.joint._CLIP, replay, C, ctx, None, "iterations")
        print(f"  {name}: total {a[0]:.0f} -> {b[0]:.0f} iterations, "
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
