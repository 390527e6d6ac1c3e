"""``solvers._mpi_exchange.fail`` (and an ``exchange`` carrying this rank's error) waits for
the other ranks at most ``GRACE_SECONDS``, then prints one line naming the rank and the error
and calls ``MPI_Abort`` — in one process, with a stand-in communicator whose ``allgather``
the other ranks never join; telling the others never fails on an exception whose text cannot
be made.  The two-rank runs are in ``tests/test_mpi_rank_dies.py``."""
import threading

import pytest

import solvers._mpi_exchange as ex


class Stuck:
    """Rank 1 of 2, whose ``allgather`` the other rank joins only if ``joins``; ``Abort``
    ends the wait (as MPI_Abort ends the job)."""

    def __init__(self, joins=False):
        self.joins, self.aborted, self.sent = joins, [], []
        self.ended = threading.Event()

    def Get_rank(self):
        return 1

    def Get_size(self):
        return 2

    def allgather(self, value):
        self.sent.append(value)
        if not self.joins:
            assert self.ended.wait(10), "MPI_Abort was never called: a hang"
        return [(None, None), value]

    def Abort(self, code):
        self.aborted.append(code)
        self.ended.set()


@pytest.fixture
def grace(monkeypatch):
    monkeypatch.setattr(ex, "GRACE_SECONDS", 0.2)


def test_a_failure_nobody_hears_aborts_after_the_grace(grace, capfd):
    comm = Stuck()
    ex.fail(comm, MemoryError("out of memory on rank 1"))
    assert comm.aborted == [ex.ABORT_STATUS]
    err = capfd.readouterr().err
    assert err.startswith("relaxtune: rank 1 of 2: MemoryError: out of memory on rank 1 -- ")
    assert "within 0.2 s" in err and "aborting the job (MPI_Abort)" in err


def test_an_exchange_carrying_this_ranks_error_is_bounded_too(grace, capfd):
    comm = Stuck()
    with pytest.raises(ValueError, match="bad rows"):
        ex.exchange(comm, 1.0, ValueError("bad rows"))
    assert comm.aborted == [ex.ABORT_STATUS]
    assert "rank 1 of 2: ValueError: bad rows" in capfd.readouterr().err


def test_a_failure_the_others_hear_does_not_abort(grace):
    comm = Stuck(joins=True)
    ex.fail(comm, KeyboardInterrupt())
    assert comm.sent == [(("builtins", "KeyboardInterrupt", ""), None)]
    threading.Event().wait(0.4)  # (past the grace: the watch has ended without aborting)
    assert comm.aborted == []


class Unprintable(Exception):
    def __str__(self):
        raise MemoryError("no memory for the message")


def test_an_exception_without_text_is_told_by_its_class(grace):
    comm = Stuck(joins=True)
    ex.fail(comm, Unprintable())
    assert comm.sent == [((__name__, "Unprintable", ""), None)]
    assert comm.aborted == []
