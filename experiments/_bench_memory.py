"""What a benchmark's arrays need in memory and what the machine has (part of
:mod:`experiments._bench`, importable from there): the arrays a benchmark holds at once
(:func:`memory_needed`), its measured peak per byte of them (:data:`PEAK_FACTORS`) and the
memory this process may still allocate (:func:`memory_available`); the refusal built from
them, :func:`experiments._bench.too_big`, stays in :mod:`experiments._bench`, where the tests
set ``memory_available``."""
from __future__ import annotations

import os


def memory_needed(n: int, per_row: float, *, matrices: int = 1, vectors: int = 0) -> int:
    """Bytes of ``matrices`` CSR matrices of ``n`` rows with ``per_row`` entries a row (the
    stencil's) and ``vectors`` float64 vectors of length ``n``: what a benchmark holds at once,
    counted from its code, never more than it allocates (a lower bound of its peak).

    Index arrays are int32 while the entries fit, int64 beyond (as scipy builds them).

    >>> memory_needed(100, 5, matrices=1, vectors=2)  # 500 entries: 500 × (8 + 4) + 101 × 4 + 1600
    8004
    """
    n = int(n)
    nnz = int(round(n * per_row))
    idx = 4 if max(nnz, n + 1) < 2**31 else 8
    return matrices * (nnz * (8 + idx) + (n + 1) * idx) + vectors * 8 * n


#: Peak resident memory of each ``relaxtune bench`` run per byte :func:`memory_needed` counts
#: for it, measured: the growth of the peak (``VmHWM``) between two sizes over the growth of
#: the count, each size in a fresh process, rounded up (what the benchmark allocates beyond
#: the arrays it holds: temporaries of scipy and the kernels, freed memory the allocator
#: keeps, pyamg's hierarchies, PETSc's copies).  On the AMD EPYC Zen 3 machine (CPU family 25,
#: model 1; ``bench kernels|petsc --rounds 3 --target 0.005``, ``bench pcg --repeats 3
#: --target 0.005``, ``bench tuner --rounds 3``): kernels sides 500 → 1000 (counted 60 →
#: 240 MB) 3.14, 200 → 400 3.36; petsc 500 → 1000 (80 → 320 MB) 4.57; pcg lap2d 2.5e5 → 1e6
#: unknowns 6.36, diff3d 1e5 → 2.5e5 6.05; tuner 1e5 → 4e5: heat2d 1.74, heat2d-hi 1.80,
#: mc3d 1.69.
PEAK_FACTORS = {"kernels": 3.5, "petsc": 5.0, "pcg": 7.0, "tuner": 2.0}


def memory_available() -> int | None:
    """Bytes this process may still allocate: the machine's available memory (``MemAvailable``
    of ``/proc/meminfo``, free pages elsewhere), capped by an address-space limit
    (``ulimit -v``) less what the process already maps; None when nothing can be read."""
    import resource

    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        mapped = 0
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmSize:"):
                        mapped = int(line.split()[1]) * 1024
        except OSError:
            pass
        room = max(0, soft - mapped)
        avail = room if avail is None else min(avail, room)
    return avail


def _bytes(v: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if v < 1000 or unit == "PB":
            return f"{v:.3g} {unit}" if unit != "bytes" else f"{v:.0f} bytes"
        v /= 1000
    raise AssertionError  # pragma: no cover
