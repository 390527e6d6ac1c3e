"""What a :class:`bandit.Tuner` itself costs per solve: the wall time of :meth:`Tuner.solve`
outside the solver's own timed runs (:func:`record`), its summary block (:func:`summary`), and
the one-time warning when it exceeds the solves' own time (:func:`warning_text`).

A round's own time is read on ``time.perf_counter`` — the clock the library's solvers time
their runs on (:mod:`solvers._api`, :mod:`solvers.petsc`) — as

    (end − start) − (solver seconds of the round's runs)

``start``: once the call holds the tuner (after waiting for another thread's solve), before
the input is checked; ``end``: when the round is recorded, or when its audit runs begin
(audits are reported apart: ``summary()["audits"]``).  It holds the checks and refresh of the
input, the learner's draw, prediction and update, the guard's budget, the accounting and the
records, the first solve's loading of the compiled kernels and the untimed first run of an
arm's family in a process; not the callback or progress bar run after the round.  A solver
function of the user's reports its own seconds: the difference is then as good as they are
(read at 0 when they exceed the wall time).

On several MPI ranks every rank records rank 0's reading (:func:`shared`), so the ranks'
histories and summaries stay the same, and the warning fires at the same solve on every rank.
"""
from __future__ import annotations

import math
import time

import numpy as np

__all__ = ["WARN_ROUNDS", "TunerCostWarning", "clock", "record", "restore", "share", "shared",
           "summary", "warn", "warning_text"]

#: the rounds measured before the own time is compared with the solves' (the first rounds
#: load the compiled kernels and run each family once untimed)
WARN_ROUNDS = 50



def clock() -> float:
    """``time.perf_counter()`` (the solvers' clock: the subtraction is on one clock), read
    through the module as the solvers read it."""
    return time.perf_counter()


def record(tuner, start, solver_seconds, end, shared_reading=None) -> bool:
    """Append the round's own time (``end − start − solver_seconds``, at least 0) to the
    tuner's per-round list and running sums.  True, once per tuner, when the median own time
    of the latest :data:`WARN_ROUNDS` solves exceeds their median solver seconds (checked
    after 50, 100, 200, ... solves of this process, its first left out: medians, so that the
    one-time costs of the first solves — a family's first run, a rare kernel's load — do
    not decide it): the caller then warns (:func:`warn`) once it has released the tuner (a
    warning turned into an error must not leave it held).  ``shared_reading``: rank 0's
    ``(own, solver_seconds)`` when the round already shared it (:func:`share`)."""
    own = end - start - solver_seconds
    if shared_reading is not None:
        own, solver_seconds = shared_reading
    elif tuner._comm is not None:  # rank 0's reading on every rank (:func:`shared`)
        own, solver_seconds = shared(tuner._comm, own, solver_seconds)
    if not own > 0.0:  # (NaN seconds of a solver function too)
        own = 0.0
    if not solver_seconds == solver_seconds:
        solver_seconds = 0.0
    tuner._own.append(own)
    sums = tuner._own_sums
    sums[0] += own
    sums[1] += solver_seconds
    sums[2] += 1
    since = tuner._own_since
    tuner._own_since = since + 1
    if not since:  # this process's first solve: one-time loads, not the steady cost
        return False
    sums[3] += own
    sums[4] += solver_seconds
    sums[5] += 1
    if since == tuner._own_next and not tuner._own_warned:
        tuner._own_next = 2 * since
        mine, solves = _medians(tuner)
        if mine > solves:
            tuner._own_warned = True
            return True
    return False


def share(tuner, start, solver_seconds, end) -> tuple[float, float]:
    """Rank 0's ``(own, solver_seconds)`` of the round on every rank (:func:`shared`), read
    at the end of a told round before it is recorded: the round's last exchange, at which a
    failure of any rank's since the draw is raised on every rank (:func:`bandit.mpi.fail`)."""
    return shared(tuner._comm, end - start - solver_seconds, solver_seconds)


def shared(comm, own, solver_seconds) -> tuple[float, float]:
    """Rank 0's ``(own, solver_seconds)`` on every rank of ``comm``: one exchange of two
    floats (:func:`bandit.mpi.agree`), after rank 0's reading ends (so outside it).

    Rank 0's reading, not the maximum over the ranks: the round's solver seconds every rank
    records are rank 0's (:func:`bandit.mpi.agree_result`), so only rank 0's wall time is on
    the same clock as them; and the ranks meet in every collective step of the round (the
    checks, the draw, each run), so rank 0's wall time already holds its waits for a slower
    rank up to the round's last run.  Every collective step of a round comes before its
    update, so none can carry the whole reading: one more is needed, the round's last
    (:func:`share`), where a failure of any rank's since the draw is raised on every rank;
    a round that failed earlier shares it when recorded, on every rank alike."""
    from .mpi import agree

    return agree(comm, (float(own), float(solver_seconds)))


def _medians(tuner) -> tuple[float, float]:
    """The median own time and the median solver seconds of the latest WARN_ROUNDS solves."""
    from ._report_history import LOG_COLUMNS

    k = LOG_COLUMNS.index("seconds")
    own = np.array(tuner._own[-WARN_ROUNDS:], dtype=float)
    sec = np.array([row[k] for row in tuner._log[-WARN_ROUNDS:]], dtype=float)
    return float(np.nanmedian(own)), float(np.nanmedian(sec))


class TunerCostWarning(RuntimeWarning):
    """A Tuner's own work per call (checking the input, the learner's draw and update, the
    records) takes more time than its solves: the median of the latest 50 calls against the
    median solver time, checked after 50, 100, 200, … solves, warned once per Tuner.

    For solves this cheap tuning costs more than it can save; the message names the current
    leader and how to play it without a learner.  Silence it with
    ``warnings.simplefilter("ignore", bandit.TunerCostWarning)``; the figures stay in
    ``tuner.summary()["tuner"]``.

    Examples
    --------
    >>> import bandit
    >>> issubclass(bandit.TunerCostWarning, RuntimeWarning)
    True
    """


def warn(tuner) -> None:
    """The :class:`TunerCostWarning` of :func:`warning_text`, pointing at the user's call."""
    import warnings

    from ._tuner_run import _user_level

    warnings.warn(warning_text(tuner), TunerCostWarning, stacklevel=_user_level())


def restore(tuner, values, T) -> None:
    """Set the per-round own times of a tuner with ``T`` rounds (``values``: a list of one
    number per round, NaN for a round not measured, or None: none measured) and their sums
    over the measured rounds, with the history's solver seconds of the same rounds (the
    steady sums without the rounds at which a process began, ``Tuner._starts``); the next
    solve is this process's first."""
    own = [math.nan] * T if values is None else [float(v) for v in values]
    tuner._own = own
    tuner._own_since, tuner._own_next = 0, WARN_ROUNDS  # (rounds of this process)
    seconds = tuner._rows["seconds"]
    starts = set(tuner._starts())
    sums = [0.0, 0.0, 0, 0.0, 0.0, 0]
    for t, (o, s) in enumerate(zip(own, seconds)):
        if o == o:
            s = s if s == s else 0.0
            sums[0] += o
            sums[1] += s
            sums[2] += 1
            if t not in starts:
                sums[3] += o
                sums[4] += s
                sums[5] += 1
    tuner._own_sums = sums


def summary(tuner) -> dict:
    """``summary()["tuner"]``: the own time over the measured rounds (``seconds``,
    ``solve_seconds``: the solver seconds of the same rounds, ``rounds``), and per call and
    as a share of the solves' seconds over those rounds without a process's first solve
    (which loads the compiled kernels: ``first_calls_seconds``)."""
    own, solves, n, steady, steady_solves, m = getattr(tuner, "_own_sums",
                                                       (0.0, 0.0, 0, 0.0, 0.0, 0))
    per_round = getattr(tuner, "_own", [])
    starts = set(tuner._starts()) if hasattr(tuner, "_starts") else {0}
    kept = [o for t, o in enumerate(per_round) if t not in starts and o == o]
    return {"seconds": float(own), "per_call_us": steady / m * 1e6 if m else math.nan,
            "median_us": float(np.median(kept)) * 1e6 if kept else math.nan,
            "share_of_solves": steady / steady_solves if steady_solves > 0 else math.nan,
            "first_calls_seconds": float(own - steady), "solve_seconds": float(solves),
            "rounds": int(n), "clock": "time.perf_counter"}


def warning_text(tuner) -> str:
    mo, ms = _medians(tuner)
    n = min(len(tuner._own), WARN_ROUNDS)
    # the latest round's leader as recorded (the policy is not asked: a warning changes no
    # learner state)
    from ._report_history import LOG_COLUMNS

    leader = tuner._log[-1][LOG_COLUMNS.index("leader")] if tuner._log else -1
    fixed = ("" if leader < 0 else
             f" (here arm {leader}, {tuner.arm_labels[leader]!r})")
    return (f"the Tuner's own work takes more time than the solves: {mo * 1e6:.0f} µs a call "
            f"(checking the input, the learner's draw and update, the records) against "
            f"{ms * 1e6:.0f} µs of solver time a solve (medians of the latest {n} solves; "
            f"summary()['tuner']). For solves this cheap the Tuner costs more than tuning can "
            f"save: call the solver itself at the leader's settings{fixed} (a result's "
            f".settings, e.g. solvers.ssor_pcg(A, b, **bandit.arm_kwargs(arm, 'ssor_pcg'))); "
            f"a Tuner over one fixed arm (bandit.FixedArm) drops the learner's part only, "
            f"not the input's checks")