"""Per-iteration kernel timings, side by side in one run (``relaxtune bench kernels``).

Times one SOR iteration (sweep plus the exact stopping test) and one SSOR-PCG iteration on the
2-D Laplacian for this project, pyamg's ``sor``, scipy's ``cg`` and a plain-scipy SSOR-PCG
(scipy ``cg`` with an SSOR ``LinearOperator`` built from ``spsolve_triangular``), and prints
them with ratios.  The machine is shared and noisy, so every figure is the best of several
repeats taken in the same run, after a warm-up call that triggers JIT compilation, and
per-iteration times are differential (``(T(2k) − T(k)) / k``) so per-call set-up cancels.

Examples
--------
``python -m experiments.bench_kernels --sizes 100 316 --repeats 3``
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from solvers import _kernels as K
from solvers import cg, gallery, prepare, sor, ssor_pcg

OMEGA = 1.5
TINY = dict(rtol=1e-300, atol=1e-300)  # never met: every run does exactly maxiter iterations


def best_time(fn, repeats):
    """Best wall-clock of ``repeats`` calls of ``fn()`` (after one untimed warm-up)."""
    fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def scipy_ssor_operator(A, omega):
    """The paper-order SSOR ``M⁻¹`` with scipy's sparse triangular solves (no Numba)."""
    D = sp.diags_array(A.diagonal())
    lower = sp.csr_array(D + omega * sp.tril(A, -1))
    upper = sp.csr_array(D + omega * sp.triu(A, 1))
    c = omega * (2.0 - omega)

    def apply(r):
        y = spla.spsolve_triangular(upper, r, lower=False)
        return c * spla.spsolve_triangular(lower, D @ y, lower=True)

    return spla.LinearOperator(A.shape, matvec=apply)


def per_iteration(run, iters, repeats):
    """Seconds per iteration of ``run(k)`` (a solve capped at ``k`` iterations).

    Differential: ``(T(2k) − T(k)) / k`` cancels the per-call set-up (validation, initial
    residual, first preconditioner application, final true residual), so what is left is the
    cost of one iteration including its stopping test.
    """
    t1 = best_time(lambda: run(iters), repeats)
    t2 = best_time(lambda: run(2 * iters), repeats)
    return max(t2 - t1, 1e-12) / iters


def measure(m, iters, repeats, with_pyamg=True, with_scipy_ssor=True):
    """Seconds per iteration of every method on ``laplacian_2d(m)``; returns a dict."""
    A = gallery.laplacian_2d(m)
    op = prepare(A)
    n = op.n
    b = np.random.default_rng(0).standard_normal(n)
    y = np.empty(n)
    out = {"n": n}
    out["spmv"] = best_time(lambda: K.spmv(op.indptr, op.indices, op.data, b, y), repeats * 3)
    out["scipy_spmv"] = best_time(lambda: A @ b, repeats * 3)
    out["sor"] = per_iteration(lambda k: sor(op, b, OMEGA, maxiter=k, **TINY), iters, repeats)
    out["ssor_pcg"] = per_iteration(lambda k: ssor_pcg(op, b, OMEGA, maxiter=k, **TINY), iters,
                                    repeats)
    out["cg"] = per_iteration(lambda k: cg(op, b, maxiter=k, **TINY), iters, repeats)
    out["scipy_cg"] = per_iteration(
        lambda k: spla.cg(A, b, rtol=1e-300, atol=1e-300, maxiter=k), iters, repeats)
    if with_pyamg:
        try:
            from pyamg.relaxation.relaxation import sor as pyamg_sor
        except ImportError:
            pass
        else:
            x = np.zeros(n)
            out["pyamg_sor"] = per_iteration(
                lambda k: pyamg_sor(A, x, b, OMEGA, iterations=k), iters, repeats)
    if with_scipy_ssor:
        M = scipy_ssor_operator(A, OMEGA)
        k = max(1, iters // 5)  # it is slow; fewer iterations suffice for a per-iteration time
        out["scipy_ssor_pcg"] = per_iteration(
            lambda j: spla.cg(A, b, rtol=1e-300, atol=1e-300, maxiter=j, M=M), k, repeats)
    return out


def format_table(rows):
    """Text table (milliseconds per iteration and the ratios the issue's targets name)."""
    cols = ["n", "spmv", "sor", "pyamg_sor", "ssor_pcg", "scipy_ssor_pcg", "cg", "scipy_cg"]
    head = (f"{'n':>9} {'SpMV':>8} {'SOR':>8} {'pyamg':>8} {'SOR/pyamg':>9} {'SSOR-PCG':>9} "
            f"{'scipySSOR':>9} {'PCG/SpMV':>8} {'CG':>8} {'scipyCG':>8} {'CG/scipy':>8}")
    lines = ["milliseconds per iteration (best of repeats); ratios are ours / theirs", head]
    for r in rows:
        ms = {c: r.get(c, np.nan) * 1e3 for c in cols[1:]}
        lines.append(
            f"{r['n']:>9d} {ms['spmv']:8.3f} {ms['sor']:8.3f} {ms['pyamg_sor']:8.3f} "
            f"{ms['sor'] / ms['pyamg_sor']:9.2f} {ms['ssor_pcg']:9.3f} "
            f"{ms['scipy_ssor_pcg']:9.2f} {ms['ssor_pcg'] / ms['spmv']:8.2f} {ms['cg']:8.3f} "
            f"{ms['scipy_cg']:8.3f} {ms['cg'] / ms['scipy_cg']:8.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Command-line entry point (also ``relaxtune bench kernels``)."""
    ap = argparse.ArgumentParser(prog="relaxtune bench kernels", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 316, 1000],
                    help="grid sides m (n = m²); default 100 316 1000 → n ≈ 1e4, 1e5, 1e6")
    ap.add_argument("--iters", type=int, default=20, help="iterations per timed call")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls; the best is kept")
    ap.add_argument("--no-scipy-ssor", action="store_true",
                    help="skip the (slow) plain-scipy SSOR-PCG column")
    ap.add_argument("--json", help="also write the raw timings (seconds) to this file")
    args = ap.parse_args(argv)
    rows = []
    for m in args.sizes:
        rows.append(measure(m, args.iters, args.repeats,
                            with_scipy_ssor=not args.no_scipy_ssor))
        print(format_table(rows[-1:]).splitlines()[-1] if rows[1:] else format_table(rows),
              flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
