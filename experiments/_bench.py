"""Timing discipline shared by the benchmarks: robust per-iteration times with their spread.

A per-iteration time is the slope of ``T(k)`` (the time of a call that performs exactly ``k``
iterations) against ``k``, fitted over four values of ``k`` in every round (Theil–Sen: the
median of the six pairwise slopes, so one disturbed call cannot move it), so per-call set-up
(validation, first residual, ``KSPSetUp``) lands in the intercept.  ``T`` is the process's CPU
time by default (``time.process_time``: all its threads, but not the time other processes held
the CPU — on a shared machine that time-slicing is the largest noise) and wall-clock time on
request; both are recorded, and a run whose wall-clock exceeds its CPU time is reported.  Rounds
interleave all methods (in a new random order each round, and the ``k`` of each method in a
random order too), so a slow phase of a shared machine hits every method alike; the figure is
the median over rounds with the inter-quartile range beside it, and a ratio of two methods is
the median of the per-round ratios (paired), printed with both absolute times.

What this replaces, and why: taking the *best* of several ``T(k)`` and, separately, of
``T(2k)``, then ``(T(2k) − T(k)) / k``, has no spread and no pairing.  The two minima come from
different moments; when the machine slows down between them (other work on the shared
cores, memory bandwidth taken by a neighbour) the difference can be anything — too large, too
small, even negative — and nothing in the output says so.  That is how an SOR iteration was
once printed as faster than one SpMV.

Sanity checks (:func:`check`): every method may name a *floor*, another measured method whose
per-iteration work is a subset of its own (the SpMV inside a CG iteration, the bare sweep inside
an SOR iteration, a single streaming read of the matrix for anything that reads all of it).  A
method clearly below its floor (its upper quartile under the floor's lower quartile) is
impossible and is reported as a benchmark error; so is a fit whose intercept is clearly
negative (time not linear in ``k``).  Every table starts with :func:`machine_header`: the CPU
model, caches, CPU pinning, load, and the library versions, so figures from different machines
are never mixed.

Examples
--------
A fake method, 1 ms of set-up and 0.2 ms per iteration, timed on a simulated clock (a real
one would make the figures depend on the machine's load):

>>> from types import SimpleNamespace
>>> from unittest import mock
>>> clock = SimpleNamespace(now=0.0)
>>> def run(k):
...     clock.now += 1e-3 + 2e-4 * k
>>> simulated = SimpleNamespace(perf_counter=lambda: clock.now, process_time=lambda: clock.now)
>>> with mock.patch(f"{__name__}.time", simulated):  # what measure reads its clocks from
...     t = measure([Method("fake", run)], rounds=3, ks=(2, 4, 6, 8))["fake"]
>>> print(f"{t.per_iter.median * 1e3:.4f} ms per iteration, {t.setup.median * 1e3:.4f} ms set-up")
0.2000 ms per iteration, 1.0000 ms set-up
"""
from __future__ import annotations

import argparse
import gc
import math
import importlib.metadata
import os
import platform
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["BenchParser", "Method", "Estimate", "Timing", "measure", "measure_calls", "ratio", "check",
           "machine_info", "machine_header", "format_table", "fmt", "seconds", "output_file",
           "output_folder", "memory_needed", "memory_available", "too_big", "PEAK_FACTORS"]

class BenchParser(argparse.ArgumentParser):
    """Argument parser of ``relaxtune bench NAME``: a bad option is one line on standard error
    (``relaxtune: error: bench NAME: ...``, no usage dump) and exit status 2, before anything
    is measured, as for every other subcommand."""

    def __init__(self, name: str, **kwargs):
        super().__init__(prog=f"relaxtune bench {name}", **kwargs)
        self.bench = name

    def error(self, message):
        from .cli import print_error

        print_error(f"bench {self.bench}: {message}")
        raise SystemExit(2)


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


def too_big(option: str, what: str, n: int, per_row: float, *, matrices: int = 1,
            vectors: int = 0, peak: float = 1.0, available: int | None = None) -> str | None:
    """The one-line refusal of a size whose arrays cannot fit in memory, or None.

    ``what`` names the problem at that size (``"laplacian_2d(1000000)"``); the message gives
    the number of unknowns and the memory needed beside what is available
    (:func:`memory_available`, or ``available``).  The memory needed is ``peak`` times the
    arrays the benchmark holds at once (:func:`memory_needed`, a lower bound): ``peak`` is
    the benchmark's measured growth of its peak resident memory per byte counted
    (:data:`PEAK_FACTORS`), so that a size just under the limit does not still meet the
    kernel's out-of-memory killer.  Checked before anything is built: a size far beyond the
    machine had failed with a MemoryError after minutes of building, or had the process
    killed by the kernel.
    """
    counted = memory_needed(n, per_row, matrices=matrices, vectors=vectors)
    need = int(math.ceil(peak * counted))
    avail = memory_available() if available is None else available
    if avail is None or need <= avail:
        return None
    held = (f"{matrices} matrix" if matrices == 1 else f"{matrices} matrices") + (
        f" and {vectors} vectors" if vectors else "")
    if peak == 1.0:
        need_text = f"needs at least {_bytes(need)} of memory ({held} held at once"
    else:
        need_text = (f"needs about {_bytes(need)} of memory at its peak ({peak:g} × the "
                     f"{_bytes(counted)} of {held} held at once, as measured")
    return (f"{option}: {what} has {int(n):,} unknowns and {need_text}, {per_row:g} entries "
            f"a row); {_bytes(avail)} is available: choose a smaller size")


def seconds(text: str) -> float:
    """Argument type of a time in seconds: a finite number > 0 (``--target``)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return v


def output_file(text: str) -> Path:
    """Argument type of a file a benchmark writes at its end (``--json``): refused at once if
    it is a folder or its folder cannot be created and written, so no measured run is lost."""
    from .cli import UsageError
    from .cli_folders import _writable_folder

    if text == "-":  # a file named "-" had been written; its tables go to standard output
        raise argparse.ArgumentTypeError("'-' (standard output) is not taken here: the tables "
                                         "are printed there; give a file name")
    path = Path(text).expanduser()  # ~ in --json=~/x, which the shell leaves
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name")
    try:
        _writable_folder(path.parent, "folder")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def output_folder(text: str) -> Path:
    """Argument type of a folder a benchmark writes into (``--cache``), checked at once."""
    from .cli import UsageError
    from .cli_folders import _writable_folder

    path = Path(text).expanduser()  # ~ in --json=~/x, which the shell leaves
    try:
        _writable_folder(path, "")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).strip()) from None
    return path


def read_cache(path, keys=None) -> dict | None:
    """The arrays of a benchmark's cached NPZ file (all, or ``keys``), or None if there is
    none or it cannot be read — cut short, another program's file — in which case the caller
    computes it again and replaces it (a note on standard error names the file)."""
    import sys
    import zipfile
    import zlib

    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return {k: z[k] for k in (z.files if keys is None else keys)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        print(f"relaxtune: note: cache file {path} cannot be read ({type(exc).__name__}); "
              "computing it again", file=sys.stderr, flush=True)
        return None


#: packages whose versions are printed with every table (missing ones are skipped)
PACKAGES = ("numpy", "scipy", "numba", "llvmlite", "pyamg", "petsc4py", "petsc")


@dataclass(frozen=True)
class Method:
    """One timed method.

    Parameters
    ----------
    name : str
        Unique label used in tables and for ``floor`` references.
    run : callable
        ``run(k)`` performs exactly ``k`` iterations (it may check that it did).
    options : str
        The settings that define the method, printed with the table.
    floor : str, optional
        Name of a method whose per-iteration work is a strict subset of this one's (see module
        docstring); this method's time must not fall below it.
    max_k : int, optional
        Largest ``k`` the method may run (e.g. CG stops with a breakdown once the residual
        reaches rounding level on a small matrix).
    """

    name: str
    run: Callable[[int], Any]
    options: str = ""
    floor: str | None = None
    max_k: int | None = None


@dataclass
class Estimate:
    """Median and spread of per-round values."""

    samples: np.ndarray

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def q1(self) -> float:
        return float(np.percentile(self.samples, 25))

    @property
    def q3(self) -> float:
        return float(np.percentile(self.samples, 75))

    @property
    def lo(self) -> float:
        return float(np.min(self.samples))

    @property
    def hi(self) -> float:
        return float(np.max(self.samples))

    @property
    def rel_iqr(self) -> float:
        """Inter-quartile range relative to the median."""
        m = self.median
        return (self.q3 - self.q1) / abs(m) if m else float("inf")

    def to_dict(self, scale=1.0) -> dict:
        return {"median": self.median * scale, "q1": self.q1 * scale, "q3": self.q3 * scale,
                "min": self.lo * scale, "max": self.hi * scale}


def fmt(est: Estimate, scale: float = 1e3, digits: int = 3) -> str:
    """``"median [q1–q3]"`` with ``digits`` significant digits (after ``scale``).

    >>> fmt(Estimate(np.array([1.0, 2.0, 3.0, 4.0, 5.0])), scale=1, digits=2)
    '3.0 [2.0–4.0]'
    """
    def g(v):
        v *= scale
        if v == 0 or not np.isfinite(v):
            return f"{v:g}"
        decimals = max(0, digits - 1 - int(np.floor(np.log10(abs(v)))))
        return f"{v:.{decimals}f}"
    return f"{g(est.median)} [{g(est.q1)}–{g(est.q3)}]"


@dataclass
class Timing:
    """Measurement of one method: per-iteration time, per-call set-up, the raw data."""

    method: Method
    ks: tuple
    per_iter: Estimate
    setup: Estimate
    fit_error: float  # largest |T − fit| / T over all rounds
    raw: np.ndarray = field(repr=False)  # rounds × len(ks) seconds, the clock used
    clock: str = "cpu"
    wall_per_iter: Estimate | None = None  # the same fit on wall-clock times
    raw_wall: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        out = {"name": self.method.name, "options": self.method.options,
               "floor": self.method.floor, "ks": list(self.ks), "clock": self.clock,
               "per_iteration_s": self.per_iter.to_dict(), "setup_s": self.setup.to_dict(),
               "fit_error": self.fit_error, "raw_s": self.raw.tolist()}
        if self.wall_per_iter is not None:
            out["wall_per_iteration_s"] = self.wall_per_iter.to_dict()
            out["raw_wall_s"] = self.raw_wall.tolist()
        return out


CLOCKS = ("cpu", "wall")


def _timed2(fn, *args) -> tuple[float, float]:
    """(wall-clock, process CPU) seconds of ``fn(*args)``."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    fn(*args)
    t1 = time.perf_counter()
    c1 = time.process_time()
    return t1 - t0, c1 - c0


def _timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def theil_sen(k: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row robust line fit ``T ≈ a + c k``: ``c`` = median of the pairwise slopes, ``a`` =
    median of ``T − c k``.  Returns ``(a, c)`` (one per row of ``T``).

    >>> a, c = theil_sen(np.array([1.0, 2, 3, 4]), np.array([[1.0, 2, 30, 4]]))
    >>> float(a[0]), float(c[0])  # the outlier 30 does not move the slope
    (0.0, 1.0)
    """
    i, j = np.triu_indices(k.size, 1)
    slopes = (T[:, j] - T[:, i]) / (k[j] - k[i])
    c = np.median(slopes, axis=1)
    a = np.median(T - c[:, None] * k[None, :], axis=1)
    return a, c


def _choose_ks(run, target: float, max_k: int) -> tuple:
    """Four iteration counts whose largest call takes about ``target`` seconds."""
    t1 = min(_timed(run, 1) for _ in range(2))
    t4 = min(_timed(run, 4) for _ in range(2))
    per = (t4 - t1) / 3.0
    if not per > 0.02 * t4 / 4:  # set-up dominates or noise: fall back to the whole call
        per = t4 / 4
    if not per > 0:  # the clock did not resolve four iterations: price them at one tick
        per = time.get_clock_info("perf_counter").resolution / 4
    kmax = min(max(round(target / per), 12), max_k)  # at least 12: slopes over a useful range
    ks = sorted({max(1, round(kmax * f)) for f in (0.25, 0.5, 0.75, 1.0)})
    while len(ks) < 4:  # tiny kmax: make four distinct counts
        ks.append(ks[-1] + 1)
    return tuple(ks)


def measure(methods: Sequence[Method], *, rounds: int = 7, target: float = 0.03,
            ks: Sequence[int] | None = None, max_k: int = 100_000, seed: int = 0,
            clock: str = "cpu",
            progress: Callable[[str], None] | None = None) -> dict[str, Timing]:
    """Per-iteration times of ``methods``, interleaved round by round.

    Parameters
    ----------
    methods : sequence of Method
    rounds : int
        Rounds; each round times every method at every ``k`` once.
    target : float
        Seconds the largest call of each method should take (picks its ``k`` values from a
        short calibration) unless ``ks`` is given.
    ks : sequence of int, optional
        The same iteration counts for every method (at least two distinct values).
    seed : int
        Seed of the random order within rounds.
    clock : {"cpu", "wall"}
        Which time the estimates use (both are recorded).

    Returns
    -------
    dict
        ``name -> Timing``.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}, got {clock!r}")
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    if rounds < 3:
        raise ValueError("rounds must be >= 3 for a median and a spread")
    rng = np.random.default_rng(seed)
    for m in methods:  # JIT compilation, KSP set-up, first-touch of the data
        m.run(1)
    plan = {}
    for m in methods:
        cap = max_k if m.max_k is None else min(max_k, m.max_k)
        plan[m.name] = tuple(sorted(set(ks))) if ks is not None else _choose_ks(m.run, target,
                                                                               cap)
        if len(plan[m.name]) < 2:
            raise ValueError("need at least two distinct iteration counts")
    wall = {m.name: np.empty((rounds, len(plan[m.name]))) for m in methods}
    cpu = {m.name: np.empty((rounds, len(plan[m.name]))) for m in methods}
    enabled = gc.isenabled()
    gc.disable()  # a collection inside a timed call is noise, not the method's cost
    try:
        for r in range(rounds):
            for mi in rng.permutation(len(methods)):
                m = methods[mi]
                kk = plan[m.name]
                for j in rng.permutation(len(kk)):
                    wall[m.name][r, j], cpu[m.name][r, j] = _timed2(m.run, kk[j])
            if progress:
                progress(f"round {r + 1}/{rounds}")
    finally:
        if enabled:
            gc.enable()
    out = {}
    for m in methods:
        k = np.asarray(plan[m.name], dtype=float)
        T = cpu[m.name] if clock == "cpu" else wall[m.name]
        intercepts, slopes = theil_sen(k, T)
        fit = intercepts[:, None] + slopes[:, None] * k[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):  # (a call read as 0 s: inf)
            fit_error = float(np.max(np.abs(T - fit) / T))
        wall_slopes = theil_sen(k, wall[m.name])[1]
        out[m.name] = Timing(m, plan[m.name], Estimate(slopes), Estimate(intercepts), fit_error,
                             T, clock, Estimate(wall_slopes), wall[m.name])
    return out


def measure_calls(fns: dict[str, Callable[[], Any]], *, rounds: int = 7, seed: int = 0,
                  clock: str = "cpu") -> dict[str, Estimate]:
    """Whole-call times of ``fns`` (name -> callable), interleaved; one call each per round.

    The samples of different names share the round index, so :func:`ratio` pairs them.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}, got {clock!r}")
    rng = np.random.default_rng(seed)
    names = list(fns)
    for f in fns.values():
        f()
    raw = {n: np.empty(rounds) for n in names}
    enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            for i in rng.permutation(len(names)):
                raw[names[i]][r] = _timed2(fns[names[i]])[clock == "cpu"]
    finally:
        if enabled:
            gc.enable()
    return {n: Estimate(raw[n]) for n in names}


def ratio(a: Timing | Estimate, b: Timing | Estimate) -> Estimate:
    """Per-round ratio ``a / b`` (paired by round): median and spread of the ratio itself."""
    ea = a.per_iter if isinstance(a, Timing) else a
    eb = b.per_iter if isinstance(b, Timing) else b
    return Estimate(ea.samples / eb.samples)


def check(timings: dict[str, Timing], *, noisy: float = 0.10) -> list[str]:
    """Messages for impossible or doubtful figures (empty when all is well).

    ``IMPOSSIBLE``: a per-iteration median that is not positive (the clock did not resolve
    the iterations: nothing physical takes no time, whatever the spread), a method clearly
    faster than its floor (upper quartile below the floor's lower quartile), or a fit whose
    intercept is clearly negative (more than a quarter of the smallest call: the time is not
    linear in ``k``).  ``noisy``: inter-quartile range above ``noisy`` times the median.
    """
    msgs = []
    for name, t in timings.items():
        fl = t.method.floor
        if not t.per_iter.median > 0:
            msgs.append(f"IMPOSSIBLE: {name} at {fmt(t.per_iter)} ms per iteration is not "
                        "positive: the clock did not resolve its iterations (use a larger "
                        "size or target)")
        elif fl is not None and fl in timings:
            f = timings[fl]
            if t.per_iter.q3 < f.per_iter.q1:
                msgs.append(
                    f"IMPOSSIBLE: {name} at {fmt(t.per_iter)} ms per iteration is below "
                    f"{fl} at {fmt(f.per_iter)} ms, which does a subset of its work: the "
                    "measurement is wrong (benchmark bug or an unstable machine)")
        smallest = np.min(t.raw[:, 0])
        if t.setup.q3 < -0.25 * smallest:
            msgs.append(f"IMPOSSIBLE: {name} has a negative per-call set-up "
                        f"({fmt(t.setup)} ms): T(k) is not linear in k")
        if t.per_iter.rel_iqr > noisy:
            msgs.append(f"noisy: {name} spread {100 * t.per_iter.rel_iqr:.0f}% of its median")
    excess = [t.wall_per_iter.median / t.per_iter.median - 1.0 for t in timings.values()
              if t.clock == "cpu" and t.wall_per_iter is not None and t.per_iter.median > 0]
    if excess and max(excess) > noisy:
        msgs.append(f"shared machine: wall-clock per iteration {100 * max(0, min(excess)):.0f}–"
                    f"{100 * max(excess):.0f}% above CPU time (other processes held the CPU; "
                    "the figures are CPU time)")
    return msgs


# -- the machine and the libraries --------------------------------------------------------

def _read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


def machine_info() -> dict:
    """CPU model, caches, pinning, load and library versions (everything :func:`machine_header`
    prints)."""
    info: dict = {}
    cpuinfo = _read("/proc/cpuinfo")

    def field_(key):
        m = re.search(rf"^{key}\s*:\s*(.*)$", cpuinfo, re.M)
        return m.group(1).strip() if m else None

    info["cpu"] = field_("model name") or platform.processor() or platform.machine()
    fam, mod, step = field_("cpu family"), field_(r"model"), field_("stepping")
    info["cpu_id"] = (f"family {fam}, model {mod}, stepping {step}" if fam else None)
    flags = (field_("flags") or "").split()
    info["virtualised"] = "hypervisor" in flags
    info["cpu_count"] = os.cpu_count()
    try:
        info["affinity"] = sorted(os.sched_getaffinity(0))
    except AttributeError:
        info["affinity"] = None
    caches = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    for idx in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        if not idx.startswith("index"):
            continue
        level = _read(f"{base}/{idx}/level").strip()
        kind = _read(f"{base}/{idx}/type").strip()
        size = _read(f"{base}/{idx}/size").strip()
        if kind != "Instruction" and level:
            caches[f"L{level}"] = size
    info["caches"] = caches
    try:
        info["loadavg"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        info["loadavg"] = None
    info["python"] = platform.python_version()
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    info["versions"] = versions
    try:
        import llvmlite.binding as llvm
        import numba

        info["numba_target"] = (f"LLVM host CPU {llvm.get_host_cpu_name()}, opt level "
                                f"{int(numba.config.OPT)}"
                                + (", JIT DISABLED" if numba.config.DISABLE_JIT else ""))
    except ImportError:
        info["numba_target"] = None
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here,
                             capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True,
                               timeout=5).stdout.strip()
        info["commit"] = (rev + ("+changes" if dirty else "")) if rev else None
    except (OSError, subprocess.SubprocessError):
        info["commit"] = None
    info["date"] = time.strftime("%Y-%m-%d %H:%M")
    return info


def machine_header(info: dict | None = None) -> str:
    """Lines to print above every table (see :func:`machine_info`)."""
    info = machine_info() if info is None else info
    cpu = info["cpu"] + (f" ({info['cpu_id']})" if info.get("cpu_id") else "")
    if info.get("virtualised"):
        cpu += ", virtual machine"
    pinned = info.get("affinity")
    if pinned is not None and len(pinned) == 1:
        pin = f", running on CPU {pinned[0]}"
    else:  # helper threads (e.g. a BLAS pool) would add their CPU time to any method
        pin = ", NOT pinned to one CPU (pin with taskset -c N)"
    caches = ", ".join(f"{k} {v}" for k, v in info.get("caches", {}).items())
    lines = [f"machine: {cpu}; {info.get('cpu_count')} CPUs{pin}; {caches}",
             "libraries: python " + info["python"] + ", "
             + ", ".join(f"{k} {v}" for k, v in info["versions"].items())]
    if info.get("numba_target"):
        lines.append(f"numba: {info['numba_target']}")
    extra = []
    if info.get("commit"):
        extra.append(f"relaxtune {info['commit']}")
    if info.get("loadavg"):
        extra.append("load average " + " ".join(map(str, info["loadavg"])))
    extra.append(info["date"])
    lines.append("; ".join(extra))
    return "\n".join("# " + line for line in lines)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                 markdown: bool = False, align: str | None = None) -> str:
    """A plain-text (or Markdown) table; ``align`` is one ``l``/``r`` per column (default: the
    first column left, the others right).

    >>> print(format_table(["a", "b"], [["x", "1.0"]]))
    a    b
    x  1.0
    """
    ncol = len(header)
    align = align or ("l" + "r" * (ncol - 1))
    if markdown:
        sep = ["---" if a == "l" else "---:" for a in align]
        return "\n".join("| " + " | ".join(r) + " |" for r in [header, sep, *rows])
    from .cli_common import shown  # measured as printed: ω may print as "omega"

    header, rows = [shown(str(c)) for c in header], [[shown(str(c)) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(ncol)]

    def line(r):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w)
                         for c, w, a in zip(r, widths, align)).rstrip()
    return "\n".join(line(r) for r in [header, *rows])
