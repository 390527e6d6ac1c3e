"""The clock a :class:`bandit.Tuner`'s runs are timed on, named for a warning, and the warning
given when a converged run reads 0 s on it (:meth:`bandit._tuner_run.RunSteps._clock_zero`).

The solvers read ``time.perf_counter`` of their own module (:mod:`solvers._api` for the
Numba backend, :mod:`solvers.petsc` for PETSc); a custom solver function reports its own
seconds.  Only Python's own clocks have a known resolution (:func:`time.get_clock_info`).
"""
from __future__ import annotations

import sys
import time

__all__ = ["FALLBACK_RESOLUTION", "clock_named", "zero_reading_warning"]

#: the floor a 0 s reading is told at, before any seconds per iteration are measured, on a
#: clock whose resolution is unknown (a replaced one, a custom solver's): ``perf_counter``'s
#: nominal resolution on Linux, the finest any clock can claim
FALLBACK_RESOLUTION = 1e-9


def clock_named(tuner) -> tuple[str, float]:
    """The clock ``tuner``'s runs are timed on (a readable name) and its resolution in seconds
    (:data:`FALLBACK_RESOLUTION` when unknown; the name then says so)."""
    if not tuner._by_name:
        fn = getattr(tuner._solver, "__name__", type(tuner._solver).__name__)
        return (f"the seconds the solver function {fn!r} reports (resolution unknown)",
                FALLBACK_RESOLUTION)
    where = "solvers.petsc" if tuner._backend == "petsc" else "solvers._api"
    module = sys.modules.get(where)
    clock = getattr(getattr(module, "time", None), "perf_counter", None)
    if clock is time.perf_counter:
        resolution = time.get_clock_info("perf_counter").resolution
        return f"time.perf_counter (resolution {resolution:.3g} s)", resolution
    name = getattr(clock, "__qualname__", repr(clock))
    return (f"{name}, replacing time.perf_counter in {where} (resolution unknown)",
            FALLBACK_RESOLUTION)


def zero_reading_warning(cost, name, resolution, iterations, told) -> str:
    """The warning's text (once per tuner)."""
    return (f"cost={cost!r}: a converged solve of {iterations} iterations read 0 s on the "
            f"clock it is timed on, {name}: the clock's resolution is too coarse for these "
            f"solves, and a cost of 0 would make whichever arm is played first look free. "
            f"Such a solve is told (and recorded) at its iterations times the seconds per "
            f"iteration measured so far ({told:.3g} s here; the reading is kept in "
            f"info['clock_reading']), so the arms compare by their iterations. To learn from "
            f"these solves use cost='iterations' or cost='work', or time them on a finer "
            f"clock.")
