"""A user's adaptive-time-step heat loop with configuration arms, learners side by side.

The loop: the heat equation ``u_t = ∇·(κ∇u) + s(t)`` on the unit square (``nx × nx``
interior points, κ = 0.05, zero boundary values), backward Euler with an *adaptive* step:
step doubling estimates the error, the step grows by up to 1.3 while it is small and is cut
when it is large, and a source that switches on and off every 0.25 time units makes the
step collapse and grow again and again.  Each accepted or rejected step solves three
systems ``(I + h K) u = rhs`` (one step of ``dt``, two of ``dt / 2``); the context is the
step ``h`` — the number the user has at hand.

The loop runs once to record its systems (with SSOR-PCG at ω = 1.5, to 1e-8 like every
method), then every method solves the recorded systems side by side
(:func:`experiments.precond_study._lockstep`: the methods in a random order per step, each
call's CPU time of the thread): every fixed configuration of the grid (SSOR-PCG and SOR at
three ω each, CG plain, Jacobi- and IC(0)-preconditioned) and the library's default learner
over the configurations with each arm layout (``default_policy(None, arms,
arm_basis="line" | "family")``), both with the default cost (``timed_work``).  Round ``r``
runs the learners with seed ``r``; each ratio is a learner's CPU total over the best fixed
configuration's of the same round.

Run ``python -m experiments.adaptive_loop --help``.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import scipy.sparse as sp

__all__ = ["GRID", "heat_loop", "record_loop", "run_loop_study", "main"]

#: ω of the grid's SSOR-PCG arms, CG preconditioners, ω of its SOR arms
GRID = dict(omegas=[1.2, 1.5, 1.8], pcs=["none", "jacobi", "ic0"], sor_omegas=[1.0, 1.3, 1.6])


def heat_loop(solve, nx=40, t_end=3.0):
    """Run the adaptive loop with ``solve(A, b, x0, step)`` (returns the solution); returns
    the final state.

    ``solve`` is called for every system in the order the loop meets them: one step of
    ``dt`` and two of ``dt / 2`` from the same state, then the step is accepted or cut.

    >>> import scipy.sparse.linalg as spla
    >>> u = heat_loop(lambda A, b, x0, step: spla.spsolve(A.tocsc(), b), nx=4, t_end=0.01)
    >>> u.shape
    (16,)
    """
    h = 1.0 / (nx + 1)
    x = np.arange(1, nx + 1) * h
    X, Y = np.meshgrid(x, x, indexing="ij")
    T1 = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], (nx, nx))
    I1 = sp.identity(nx)
    K = 0.05 * (sp.kron(T1, I1) + sp.kron(I1, T1)).tocsr() / h ** 2
    n = nx * nx
    eye = sp.identity(n, format="csr")
    src = 50.0 * np.exp(-((X - 0.7) ** 2 + (Y - 0.3) ** 2) / 0.005).ravel()

    def s(t):
        return src if (t % 0.5) < 0.25 else 0.0 * src

    t, dt, u = 0.0, 1e-4, np.zeros(n)
    while t < t_end:
        dt = min(dt, t_end - t)
        u1 = solve((eye + dt * K).tocsr(), u + dt * s(t + dt), u, dt)
        A2 = (eye + 0.5 * dt * K).tocsr()
        uh = solve(A2, u + 0.5 * dt * s(t + 0.5 * dt), u, 0.5 * dt)
        u2 = solve(A2, uh + 0.5 * dt * s(t + dt), uh, 0.5 * dt)
        err = np.linalg.norm(u2 - u1) / (1e-3 + np.linalg.norm(u2))
        if err > 2e-3:  # rejected: a shorter step
            dt *= max(0.1, 0.9 * math.sqrt(2e-3 / err))
            continue
        t, u = t + dt, u2
        dt *= min(1.3, 0.9 * math.sqrt(2e-3 / max(err, 1e-12)))
    return u


def record_loop(nx=40, t_end=3.0, rtol=1e-8):
    """The systems ``(A, b, x0, h)`` of the adaptive loop, in the order it solves them.

    >>> systems = record_loop(nx=6, t_end=0.01)
    >>> len(systems) % 3, systems[0][0].shape
    (0, (36, 36))
    """
    import solvers

    systems = []

    def solve(A, b, x0, step):
        systems.append((A, b, x0, step))
        res = solvers.ssor_pcg(A, b, 1.5, x0=x0, rtol=rtol)
        if not res.converged:
            raise RuntimeError(f"the recording solve did not converge (h = {step:.3g})")
        return res.x

    heat_loop(solve, nx, t_end)
    return systems


class _Recorded:
    """The recorded systems as a sequence of :mod:`experiments.precond_study` (every
    method solves the same system from the same start)."""

    kind, context_name = "adaptive", "h"

    def __init__(self, systems):
        self.systems, self.T, self.n = systems, len(systems), systems[0][0].shape[0]
        self.name = f"adaptive_n{self.n}"

    def initial_state(self):
        return None

    def shared(self, t):
        return self.systems[t]

    def system(self, shared, state):
        return shared

    def advance(self, state, x):
        return None


def run_loop_study(nx=40, t_end=3.0, rounds=3, seed=0, rtol=1e-8, cap=5.0, progress=False):
    """Every fixed configuration of :data:`GRID` and the default learner with each arm
    layout on the loop's recorded systems, ``rounds`` times side by side.

    Returns ``(labels, totals, chosen, counts, T)``: ``totals[key]`` the CPU seconds of the
    calls per round (NaN for a fixed configuration stopped at ``cap ×`` the best),
    ``chosen[key]`` for a learner its choices priced at the fixed configurations' CPU time of
    the same steps (what the choices cost, without the learner's and the Tuner's own work;
    NaN where a chosen configuration had been stopped), for a fixed configuration its total,
    ``counts[key]`` per round the learner's choices (count per label), ``T`` the number of
    systems.
    """
    import bandit

    from .learners import derive_seed
    from .precond_study import _lockstep, _policy, _Run, _tuner_method

    grid = bandit.config_grid(**GRID)
    labels = bandit.Tuner(bandit.FixedArm(grid)).arm_labels
    settings = {"rtol": rtol, "maxiter": 10_000}

    def methods(r):
        out = {f"fixed/{k}": _tuner_method(lambda k=k: bandit.Tuner(
            bandit.FixedArm(grid, arm=k), cost="time", **settings)) for k in range(len(grid))}
        for basis in ("line", "family"):
            s = derive_seed(seed, r, 101)
            out[basis] = _tuner_method(lambda basis=basis, s=s: bandit.Tuner(
                _policy(f"default@{basis}", grid, s, None), **settings))
        return out

    # every method once on a tiny loop: no timed call pays a compilation or a first import
    tiny = _Recorded(record_loop(nx=5, t_end=0.002, rtol=rtol))
    _lockstep(tiny, [_Run(k, f, tiny.T) for k, f in methods(0).items()], rtol=rtol)
    seq = _Recorded(record_loop(nx, t_end, rtol))
    totals, solver, counts = {}, {}, {}
    for r in range(rounds):
        runs = [_Run(k, f, seq.T, cap if k.startswith("fixed") else math.inf)
                for k, f in methods(r).items()]
        _lockstep(seq, runs, rtol=rtol, seed=derive_seed(seed, r, 103))
        by_key = {run.key: run for run in runs}
        for run in runs:
            if not run.ok[:run.steps].all():
                raise RuntimeError(f"{run.key}: a solve missed the stopping rule")
            totals.setdefault(run.key, []).append(math.nan if run.capped else run.total_cpu)
        fixed_cpu = np.array([by_key[f"fixed/{k}"].cpu for k in range(len(grid))])
        for run in runs:
            # the learner's choices at the fixed configurations' CPU time of the same steps:
            # what its choices cost, without its own work (and its attempts' fallbacks)
            chosen = fixed_cpu[run.arms, np.arange(seq.T)] if run.key in ("line", "family") \
                else run.cpu
            solver.setdefault(run.key, []).append(float(chosen.sum()))
            if not run.key.startswith("fixed"):
                c = np.bincount(run.arms[run.arms >= 0], minlength=len(labels))
                counts.setdefault(run.key, []).append(
                    {labels[k]: int(c[k]) for k in np.flatnonzero(c)})
        if progress:
            print(f"round {r + 1}/{rounds} done", flush=True)
    return (labels, {k: np.array(v) for k, v in totals.items()},
            {k: np.array(v) for k, v in solver.items()}, counts, seq.T)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m experiments.adaptive_loop",
        description="A user's adaptive-time-step heat loop with configuration arms: every "
                    "fixed configuration and the default learner with each arm layout "
                    "(line, family), side by side on the loop's systems (CPU time).")
    ap.add_argument("--nx", type=int, default=40, help="interior points per side (default 40)")
    ap.add_argument("--t-end", type=float, default=3.0, help="final time (default 3.0)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds; round r runs the learners "
                    "with seed r (default 3)")
    ap.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    args = ap.parse_args(argv)
    if args.nx < 2 or not 0 < args.t_end < math.inf or args.rounds < 1:  # nan fails too
        ap.error("--nx must be >= 2, --t-end finite and > 0, and --rounds >= 1")
    t0 = time.perf_counter()
    labels, totals, solver, counts, T = run_loop_study(args.nx, args.t_end, args.rounds,
                                                       args.seed, progress=True)
    print(f"\nadaptive loop nx = {args.nx}, t_end = {args.t_end}: {T} "
          f"{'solve' if T == 1 else 'solves'}, {args.rounds} "
          f"{'round' if args.rounds == 1 else 'rounds'}")
    for what, data in (("CPU seconds of the calls", totals),
                       ("the learners' choices at the fixed configurations' CPU seconds "
                        "of the same steps (no learner or Tuner work)", solver)):
        fixed = np.array([data[f"fixed/{k}"] for k in range(len(labels))])
        best = np.nanmin(fixed, axis=0)
        print(f"\n{what}\n{'method':34s} {'mean s':>8s}   / best fixed, mean [per round]")
        rows = [(labels[k], data[f"fixed/{k}"]) for k in range(len(labels))] + [
            (f"default learner, arm_basis={b}", data[b]) for b in ("line", "family")]
        for name, v in rows:
            ratio = v / best
            print(f"{name:34s} {np.mean(v):8.4f} {np.mean(ratio):10.3f} "
                  f"[{', '.join(f'{x:.3f}' for x in ratio)}]")
        k_best = int(np.nanargmin(np.nanmean(fixed, axis=1)))
        fam_line = data["family"] / data["line"]
        print(f"best fixed (mean over rounds): {labels[k_best]}; family / line per round: "
              f"{', '.join(f'{x:.3f}' for x in fam_line)} (mean {np.mean(fam_line):.3f})")
    for b in ("line", "family"):
        for r, c in enumerate(counts[b]):
            print(f"{b} round {r}: {c}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
