"""The figures of a measurement (part of :mod:`experiments._bench`, importable from there): the
timed methods (:class:`Method`), the per-round samples and their median and spread
(:class:`Estimate`, :func:`fmt`), a method's per-iteration time and set-up (:class:`Timing`)
from the robust line fit (:func:`theil_sen`), paired ratios (:func:`ratio`) and the checks
that flag impossible or doubtful figures (:func:`check`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


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
