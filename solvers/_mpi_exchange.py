"""One exchange layout for every step the MPI ranks take together: ``(error, value)``.

Every exchange of the PETSc solvers (the comparison of the ranks' inputs, a KSP's set-up) and
of :class:`bandit.Tuner` (:mod:`bandit.mpi`) is one ``allgather`` of each rank's value and
whether it failed, so a rank that raised between two exchanges tells the others in the next
one they make (:func:`fail`), whichever it is: every rank raises there — the failing rank its
own exception, the others one naming that rank and the error (:func:`rank_error`) — and none
is left waiting in a collective step the failing rank never reaches, nor reads the failure as
another exchange's data.  The solvers import this module, so it imports neither PETSc nor
:mod:`bandit`; ``comm`` is an mpi4py communicator, ``None`` on one rank.

:class:`held_interrupts` keeps Ctrl-C out of a stretch of collective PETSc calls on several
ranks: a Ctrl-C reaching one rank there would raise in the middle (a KSPSolve's convergence
test, between two collective calls), leaving the other ranks inside a collective call it never
makes; it is raised at the stretch's end instead, where the caller's next exchange tells the
others.

Examples
--------
>>> exchange(None, 2.5)
[2.5]
>>> rank_error("builtins", "ValueError", "b contains NaN or Inf", prefix="rank 1")
ValueError('rank 1: b contains NaN or Inf')
"""
from __future__ import annotations

import _signal  # (signal's C module: its Python wrappers cost 3-5 µs a call, converting enums)
import os
import signal
import sys
import threading

__all__ = ["rank_error", "agreed", "keep_local", "exchange", "fail", "held_interrupts",
           "interrupt_held", "GRACE_SECONDS"]

#: Seconds a rank that failed waits, in the exchange that tells the others, for them to take
#: part in it; if they do not (they are inside a collective call the failing rank left — a
#: KSPSolve whose shell Mat raised on this rank, a reduction this rank's ``MemoryError``
#: skipped — which nothing outside can make return), the failing rank prints its error and
#: ends the job with ``MPI_Abort`` (:func:`fail`).  Ranks that did not fail wait as long as
#: it takes.  ``RELAXTUNE_MPI_GRACE`` in the environment sets it.
GRACE_SECONDS = float(os.environ.get("RELAXTUNE_MPI_GRACE", "10"))
#: the exit status of a job ended so
ABORT_STATUS = 1


def rank_error(module, name, message, prefix="on rank 0, so on every rank"):
    """The exception the other ranks raise when one rank raised ``module.name(message)``: the
    same class if it is a built-in one (``ValueError``, ``KeyboardInterrupt``, ...), else a
    ``RuntimeError`` naming the class; the message starts with ``prefix`` (which rank).  An
    exception without a message (Ctrl-C's ``KeyboardInterrupt``) is named by its class.

    Examples
    --------
    >>> rank_error("builtins", "ValueError", "bad context")
    ValueError('on rank 0, so on every rank: bad context')
    >>> rank_error("mypolicy", "PolicyError", "out of budget", prefix="rank 1")
    RuntimeError('rank 1: mypolicy.PolicyError: out of budget')
    >>> rank_error("builtins", "KeyboardInterrupt", "", prefix="rank 1")
    KeyboardInterrupt('rank 1: KeyboardInterrupt')
    """
    import builtins

    message = message or name

    cls = getattr(builtins, name, None) if module == "builtins" else None
    if isinstance(cls, type) and issubclass(cls, BaseException):
        try:
            return cls(f"{prefix}: {message}")
        except TypeError:  # a built-in class with other constructor arguments
            pass
    return RuntimeError(f"{prefix}: {module}.{name}: {message}")


def _named(exc):
    """An exception as names and text, which any rank can unpickle (a class of the user's
    may not pickle: a collective failing on the rank that raised would leave the others
    waiting again).  An exception whose text cannot be made (its ``__str__`` raises, or
    memory is exhausted) is named by its class alone: telling the others must not fail."""
    cls = type(exc)
    try:
        return cls.__module__, cls.__qualname__, str(exc)
    except BaseException:  # noqa: BLE001 - (a MemoryError making the text, say)
        return cls.__module__, cls.__qualname__, ""


#: the attribute that marks an exception every rank of the communicator has raised (or is
#: raising) for the same failure: the exchange that told the others is not made again
_AGREED = "_relaxtune_agreed"


def agreed(exc) -> bool:
    """Whether every rank already knows of ``exc`` (raised by, or told in, an exchange), or
    of the failure whose handling raised it (a refusal reworded from it)."""
    return any(getattr(e, _AGREED, False) for e in (exc, exc.__cause__, exc.__context__))


def _mark(exc):
    try:
        setattr(exc, _AGREED, True)
    except (AttributeError, TypeError):  # (a class with __slots__: told again, harmless)
        pass
    return exc


def keep_local(exc):
    """Mark ``exc`` as not to be told (:func:`fail`): raised on this rank after the call's
    last exchange, when the other ranks have returned and no exchange of theirs would meet
    it (the call's state is the same on every rank by then)."""
    return _mark(exc)


def exchange(comm, value=None, err=None, root=None):
    """Every rank's ``value``, in one ``allgather`` that also carries whether each rank
    failed: if any rank passes an exception ``err``, every rank raises — the failing rank its
    own, the others :func:`rank_error` naming the first failing rank and its error (with
    ``root``, the words naming rank 0 when it is that rank).

    Every exchange of a PETSc solve and of a Tuner's round is one of these, with the same
    layout, so a rank that raised between two of them tells the others in the next one they
    make, whichever it is (:func:`fail`): no rank is left waiting in a collective step the
    failing rank never reaches.  The exception raised is marked as told (:func:`agreed`).

    Examples
    --------
    >>> exchange(None, 2.5)
    [2.5]
    """
    if comm is None:
        if err is not None:
            raise err
        return [value]
    if err is not None:
        _bounded(comm, err, (_named(err), value))
        raise _mark(err)
    every = comm.allgather((None, value))
    for e, _ in every:
        if e is not None:
            rank = next(r for r, (e, _) in enumerate(every) if e is not None)
            raise _mark(rank_error(*e, prefix=root if rank == 0 and root else f"rank {rank}"))
    return [v for _, v in every]


def fail(comm, exc) -> None:
    """Tell the other ranks of ``exc``, raised on this rank alone between two exchanges (a
    learner's update, a callback, a check of this rank's data, Ctrl-C): one exchange, which
    meets the next one the other ranks make (:func:`exchange`), where they raise it too.
    Nothing if every rank knows already (:func:`agreed`) or on one rank."""
    if comm is None or agreed(exc):
        return
    _mark(exc)
    _bounded(comm, exc, (_named(exc), None))


def _bounded(comm, exc, mine) -> None:
    """This rank's ``mine`` (its failure ``exc``, named) in the ``allgather`` of the exchange
    the other ranks make next, waiting for them at most :data:`GRACE_SECONDS`: ranks that do
    not come are inside a collective call this rank left (PETSc's, or one of its own it
    skipped by raising), from which nothing can make them return — so this rank prints its
    error, naming itself, and ends the job with ``MPI_Abort``, rather than leave every rank
    waiting for ever.  Costs nothing unless a rank failed: the watch is a thread started
    here (the ``allgather`` releases the interpreter to it)."""
    done = threading.Event()
    if GRACE_SECONDS >= 0:
        try:
            threading.Thread(target=_watch, args=(comm, exc, done), daemon=True,
                             name="relaxtune-mpi-grace").start()
        except BaseException:  # noqa: BLE001 - (no thread to be had: wait unbounded)
            pass
    try:
        comm.allgather(mine)
    finally:
        done.set()


def _watch(comm, exc, done) -> None:
    """The grace of :func:`_bounded`: ``MPI_Abort`` unless ``done`` is set in time."""
    if done.wait(GRACE_SECONDS):
        return
    module, name, text = _named(exc)
    cls = name if module == "builtins" else f"{module}.{name}"
    try:
        sys.stderr.write(
            f"relaxtune: rank {comm.Get_rank()} of {comm.Get_size()}: {cls}"
            f"{': ' + text if text else ''} -- the other ranks did not reach the exchange "
            f"that tells them within {GRACE_SECONDS:g} s: they are inside a collective call "
            f"this rank left, which cannot be made to return; aborting the job "
            f"(MPI_Abort)\n")
        sys.stderr.flush()
    finally:
        comm.Abort(ABORT_STATUS)


_SIGINT = int(signal.SIGINT)
#: the frame (``True`` if none) where the outermost :class:`held_interrupts` block received a
#: Ctrl-C, else ``None``
_HELD = [None]


def interrupt_held() -> bool:
    """Whether a Ctrl-C reached this rank inside the :class:`held_interrupts` block running
    (to be raised at its end)."""
    return _HELD[0] is not None


def _hold(signum, frame):
    """The SIGINT handler inside a :class:`held_interrupts` block: records, raises nothing."""
    _HELD[0] = frame if frame is not None else True


class held_interrupts:
    """``with held_interrupts(ranks):`` a Ctrl-C (SIGINT) reaching this process inside the
    block is raised at the block's end, by the handler that was in place, instead of
    wherever the interpreter happens to be — when ``ranks > 1``, the block runs in the main
    thread and the handler is a Python one; otherwise nothing changes.

    Inside a run of collective PETSc calls a Ctrl-C on one rank would raise between two of
    them (or in a KSPSolve's Python convergence test, which PETSc then stops on that rank
    alone) while the other ranks wait inside the next: a hang.  Held to the end, it is
    raised after the last collective call, and the caller's next exchange tells the other
    ranks (:func:`fail`).  A Ctrl-C to ``mpiexec`` reaches every rank: each raises at the
    same place.  Inside an enclosing block a block changes nothing: the enclosing one raises
    a Ctrl-C held in either at its end.

    Examples
    --------
    >>> with held_interrupts(1):  # one rank: nothing held
    ...     pass
    """

    __slots__ = ("ranks", "previous")

    def __init__(self, ranks):
        self.ranks = ranks
        self.previous = None

    def __enter__(self):
        if self.ranks > 1 and threading.get_ident() == threading.main_thread().ident:
            previous = _signal.getsignal(_SIGINT)
            # (not SIG_IGN, SIG_DFL or a handler set from C; nor an enclosing block's hold,
            # which raises the Ctrl-C at its own end)
            if previous is not _hold and callable(previous):
                self.previous = previous
                _HELD[0] = None
                _signal.signal(_SIGINT, _hold)
        return self

    def __exit__(self, *exc_info):
        previous = self.previous
        if previous is not None:
            self.previous = None
            _signal.signal(_SIGINT, previous)
            held = _HELD[0]
            if held is not None:
                _HELD[0] = None
                previous(_SIGINT, None if held is True else held)  # (raises, usually)
        return False
