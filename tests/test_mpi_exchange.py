"""``bandit.mpi.exchange``/``fail``/``settle_policy``, rank by rank, with a stand-in
communicator (the two-rank runs are in ``tests/test_mpi_one_rank_fails.py``): every exchange
has one layout, ``(error or None, value)``, so a rank's failure told in :func:`bandit.mpi.fail`
is read by whichever exchange the others make; the failing rank raises its own exception,
the others one naming it; an exception told once is not told again."""
import pytest

from bandit import mpi


class Comm:
    """One rank's view of two: ``allgather`` returns this rank's item and ``theirs`` (the
    other rank's) in rank order, and records what this rank sent."""

    def __init__(self, rank, theirs=(None, None)):
        self.rank, self.theirs, self.sent = rank, theirs, []

    def Get_rank(self):
        return self.rank

    def allgather(self, item):
        self.sent.append(item)
        return [item, self.theirs] if self.rank == 0 else [self.theirs, item]


class MyError(Exception):
    pass


def test_exchange_returns_every_ranks_value():
    assert mpi.exchange(Comm(0, (None, "b")), "a") == ["a", "b"]
    assert mpi.exchange(Comm(1, (None, "a")), "b") == ["a", "b"]


def test_the_failing_rank_raises_its_own_after_telling_the_others():
    comm = Comm(1)
    err = MyError("bad rows")
    with pytest.raises(MyError) as info:
        mpi.exchange(comm, None, err)
    assert info.value is err and mpi.agreed(err)
    assert comm.sent == [(("test_mpi_exchange", "MyError", "bad rows"), None)]


def test_the_others_raise_one_naming_the_rank_and_the_error():
    told = ("test_mpi_exchange", "MyError", "bad rows")
    with pytest.raises(RuntimeError, match=r"^rank 1: test_mpi_exchange\.MyError: bad rows$"):
        mpi.exchange(Comm(0, (told, None)), 2.5)
    # a built-in class is kept; rank 0 named with the words of a step it runs alone
    told = ("builtins", "KeyboardInterrupt", "Ctrl-C")
    with pytest.raises(KeyboardInterrupt, match="on rank 0, so on every rank: Ctrl-C"):
        mpi.exchange(Comm(1, (told, None)), None, root="on rank 0, so on every rank")


def test_a_failure_told_by_fail_is_read_by_any_exchange():
    """``fail`` sends the same layout as every exchange, so rank 0 raises in an on_root, an
    agree_result or a draw alike, and is marked told (its handler tells nothing again)."""
    failing = Comm(1)
    exc = KeyboardInterrupt("Ctrl-C on rank 1")
    mpi.fail(failing, exc)
    sent = failing.sent[0]
    for step in (lambda c: mpi.on_root(c, lambda: 3), lambda c: mpi.agree(c, 1.0),
                 lambda c: mpi.exchange(c, (1, 2))):
        with pytest.raises(KeyboardInterrupt, match="rank 1: Ctrl-C on rank 1") as info:
            step(Comm(0, sent))
        assert mpi.agreed(info.value)
    mpi.fail(failing, exc)  # told already: nothing sent again
    assert len(failing.sent) == 1


def test_an_error_raised_while_handling_a_told_one_is_not_told_again():
    comm = Comm(0)
    first = mpi._mark(ValueError("told"))
    try:
        try:
            raise first
        except ValueError as exc:
            raise ValueError("reworded") from exc
    except ValueError as second:
        mpi.fail(comm, second)
    assert comm.sent == []


def test_no_communicator_is_one_rank():
    assert mpi.exchange(None, 1) == [1]
    with pytest.raises(MyError):
        mpi.exchange(None, None, MyError("x"))
    mpi.fail(None, MyError("x"))  # nothing to tell


class Policy:
    def __init__(self, t):
        self.t = t


@pytest.mark.parametrize("t0, t1, copies", [(3, 3, False), (3, 2, True), (2, 3, True)])
def test_settle_policy_copies_rank_0s_only_when_the_ranks_were_told_differently(
        monkeypatch, t0, t1, copies):
    copied = []
    monkeypatch.setattr(mpi, "copy_root_policy", lambda comm, policy: copied.append(policy))

    class Counts(Comm):
        def allgather(self, item):
            return [t0, t1]

    for rank in (0, 1):
        mpi.settle_policy(Counts(rank), Policy((t0, t1)[rank]))
    assert len(copied) == (2 if copies else 0)  # the same verdict on both ranks
