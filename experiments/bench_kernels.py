"""Per-iteration kernel timings against scipy and pyamg, side by side (``relaxtune bench kernels``).

On the 2-D Laplacian ``gallery.laplacian_2d(m)`` (n = m²) this times, interleaved in one
process (see :mod:`experiments._bench` for the method: least-squares slope of ``T(k)`` over four
``k`` per round, median and inter-quartile range over rounds, paired ratios):

* a streaming read of the CSR arrays once (the floor of the SpMVs and of pyamg's sweeps, which
  read them), and a numpy copy of the matrix's values (about as many bytes moved), the machine's
  memory bandwidth beside the kernels, with the rates in GB/s; the bare SOR sweep has no floor:
  it reads the split triangles (fewer bytes than CSR, in more streams at once), and on the Intel
  Xeon of the benchmarks a core reads four or more streams at once about 1.5 times as fast as
  one array after another, so the sweep ran faster than the stream and was flagged IMPOSSIBLE,
* our SpMV and scipy's ``A @ x``,
* our bare SOR sweep (no stopping test) and our SOR iteration (sweep plus stopping test),
* pyamg's ``sor`` (forward sweeps, no stopping test; one Python call per sweep) and its C++
  kernel ``amg_core.sor_gauss_seidel`` called directly,
* our SSOR-PCG (paper order) and, with ``--scipy-ssor``, scipy's ``cg`` with an SSOR
  ``LinearOperator`` built from ``spsolve_triangular`` (slow),
* our CG and scipy's ``cg``;

then one *whole solve* to ``rtol = 1e-8`` of a shifted Laplacian (SOR and SSOR-PCG), where the
stopping test runs as in real use.  All solves use ω = 1.5 and x0 = 0.

Every method is checked against its floor (:func:`experiments._bench.check`); a figure
flagged IMPOSSIBLE is a benchmark error and the command then exits with status 1.

Examples
--------
``python -m experiments.bench_kernels --sizes 100 316 --rounds 5``
"""
from __future__ import annotations

import json
import sys

import numba
import numpy as np

from ._bench import BenchParser
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from solvers import _kernels as K
from solvers import cg, gallery, prepare, sor, ssor_pcg

from . import _bench as B

OMEGA = 1.5
TINY = dict(rtol=1e-300, atol=1e-300)  # never met: every run does exactly maxiter iterations
# CG-type runs stop with a breakdown once the residual reaches rounding level (a few hundred
# iterations at n = 900): longer runs would not do k iterations
CG_MAX_K = 120


@numba.njit(cache=True, fastmath=True)  # reassociation lets the sums vectorise
def stream_csr(indptr, indices, data, x, b):
    """One streaming read of the CSR arrays and two vectors (vectorised sums)."""
    s = 0.0
    for k in range(data.size):
        s += data[k]
    t = 0
    for k in range(indices.size):
        t += indices[k]
    for k in range(indptr.size):
        t += indptr[k]
    for i in range(x.size):
        s += x[i] + b[i]
    return s + t


@numba.njit(cache=True, fastmath=True)
def stream_loop(indptr, indices, data, x, b, k):
    s = 0.0
    for _ in range(k):
        s += stream_csr(indptr, indices, data, x, b)
    return s


def split_bytes(op) -> int:
    """Bytes a bare SOR sweep reads (the split triangles, the inverse diagonal, ``x`` and ``b``;
    it also writes ``x``)."""
    lower, upper = op.split_triangles()
    return sum(a.nbytes for a in (*lower, *upper, op.inv_diagonal)) + 2 * 8 * op.n


def csr_bytes(op) -> int:
    """Bytes :func:`stream_csr` reads (the CSR arrays and two vectors)."""
    return op.indptr.nbytes + op.indices.nbytes + op.data.nbytes + 2 * 8 * op.n


@numba.njit(cache=True)
def spmv_loop(indptr, indices, data, x, y, k):
    """``k`` products ``y = A x`` (one compiled loop: no per-call dispatch in the figure)."""
    for _ in range(k):
        K.spmv(indptr, indices, data, x, y)


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


def _repeat(fn, k):
    """``k`` calls of ``fn``, results discarded (a list of k outputs would grow the heap, and
    first-touching new memory made the time superlinear in k)."""
    for _ in range(k):
        fn()


def _expect(res, k):
    assert res.iterations == k and not res.converged, (res.iterations, k, res.reason)


def _sweeps(solve, k):
    """``solve()`` with SOR's stagnation test out of reach: a timed run under a tolerance it
    never meets must make exactly ``k`` sweeps, also once it reaches rounding level."""
    saved = K.SOR_WINDOW
    K.SOR_WINDOW = k + 1
    try:
        return solve()
    finally:
        K.SOR_WINDOW = saved


def methods(m, *, scipy_ssor=False):
    """The timed methods on ``laplacian_2d(m)`` (a list of :class:`_bench.Method`)."""
    A = gallery.laplacian_2d(m)
    op = prepare(A)
    n = op.n
    b = np.random.default_rng(0).standard_normal(n)
    y = np.empty(n)
    lower, upper = op.split_triangles()
    xs = np.zeros(n)
    # the bandwidth reference: the values copied over scipy's own copy of them (the same
    # numbers, so its methods see the same matrix), as many bytes moved as the stream reads
    # (nearly) without a buffer of that size more at the benchmark's peak
    src = op.data
    dst = A.data if A.data is not src and np.array_equal(A.data, src) else np.empty_like(src)
    out = [
        B.Method("stream", lambda k: stream_loop(op.indptr, op.indices, op.data, b, y, k),
                 "one read of the CSR arrays (indptr, indices, data) and two vectors"),
        B.Method("SpMV", lambda k: spmv_loop(op.indptr, op.indices, op.data, b, y, k),
                 "ours: y = A x, CSR with uint32 indices, Numba", floor="stream"),
        B.Method("scipy SpMV", lambda k: _repeat(lambda: A @ b, k),
                 "scipy csr_array @ vector, one Python call each", floor="stream"),
        B.Method("numpy copy", lambda k: _repeat(lambda: np.copyto(dst, src), k),
                 "np.copyto of the matrix's values (as many bytes moved as the stream reads)"),
        B.Method("SOR sweep", lambda k: K.sor_sweeps(*lower, *upper, op.inv_diagonal, xs, b,
                                                    OMEGA, k),
                 "ours: forward sweep on the split triangles, no stopping test (no floor: it "
                 "reads other arrays than the stream, faster on some machines)"),
        B.Method("SOR", lambda k: _expect(
            _sweeps(lambda: sor(op, b, OMEGA, maxiter=k, **TINY), k), k),
                 "ours: solvers.sor on a prepared operator, sweep + stopping test "
                 "(‖b − A x_k‖ <= tol decided exactly every sweep)", floor="SOR sweep"),
    ]
    try:
        from pyamg import amg_core
        from pyamg.relaxation.relaxation import sor as pyamg_sor
    except ImportError:
        print("(pyamg not installed: its columns are skipped)", file=sys.stderr)
    else:
        xp = np.zeros(n)
        out += [
            B.Method("pyamg sor", lambda k: pyamg_sor(A, xp, b, OMEGA, iterations=k,
                                                      sweep="forward"),
                     "pyamg.relaxation.relaxation.sor(sweep='forward', iterations=k): "
                     "no stopping test, one Python call per sweep", floor="stream"),
            B.Method("pyamg C++ sweep", lambda k: _repeat(lambda: amg_core.sor_gauss_seidel(
                A.indptr, A.indices, A.data, xp, b, 0, n, 1, OMEGA), k),
                     "amg_core.sor_gauss_seidel called directly, forward, no stopping test",
                     floor="stream"),
        ]
    out += [
        B.Method("SSOR-PCG", lambda k: _expect(ssor_pcg(op, b, OMEGA, maxiter=k, **TINY), k),
                 "ours: solvers.ssor_pcg, paper order, Eisenstat form, true-residual test",
                 floor="SOR sweep", max_k=CG_MAX_K),
        B.Method("CG", lambda k: _expect(cg(op, b, maxiter=k, **TINY), k),
                 "ours: solvers.cg, recursive residual (true residual checked on convergence)",
                 floor="SpMV", max_k=CG_MAX_K),
        B.Method("scipy CG", lambda k: spla.cg(A, b, rtol=1e-300, atol=1e-300, maxiter=k),
                 "scipy.sparse.linalg.cg, no preconditioner", floor="scipy SpMV",
                 max_k=CG_MAX_K),
    ]
    if scipy_ssor:
        M = scipy_ssor_operator(A, OMEGA)
        out.append(B.Method(
            "scipy SSOR-PCG", lambda k: spla.cg(A, b, rtol=1e-300, atol=1e-300, maxiter=k, M=M),
            "scipy cg with M = paper-order SSOR through spsolve_triangular",
            floor="scipy SpMV", max_k=CG_MAX_K))
    return out, {"n": n, "nnz": op.nnz, "matrix": f"laplacian_2d({m})",
                 "bytes": {"stream": csr_bytes(op), "sweep": split_bytes(op),
                           "numpy copy": 2 * src.nbytes}}


#: (numerator, denominator) pairs printed as ratios
RATIOS = [("SOR", "pyamg sor"), ("SOR", "pyamg C++ sweep"), ("SOR", "SOR sweep"),
          ("SOR", "SpMV"), ("SSOR-PCG", "SpMV"), ("SSOR-PCG", "scipy SSOR-PCG"),
          ("CG", "scipy CG"), ("SpMV", "scipy SpMV")]


#: (method, whose bytes) pairs printed as rates: the stream, the kernels that read the same
#: bytes (an SpMV) or their own (a bare sweep), and the copy
BANDWIDTH = [("stream", "stream"), ("SpMV", "stream"), ("SOR sweep", "sweep"),
             ("numpy copy", "numpy copy")]


def whole_solves(m, rounds, shift=1.0, omega=1.2):
    """Whole solves to rtol = 1e-8 on ``shifted_laplacian_2d(m, shift)`` (x0 = 0): SOR and
    SSOR-PCG with their real stopping tests; seconds per solve and iterations."""
    A = prepare(gallery.shifted_laplacian_2d(m, shift))
    b = np.random.default_rng(1).standard_normal(A.n)
    its = {"SOR": sor(A, b, omega).iterations, "SSOR-PCG": ssor_pcg(A, b, omega).iterations}
    est = B.measure_calls({"SOR": lambda: sor(A, b, omega),
                           "SSOR-PCG": lambda: ssor_pcg(A, b, omega)}, rounds=rounds)
    return {"n": A.n, "matrix": f"shifted_laplacian_2d({m}, {shift:g})", "omega": omega,
            "iterations": its, "seconds": {k: v.samples.tolist() for k, v in est.items()},
            "estimates": est}


def per_iteration_tables(results, ratios, *, markdown=False):
    """The per-iteration table (one row per method, one column per size) and the ratio table,
    as text; also returns the sanity messages of every size."""
    names = list(results[0][0])
    sizes = [f"n = {meta['n']:,}" for _, meta in results]
    rows, warnings, dagger = [], [], False
    for nm in names:
        row = [nm]
        for timings, meta in results:
            t, spmv = timings.get(nm), timings.get("SpMV")
            cell = B.fmt(t.per_iter) if t else "—"
            if (t and spmv and nm not in ("SpMV", "stream", "numpy copy")
                    and t.per_iter.q3 < spmv.per_iter.q1):
                cell += " †"
                dagger = True
            row.append(cell)
        rows.append(row)
    for timings, meta in results:
        warnings += [f"n = {meta['n']:,}: {w}" for w in B.check(timings)]
    text = ["milliseconds per iteration, median [inter-quartile range] over rounds",
            B.format_table(["method"] + sizes, rows, markdown=markdown)]
    if dagger:
        text.append("† below one CSR SpMV: possible only for a kernel that streams fewer bytes "
                    "than CSR (the split triangles keep a_{i,i±1} without column indices and "
                    "write no output vector); each method is checked against its own floor")
    rrows = []
    for a, b in ratios:
        if a in names and b in names:
            row = [f"{a} / {b}"]
            for timings, _ in results:
                r = B.ratio(timings[a], timings[b])
                row.append(f"{B.fmt(r, 1, 2)} = {timings[a].per_iter.median * 1e3:.3g} / "
                           f"{timings[b].per_iter.median * 1e3:.3g} ms")
            rrows.append(row)
    text += ["", "ratios, paired per round: median [inter-quartile range] = numerator / "
                 "denominator (medians, ms)",
             B.format_table(["ratio"] + sizes, rrows, markdown=markdown)]
    brows = []
    for nm, of in BANDWIDTH:
        if all(nm in timings and of in meta.get("bytes", {}) for timings, meta in results):
            brows.append([f"{nm} ({of} bytes)"] + [
                f"{meta['bytes'][of] / timings[nm].per_iter.median / 1e9:.3g}"
                for timings, meta in results])
    if brows:
        text += ["", "GB/s: the bytes a stream reads (the numpy copy: bytes read plus bytes "
                     "written) over the median time per iteration",
                 B.format_table(["method"] + sizes, brows, markdown=markdown)]
    return "\n".join(text), warnings


def print_methods(timings, out):
    for name, t in timings.items():
        floor = f" [floor: {t.method.floor}]" if t.method.floor else ""
        print(f"  {name}: {t.method.options}{floor}", file=out)


def print_warnings(warnings, out):
    if warnings:
        print("\n" + "!" * 78, file=out)
        for w in warnings:
            print(("!! " if "IMPOSSIBLE" in w else "   ") + w, file=out)
        print("!" * 78, file=out)


def report(results, solves, info, *, markdown=False, out=None):
    """Print the tables (and the sanity messages) for :func:`run`'s results."""
    out = sys.stdout if out is None else out
    print(B.machine_header(info), file=out)
    warnings = []
    if results:
        clock = next(iter(results[0][0].values())).clock
        print(f"\nmethods (ω = {OMEGA}, x0 = 0, random b; per iteration = Theil–Sen slope of "
              f"T(k) over four k per round, T = {'process CPU' if clock == 'cpu' else 'wall'} "
              "time):", file=out)
        print_methods(results[0][0], out)
        text, warnings = per_iteration_tables(results, RATIOS, markdown=markdown)
        print("\n" + text, file=out)
    if solves:
        print("\nwhole solves to rtol = 1e-8 (x0 = 0, random b; ms per solve, median "
              "[inter-quartile range], interleaved)", file=out)
        head = ["n", "matrix", "ω", "SOR its", "SOR ms", "ms/its", "SSOR-PCG its", "SSOR-PCG ms",
                "ms/its"]
        rows = []
        for s in solves:
            e = s["estimates"]
            rows.append([f"{s['n']:,}", s["matrix"], f"{s['omega']:g}",
                         str(s["iterations"]["SOR"]), B.fmt(e["SOR"]),
                         f"{e['SOR'].median * 1e3 / s['iterations']['SOR']:.4g}",
                         str(s["iterations"]["SSOR-PCG"]), B.fmt(e["SSOR-PCG"]),
                         f"{e['SSOR-PCG'].median * 1e3 / s['iterations']['SSOR-PCG']:.4g}"])
        print(B.format_table(head, rows, markdown=markdown, align="llrrrrrrr"), file=out)
    print_warnings(warnings, out)
    return warnings


def run(sizes, *, rounds=7, target=0.03, scipy_ssor=False, solve_sizes=(), progress=None):
    results = []
    for m in sizes:
        ms, meta = methods(m, scipy_ssor=scipy_ssor)
        if progress:
            progress(f"n = {meta['n']:,}: {len(ms)} methods, {rounds} rounds")
        results.append((B.measure(ms, rounds=rounds, target=target), meta))
        del ms  # its matrices and vectors, before the next size's (the memory check's count)
    solves = [whole_solves(m, rounds) for m in solve_sizes]
    return results, solves


def to_json(results, solves, info):
    return {"machine": info,
            "per_iteration": [{**meta, "methods": {k: t.to_dict() for k, t in timings.items()}}
                              for timings, meta in results],
            "whole_solves": [{k: v for k, v in s.items() if k != "estimates"} for s in solves]}


def main(argv=None) -> int:
    """Command-line entry point (also ``relaxtune bench kernels``)."""
    ap = BenchParser("kernels",
                                 description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 316, 1000],
                    help="grid sides m (n = m²); default 100 316 1000 → n ≈ 1e4, 1e5, 1e6")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (>= 3)")
    ap.add_argument("--target", type=B.seconds, default=0.03,
                    help="seconds of the longest timed call per method (sets its k values)")
    ap.add_argument("--solve-sizes", type=int, nargs="*", default=[100, 316, 1000],
                    help="grid sides for the whole-solve table (empty: skip)")
    ap.add_argument("--scipy-ssor", action="store_true",
                    help="add the (slow) scipy SSOR-PCG column")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--json", type=B.output_file, help="also write the raw timings (seconds) to this file")
    args = ap.parse_args(argv)
    if args.rounds < 3:  # --target is checked by its type
        ap.error(f"--rounds must be >= 3, got {args.rounds}")
    for name, sizes in (("--sizes", args.sizes), ("--solve-sizes", args.solve_sizes)):
        bad = [m for m in sizes if m < 2]
        if bad:
            ap.error(f"{name} must be grid sides >= 2, got {bad[0]}")
        for m in sizes:  # the matrix, the prepared operator and its triangles, six vectors
            refusal = B.too_big(f"{name} {m}", f"laplacian_2d({m})", m * m, 5, matrices=3,
                                vectors=6, peak=B.PEAK_FACTORS["kernels"])
            if refusal:
                ap.error(refusal)
    info = B.machine_info()
    results, solves = run(args.sizes, rounds=args.rounds, target=args.target,
                          scipy_ssor=args.scipy_ssor, solve_sizes=args.solve_sizes,
                          progress=lambda s: print(s, file=sys.stderr, flush=True))
    warnings = report(results, solves, info, markdown=args.markdown)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(to_json(results, solves, info), fh, indent=1)
    # an impossible figure is a benchmark error, as in ``bench pcg`` and ``bench tuner``
    return 1 if any("IMPOSSIBLE" in w for w in warnings) else 0


if __name__ == "__main__":
    raise SystemExit(main())
