"""``solvers._mpi_exchange.held_interrupts``, in one process: on several ranks a Ctrl-C inside
the block is raised at its end by the handler that was in place (so no rank leaves a run of
collective PETSc calls in the middle); on one rank, with a handler that is not Python's or
outside the main thread nothing changes; a block inside another hands the Ctrl-C to the
enclosing one.  The two-rank runs are in ``tests/test_mpi_one_rank_refuses.py``."""
import os
import signal
import threading

import pytest

from solvers._mpi_exchange import held_interrupts


def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):  # the interpreter runs the Python handler between bytecodes
        pass


@pytest.fixture
def default_handler():
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_a_ctrl_c_inside_is_raised_at_the_end(default_handler):
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with held_interrupts(2):
            ctrl_c()
            reached.append("after the Ctrl-C")
    assert reached == ["after the Ctrl-C"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nothing_held_without_a_ctrl_c(default_handler):
    with held_interrupts(2):
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_one_rank_raises_at_once(default_handler):
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with held_interrupts(1):
            ctrl_c()
            reached.append("after the Ctrl-C")
    assert reached == []


def test_a_block_inside_another_hands_it_to_the_enclosing_one(default_handler):
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with held_interrupts(2):
            with held_interrupts(2):
                ctrl_c()
            reached.append("after the inner block")
    assert reached == ["after the inner block"]


def test_the_handler_in_place_gets_the_ctrl_c(default_handler):
    got = []
    signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    with held_interrupts(2):
        ctrl_c()
        assert got == []
    assert got == [signal.SIGINT]


def test_an_ignored_ctrl_c_stays_ignored(default_handler):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with held_interrupts(2):
        ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_another_thread_changes_nothing(default_handler):
    seen = []

    def run():
        with held_interrupts(2):
            seen.append(signal.getsignal(signal.SIGINT))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen == [signal.default_int_handler]
