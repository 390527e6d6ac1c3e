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

The parts are kept in private modules of their own (``experiments/_bench_figures.py``: the
figures and their checks, ``_bench_cli.py``: the command line, ``_bench_memory.py``: the memory
counts); every name is importable from here.
The clocked runs (which read ``time``, set by the tests to a simulated clock) and
:func:`too_big` (which reads :func:`memory_available`, set by the tests) stay here.

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

import gc
import importlib.metadata
import math
import os
import platform
import re
import subprocess
import time
from typing import Any, Callable, Sequence

import numpy as np

from ._bench_cli import BenchParser, output_file, output_folder, read_cache, seconds  # noqa: F401
from ._bench_figures import Estimate, Method, Timing, check, fmt, ratio, theil_sen  # noqa: F401
from ._bench_memory import PEAK_FACTORS, _bytes, memory_available, memory_needed  # noqa: F401


__all__ = ["BenchParser", "Method", "Estimate", "Timing", "measure", "measure_calls", "ratio", "check",
           "machine_info", "machine_header", "format_table", "fmt", "seconds", "output_file",
           "output_folder", "memory_needed", "memory_available", "too_big", "PEAK_FACTORS"]


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


#: packages whose versions are printed with every table (missing ones are skipped)
PACKAGES = ("numpy", "scipy", "numba", "llvmlite", "pyamg", "petsc4py", "petsc")


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
