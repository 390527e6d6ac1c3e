"""Launched by tests/test_mpi_one_rank_fails.py as ``mpiexec -n 2 python
tests/mpi_one_rank_fails.py OUT [SCENARIO ...]``.

Each scenario makes a fresh Tuner (PETSc backend, a 64-unknown Laplacian, audits on), solves
two rounds, then injects an exception on ONE rank at one point of the third solve (or of a
save), where the other rank goes on to a collective step:

* ``attempt``: the solver run, after its collective solve, on rank 1 (a failure one rank
  detects);
* ``audit_run``: an audit run, after its collective solve, on rank 1;
* ``update``: the policy's update on rank 1 (a learner of the user's);
* ``update_root``: the policy's update on rank 0;
* ``own_time``: Ctrl-C on rank 1 as the round's own time is shared (rank 0's reading);
* ``callback``: the Tuner's callback on rank 1;
* ``save_root``: building the saved state on rank 0 (``state_dict``);
* ``draw``: the policy's draw on rank 1;
* ``audit_plan_root``: the audit's plan, drawn on rank 0 alone;
* ``fallback``: a guarded solve whose attempt stops short (a cap of 1 iteration, on every
  rank): its first fallback run, after its collective solve, on rank 1;
* ``fallback_order_root``: the fallback order, drawn on rank 0 alone;
* ``after_last``: Ctrl-C on rank 1 once the round is recorded, after its last exchange (the
  other rank has returned: raised on rank 1 alone, which must not wait for it).

After the exception each rank writes what it raised, the rounds it recorded, a digest of its
policy, the lengths of its per-round lists, then solves two more rounds (the ranks must still
work together) and writes the arms.  Each rank writes ``OUT/<scenario>.rank<r>.json`` as it
finishes a scenario; a rank left waiting stops itself (``signal.alarm``), so a hang fails the
test instead of stalling it.
"""
import faulthandler
import hashlib
import json
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
import bandit._tuner_own as tuner_own  # noqa: E402
import solvers  # noqa: E402
import solvers.petsc  # noqa: E402

RANK = PETSc.COMM_WORLD.getRank()
OMEGAS = [1.0, 1.3, 1.6, 1.9]
BEFORE = 2  # rounds solved before the failing one (the first three are audited)
SCENARIOS = ["attempt", "audit_run", "update", "update_root", "own_time", "callback",
             "save_root", "draw", "audit_plan_root", "fallback", "fallback_order_root", "after_last"]
#: the scenario running and whether its injection is armed
STATE = {"where": None, "armed": False}


class Injected(Exception):
    """The failure injected on one rank (a class of the user's: not a built-in one)."""


def fire(where, rank):
    if STATE["armed"] and STATE["where"] == where and RANK == rank:
        STATE["armed"] = False
        if where in ("own_time", "after_last"):
            raise KeyboardInterrupt(f"Ctrl-C on rank {RANK} alone")
        raise Injected(f"{where} failed on rank {RANK} alone")


class Learner(bandit.TsallisINF):
    """Tsallis-INF whose draw, update or saved state can fail on one rank."""

    def select(self, context=None):
        fire("draw", 1)
        return super().select(context)

    def update(self, *args, **kwargs):
        fire("update", 1)
        fire("update_root", 0)
        return super().update(*args, **kwargs)

    def state_dict(self):
        fire("save_root", 0)
        return super().state_dict()


def digest(policy):
    return hashlib.sha256(pickle.dumps(vars(policy), protocol=4)).hexdigest()


def make(scenario):
    callback = None
    if scenario == "callback":
        def callback(res):
            fire("callback", 1)

    guarded = scenario.startswith("fallback")
    tuner = bandit.Tuner(Learner(OMEGAS, seed=5 + RANK), solver="ssor_pcg", backend="petsc",
                         guard=3.0 if guarded else None, audit_budget=1.0,
                         audit_seed=3 + RANK, callback=callback)
    calls = tuner._calls

    def wrap(fn):
        def run(*args, **kwargs):
            runs = STATE["runs"] = STATE.get("runs", 0) + 1  # (of the armed round)
            if guarded and STATE["armed"] and runs == 1:
                kwargs["maxiter"] = 1  # (every rank) the attempt stops short: a fallback
            res = fn(*args, **kwargs)  # the collective solve, then the one rank's failure
            if scenario == "fallback" and runs == 2:
                fire("fallback", 1)
            fire("audit_run" if STATE.get("auditing") else "attempt", 1)
            return res
        run.__name__ = fn.__name__
        return run

    tuner._calls = [(wrap(fn), kw) for fn, kw in calls]
    audit_runs = tuner._audit_runs

    def audited(*args):
        STATE["auditing"] = True
        try:
            return audit_runs(*args)
        finally:
            STATE["auditing"] = False

    tuner._audit_runs = audited
    if scenario == "audit_plan_root":
        aud = tuner._auditor
        decide = aud.decide

        def plan(*args):
            fire("audit_plan_root", 0)
            return decide(*args)

        aud.decide = plan
    if scenario == "fallback_order_root":
        order = tuner.fallback_order

        def fallback_order(*args):
            fire("fallback_order_root", 0)
            return order(*args)

        tuner.fallback_order = fallback_order
    return tuner


def run_scenario(scenario, out, M, rhs):
    STATE.update(where=scenario, armed=False, auditing=False)
    tuner = make(scenario)
    for i in range(BEFORE):
        tuner.solve(M, rhs[i])
    STATE["armed"], STATE["runs"] = True, 0
    report = {"scenario": scenario, "rank": RANK}
    try:
        if scenario == "save_root":
            tuner.save(os.path.join(out, "saved.json"))
        elif scenario == "own_time":
            real = tuner_own.shared

            def shared(*args):  # Ctrl-C reaching rank 1 as it shares the reading
                fire("own_time", 1)
                return real(*args)

            tuner_own.shared = shared
            try:
                tuner.solve(M, rhs[BEFORE])
            finally:
                tuner_own.shared = real
        elif scenario == "after_last":
            real_record = tuner_own.record

            def record(*args):  # Ctrl-C reaching rank 1 as the recorded round ends
                out = real_record(*args)
                fire("after_last", 1)
                return out

            tuner_own.record = record
            try:
                tuner.solve(M, rhs[BEFORE])
            finally:
                tuner_own.record = real_record
        else:
            tuner.solve(M, rhs[BEFORE])
        report["raised"] = None
    except BaseException as exc:  # noqa: BLE001 - what each rank raised is the result
        report["raised"] = [type(exc).__name__, str(exc)]
    report["fired"] = not STATE["armed"]  # (this rank's injection ran)
    STATE["armed"] = False
    report["rounds"] = len(tuner.history["arm"])
    report["told"] = int(tuner.policy.t)
    report["policy"] = digest(tuner.policy)
    report["own"] = len(tuner._own)
    report["audited_rounds"] = sorted(set(int(r) for r in tuner.audits["round"]))
    report["audit_records"] = len(tuner.audits["round"])
    report["audit_schedule"] = hashlib.sha256(pickle.dumps(
        tuner._auditor.control_state(), protocol=4)).hexdigest()
    report["saved"] = os.path.exists(os.path.join(out, "saved.json"))
    # the ranks still work together: two more rounds, the same on both
    for i in range(BEFORE + 1, BEFORE + 3):
        tuner.solve(M, rhs[i])
    report["after_arms"] = tuner.history["arm"].tolist()
    report["after_policy"] = digest(tuner.policy)
    report["after_own"] = len(tuner._own)
    with open(os.path.join(out, f"{scenario}.rank{RANK}.json"), "w") as f:
        json.dump(report, f)


def main(out, scenarios):
    # a rank left waiting prints where it waits, then ends, rather than at the launcher's
    # timeout
    faulthandler.dump_traceback_later(60, exit=True)
    warnings.simplefilter("ignore")
    # saved and loaded by its class name; registered here, not on import, so that the
    # suite's doctest collection (which imports this file) leaves the registry as it was
    bandit.POLICIES.setdefault("Learner", Learner)
    A = solvers.gallery.laplacian_2d(8)
    M = solvers.petsc.to_petsc_mat(A)
    rng = np.random.default_rng(0)
    rhs = [rng.standard_normal(A.shape[0]) for _ in range(BEFORE + 3)]
    for scenario in scenarios:
        run_scenario(scenario, out, M, rhs)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or SCENARIOS)
