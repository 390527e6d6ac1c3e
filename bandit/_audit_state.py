"""Persistence of :class:`bandit.audit.Auditor`: its state for a tuner's file and the
control state rank 0 sends the other MPI ranks (:class:`AuditState`).  Imported from
:mod:`bandit.audit` once its constants exist.
"""
from __future__ import annotations

import numpy as np

from .audit import AUDIT_COLUMNS, COMPLETE


class AuditState:
    """The part of :class:`bandit.audit.Auditor` that saves and loads its state (a mixin: the
    Auditor's state is the Auditor's)."""

    def control_state(self) -> dict:
        """Everything that decides future audits (not the records, which every rank appends
        alike): rank 0 draws, the other ranks take this."""
        return {"epoch_start": list(self.epoch_start), "q": list(self.q), "r": list(self.r),
                "full": list(self.full), "c": list(self.c), "capped": self.capped.copy(),
                "stopped": self.stopped, "completion": list(self.completion),
                "column": list(self.column),
                "next_plan": self.next_plan, "next_adjust": self.next_adjust,
                "next_audit": self.next_audit, "planning": self.planning, "plan": self.plan,
                "plan_cost": self.plan_cost, "plan_floor": self.plan_floor, "spent": self.spent,
                "settled": self.settled, "prepaid": self.prepaid, "floored": self.floored,
                "last_adjust": list(self.last_adjust), "plans": self.plans,
                "solved": self.solved,
                "mini_cost": self.mini_cost, "mini_plans": self.mini_plans,
                "rng": self.rng.bit_generator.state}

    def load_control(self, state: dict) -> None:
        for key in ("epoch_start", "q", "r", "full", "c", "capped", "stopped", "completion",
                    "column", "next_plan", "next_adjust", "next_audit", "planning", "plan",
                    "plan_cost", "plan_floor", "spent", "settled", "prepaid", "floored",
                    "last_adjust", "plans", "solved"):
            setattr(self, key, state[key])
        self.mini_cost = state.get("mini_cost")
        self.mini_plans = state.get("mini_plans", 0)
        self.rng.bit_generator.state = state["rng"]

    def state_dict(self) -> dict:
        return {"epoch_start": list(self.epoch_start),
                "q": [np.asarray(v) for v in self.q], "r": list(self.r),
                "full": [np.asarray(v) for v in self.full], "c": list(self.c),
                "stopped": self.stopped, "completion": list(self.completion),
                "column": list(self.column),
                "next_plan": self.next_plan, "next_adjust": self.next_adjust,
                "next_audit": self.next_audit,
                "records": {k: list(v) for k, v in self.records.items()},
                "seconds": self.seconds, "spent": self.spent, "planning": self.planning,
                "settled": self.settled, "prepaid": self.prepaid, "floored": self.floored,
                "last_adjust": list(self.last_adjust),
                "plan_cost": self.plan_cost, "plan_floor": self.plan_floor,
                "plan": None if self.plan is None else dict(self.plan),
                "capped": np.asarray(self.capped),
                "rng": self.rng.bit_generator.state}

    def load_state(self, state: dict) -> None:
        self.epoch_start = [int(v) for v in state["epoch_start"]]
        self.q = [np.asarray(v, dtype=float) for v in state["q"]]
        self.r = [float(v) for v in state["r"]]
        self.full = [np.asarray(v, dtype=bool) for v in state["full"]]
        # files written before completions were budgeted completed with COMPLETE throughout
        self.c = [float(v) for v in state.get("c", [COMPLETE] * len(self.epoch_start))]
        self.stopped = int(state.get("stopped", 0))
        self.completion = list(state.get("completion", [0, 0.0]))
        self.column = list(state.get("column", [0, 0.0]))
        self.capped = np.asarray(state["capped"], dtype=bool)
        self.next_plan = int(state["next_plan"])
        self.next_adjust = int(state["next_adjust"])
        self.next_audit = int(state["next_audit"])
        self.records = {k: list(state["records"][k]) for k in AUDIT_COLUMNS}
        self.seconds = float(state["seconds"])
        self.planning = float(state["planning"])
        self.spent = float(state["spent"])
        # files written before the auditor's CPU time was settled: what they planned counts
        # as settled (it was charged at the plans' prices)
        self.settled = float(state.get("settled", self.planning))
        self.prepaid = float(state.get("prepaid", 0.0))
        self.floored = bool(state.get("floored", False))
        self.last_adjust = tuple(float(v) for v in state.get("last_adjust", (0.0, 0.0)))
        self.plan_cost = None if state["plan_cost"] is None else float(state["plan_cost"])
        self.plan_floor = float(state.get("plan_floor", 0.0))  # older files: no floor
        # a mini plan's price is not saved (the tuner file's audits hold a plan's, not
        # this switch's): a loaded tuner measures it anew (bandit.audit.MINI_PLAN)
        self.mini_cost = None
        plan = state["plan"]
        self.plan = None if plan is None else {"rate": float(plan["rate"]),
                                               "row_cost": float(plan["row_cost"]),
                                               "q": np.asarray(plan["q"], dtype=float)}
        self.rng.bit_generator.state = state["rng"]
