"""MPI for the Tuner: every rank the same learner and history, rank 0's decision used.

With ``backend="petsc"`` on more than one rank, every ``KSPSolve`` is collective, so all ranks
must solve with the same arm every round.  At the first draw every rank's policy is made a
copy of rank 0's (its seed, generator and prior included: the spectral estimate behind a
prior is collective, rank 0's policy takes the prior); from then on every rank's policy draws
itself, and rank 0's decision is the one every rank solves with (a rank that drew otherwise is
given a copy of rank 0's policy).  The measured cost (iterations are global in PETSc, seconds
are rank 0's clock) is broadcast, so every rank feeds its policy and its history the same
numbers: every rank's Tuner is the same learner with the same history.  The state file is
written by rank 0 alone.  Every exchange of a round is one :func:`exchange` (an
``allgather`` of each rank's data and whether it failed), and a rank that raised between two
tells the others in the next (:func:`fail`): an exception on one rank is raised on every
rank at the same step, never left as a rank waiting in a collective step.  A Tuner given ``comm=``
does all this over that communicator's ranks only.  On one rank (a Tuner on ``COMM_SELF``,
or the Numba backend) every helper here is a no-op: ``comm`` is ``None``.

Examples
--------
>>> comm = world("numba")
>>> comm is None, on_root(comm, lambda: 42), agree(comm, 1.5)
(True, 42, 1.5)
"""
from __future__ import annotations

import math
import pickle
import warnings

import numpy as np

# the exchange layout, shared with the PETSc solvers (which cannot import bandit)
from solvers._mpi_exchange import (_AGREED, _mark, _named, agreed, exchange, fail,  # noqa: F401
                                   held_interrupts, keep_local, rank_error)

__all__ = ["world", "mpi_comm", "congruent", "on_root", "rank_error", "on_every_rank", "agree",
           "agree_result", "write_on_root", "is_root", "same_settings", "copy_root_policy",
           "decide_on_every_rank", "exchange", "fail", "agreed", "keep_local", "settle_policy"]


def world(backend, comm=None):
    """The mpi4py communicator the Tuner decides on: ``comm`` (default PETSc's COMM_WORLD) if
    ``backend="petsc"`` and it has > 1 rank, else ``None`` (nothing to share: a Tuner on
    ``COMM_SELF`` runs no collective step of its own)."""
    if backend != "petsc":
        return None
    from solvers._api import _petsc

    # the solvers' own import, so a missing petsc4py is named with the extra to install (it
    # had been a bare ModuleNotFoundError from the Tuner's constructor)
    petsc = _petsc()
    comm = petsc.PETSc.COMM_WORLD if comm is None else petsc._comm(comm)
    if comm.getSize() == 1:
        return None
    return comm.tompi4py()


def mpi_comm(comm):
    """``comm`` (a PETSc or mpi4py communicator) as an mpi4py communicator."""
    from solvers._api import _petsc

    return _petsc()._comm(comm).tompi4py()


def congruent(petsc_comm, comm) -> bool:
    """Whether a PETSc communicator has the same ranks, in the same order, as ``comm``
    (``MPI_Comm_compare``, a local call)."""
    from mpi4py import MPI

    return MPI.Comm.Compare(petsc_comm.tompi4py(), comm) in (MPI.IDENT, MPI.CONGRUENT)


def is_root(comm) -> bool:
    return comm is None or comm.Get_rank() == 0


def on_root(comm, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` evaluated on rank 0 only; every rank returns rank 0's value.

    An exception on rank 0 (a policy of the user's whose ``select`` raises, Ctrl-C reaching
    rank 0 alone) is raised on every rank — rank 0 raises its own, the others one of the same
    built-in class naming rank 0 (:func:`rank_error`) — in the same single exchange
    (:func:`exchange`), so no rank is left waiting for a value rank 0 never sends; so is a
    failure another rank brings to it (:func:`fail`).

    Examples
    --------
    >>> on_root(None, max, 2, 3)
    3
    """
    if comm is None:
        return fn(*args, **kwargs)
    value, err = None, None
    if comm.Get_rank() == 0:
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:  # any kind: raised on every rank below
            err = exc
    return exchange(comm, value, err, root="on rank 0, so on every rank")[0]


def settle_policy(comm, policy) -> None:
    """After a failure every rank raised in a round (:func:`exchange`): make every rank's
    ``policy`` rank 0's if the ranks' policies were told different numbers of rounds — a
    rank whose update failed while rank 0's was told, or the reverse — so the round is then
    recorded on every rank or on none, as on rank 0.  One ``allgather`` of the counts; a
    copy (:func:`copy_root_policy`) only if they differ."""
    if comm is None:
        return
    if len(set(comm.allgather(int(policy.t)))) > 1:  # (the same verdict on every rank)
        copy_root_policy(comm, policy)


def on_every_rank(comm, fn, *args, same=None):
    """``fn(*args)`` on every rank; an exception on any rank is raised on every rank (naming
    the rank that refused: the same class where it is a built-in one, :func:`rank_error`).
    With ``same`` (a name for the message), the values ``fn`` returned must also be equal on
    every rank, else a ``ValueError`` on every rank — one exchange for both; with a tuple of
    names, ``fn`` returns a tuple of as many values, each compared and named on its own.

    The Tuner checks its input before the collective decision: a rank refusing its input
    alone would leave the others waiting in the broadcast.  ``same`` is for small values that
    steer the decision (a context), checked before any collective step of the solve (turning
    scipy input into a distributed Mat is one), so that no rank's policy is told another
    value than rank 0's.

    ``fn`` may take collective steps of its own (preparing ``A``, a check of a distributed
    Mat or Vec; the solvers hold a Ctrl-C to their end there, :class:`held_interrupts`): a
    failure one of those steps already raised on every rank (an exchange of the solvers') is
    not exchanged again.

    Examples
    --------
    >>> on_every_rank(None, float, 0.5, same="contexts")
    0.5
    """
    if comm is None:
        return fn(*args)
    try:
        value, err = fn(*args), None
    except BaseException as exc:  # any kind: a rank raising alone leaves the others waiting
        if agreed(exc):  # every rank raised it already, in an exchange inside fn
            raise
        value, err = None, exc
    gathered = [(None, v) for v in exchange(comm, value if same is not None else None, err)]
    if same is not None:
        # a tuple of names: fn returned a tuple of as many values, compared one by one
        names = same if isinstance(same, tuple) else (same,)
        for i, name in enumerate(names):
            item = (lambda v: v[i]) if isinstance(same, tuple) else (lambda v: v)
            first = item(gathered[0][1])
            for rank, (_, v) in enumerate(gathered[1:], start=1):
                v = item(v)
                equal = (v is None and first is None) or (
                    v is not None and first is not None and np.shape(v) == np.shape(first)
                    and bool(np.all(np.asarray(v) == np.asarray(first))))
                if not equal:
                    raise ValueError(f"the MPI ranks passed different {name} (rank 0: "
                                     f"{first!r}, rank {rank}: {v!r}); every rank must pass "
                                     f"the same")
    return value


def same_settings(comm, **settings):
    """Raise ``ValueError`` on every rank unless every rank passed the same ``settings``.

    A Tuner's arms, solver and tolerances decide which collective operations a solve runs
    (the checks of ``A`` each solver needs, the KSP of the arm rank 0 chose, the audit runs):
    ranks constructed with different ones would wait for each other forever, or solve with
    settings rank 0 never chose.  Each value is compared by its ``repr``; one exchange.

    Examples
    --------
    >>> same_settings(None, solver="sor", rtol=1e-8)  # one rank: nothing to compare
    """
    if comm is None:
        return
    mine = {name: repr(v) for name, v in settings.items()}
    every = comm.allgather(mine)
    for rank, theirs in enumerate(every[1:], start=1):
        differ = [name for name in settings if theirs[name] != every[0][name]]
        if differ:
            name = differ[0]
            raise ValueError(
                f"the MPI ranks constructed the Tuner with different {', '.join(differ)} "
                f"(rank 0: {every[0][name]}, rank {rank}: {theirs[name]}); every rank must "
                f"pass the same solver, arms, tolerances, cost, guard and audit budget (only "
                f"seeds may differ: rank 0 decides)")


def copy_root_policy(comm, policy) -> bool:
    """Make every rank's ``policy`` (in place) a copy of rank 0's, its seed, random generator
    and prior included; return whether it could (rank 0's pickles).

    A Tuner does this at its first draw (after rank 0's policy took its prior): every rank
    then holds the same learner and draws itself (:func:`decide_on_every_rank`) — the same
    state and the same numbers told give the same draws and the same model on every rank,
    so ``tuner.policy``, a pickle or deep copy of the tuner, and what a rank saves or
    predicts are the same on every rank.  (Rank 0 alone drawing had left the other ranks'
    policies with their own seeds, no prior and the generator of their construction.)  A
    policy that does not pickle (a class of the user's holding a lambda) is left as it is on
    every rank: rank 0 alone decides then.  Policies of different classes are refused with a
    ``ValueError`` on every rank.  One ``allgather``.

    Examples
    --------
    >>> copy_root_policy(None, None)  # one rank: nothing to copy
    True
    """
    if comm is None:
        return True
    blob, err = None, None
    if comm.Get_rank() == 0:
        try:
            blob = pickle.dumps(policy, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError as exc:  # not "not picklable": raised on every rank
            err = exc
        except Exception:  # noqa: BLE001 - not picklable: rank 0 decides alone
            blob = None
    every = exchange(comm, (type(policy).__qualname__, blob), err,
                     root="on rank 0, so on every rank")
    for rank, (name, _) in enumerate(every[1:], start=1):
        if name != every[0][0]:
            raise ValueError(f"the MPI ranks constructed the Tuner with different policies "
                             f"(rank 0: {every[0][0]}, rank {rank}: {name}); every rank must "
                             f"pass the same learner (only seeds may differ: every rank's "
                             f"becomes a copy of rank 0's)")
    blob = every[0][1]
    if blob is None:
        return False
    if comm.Get_rank() != 0:
        state = vars(pickle.loads(blob))
        mine = vars(policy)
        mine.clear()
        mine.update(state)
    return True


def _same_decision(a, b) -> bool:
    """Whether two ranks' ``(arm, best, predicted, p)`` are the same decision."""
    if a[0] != b[0] or a[1] != b[1]:
        return False
    pa, pb = a[2], b[2]
    if not (pa == pb or (isinstance(pa, float) and isinstance(pb, float)
                         and math.isnan(pa) and math.isnan(pb))):
        return False
    if a[3] is None or b[3] is None:
        return a[3] is None and b[3] is None
    return bool(np.array_equal(a[3], b[3]))


def decide_on_every_rank(comm, policy, decide, *args):
    """``decide(*args)`` (a draw of ``policy``: ``(arm, best, predicted, p)``) on every
    rank, each rank's policy drawing from its own generator, and rank 0's decision returned
    on every rank.

    The ranks' policies are copies of rank 0's (:func:`copy_root_policy`), told the same
    numbers, so they draw the same; every rank drawing keeps them copies (the generator, the
    distribution kept for the update, a prior taken by the first draw, a context range the
    draw widens).  An exception on any rank is raised on every rank (:func:`rank_error`).  A
    rank whose draw differs from rank 0's (its policy's state had drifted, e.g. arithmetic
    that differs between machines) is given a copy of rank 0's policy, with a
    ``RuntimeWarning`` on that rank; rank 0's decision is the one every rank solves with.
    One ``allgather`` of the decisions.
    """
    try:
        value, err = decide(*args), None
    except BaseException as exc:  # any kind: a rank raising alone leaves the others waiting
        value, err = None, exc
    every = exchange(comm, value, err)
    root = every[0]
    drifted = [r for r, v in enumerate(every) if not _same_decision(v, root)]
    if drifted:  # (every rank saw the same gathered decisions: the same branch everywhere)
        copy_root_policy(comm, policy)
        if comm.Get_rank() in drifted:
            warnings.warn(f"the policy on MPI rank {comm.Get_rank()} drew differently from "
                          f"rank 0's (its state had drifted from rank 0's); it now holds a "
                          f"copy of rank 0's policy", RuntimeWarning, stacklevel=2)
    return root


def agree(comm, value):
    """Rank 0's ``value`` on every rank; a failure of any rank's is raised on every rank (one
    :func:`exchange`)."""
    return value if comm is None else exchange(comm, value if comm.Get_rank() == 0 else None)[0]


def agree_result(comm, result):
    """A SolveResult whose ``seconds``/``iterations``/``converged``/``reason`` are rank 0's.

    Iteration counts and converged reasons of a collective KSPSolve already agree; wall-clock
    seconds do not, and a cost or history must not differ between ranks.  One
    :func:`exchange`: a rank that failed after the collective solve (a check of its own
    rows, a solver function of the user's raising there alone) is raised on every rank.
    """
    if comm is None:
        return result
    mine = ((result.seconds, result.iterations, result.converged, result.reason)
            if comm.Get_rank() == 0 else None)
    seconds, iterations, converged, reason = exchange(comm, mine)[0]
    return result.replace(seconds=seconds, iterations=iterations, converged=converged,
                          reason=reason)


def write_on_root(comm, write, *args, **kwargs):
    """Call ``write`` on rank 0 only, once every rank has arrived (a failure another rank
    brings, :func:`fail`, is raised on every rank and nothing is written), then wait so no
    rank reads the file before it exists.

    An error on rank 0 is re-raised on every rank (so no rank is left waiting): an
    ``OSError`` naming it on the other ranks (a failed write, or a failure building the
    state inside ``write``, a learner's ``state_dict`` say), or, for an interruption
    (``KeyboardInterrupt`` reaching rank 0 alone, ``SystemExit``), the same class
    (:func:`rank_error`).

    Examples
    --------
    >>> write_on_root(None, print, "written")
    written
    """
    if comm is None:
        return write(*args, **kwargs)
    # every rank arrives first, and rank 0 writes only then: a rank that failed before the
    # save's exchange (a ``MemoryError`` or Ctrl-C in the save's checks on rank 1 alone, told
    # by :func:`fail`) is raised here on every rank, nothing written (rank 0 had written
    # and returned while that rank raised alone)
    exchange(comm, None)
    err = None
    if comm.Get_rank() == 0:
        try:
            write(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised below on every rank
            err = exc
    failed = comm.bcast(None if err is None else (repr(err), isinstance(err, Exception),
                                                  _named(err)), root=0)
    if err is not None:
        raise _mark(err)
    if failed is not None:
        text, error, named = failed
        if not error:  # an interruption, not a failed write: the same on every rank
            raise _mark(rank_error(*named))
        raise _mark(OSError(f"rank 0 failed to write the tuner state: {text}"))
    return None
