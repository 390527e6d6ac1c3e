"""``relaxtune bench``'s memory check counts the arrays a benchmark holds at once (a lower
bound); the peak resident memory grows 1.7–6.4 times faster than that count (measured at two
sizes of each benchmark), so a size whose count was just under the available memory could
still meet the kernel's out-of-memory killer. The check now compares the count times the
benchmark's measured factor (``_bench.PEAK_FACTORS``) with what is available."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import _bench as B
from experiments import bench_kernels, bench_tuner
from experiments.bench_pcg import grid
from experiments.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _never(*args, **kwargs):
    raise AssertionError("a size whose peak cannot fit was built")


# each size's counted arrays, and the bench's factor; the available memory is set between
# the count and the peak (1.3 × the count), where the check had let the size through
CASES = [
    (["kernels", "--sizes", "300"], (bench_kernels, "methods"), "kernels",
     B.memory_needed(300 ** 2, 5, matrices=3, vectors=6)),
    (["tuner", "--sizes", "1e5", "--problems", "mc3d", "--rounds", "3"],
     (bench_tuner, "make_systems"), "tuner",
     B.memory_needed(bench_tuner._grid_side(1e5, 3) ** 3, 7, matrices=11, vectors=8)),
    (["pcg", "--sizes", "1e5", "--problems", "diff3d"], None, "pcg",
     B.memory_needed(grid("diff3d", 1e5)[0] ** 3, 7, matrices=3, vectors=6)),
    (["petsc", "--sizes", "300"], None, "petsc",
     B.memory_needed(300 ** 2, 5, matrices=4, vectors=8)),
]


@pytest.mark.parametrize("argv, patch, bench, counted", CASES)
def test_a_size_whose_peak_exceeds_the_memory_is_refused(argv, patch, bench, counted,
                                                         monkeypatch, capsys):
    assert B.PEAK_FACTORS[bench] > 1.3
    monkeypatch.setattr(B, "memory_available", lambda: int(1.3 * counted))
    if patch:
        monkeypatch.setattr(*patch, _never)
    assert main(["bench", *argv]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("relaxtune: error: bench "), err
    need = int(B.PEAK_FACTORS[bench] * counted)
    assert f"needs about {B._bytes(need)} of memory at its peak" in lines[0], lines[0]
    assert f"{B.PEAK_FACTORS[bench]:g} × the {B._bytes(counted)}" in lines[0]
    assert out == ""


def test_the_same_size_is_accepted_where_its_peak_fits(monkeypatch):
    counted = CASES[0][3]
    avail = int(B.PEAK_FACTORS["kernels"] * counted) + 1
    assert B.too_big("--sizes 300", "laplacian_2d(300)", 300 ** 2, 5, matrices=3, vectors=6,
                     peak=B.PEAK_FACTORS["kernels"], available=avail) is None


_HWM = """
import sys
from experiments import bench_kernels

def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM:"))

bench_kernels.run([40], rounds=3, target=0.002, solve_sizes=[40])  # kernels compiled
m = int(sys.argv[1])
before = hwm()
bench_kernels.run([m], rounds=3, target=0.002, solve_sizes=[m])
print(before, hwm())
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_bench_kernels_peak_grows_within_its_factor():
    # the benchmark's own run at two sizes, each in a fresh process: the growth of the peak
    # resident memory between them, per counted byte, is within the factor the check uses
    # (3.2–3.4 measured; the count alone had been a third of it)
    grew, counted = [], []
    for m in (200, 400):
        out = subprocess.run([sys.executable, "-c", _HWM, str(m)], capture_output=True,
                             text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                             timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        before, after = map(int, out.stdout.split()[-2:])
        grew.append(after - before)
        counted.append(B.memory_needed(m * m, 5, matrices=3, vectors=6))
    slope = (grew[1] - grew[0]) / (counted[1] - counted[0])
    assert 2.0 < slope <= B.PEAK_FACTORS["kernels"], slope
    assert grew[1] <= B.PEAK_FACTORS["kernels"] * counted[1]
