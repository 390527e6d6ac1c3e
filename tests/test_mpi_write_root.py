"""``bandit.mpi.write_on_root``'s protocol, rank by rank, with a stand-in communicator: rank
0 always broadcasts before it raises, and the other ranks raise what rank 0 did (an
interruption as the same class, a failed write as an ``OSError``), so no rank waits in the
broadcast (the multi-rank runs are in the MPI test files)."""
import pytest

from bandit import mpi


class Comm:
    """One rank's view: ``bcast`` records what rank 0 sends and gives the others ``sent``."""

    def __init__(self, rank, sent=None):
        self.rank, self.sent, self.broadcast = rank, sent, []

    def Get_rank(self):
        return self.rank

    def allgather(self, value):  # (every rank arrives before rank 0 writes; none failed)
        return [(None, None)] * 2

    def bcast(self, value, root=0):
        assert root == 0
        if self.rank == 0:
            self.broadcast.append(value)
            return value
        return self.sent


def _interrupt():
    raise KeyboardInterrupt("Ctrl-C during the save")


def _disk_full():
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("write, kind", [(_interrupt, KeyboardInterrupt), (_disk_full, OSError)])
def test_rank_0_broadcasts_before_it_raises(write, kind):
    comm = Comm(0)
    with pytest.raises(kind):
        mpi.write_on_root(comm, write)
    assert len(comm.broadcast) == 1 and comm.broadcast[0] is not None  # the others are told


def test_the_other_ranks_raise_what_rank_0_did():
    # an interruption on rank 0 alone is one on every rank, a failed write an OSError
    sent = {}
    for write in (_interrupt, _disk_full):
        root = Comm(0)
        with pytest.raises(BaseException):
            mpi.write_on_root(root, write)
        sent[write] = root.broadcast[0]
    with pytest.raises(KeyboardInterrupt, match="on rank 0, so on every rank: Ctrl-C"):
        mpi.write_on_root(Comm(1, sent[_interrupt]), _interrupt)
    with pytest.raises(OSError, match="rank 0 failed to write the tuner state: .*No space"):
        mpi.write_on_root(Comm(1, sent[_disk_full]), _disk_full)


def test_a_write_that_succeeds_is_made_once():
    calls = []
    for rank in (0, 1):
        mpi.write_on_root(Comm(rank), calls.append, rank)
    assert calls == [0]
