"""Two MPI ranks, one learner: every rank's Tuner holds the same policy, not only the same
history.

Launches ``mpiexec -n 2`` on ``tests/mpi_replica.py`` under a timeout (its ranks also stop
themselves if left waiting, so an audit or pre-run that one rank skips fails the test
instead of hanging it).  Before every rank's policy was a copy of rank 0's, only rank 0's
drew and took the prior: the other ranks kept their own seeds and generators, no prior and a
model without it, so ``tuner.policy`` (its predictions, its next draws, a pickle or a save)
differed between the ranks.
"""
import json
from pathlib import Path

import mpi_replica  # the systems and the policies the ranks run
import numpy as np
import pytest
from mpi_launch import two_ranks

import bandit

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent

POLICIES = list(mpi_replica.policies(0))


def _one_rank_run(path):
    """A one-rank PETSc run (this process) saved to ``path``: what the ranks continue."""
    tuner = bandit.Tuner(bandit.ChebCB(mpi_replica.OMEGAS, seed=4, context_bounds=(0.0, 1.0)),
                         solver="ssor_pcg", backend="petsc")
    mpi_replica.run(tuner, 4)
    tuner.save(path)
    return tuner


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("replica")
    one = out / "one_rank.json"
    _one_rank_run(one)
    two_ranks(HERE / "mpi_replica.py", out, one, timeout=200)
    return out, [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.mark.parametrize("name", POLICIES)
def test_every_rank_holds_rank_0s_policy(ranks, name):
    """The same saved state, every attribute, pickle, seed, predictions and next draws on both ranks,
    though each rank constructed its policy with its own seed."""
    _, (r0, r1) = ranks
    a, b = r0["policies"][name], r1["policies"][name]
    assert a["t"] == b["t"] > 0
    assert a["seed"] == b["seed"]
    assert a["state"] == b["state"], name
    assert a["full"] == b["full"], name  # every attribute, caches included
    assert a["pickled"] == b["pickled"] == a["full"]  # a pickle holds the same on every rank
    assert a["predict"] == b["predict"]
    assert a["next_draws"] == b["next_draws"]
    # a save by rank 0, read back on every rank, is every rank's policy
    assert a["loaded_state"] == a["state"] and b["loaded_state"] == b["state"]


@pytest.mark.parametrize("name", POLICIES)
def test_the_same_history_audits_summary_and_regret_on_every_rank(ranks, name):
    """Audit runs are collective: the same rounds and arms on both ranks (else a hang), with
    audit seeds that differ per rank; the summary and regret are the same numbers, except
    the seconds each rank spent computing the report."""
    _, (r0, r1) = ranks
    a, b = r0["policies"][name], r1["policies"][name]
    for key in ("arms", "cost", "p", "audited", "audit_arms", "summary", "regret"):
        assert a[key] == b[key], (name, key)
    assert a["audited"], name  # (a budget of 0.5 audits some of the first rounds)
    assert a["report_seconds"] >= 0 and b["report_seconds"] >= 0
    assert len(a["arms"]) == mpi_replica.ROUNDS


def test_the_policies_are_replayed_by_one_rank(ranks):
    """Rank 0's policy is what a one-rank tuner becomes when told the same numbers in the
    same order: replaying the history's arms and costs into a fresh policy with rank 0's seed
    gives the saved state (an independent check that the copies are the learner, not merely
    equal to one another)."""
    out, (r0, _) = ranks
    for name in ("tsallis_inf", "chebcb", "jointcb"):
        saved = json.loads((out / f"{name}.json").read_text())
        fresh = mpi_replica.policies(0)[name][1]
        h = r0["policies"][name]
        for i, (arm, cost) in enumerate(zip(h["arms"], h["cost"])):
            c = mpi_replica.system(i)[0]
            fresh.select(c)  # (a policy without contexts ignores it, as in a Tuner)
            fresh.update(arm, cost, c)
        want = bandit.Policy.from_state_dict(saved["policy"])
        assert mpi_replica.state_digest(fresh) == mpi_replica.state_digest(want), name


def test_a_rank_that_drifted_is_given_rank_0s_policy(ranks):
    _, (r0, r1) = ranks
    assert r0["drift"]["state"] == r1["drift"]["state"]
    assert r0["drift"]["arms"] == r1["drift"]["arms"]
    assert r0["drift"]["warnings"] == []
    assert len(r1["drift"]["warnings"]) == 1
    assert "drew differently from rank 0's" in r1["drift"]["warnings"][0]


def test_a_draw_interrupted_on_rank_0_alone_is_undone_on_every_rank(ranks):
    """Every rank draws: Ctrl-C in rank 0's draw is raised on every rank (rank 1 names rank
    0), each rank undoes its own draw, and the ranks' policies stay one learner."""
    _, (r0, r1) = ranks
    a, b = r0["interrupted"], r1["interrupted"]
    assert a["calls"][2] == ["KeyboardInterrupt", "rank 0 alone"]
    assert b["calls"][2] == ["KeyboardInterrupt", "rank 0: rank 0 alone"]
    assert [c[0] for c in a["calls"]] == [c[0] for c in b["calls"]] == [
        "ok", "ok", "KeyboardInterrupt", "ok", "ok"]
    assert a["arms"] == b["arms"] == [c[1] for c in a["calls"] if c[0] == "ok"]
    assert a["state"] == b["state"] and a["full"] == b["full"]


def test_learners_of_different_classes_are_refused_on_every_rank(ranks):
    """Rank 1's learner cannot become a copy of rank 0's of another class: a ValueError on
    both ranks naming both classes, before the draw (no round recorded)."""
    _, (r0, r1) = ranks
    assert r0["mixed"] == r1["mixed"]
    assert "different policies (rank 0: TsallisINF, rank 1: SmoothIGW)" in r0["mixed"]
    assert r0["mixed_rounds"] == r1["mixed_rounds"] == 0


def test_cost_time_tells_every_rank_rank_0s_seconds(ranks):
    """cost="time": rank 0's clock on every rank (seconds, told costs after the cold-time
    rule, the learner); the same solver runs on both ranks, none of them an untimed pre-run
    (the PETSc backend has none: an arm's first timed run is told at its family's warm
    seconds per iteration once there are some)."""
    _, (r0, r1) = ranks
    a, b = r0["time"], r1["time"]
    assert a["seconds"] == b["seconds"] and a["cost"] == b["cost"]
    assert a["arms"] == b["arms"] and a["state"] == b["state"]
    assert a["caps"] == b["caps"]
    assert len(a["caps"]) == a["runs"] == b["runs"] >= mpi_replica.ROUNDS  # no other run
    assert all(s > 0 for s in a["seconds"])


def test_a_one_rank_file_continues_on_two_ranks(ranks):
    """A file a one-rank run saved loads on both ranks (every rank reads it), keeps its
    rounds and goes on as one learner on both."""
    out, (r0, r1) = ranks
    a, b = r0["from_one"], r1["from_one"]
    assert a["before"] == b["before"] == 4
    assert a["arms"] == b["arms"] and len(a["arms"]) == 7
    assert a["arms"][:4] == bandit.Tuner.load(out / "one_rank.json").history["arm"].tolist()
    assert a["state"] == b["state"]


def test_a_two_rank_file_continues_on_one_rank(ranks, tmp_path):
    """The file two ranks saved loads in this one process and goes on learning from the
    saved state: its policy is both ranks' policy, and it continues as a one-rank copy of
    that policy told the same costs would."""
    out, (r0, r1) = ranks
    assert r0["to_one"] == r1["to_one"]
    loaded = bandit.Tuner.load(out / "two_ranks.json")
    assert mpi_replica.state_digest(loaded.policy) == r0["to_one"]["state"]
    assert loaded.history["arm"].tolist() == r0["to_one"]["arms"]
    twin = bandit.Policy.from_state_dict(loaded.policy.state_dict())
    mpi_replica.run(loaded, 2, start=4)
    h = loaded.history
    for i in (4, 5):
        c = mpi_replica.system(i)[0]
        assert twin.select(c) == h["arm"][i]
        twin.update(int(h["arm"][i]), float(h["cost"][i]), c)
    assert mpi_replica.state_digest(twin) == mpi_replica.state_digest(loaded.policy)
    # the iterations are this process's (one rank): those of a scipy solve check
    c, A, b = mpi_replica.system(5)
    x = loaded.solve(A, b, context=c).x
    assert np.linalg.norm(b - A @ x) <= 1e-8 * np.linalg.norm(b) * 1.0001
