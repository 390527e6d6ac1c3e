"""Numba against PETSc (and pyamg, scipy), side by side in one run (``relaxtune bench petsc``).

Three measurements on one rank (the timing discipline is :mod:`experiments._bench`: slope of
``T(k)`` over four ``k`` per round, rounds interleaving every method, median and
inter-quartile range, paired ratios, each method checked against a floor):

1. **Per-iteration time** on ``laplacian_2d(m)`` (n = m², ω = 1.5, x0 = 0, random b) of our
   SOR, SSOR-PCG (textbook order, the one PETSc's symmetric PCSOR has) and CG against PETSc's
   Richardson + forward PCSOR with the true residual tested every iteration (by a C test, and
   by the backend's own KSP whose test is a Python callback), KSPCG + symmetric PCSOR,
   KSPCG + PCEISENSTAT, plain KSPCG, pyamg's ``sor`` and scipy's ``cg``; with our SpMV, PETSc's
   MatMult and a streaming read of the matrix as floors.
2. **Whole solves** to rtol = 1e-8 of ``shifted_laplacian_2d(m, 1)`` through the public
   functions with ``backend="numba"`` and ``backend="petsc"`` (same iteration counts, checked).
3. **Tuned overhead**: a :class:`bandit.Tuner` (Tsallis-INF over ω, SSOR-PCG,
   ``backend="petsc"``) solving with a user's ``PETSc.Mat``/``PETSc.Vec`` to rtol = 1e-8, against
   bare ``KSPSolve`` calls on the same KSP with the same ω sequence, paired per round; optionally
   (``--heat2d NX STEPS``) the heat2d study end to end with both backends.

A figure below its floor, a per-iteration median that is not positive or a negative set-up is
a benchmark error: it is printed as IMPOSSIBLE and the command exits with status 1 (the
``--json`` file is still written).

Examples
--------
``python -m experiments.bench_petsc --sizes 100 316 --rounds 5``
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from ._bench import BenchParser
import scipy.sparse.linalg as spla

from . import _bench as B
from .bench_kernels import (CG_MAX_K, OMEGA, TINY, _expect, _repeat, _sweeps,
                            per_iteration_tables,
                            print_methods, print_warnings, spmv_loop, stream_loop)

RATIOS = [("SOR", "PETSc Richardson+SOR"), ("SOR", "PETSc Richardson+SOR (py test)"),
          ("SOR", "pyamg sor"), ("SSOR-PCG", "PETSc CG+SOR"),
          ("SSOR-PCG", "PETSc CG+Eisenstat"), ("CG", "PETSc CG"), ("CG", "scipy CG"),
          ("SpMV", "PETSc MatMult")]


def _ksp(mat, prefix, options):
    """A KSP on ``mat`` configured from ``options`` under its own options prefix."""
    from petsc4py import PETSc

    db = PETSc.Options()
    for k, v in options.items():
        db.setValue(prefix + k, v)
    ksp = PETSc.KSP().create(comm=mat.getComm())
    ksp.setOptionsPrefix(prefix)
    ksp.setOperators(mat)
    ksp.setFromOptions()
    ksp.setUp()
    for k in options:
        db.delValue(prefix + k)
    return ksp


def _ksp_runner(ksp, b, x):
    def run(k):
        x.set(0.0)
        ksp.setInitialGuessNonzero(False)
        ksp.setTolerances(rtol=1e-300, atol=1e-300, divtol=1e300, max_it=k)
        ksp.solve(b, x)
        its = ksp.getIterationNumber()
        assert its == k, (ksp.getOptionsPrefix(), its, k, ksp.getConvergedReason())
    return run


def methods(m):
    """The per-iteration methods on ``laplacian_2d(m)``; returns ``(methods, meta, cleanup)``."""
    from petsc4py import PETSc

    from solvers import cg, gallery, petsc as P, prepare, sor, ssor_pcg

    A = gallery.laplacian_2d(m)
    op = prepare(A)
    n = op.n
    b = np.random.default_rng(0).standard_normal(n)
    y = np.empty(n)
    pop = P.prepare(op)
    mat = pop.mat
    bv = pop.vector(b, "b")
    xv = pop.vector(None, "x0", zero_if_none=True)
    yv = mat.createVecLeft()
    # Richardson + PCSOR with PETSc's own (C) convergence test computes the true residual every
    # iteration only off its fast path, which an attached null space disables (an empty one
    # removes nothing): a copy of the matrix carries it so no other KSP sees it
    mat_ns = mat.duplicate(copy=True)
    null = PETSc.NullSpace().create(constant=False, vectors=(), comm=mat.getComm())
    mat_ns.setNullSpace(null)
    rich = _ksp(mat_ns, "benchrich_", {
        "ksp_type": "richardson", "pc_type": "sor", "pc_sor_local_forward": "true",
        "pc_sor_omega": repr(OMEGA), "ksp_norm_type": "unpreconditioned"})
    backend = {kind: pop.solver(kind, order="textbook") for kind in ("sor", "ssor_pcg", "cg")}
    eisen = pop.solver("ssor_pcg", order="textbook", options={"pc_type": "eisenstat"})
    for s in (*backend.values(), eisen):
        s.set_omega(OMEGA)

    def backend_run(s):
        def run(k):
            xv.set(0.0)
            its, _ = _sweeps(lambda: s.run(bv, xv, OMEGA, tol=1e-300, rtol=1e-300, atol=1e-300,
                                           maxiter=k, nonzero_guess=False), k)
            assert its == k, (s, its, k)
        return run

    out = [
        B.Method("stream", lambda k: stream_loop(op.indptr, op.indices, op.data, b, y, k),
                 "one read of the CSR arrays and two vectors"),
        B.Method("SpMV", lambda k: spmv_loop(op.indptr, op.indices, op.data, b, y, k),
                 "ours: y = A x, CSR, Numba", floor="stream"),
        B.Method("PETSc MatMult", lambda k: _repeat(lambda: mat.mult(bv, yv), k),
                 "MatMult (SeqAIJ, inodes off as in the backend), one Python call each",
                 floor="stream"),
        B.Method("SOR", lambda k: _expect(
            _sweeps(lambda: sor(op, b, OMEGA, maxiter=k, **TINY), k), k),
                 "ours: solvers.sor, forward sweep + stopping test on ‖b − A x_k‖",
                 floor="stream"),
        B.Method("PETSc Richardson+SOR", _ksp_runner(rich, bv, xv),
                 "KSPRICHARDSON + PCSOR local forward, ksp_norm_type unpreconditioned: "
                 "true residual (MatMult) and PETSc's C test every iteration",
                 floor="PETSc MatMult"),
        B.Method("PETSc Richardson+SOR (py test)", backend_run(backend["sor"]),
                 "the backend's KSP for sor: the same, tested by a Python convergence callback",
                 floor="PETSc MatMult"),
    ]
    try:
        from pyamg.relaxation.relaxation import sor as pyamg_sor
    except ImportError:
        print("(pyamg not installed: its column is skipped)", file=sys.stderr)
    else:
        xp = np.zeros(n)
        out.append(B.Method(
            "pyamg sor", lambda k: pyamg_sor(A, xp, b, OMEGA, iterations=k, sweep="forward"),
            "pyamg sor(sweep='forward'), no stopping test", floor="stream"))
    out += [
        B.Method("SSOR-PCG", lambda k: _expect(
            ssor_pcg(op, b, OMEGA, maxiter=k, order="textbook", **TINY), k),
            "ours: solvers.ssor_pcg(order='textbook'), Eisenstat form, true-residual test",
            floor="stream", max_k=CG_MAX_K),
        B.Method("PETSc CG+SOR", backend_run(backend["ssor_pcg"]),
                 "KSPCG + PCSOR local symmetric, unpreconditioned norm, C test",
                 floor="PETSc MatMult", max_k=CG_MAX_K),
        B.Method("PETSc CG+Eisenstat", backend_run(eisen),
                 "KSPCG + PCEISENSTAT (ω = 1.5), unpreconditioned norm, C test",
                 floor="stream", max_k=CG_MAX_K),
        B.Method("CG", lambda k: _expect(cg(op, b, maxiter=k, **TINY), k),
                 "ours: solvers.cg", floor="SpMV", max_k=CG_MAX_K),
        B.Method("PETSc CG", backend_run(backend["cg"]),
                 "KSPCG + PCNONE, unpreconditioned norm, C test", floor="PETSc MatMult",
                 max_k=CG_MAX_K),
        B.Method("scipy CG", lambda k: spla.cg(A, b, rtol=1e-300, atol=1e-300, maxiter=k),
                 "scipy.sparse.linalg.cg", floor="stream", max_k=CG_MAX_K),
    ]

    def cleanup():
        rich.destroy()
        mat_ns.destroy()
        null.destroy()
        for v in (bv, xv, yv):
            v.destroy()
        pop.destroy()
    return out, {"n": n, "nnz": op.nnz, "matrix": f"laplacian_2d({m})"}, cleanup


def whole_solves(m, rounds, *, shift=1.0, omega=1.2, clock="cpu"):
    """Whole solves to rtol = 1e-8 on ``shifted_laplacian_2d(m, shift)``, both backends."""
    from solvers import cg, gallery, petsc as P, prepare, sor, ssor_pcg

    op = prepare(gallery.shifted_laplacian_2d(m, shift))
    P.prepare(op)  # the PETSc Mat and its KSPs are kept on the operator
    b = np.random.default_rng(1).standard_normal(op.n)
    calls = {
        ("SOR", "numba"): lambda: sor(op, b, omega),
        ("SOR", "petsc"): lambda: sor(op, b, omega, backend="petsc"),
        ("SSOR-PCG", "numba"): lambda: ssor_pcg(op, b, omega, order="textbook"),
        ("SSOR-PCG", "petsc"): lambda: ssor_pcg(op, b, omega, backend="petsc"),
        ("CG", "numba"): lambda: cg(op, b),
        ("CG", "petsc"): lambda: cg(op, b, backend="petsc"),
    }
    its = {}
    for (name, backend), f in calls.items():
        res = f()
        assert res.converged, (name, backend, res)
        its[name, backend] = res.iterations
    est = B.measure_calls({f"{k[0]} {k[1]}": f for k, f in calls.items()}, rounds=rounds,
                          clock=clock)
    rows = []
    for name in ("SOR", "SSOR-PCG", "CG"):
        a, p = est[f"{name} numba"], est[f"{name} petsc"]
        rows.append({"method": name, "iterations_numba": its[name, "numba"],
                     "iterations_petsc": its[name, "petsc"], "numba_s": a, "petsc_s": p,
                     "ratio": B.ratio(a, p)})
    return {"n": op.n, "matrix": f"shifted_laplacian_2d({m}, {shift:g})", "omega": omega,
            "rows": rows}


def tuned_overhead(m, rounds, *, replicas=3, seed=0):
    """Tuner(+PETSc Mat/Vec) against bare KSPSolve with the same ω sequence, paired per round.

    Round k: every tuner replica solves system k (same seed, hence the same choices), then
    the bare KSPSolve repeats; the round's ratio is the median tuned time over the median bare
    time (process CPU time).  ``outside`` is the share of the tuned calls spent outside
    ``KSPSolve`` (timed inside the same calls), free of machine noise.
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
        t0 = time.process_time()
        out = run(self, *a, **k)
        inside[0] += time.process_time() - t0
        return out

    warm = bandit.Tuner(bandit.TsallisINF(arms, seed=seed), solver="ssor_pcg",
                        backend="petsc", rtol=1e-8)
    warm.solve(M, bs[0]).x.destroy()  # KSP creation is a one-off cost, not per solve
    tuners = [bandit.Tuner(bandit.TsallisINF(arms, seed=seed), solver="ssor_pcg",
                           backend="petsc", rtol=1e-8) for _ in range(replicas)]
    s = P.prepare(M).solver("ssor_pcg", order="textbook")  # the KSP the tuned path uses
    x = M.createVecRight()
    tuned = np.empty((rounds, replicas))
    bare = np.empty((rounds, replicas))
    tuned_total = inside_total = 0.0
    iters = []
    for k, b in enumerate(bs):
        results = []
        for j, tuner in enumerate(tuners):
            inside[0] = 0.0
            P.PetscSolver.run = timed_run
            t0 = time.process_time()
            res = tuner.solve(M, b)
            tuned[k, j] = time.process_time() - t0
            P.PetscSolver.run = run
            tuned_total += tuned[k, j]
            inside_total += inside[0]
            results.append((res.omega, res.iterations))
            res.x.destroy()
        assert len(set(results)) == 1, "replicas must make the same choices"
        w, its = results[0]
        iters.append(its)
        for j in range(replicas):
            t0 = time.process_time()
            s.set_omega(w)
            s.ksp.setInitialGuessNonzero(False)
            s.ksp.solve(b, x)
            bare[k, j] = time.process_time() - t0
        assert s.ksp.getIterationNumber() == its, (s.ksp.getIterationNumber(), its)
    x.destroy()
    for v in bs:
        v.destroy()
    t_med, b_med = np.median(tuned, axis=1), np.median(bare, axis=1)
    return {"m": m, "n": m * m, "rounds": rounds, "iterations": int(sum(iters)),
            "tuned_s": float(t_med.sum()), "bare_kspsolve_s": float(b_med.sum()),
            "ratio": B.Estimate(t_med / b_med),
            "outside": float(1.0 - inside_total / tuned_total)}


def heat2d_both(nx, steps, seed=0, repeats=3):
    """heat2d with a Tsallis-INF Tuner on both backends (one rank), alternated ``repeats``
    times: median seconds and the iteration totals."""
    import bandit
    from experiments.heat2d_petsc import Heat2DPetsc
    from experiments.problems import Heat2D

    arms = [1.0, 1.3, 1.5, 1.75, 1.95]
    out = {"nx": nx, "n": (nx - 1) ** 2, "steps": steps}
    secs = {"numba": [], "petsc": []}
    for _ in range(repeats):
        for backend in ("numba", "petsc"):
            sim = (Heat2D if backend == "numba" else Heat2DPetsc)(nx=nx, steps=steps,
                                                                  t_end=steps * 0.001)
            tuner = bandit.Tuner(bandit.TsallisINF(arms, seed=seed), solver="ssor_pcg",
                                 backend=backend, rtol=1e-8)
            t0 = time.process_time()
            sim.run(tuner.solve)
            secs[backend].append(time.process_time() - t0)
            out[f"{backend}_iterations"] = int(np.sum(tuner.history["iterations"]))
    for backend, v in secs.items():
        out[f"{backend}_s"] = B.Estimate(np.array(v))
    return out


def report(results, solves, over, heat, info, *, markdown=False, out=None):
    out = sys.stdout if out is None else out
    print(B.machine_header(info), file=out)
    warnings = []
    if results:
        print(f"\n1. per iteration, one rank (ω = {OMEGA}, x0 = 0, random b; Theil–Sen slope of "
              "T(k) over four k per round, T = process CPU time):", file=out)
        print_methods(results[0][0], out)
        text, warnings = per_iteration_tables(results, RATIOS, markdown=markdown)
        print("\n" + text, file=out)
    if solves:
        print("\n2. whole solves to rtol = 1e-8 through the public functions (x0 = 0, random b; "
              "ms per solve, median [inter-quartile range]; ratio = numba / petsc, paired)",
              file=out)
        head = ["n", "matrix", "ω", "method", "its numba", "its petsc", "numba ms", "PETSc ms",
                "ratio"]
        rows = []
        for s in solves:
            for r in s["rows"]:
                rows.append([f"{s['n']:,}", s["matrix"], f"{s['omega']:g}", r["method"],
                             str(r["iterations_numba"]), str(r["iterations_petsc"]),
                             B.fmt(r["numba_s"]), B.fmt(r["petsc_s"]), B.fmt(r["ratio"], 1, 2)])
        print(B.format_table(head, rows, markdown=markdown, align="lllrrrrrr"), file=out)
    if over:
        print("\n3. tuned PETSc path vs bare KSPSolve (SSOR-PCG to rtol 1e-8, same ω sequence; "
              "per-round ratio of medians, process CPU time)", file=out)
        head = ["n", "rounds", "iterations", "tuned s", "bare s", "tuned / bare",
                "outside KSPSolve"]
        rows = [[f"{o['n']:,}", str(o["rounds"]), str(o["iterations"]), f"{o['tuned_s']:.4f}",
                 f"{o['bare_kspsolve_s']:.4f}", B.fmt(o["ratio"], 1, 4),
                 f"{100 * o['outside']:.2f}%"] for o in over]
        print(B.format_table(head, rows, markdown=markdown), file=out)
    if heat:
        print("\nheat2d end to end (Tsallis-INF, SSOR-PCG, one rank; process CPU seconds, "
              "median [inter-quartile range] of alternated runs)", file=out)
        head = ["n", "steps", "numba s", "its", "PETSc s", "its"]
        rows = [[f"{h['n']:,}", str(h["steps"]), B.fmt(h["numba_s"], 1), str(h["numba_iterations"]),
                 B.fmt(h["petsc_s"], 1), str(h["petsc_iterations"])] for h in heat]
        print(B.format_table(head, rows, markdown=markdown), file=out)
    print_warnings(warnings, out)
    return warnings


def _est(v):
    return v.to_dict() if isinstance(v, B.Estimate) else v


def main(argv=None) -> int:
    p = BenchParser("petsc",
                                description="Numba vs PETSc per-iteration time and tuned overhead")
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 316, 1000],
                   help="grid sides m (n = m²); 100 316 1000 give n ≈ 1e4 1e5 1e6")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds (>= 3)")
    p.add_argument("--target", type=B.seconds, default=0.03,
                   help="seconds of the longest timed call per method (sets its k values)")
    p.add_argument("--solve-sizes", type=int, nargs="*", default=[100, 316],
                   help="grid sides for the whole-solve table (empty: skip)")
    p.add_argument("--overhead-sizes", type=int, nargs="*", default=[316],
                   help="grid sides for the tuned-overhead measurement (empty: skip)")
    p.add_argument("--overhead-rounds", type=int, default=8,
                   help="tuned solves per overhead measurement")
    p.add_argument("--heat2d", type=int, nargs=2, metavar=("NX", "STEPS"), default=None)
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--json", type=B.output_file, default=None, help="also write the raw numbers here")
    args = p.parse_args(argv)
    # name the option and the value refused (argparse's own errors do; --target is
    # checked by its type already)
    if args.rounds < 3:
        p.error(f"--rounds must be >= 3, got {args.rounds}")
    if args.overhead_rounds < 1:
        p.error(f"--overhead-rounds must be >= 1, got {args.overhead_rounds}")
    for name in ("sizes", "solve_sizes", "overhead_sizes"):
        bad = [m for m in getattr(args, name) if m < 2]
        if bad:
            p.error(f"--{name.replace('_', '-')} must be grid sides >= 2, got {bad[0]}")
        for m in getattr(args, name):  # scipy's matrix, the prepared operator and its
            # triangles, PETSc's copy; eight vectors
            refusal = B.too_big(f"--{name.replace('_', '-')} {m}", f"laplacian_2d({m})",
                                m * m, 5, matrices=4, vectors=8, peak=B.PEAK_FACTORS["petsc"])
            if refusal:
                p.error(refusal)
    if args.heat2d is not None and (args.heat2d[0] < 2 or args.heat2d[1] < 1):
        p.error(f"--heat2d NX STEPS needs NX >= 2 and STEPS >= 1, got {args.heat2d}")
    if args.heat2d is not None:
        nx = args.heat2d[0]
        refusal = B.too_big(f"--heat2d {nx}", f"heat2d nx = {nx}", (nx - 1) ** 2, 5,
                            matrices=4, vectors=8, peak=B.PEAK_FACTORS["petsc"])
        if refusal:
            p.error(refusal)
    info = B.machine_info()

    def progress(s):
        print(s, file=sys.stderr, flush=True)

    results = []
    for m in args.sizes:
        ms, meta, cleanup = methods(m)
        progress(f"n = {meta['n']:,}: {len(ms)} methods, {args.rounds} rounds")
        try:
            results.append((B.measure(ms, rounds=args.rounds, target=args.target), meta))
        finally:
            cleanup()
    solves = [whole_solves(m, args.rounds) for m in args.solve_sizes]
    over = [tuned_overhead(m, args.overhead_rounds) for m in args.overhead_sizes]
    heat = [heat2d_both(*args.heat2d)] if args.heat2d else []
    warnings = report(results, solves, over, heat, info, markdown=args.markdown)
    if args.json:
        data = {"machine": info,
                "per_iteration": [{**meta, "methods": {k: t.to_dict() for k, t in tim.items()}}
                                  for tim, meta in results],
                "whole_solves": [{**s, "rows": [{k: _est(v) for k, v in r.items()}
                                                for r in s["rows"]]} for s in solves],
                "tuned_overhead": [{k: _est(v) for k, v in o.items()} for o in over],
                "heat2d": [{k: _est(v) for k, v in h.items()} for h in heat]}
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=1)
    # an impossible figure is a benchmark error, as in ``bench kernels`` and ``bench pcg``
    # (the raw numbers are still written, to look into it)
    return 1 if any("IMPOSSIBLE" in w for w in warnings) else 0


if __name__ == "__main__":
    raise SystemExit(main())
