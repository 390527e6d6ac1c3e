"""What an audit record holds for an arm that keeps its set-up (``reuse=k``): the cost per
step of a fixed run of that arm, not the set-up the audit run happened to build or reuse
(:func:`recorded_cost`; :meth:`bandit._tuner_audit.AuditSteps._audit_runs` records it, and
the budget counts what the run paid).

A fixed run of an arm with ``reuse=k`` builds one set-up ``S`` per ``1 + k`` solves while the
matrix pattern holds, so the comparator's cost of a step is the solve plus ``S / (1 + k)``.
An audit run builds the whole set-up when the arm holds none (its held one has aged out
whenever the learner has not played it for ``k`` rounds) and none when it reuses the
learner's: recorded as it ran, its samples of that column were ``(1 + k)`` × too dear in
their set-up part, or free of it.
"""
from __future__ import annotations

import numpy as np

__all__ = ["recorded_cost", "setup_part"]


def setup_part(arms, res) -> float:
    """The set-up cost a run ``res`` built, as its cost in ``arms``' unit counts it
    (:meth:`bandit.armset.ArmSet.cost_of`): its counted work with ``cost="work"``; on the
    clock the seconds it is charged (:meth:`~bandit.armset.ArmSet.setup_charge`, else its
    reading), with ``"timed_work"`` converted to the prices' seconds (``clock_units``).  0
    for a run that built none.

    Examples
    --------
    >>> class Arms: cost = "work"
    >>> class Run: info = {"setup": True, "setup_work": 2.5}
    >>> setup_part(Arms(), Run())
    2.5
    """
    info = res.info
    if not info.get("setup"):
        return 0.0
    if arms.cost == "work":
        return float(info.get("setup_work", 0.0))
    charged = info.get("setup_charged")
    if charged is None:
        charged = info.get("setup_seconds", 0.0)
    units = info.get("clock_units", 1.0) if arms.cost == "timed_work" else 1.0
    return float(charged) * float(units)


def _held_setup(arms, k) -> float:
    """The set-up arm ``k``'s run reused: the one it holds, as charged when it was built
    (:meth:`bandit.armset.ArmSet.told_cost` tells the learner its share too), else the
    latest measured one of its kind (0 when none was)."""
    held = arms._held[k] if getattr(arms, "_held", None) is not None else None
    if held:
        return float(held)
    configs = getattr(arms, "configs", None)
    if configs is None:
        return 0.0
    return float(arms._setup.get(configs[k].setup_key, 0.0) or 0.0)


def recorded_cost(tuner, k, res, cost, op=None) -> float:
    """What an audit record of arm ``k``'s converged run ``res``, which cost ``cost`` in the
    tuner's unit, holds: ``cost`` for an arm without a kept set-up (``reuse = 0``, no
    preconditioner, ``cost="iterations"``: a set-up costs no iterations); for an arm with
    ``reuse=k`` its solve plus ``S / (1 + k)`` —

    * a run that built its set-up: ``cost − S + S / (1 + k)``, ``S`` the set-up as its cost
      counts it (:func:`setup_part`);
    * a run that reused the held one: ``cost + S / (1 + k)``, ``S`` that set-up as charged
      when it was built (else the latest measured one of its kind) — and so a run on a
      set-up a run of this round on ``op`` built or reused (a completion of the attempt
      that built it, an audit after a fallback to the arm);

    what a fixed run of the arm pays a step where the matrix pattern holds (one set-up
    every ``1 + k`` solves).  Every audit run counts this way — column, completion and row
    runs, and the played arm's own solve observed for free — while the budget counts what
    the run paid (``cost``), and the learner's own total, ``paid``, keeps every set-up whole.
    A run on the very matrix its held set-up was built for in an earlier round (neither
    built nor reused: a fixed run does not rebuild there either) is recorded at its cost.  Under MPI every rank records the same value (the runs' results
    and the arms' set-up measurements are rank 0's).

    Examples
    --------
    >>> class Pc: reuse = 4
    >>> class Arms:
    ...     cost, has_setups, _pcs, _held = "work", True, [None, Pc()], [None, 2.5]
    >>> class Tuner: cost, _arms = "work", Arms()
    >>> class Built: info = {"setup": True, "setup_work": 2.5}
    >>> class Reused: info = {"setup": False, "reused": True}
    >>> recorded_cost(Tuner(), 1, Built(), 30.0)    # 27.5 solving, a fifth of 2.5
    28.0
    >>> recorded_cost(Tuner(), 1, Reused(), 27.5)
    28.0
    >>> recorded_cost(Tuner(), 0, Built(), 30.0)    # no set-up kept: as it ran
    30.0
    """
    arms = getattr(tuner, "_arms", None)
    if arms is None or tuner.cost == "iterations" or not getattr(arms, "has_setups", False):
        return cost
    pc = arms._pcs[k]
    reuse = getattr(pc, "reuse", 0) if pc is not None else 0
    if not reuse:
        return cost
    info = res.info
    if info.get("setup"):
        setup = setup_part(arms, res)
        if not 0.0 < setup <= cost:
            return cost
        return cost - setup + setup / (1.0 + reuse)
    if info.get("reused") or _used_this_round(arms, k, pc, op):
        return cost + _held_setup(arms, k) / (1.0 + reuse)
    return cost


def _used_this_round(arms, k, pc, op) -> bool:
    """Whether a run of arm ``k`` that neither built nor reused a set-up ran on one that a
    run of this round built or reused (the attempt that a completion finishes, a fallback
    before the audit: the set-up is then current for the round's matrix), not on the very
    matrix an earlier round's set-up was built for (a fixed run neither rebuilds nor
    reuses there, :meth:`bandit.armset.ArmSet.age`)."""
    if op is None or not getattr(pc, "built", False):
        return False
    if arms._built_round[k] == arms.round:
        return True
    # (not pc._holds: a reuse on the refreshed working copy marks its values current)
    values = getattr(pc, "_values", None)
    return not (values is not None and values.shape == op.data.shape
                and np.array_equal(values, op.data))
