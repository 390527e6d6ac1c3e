"""What a :class:`bandit.Tuner`'s run cost beyond its solves (part of :mod:`bandit.report`,
importable from there): its audits and their planning, the first solve's loading of compiled
code, and the unit its costs are counted in."""
from __future__ import annotations

import numpy as np


def first_solve_load(seconds, iterations, arm, starts=(0,)) -> float:
    """Seconds of the first solve of each process that solved with the tuner (rounds
    ``starts``: 0, and the first round after each :meth:`~bandit.Tuner.load`) beyond its
    iterations at the median seconds per iteration of the other solves of the same arm (of
    every other solve when its arm has none): in a fresh process, what loading the compiled
    kernels took (0 when such a solve took no longer than the others, or there are no
    others).

    Examples
    --------
    >>> # a first solve of 10 iterations that took 50 ms, then a microsecond an iteration
    >>> round(first_solve_load([0.05, 2e-5, 3e-5], [10, 20, 30], [0, 0, 0]), 8)
    0.04999
    >>> # the same run continued in a second process from round 2: 30 ms to load again
    >>> round(first_solve_load([0.05, 2e-5, 0.03003, 2e-5], [10, 20, 30, 20], [0, 0, 0, 0],
    ...                        starts=(0, 2)), 8)
    0.07999
    """
    s = np.asarray(seconds, dtype=float)
    its = np.maximum(np.asarray(iterations, dtype=float), 1.0)  # a 0-iteration solve: 1
    arm = np.asarray(arm)
    starts = [int(r) for r in starts if 0 <= r < s.size]
    other = np.ones(s.size, dtype=bool)
    other[starts] = False
    if not other.any():
        return 0.0
    per = s / its
    load = 0.0
    for r in starts:
        same = other & (arm == arm[r])
        rate = float(np.median(per[same] if same.any() else per[other]))
        load += max(0.0, float(s[r] - its[r] * rate))
    return load


def audit_cost(tuner) -> dict:
    """Audit runs, their iterations and seconds, planning seconds, both over the user's
    solve seconds without the first solve's loading of compiled code (``fraction``;
    ``load_seconds``: :func:`first_solve_load`), the audits' iterations over the user's
    (``audit_share``), the planning seconds over those solve seconds
    (``planning_share``), and the share the budget bounds (``budget_used``: audits and plans
    over the user's solves in the tuner's cost unit, ``unit``)."""
    from .audit import _solved

    aud = tuner._auditor
    rows = tuner._rows  # (the log converted once)
    solve = float(np.sum(rows["seconds"])) if tuner._log else 0.0
    # the shares in seconds are over the solves without the first one's loading of the
    # compiled kernels (a one-off of tens of milliseconds, against tens of microseconds a
    # solve: 300 SOR solves of a 100-unknown system read 2.1 % where the same run in a
    # process that had loaded them read 6.4 %)
    load = first_solve_load(rows["seconds"], rows["iterations"], rows["arm"],
                            tuner._starts())
    common = {"budget": float(tuner.audit_budget), "unit": cost_unit(tuner.cost),
              "load_seconds": load}
    its = int(np.sum(rows["iterations"])) if tuner._log else 0
    common = {**common, "solve_iterations": its}
    if aud is None:
        return {"audit_runs": 0, "audit_iterations": 0, "audit_seconds": 0.0,
                "planning_seconds": 0.0, "solve_seconds": solve, "fraction": 0.0,
                "audit_share": 0.0, "planning_share": 0.0, "budget_used": 0.0, **common}
    spent = aud.seconds + aud.planning
    solved = _solved(tuner)
    net = solve - load
    # the audits' share in iterations, not seconds: the first solve's seconds include
    # loading the compiled kernels (a 3-audit run read 0.0 % of the solve time), and the
    # planning seconds are no audit runs (a run with none read 115 %): those are stated apart
    a_its = int(np.sum(aud.records["iterations"]))
    return {"audit_runs": len(aud.records["round"]),
            "audit_iterations": a_its,
            "audit_seconds": aud.seconds, "planning_seconds": aud.planning,
            "solve_seconds": solve, "fraction": spent / net if net > 0 else 0.0,
            "audit_share": a_its / its if its > 0 else 0.0,
            "planning_share": aud.planning / net if net > 0 else 0.0,
            "budget_used": aud.spent / solved if solved > 0 else 0.0, **common}


def cost_unit(cost) -> str:
    """The unit of a tuner's costs: ``"iterations"``, ``"seconds"`` (``"time"`` and
    ``"timed_work"``) or ``"work"`` (matrix-pass equivalents)."""
    return {"time": "seconds", "timed_work": "seconds", "work": "work"}.get(cost, "iterations")
