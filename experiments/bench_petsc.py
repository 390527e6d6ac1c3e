"""Numba vs PETSc, side by side in one run (``relaxtune bench petsc``).

Three measurements on the 2-D Laplacian ``laplacian_2d(m)`` (n = m²), one rank:

1. **Per-iteration time** of SOR (sweep + exact stopping test) and SSOR-PCG: the Numba kernels
   through the public ``solvers.sor`` / ``solvers.ssor_pcg`` (prepared operator) against a bare
   ``KSPSolve`` of the backend's KSP (Richardson + forward PCSOR with the residual test attached;
   KSPCG + symmetric PCSOR; KSPCG + PCEISENSTAT), each run for a fixed number of iterations
   (tolerances that are never met) and divided by it.
2. **Tuned overhead**: a :class:`bandit.Tuner` (Tsallis-INF over ω, SSOR-PCG, ``backend="petsc"``)
   solving with a user's ``PETSc.Mat``/``PETSc.Vec`` to rtol = 1e-8, against bare ``KSPSolve`` calls
   on the same KSP with the same ω sequence.  Three tuner replicas with the same seed make the
   same choices; each round's time is the best of the replicas (and of three bare repeats).
3. Optionally (``--heat2d NX STEPS``) the heat2d study end to end with both backends.

The machine is shared and noisy: everything is the best of ``--repeats`` runs, measured side by
side in the same process after a warm-up.

Examples
--------
``python -m experiments.bench_petsc --sizes 100 316 --iters 20 --repeats 3``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .bench_kernels import OMEGA, TINY, per_iteration as differential  # one timing discipline


def per_iteration(m, iters, repeats):
    """Seconds per iteration of each method on ``laplacian_2d(m)``."""
    from solvers import gallery, petsc as P, prepare, sor, ssor_pcg

    A = gallery.laplacian_2d(m)
    op = prepare(A)
    pop = P.prepare(op)
    b = np.random.default_rng(0).standard_normal(op.n)
    bv = pop.vector(b, "b")
    xv = pop.vector(None, "x0", zero_if_none=True)

    def bare(kind, options=None):
        s = pop.solver(kind, order="textbook", options=options)

        def run(k):
            xv.set(0.0)
            its, _ = s.run(bv, xv, OMEGA, tol=1e-300, rtol=1e-300, atol=1e-300, maxiter=k,
                           nonzero_guess=False)
            assert its == k, (kind, its)
        return run

    # the differential discipline of bench kernels, (T(2k) − T(k)) / k, on both sides: the
    # per-call set-up (conversion checks, KSPSetUp, first and last residual) cancels
    t = {
        "numba_sor": differential(lambda k: sor(op, b, OMEGA, maxiter=k, **TINY), iters,
                                   repeats),
        "petsc_sor": differential(bare("sor"), iters, repeats),
        "numba_ssor_pcg": differential(
            lambda k: ssor_pcg(op, b, OMEGA, maxiter=k, order="textbook", **TINY), iters,
            repeats),
        "petsc_ssor_pcg": differential(bare("ssor_pcg"), iters, repeats),
        "petsc_eisenstat_pcg": differential(bare("ssor_pcg", {"pc_type": "eisenstat"}), iters,
                                             repeats),
    }
    pop.destroy()
    return {"m": m, "n": m * m, **t}


def tuned_overhead(m, rounds, replicas=3, seed=0):
    """Tuner(+PETSc Mat/Vec) vs bare KSPSolve with the same ω sequence; returns a dict.

    Rounds are interleaved (round k: every tuner replica, then the bare repeats) so machine
    noise hits both sides alike.  ``inside_overhead`` is a noise-free complement: the tuned
    calls' time outside ``KSPSolve`` (timed inside the same calls) over the time inside it.
    """
    import bandit
    from solvers import gallery, petsc as P

    A = gallery.laplacian_2d(m)
    M = P.to_petsc_mat(A)
    rng = np.random.default_rng(seed)
    bs = []
    for _ in range(rounds):
        v = M.createVecLeft()
        v.array[:] = rng.standard_normal(m * m)
        bs.append(v)
    arms = [1.0, 1.3, 1.5, 1.7, 1.8, 1.9, 1.95]
    inside = [0.0]
    run = P.PetscSolver.run

    def timed_run(self, *a, **k):
        t0 = time.perf_counter()
        out = run(self, *a, **k)
        inside[0] += time.perf_counter() - t0
        return out

    warm = bandit.Tuner(bandit.TsallisINF(arms, seed=seed), solver="ssor_pcg",
                        backend="petsc", rtol=1e-8)
    warm.solve(M, bs[0]).x.destroy()  # KSP creation is a one-off cost, not per solve
    tuners = [bandit.Tuner(bandit.TsallisINF(arms, seed=seed), solver="ssor_pcg",
                           backend="petsc", rtol=1e-8) for _ in range(replicas)]
    s = P.prepare(M).solver("ssor_pcg", order="textbook")  # the KSP the tuned path uses
    x = M.createVecRight()
    tuned = np.full(rounds, np.inf)
    bare = np.full(rounds, np.inf)
    tuned_total = inside_total = 0.0
    iters = []
    for k, b in enumerate(bs):
        results = []
        for tuner in tuners:
            inside[0] = 0.0
            P.PetscSolver.run = timed_run
            t0 = time.perf_counter()
            res = tuner.solve(M, b)
            dt = time.perf_counter() - t0
            P.PetscSolver.run = run
            tuned[k] = min(tuned[k], dt)
            tuned_total += dt
            inside_total += inside[0]
            results.append((res.omega, res.iterations))
            res.x.destroy()
        assert len(set(results)) == 1, "replicas must make the same choices"
        w, its = results[0]
        iters.append(its)
        for _ in range(replicas):
            t0 = time.perf_counter()
            s.set_omega(w)
            s.ksp.setInitialGuessNonzero(False)
            s.ksp.solve(b, x)
            bare[k] = min(bare[k], time.perf_counter() - t0)
        assert s.ksp.getIterationNumber() == its, (s.ksp.getIterationNumber(), its)
    return {"m": m, "n": m * m, "rounds": rounds, "iterations": int(sum(iters)),
            "tuned_s": float(tuned.sum()), "bare_kspsolve_s": float(bare.sum()),
            "overhead": float(tuned.sum() / bare.sum() - 1.0),
            "median_round_overhead": float(np.median(tuned / bare - 1.0)),
            "inside_overhead": float(tuned_total / inside_total - 1.0)}


def heat2d_both(nx, steps, seed=0):
    """heat2d with a Tsallis-INF Tuner on both backends (one rank): totals and seconds."""
    import bandit
    from experiments.heat2d_petsc import Heat2DPetsc
    from experiments.problems import Heat2D

    arms = [1.0, 1.3, 1.5, 1.75, 1.95]
    out = {"nx": nx, "n": (nx - 1) ** 2, "steps": steps}
    for backend in ("numba", "petsc"):
        sim = (Heat2D if backend == "numba" else Heat2DPetsc)(nx=nx, steps=steps,
                                                              t_end=steps * 0.001)
        tuner = bandit.Tuner(bandit.TsallisINF(arms, seed=seed), solver="ssor_pcg",
                             backend=backend, rtol=1e-8)
        t0 = time.perf_counter()
        sim.run(tuner.solve)
        out[f"{backend}_s"] = time.perf_counter() - t0
        out[f"{backend}_iterations"] = int(np.sum(tuner.history["iterations"]))
    return out


def format_tables(rows, over, heat):
    lines = ["Per-iteration time (ms), best of repeats; ratio = Numba / PETSc (target <= 0.8)",
             f"{'n':>9} {'SOR numba':>10} {'SOR PETSc':>10} {'ratio':>6} "
             f"{'SSOR-PCG numba':>15} {'PETSc sym':>10} {'ratio':>6} {'PETSc Eisenstat':>16}"]
    for r in rows:
        lines.append(
            f"{r['n']:>9} {1e3 * r['numba_sor']:>10.3f} {1e3 * r['petsc_sor']:>10.3f} "
            f"{r['numba_sor'] / r['petsc_sor']:>6.2f} {1e3 * r['numba_ssor_pcg']:>15.3f} "
            f"{1e3 * r['petsc_ssor_pcg']:>10.3f} {r['numba_ssor_pcg'] / r['petsc_ssor_pcg']:>6.2f} "
            f"{1e3 * r['petsc_eisenstat_pcg']:>16.3f}")
    if over:
        lines += ["", "Tuned PETSc path vs bare KSPSolve (SSOR-PCG to 1e-8, same ω sequence; "
                      "target < 2% at n >= 1e5)",
                  f"{'n':>9} {'rounds':>6} {'iters':>7} {'tuned s':>9} {'bare s':>9} "
                  f"{'overhead':>9} {'median':>8} {'outside KSPSolve':>17}"]
        for o in over:
            lines.append(f"{o['n']:>9} {o['rounds']:>6} {o['iterations']:>7} "
                         f"{o['tuned_s']:>9.4f} {o['bare_kspsolve_s']:>9.4f} "
                         f"{100 * o['overhead']:>8.2f}% {100 * o['median_round_overhead']:>7.2f}% "
                         f"{100 * o['inside_overhead']:>16.2f}%")
    if heat:
        lines += ["", "heat2d end to end (Tsallis-INF, SSOR-PCG, one rank)",
                  f"{'n':>9} {'steps':>6} {'numba s':>9} {'its':>7} {'PETSc s':>9} {'its':>7}"]
        for h in heat:
            lines.append(f"{h['n']:>9} {h['steps']:>6} {h['numba_s']:>9.3f} "
                         f"{h['numba_iterations']:>7} {h['petsc_s']:>9.3f} "
                         f"{h['petsc_iterations']:>7}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="relaxtune bench petsc",
                                description="Numba vs PETSc per-iteration time and tuned overhead")
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 316],
                   help="grid sides m (n = m²); 100 316 1000 give n ≈ 1e4 1e5 1e6")
    p.add_argument("--iters", type=int, default=20, help="iterations per timed run")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--overhead-sizes", type=int, nargs="*", default=[316],
                   help="grid sides for the tuned-overhead measurement (empty: skip)")
    p.add_argument("--rounds", type=int, default=8, help="tuned solves per overhead measurement")
    p.add_argument("--heat2d", type=int, nargs=2, metavar=("NX", "STEPS"), default=None)
    p.add_argument("--json", default=None, help="also write the raw numbers here")
    args = p.parse_args(argv)

    rows = [per_iteration(m, args.iters, args.repeats) for m in args.sizes]
    over = [tuned_overhead(m, args.rounds) for m in args.overhead_sizes]
    heat = [heat2d_both(*args.heat2d)] if args.heat2d else []
    print(format_tables(rows, over, heat))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"per_iteration": rows, "tuned_overhead": over, "heat2d": heat}, fh,
                      indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
