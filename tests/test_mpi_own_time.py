"""The Tuner's own time on two MPI ranks: rank 0's reading, shared, so every rank keeps the
same history and summary (``tuner_seconds`` had been NaN on every round under MPI).

Launches ``mpiexec -n 2`` on ``tests/mpi_own_time.py``: a learner whose update sleeps 3 ms on
rank 0 alone, over 16 unknowns.  Rank 0's reading holds that sleep; rank 1's own clock
would not (its update does not sleep): the recorded figures are rank 0's on both ranks.
"""
import json
import math
from pathlib import Path

import mpi_own_time
import pytest
from mpi_launch import two_ranks

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("own_time")
    two_ranks(HERE / "mpi_own_time.py", out, timeout=200)
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_every_rank_records_rank_0s_reading(ranks):
    r0, r1 = ranks
    assert r0["size"] == r1["size"] == 2
    own = r0["tuner_seconds"]
    assert len(own) == mpi_own_time.ROUNDS
    assert own == r1["tuner_seconds"]  # the same history on every rank
    assert r0["seconds"] == r1["seconds"]
    assert all(math.isfinite(o) for o in own)  # measured (NaN before)
    # rank 0's update sleeps, rank 1's does not: the figure on both is rank 0's
    assert min(own) >= mpi_own_time.SLEEP


def test_summary_is_the_same_on_every_rank(ranks):
    r0, r1 = ranks
    s = r0["summary"]
    assert s == r1["summary"]
    assert s["rounds"] == mpi_own_time.ROUNDS
    assert math.isclose(s["seconds"], sum(r0["tuner_seconds"]), rel_tol=1e-12)
    assert math.isfinite(s["per_call_us"]) and s["per_call_us"] >= mpi_own_time.SLEEP * 1e6
    assert math.isfinite(s["share_of_solves"]) and s["share_of_solves"] > 1


def test_the_warning_fires_once_on_every_rank(ranks):
    """On every rank: the same figures decide it everywhere, and a warning made an error
    (``-W error``) is then raised on every rank, not on rank 0 alone."""
    r0, r1 = ranks
    assert len(r0["warnings"]) == len(r1["warnings"]) == 1
    assert r0["warnings"] == r1["warnings"]  # the same text (rank 0's figures)
    assert r0["warnings"][0][0] == "TunerCostWarning"
