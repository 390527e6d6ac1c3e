"""An exception on ONE MPI rank is raised on every rank: no rank is left waiting in the next
collective step, and the Tuner stays the same on every rank.

Launches ``mpiexec -n 2`` once on ``tests/mpi_one_rank_fails.py``, which injects a failure on
one rank at each point of a round where the ranks exchange data or where one rank can raise
while the other goes on to a collective step (the solve, an audit run, the learner's update,
the shared own-time reading, the callback, a save, the draw, the audit plan, a fallback run,
the fallback order), under a timeout:
a rank left waiting prints where and ends, so a hang fails these tests instead of CI.

Before, the other rank went on: to the next collective step (a hang), or to a mismatched one
(a ``TypeError`` from another exchange's data), or it returned normally while the failing
rank raised (a callback).  Now every rank raises at the same step — the failing rank its own
exception, the others one naming that rank and the error — and the round is recorded on every
rank or on none.
"""
from pathlib import Path

import mpi_one_rank_fails as script
import pytest
from mpi_launch import scenario_reports

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent
BEFORE = script.BEFORE

#: scenario -> (failing rank, the exception's class there, rounds recorded after it)
CASES = {
    "attempt": (1, "Injected", BEFORE),  # before the update: the round on no rank
    "audit_run": (1, "Injected", BEFORE + 1),  # after it: on every rank, audits so far kept
    "update": (1, "Injected", BEFORE + 1),  # rank 0 was told: on every rank
    "update_root": (0, "Injected", BEFORE),  # rank 0 was not: on no rank
    "own_time": (1, "KeyboardInterrupt", BEFORE + 1),
    "callback": (1, "Injected", BEFORE + 1),
    "save_root": (0, "Injected", BEFORE),
    "draw": (1, "Injected", BEFORE),
    "audit_plan_root": (0, "Injected", BEFORE + 1),
    "fallback": (1, "Injected", BEFORE),  # a guarded solve's fallback run
    "fallback_order_root": (0, "Injected", BEFORE),
    # after the round's last exchange: the other rank has returned, so rank 1 alone raises
    # (and must not wait to tell it)
    "after_last": (1, "KeyboardInterrupt", BEFORE + 1),
}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Both ranks' reports per scenario (a scenario missing: its ranks did not finish it)."""
    out = tmp_path_factory.mktemp("one_rank_fails")
    reports, stderr = scenario_reports(HERE / "mpi_one_rank_fails.py", out, CASES)
    return reports, stderr, out


@pytest.mark.parametrize("name", list(CASES))
def test_a_failure_on_one_rank_is_raised_on_every_rank(ranks, name):
    reports, stderr, _ = ranks
    assert name in reports, f"the ranks did not finish {name!r} (left waiting?):\n{stderr}"
    failing, kind, _ = CASES[name]
    r = reports[name]
    mine, other = r[failing], r[1 - failing]
    assert mine["fired"] and not other["fired"]  # injected on one rank only
    assert mine["raised"][0] == kind  # the failing rank raises its own exception
    assert f"{name} failed on rank {failing} alone" in mine["raised"][1] or (
        kind == "KeyboardInterrupt" and "Ctrl-C on rank 1 alone" == mine["raised"][1])
    if name == "after_last":
        assert other["raised"] is None
        return
    # the other rank: one naming the failing rank and the error (a built-in class kept)
    assert other["raised"] is not None, "the other rank went on as if nothing had happened"
    assert other["raised"][0] == ("KeyboardInterrupt" if kind == "KeyboardInterrupt" else
                                  "OSError" if name == "save_root" else "RuntimeError")
    text = other["raised"][1]
    assert f"rank {failing}" in text and mine["raised"][1] in text
    if kind == "Injected":
        assert "Injected" in text  # the class of the user's is named


@pytest.mark.parametrize("name", list(CASES))
def test_the_tuner_stays_the_same_on_every_rank(ranks, name):
    """The round recorded on every rank or on none; the same policy, audit records and
    schedule, own-time list; then two more rounds solved together, alike."""
    reports, stderr, out = ranks
    assert name in reports, f"the ranks did not finish {name!r} (left waiting?):\n{stderr}"
    r0, r1 = reports[name]
    for key in ("rounds", "told", "policy", "own", "audited_rounds", "audit_records",
                "audit_schedule", "after_arms", "after_policy", "after_own"):
        assert r0[key] == r1[key], (name, key)
    assert r0["rounds"] == r0["told"] == r0["own"] == CASES[name][2]
    assert len(r0["after_arms"]) == r0["after_own"] == CASES[name][2] + 2
    assert not r0["saved"]  # the save that failed wrote nothing
