"""``Tuner.load(path, comm=...)`` on two ranks: a file one rank cannot read (missing,
corrupt) or that differs from the others' is an error on every rank, naming the rank and the
reason, instead of leaving the other ranks waiting forever in the Tuner's collective steps.

Launches ``mpiexec -n 2`` on ``tests/mpi_load.py`` under a timeout (its ranks also stop
themselves if left waiting).
"""
import json
from pathlib import Path

import pytest

from mpi_launch import two_ranks

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("load")
    two_ranks(HERE / "mpi_load.py", out, timeout=150)
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_every_rank_reading_the_same_file_continues_the_run(ranks):
    r0, r1 = ranks
    for r in ranks:
        assert r["loads"]["good"]["rounds"] == 4
    # rank 0 decides: the loaded tuner continues as the original does
    assert r0["loads"]["good"]["more"] == r1["loads"]["good"]["more"] == r0["original_more"]


@pytest.mark.parametrize("case, reason", [
    ("missing", "no-such-file.json"),
    ("corrupt", "corrupt1.json"),
    ("other", "differs"),
])
def test_a_file_one_rank_cannot_read_fails_on_every_rank(ranks, case, reason):
    """Rank 0 reads the good file, rank 1 a missing, a corrupt or another tuner's file: both
    ranks raise the same TunerFileError naming rank 1 and what went wrong there."""
    msgs = []
    for r in ranks:
        got = r["loads"][case]
        assert got.get("error") == "TunerFileError", (r["rank"], got)
        msgs.append(got["message"])
    assert msgs[0] == msgs[1]
    assert "rank 1" in msgs[0] and reason in msgs[0] and "rank 0" not in msgs[0].split(":")[0]
