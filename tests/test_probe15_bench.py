"""``relaxtune bench`` with sizes far beyond the machine's memory: refused before anything is
built, in one line that names the size and the memory it needs (status 2), and the estimate
it gives checked against what the benchmarks really allocate."""
import tracemalloc

import pytest

from experiments import _bench as B
from experiments import bench_kernels, bench_tuner
from experiments.cli import main


def _never(*args, **kwargs):
    raise AssertionError("a size that cannot fit was built")


@pytest.mark.parametrize("argv, patch, named", [
    # heat2d rounds 1e9 to a 31,623² grid; 7 rounds hold 8 systems and 7 more copies
    (["tuner", "--sizes", "1e9", "--problems", "heat2d"], (bench_tuner, "make_systems"),
     ["--sizes 1e+09", "1,000,014,129 unknowns"]),
    (["tuner", "--sizes", "1e4", "3e8", "--problems", "mc3d", "--solvers", "sor"],
     (bench_tuner, "make_systems"), ["--sizes 3e+08", "299,418,309 unknowns"]),
    (["kernels", "--sizes", "100", "1000000"], (bench_kernels, "methods"),
     ["--sizes 1000000", "1,000,000,000,000 unknowns"]),
    (["kernels", "--sizes", "100", "--solve-sizes", "100000"], (bench_kernels, "methods"),
     ["--solve-sizes 100000", "10,000,000,000 unknowns"]),
    (["petsc", "--sizes", "100000"], None, ["--sizes 100000", "10,000,000,000 unknowns"]),
    (["pcg", "--sizes", "1e9"], None, ["--sizes 1e+09", "1,000,014,129 unknowns"]),
])
def test_huge_sizes_refused_before_anything_is_built(argv, patch, named, monkeypatch, capsys):
    # it had built the matrices until a MemoryError (status 1) or the kernel killed the
    # process (status 137, taking other programs' memory first)
    monkeypatch.setattr(B, "memory_available", lambda: 8 * 10**9)
    if patch:
        monkeypatch.setattr(*patch, _never)
    assert main(["bench", *argv]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("relaxtune: error: bench ")
    assert all(s in lines[0] for s in named), lines[0]
    assert "8 GB is available" in lines[0] and "Traceback" not in err and out == ""


def test_needed_memory_figure():
    # 31,623² unknowns, 5 entries a row: 15 matrices of int64 indices (5e9 entries exceed
    # int32) at 16 bytes an entry and 8 a row pointer, 16 vectors of 8 bytes
    n = 31623 ** 2
    want = 15 * (5 * n * 16 + (n + 1) * 8) + 16 * 8 * n
    assert B.memory_needed(n, 5, matrices=15, vectors=16) == want
    msg = B.too_big("--sizes 1e9", "heat2d", n, 5, matrices=15, vectors=16, available=10**9)
    assert f"{want / 1e12:.3g} TB" in msg and "1 GB is available" in msg
    assert B.too_big("--sizes 1e9", "heat2d", n, 5, matrices=15, vectors=16,
                     available=want) is None


def _peak(fn):
    # once untraced first: the kernels compiled on a first call (after an edit, or on a fresh
    # clone with no Numba cache yet) allocate far more than the benchmark's arrays
    fn()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("problem", ["heat2d-hi", "mc3d"])
def test_bench_tuner_estimate_is_a_close_lower_bound(problem):
    # the bytes numpy allocates while a row is built and timed (tracemalloc sees numpy's
    # arrays): at least the estimate, and within 2.5 times it (heat2d-hi: 2.4, mc3d: 1.5),
    # so a refused size could not fit and an accepted one is not far beyond what was said
    rounds, n = 3, 30000

    def row():
        systems, meta = bench_tuner.make_systems(problem, n, rounds + 1)
        bench_tuner.measure_row(systems, "sor", meta["sor_omega"], rounds=rounds)

    peak = _peak(row)
    dim, per_row = (3, 7) if problem == "mc3d" else (2, 5)
    m = bench_tuner._grid_side(n, dim)
    est = B.memory_needed(m ** dim, per_row, matrices=rounds + 8, vectors=2 * (rounds + 1))
    assert est <= peak <= 2.5 * est, (est, peak)


@pytest.mark.parametrize("part", ["methods", "whole_solves"])
def test_bench_kernels_estimate_is_a_close_lower_bound(part):
    m = 200
    build = {"methods": lambda: bench_kernels.methods(m),
             "whole_solves": lambda: bench_kernels.whole_solves(m, 3)}[part]
    peak = _peak(build)
    est = B.memory_needed(m * m, 5, matrices=3, vectors=6)
    assert est <= peak <= 2 * est, (est, peak)
