"""Keeping a :class:`bandit.Tuner`: pickling (a copy continues as the original would) and
the versioned strict-JSON tuner file (:meth:`bandit.Tuner.save`, :meth:`bandit.Tuner.load`;
the file is checked by :mod:`bandit._tunerfile`)."""
from __future__ import annotations

import copy
import json
import math
import pickle
import threading
from threading import get_ident as _get_ident

from solvers._extras import install_hint

from ._base import to_jsonable
from .arms import on_ranks, parse_arm
from ._persist import TunerFileError, check_path, gzip_name, write_bytes_atomic
from ._tunerfile import check_tuner_payload, read_tuner_file
from . import mpi as _mpi
from . import report as _report
from ._tuner_checks import _FIXED, _check_hooks

#: Version 3 adds the per-round ``p``, ``leader`` and ``budget`` and budgeted audits; version 2
#: wrote strict JSON (non-finite floats tagged); versions 1 and 2 are still read.
FORMAT, VERSION = "relaxtune.tuner", 3
_COLUMNS = _report.LOG_COLUMNS  # the fields of one solve's row tuple in the log

#: The parts of a tuner file that read a clock, as paths into its JSON object (a number is a
#: list index).  Two runs of the same code with the same systems, settings and seeds (the
#: policy's and ``audit_seed``) write files that differ only here when the cost is counted
#: (``"iterations"``, ``"work"``); with a time cost the learner is told clock readings, so its
#: state and choices differ too.  Under the same clock readings every cost writes the same
#: bytes (tests/test_tuner_file_determinism.py).  ``audits.plan_cost`` and ``audits.spent``
#: read the clock once a full audit plan is made (it is priced at its CPU time, and whether it
#: fits the budget decides the later audit draws: which audits ran, never what the learner
#: chose, which audits do not inform).
CLOCK_FIELDS = (("rows", "seconds"), ("work", 0), ("audits", "seconds"),
                ("audits", "records", "seconds"), ("audits", "planning"),
                ("audits", "plan_floor"), ("audits", "settled"), ("audits", "last_adjust"),
                ("tuner_seconds",))


def clock_free(payload: dict) -> dict:
    """A copy of a tuner file's JSON object with its :data:`CLOCK_FIELDS` set to ``None``: what
    two runs with counted costs agree on bit for bit.

    >>> clock_free({"rows": {"seconds": [1e-5], "arm": [0]}, "work": [1e-5, 7]})
    {'rows': {'seconds': None, 'arm': [0]}, 'work': [None, 7]}
    """
    out = copy.deepcopy(payload)
    for path in CLOCK_FIELDS:
        node = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node or (
                isinstance(node, list) and isinstance(path[-1], int) and len(node) > path[-1]):
            node[path[-1]] = None
    return out


class Persistence:
    """Pickling and writing the tuner file."""

    def _copy_state(self):
        # the progress bar holds an open stream; like save, a copy keeps neither it nor the
        # callback (often a lambda, which pickle refuses; set them on the copy again); a copy
        # made inside a solve (its solver function) is idle
        state = dict(self.__dict__, _hook=None, _checked=None, _progress=False,
                     _callback=None)
        if self.backend == "petsc":  # a PETSc Mat and KSPs neither pickle nor deep-copy: the
            state.update(_last_op=None, _own_op=True)  # copy converts its next system anew
        del state["_lock"], state["_owner"]
        return state

    def _communicators(self):
        return [c for c in (self.__dict__.get("_comm"), self.__dict__.get("_mat_comm"))
                if c is not None]

    def __getstate__(self):
        for comm in self._communicators():
            try:  # COMM_WORLD and COMM_SELF pickle (mpi4py names them); a Dup or Split not
                pickle.dumps(comm)
            except (TypeError, ValueError, pickle.PicklingError):
                raise TypeError(
                    "a Tuner on a communicator of your own (a Dup, Split or Create of "
                    "COMM_WORLD) cannot be pickled: the communicator exists only in the "
                    "processes that made it, and another process could not take part in "
                    "its solves. copy.deepcopy(tuner) copies it on the same communicator; to "
                    "keep it, tuner.save(path) and Tuner.load(path, comm=...) on every rank "
                    "of the communicator") from None
        return self._copy_state()

    def __deepcopy__(self, memo):
        # a copy in this process solves on the same communicator: it is shared, not copied
        # (mpi4py copies only COMM_WORLD and COMM_SELF; a Dup or Split had made
        # copy.deepcopy fail with "cannot serialize 'mpi4py.MPI.Intracomm' instance")
        for comm in self._communicators():
            memo[id(comm)] = comm
        new = object.__new__(type(self))
        memo[id(self)] = new  # (as copy.deepcopy does: a reference back to self is the copy)
        new.__setstate__(copy.deepcopy(self._copy_state(), memo))
        return new

    def __copy__(self):
        # a Tuner's state is one whole (the learner, its history, the running totals and the
        # auditor agree round by round): a shallow copy had shared the learner, history and
        # auditor while keeping its own totals, so solves on either merged into one history
        # whose totals disagreed with it. copy.copy is therefore copy.deepcopy
        return self.__deepcopy__({})

    def __setstate__(self, state):
        state = dict(state)
        for name in _FIXED + ("progress", "callback"):  # a copy made before they were read-only
            if name in state:
                state["_" + name] = state.pop(name)
        state.pop("_in_round", None)
        self.__dict__.update(state)
        # a copy made by an earlier version lacks what was added since
        for name, default in (("_mat_comm", None), ("_auto_context", None),
                              ("_context_seconds", 0.0), ("_context_products", 0),
                              ("_cold_runs", False), ("_drawn", False)):
            self.__dict__.setdefault(name, default)
        self.__dict__.setdefault("_setup_warned", set())
        self.__dict__.setdefault("_process_starts", [0])
        self.__dict__.setdefault("_resumed_at", None)
        short = len(_COLUMNS) - len(_report.TOLERANCE_COLUMNS)
        if any(len(row) == short for row in self._log):  # a copy made before they were kept
            self._log = [row + (self._rtol, self._atol) if len(row) == short else row
                         for row in self._log]
        from ._tuner_own import restore  # (the sums again; a copy made before they were
        # kept: NaN per round)
        self._own_warned = self.__dict__.get("_own_warned", False)
        restore(self, self.__dict__.get("_own"), len(self._log))
        self.__dict__.setdefault("_round_start", 0.0)
        self._lock, self._owner = threading.RLock(), None
        from ._tuner_share import take_policy

        take_policy(self)  # (the copy's policy is a new object, held by the copy)
        # the hot path's functions are this version's (a copy made by another version may
        # name others, with other results)
        self._run_checked = self._check_rhs = self._copy_x0 = None
        self._checked_entries()

    # --- the tuner file ------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the tuner (policy state, history, audits) to a versioned strict-JSON file,
        gzip-compressed when its name ends in ``.gz`` (:meth:`load` reads either, by the
        file's first bytes, so a plain file named ``.gz`` by an older relaxtune loads too).

        Progress and callback settings are not saved (pass them again to :meth:`load`).

        Save between solves — in the loop, or in the ``callback`` (the round is recorded
        before it runs).  A save from inside a solve of this tuner (a signal handler that
        interrupts it, the solver function) raises ``RuntimeError`` and writes nothing: the
        round is half done (the policy may have drawn or been told, the history not yet
        written), and such a file would not continue the run.  A save from another thread
        waits for the running solve to be recorded.

        The file is replaced atomically (a crash leaves the old file or the new one), keeps
        the permission bits of the file it replaces where the file system allows it, and no
        temporary file stays behind (one
        left by a save that was killed is removed by the next save of the same file).
        What it writes is checked first by the checks of :meth:`load`: a state that load would
        refuse (a model gone non-finite, e.g. a run continued from a hand-edited file with
        numbers near the float range) raises ``ValueError`` naming it, and nothing is written.

        A Tuner also pickles (``pickle.dumps``), copying its full working state, except while
        it holds an AMG set-up, and without progress and callback settings (as :meth:`save`;
        the copy reports nothing).  pyamg's hierarchy cannot be pickled, so that raises a
        ``TypeError`` pointing here; :meth:`save` and :meth:`load` are the documented way to
        keep a tuner.  A ``backend="petsc"`` tuner's copy leaves out its last system's PETSc
        operator (Mat and KSPs, which do not pickle) and converts its next system anew.
        """
        try:
            self._save_checked(path)
        except BaseException as exc:  # on one rank alone (MPI): raised on every rank
            if self._comm is not None:
                _mpi.fail(self._comm, exc)
            raise

    def _save_checked(self, path) -> None:
        """:meth:`save`'s checks and write (a failure on one rank is told by save)."""
        check_path(path)
        if not isinstance(self.solver, str):
            raise ValueError("a Tuner with a custom solver function cannot be saved by name; "
                             "use a solvers.SOLVERS name")
        me = _get_ident()
        if self._owner == me:
            raise RuntimeError(
                "Tuner.save was called while a solve of this tuner is running (from a signal "
                "handler or its solver function): the round is half done, so the file would "
                "not continue the run; nothing was written. Save between solves: e.g. let "
                "the handler set a flag, and save once solve returns (or in the callback)")
        self._hold()  # another thread's solve: wait until it is recorded
        self._owner = me
        try:
            self._save(path)
        finally:
            self._owner = None
            self._lock.release()

    @classmethod
    def load(cls, path, *, progress=False, callback=None, comm=None, **settings) -> "Tuner":
        """Read a file written by :meth:`save` (``progress``/``callback``/``comm`` as for the
        constructor: the communicator is not saved).  Every other setting is the file's.

        A file of a ``backend="petsc"`` tuner is read collectively on ``comm`` (by default
        ``COMM_WORLD``, as the constructor's): under ``mpiexec`` call ``load`` on every rank,
        or pass ``comm=MPI.COMM_SELF`` to read it in one process alone (for analysis on
        rank 0, say) — called on one rank only with the default, it waits for the others.

        Raises
        ------
        TunerFileError
            If the file is missing, a folder, unreadable, corrupt, from a newer relaxtune or
            inconsistent in any part (see ``bandit/_tunerfile.py`` and docs/guarantees.md);
            the message names the file and the problem.  With a ``comm`` of several ranks,
            raised on every rank if any rank fails to read its file or reads another content
            than rank 0, naming the rank(s) and the reason.
        TypeError
            For a setting other than ``progress``, ``callback`` and ``comm`` (``rtol=...``):
            the file's settings are restored as saved (make a new Tuner for others).
        ValueError
            For a ``progress`` or ``callback`` the constructor refuses (before the file is
            read).
        """
        return load(cls, path, progress=progress, callback=callback,
                    comm=comm, settings=settings)

    def _file_rows(self) -> dict:
        """The log's columns as the file keeps them: without ``rtol`` and ``atol`` when every
        solve used the Tuner's own (the file's ``config`` says them, and a library that
        predates the columns reads the file as before)."""
        rows = self._rows
        if all(r == self.rtol for r in rows["rtol"]) and all(a == self.atol
                                                             for a in rows["atol"]):
            for c in _report.TOLERANCE_COLUMNS:
                del rows[c]
        return rows

    def _starts(self) -> list:
        """Rounds at which a process began solving with this tuner: 0, and the first round
        after each :meth:`Tuner.load` that was followed by a solve."""
        r = self._resumed_at
        return list(self._process_starts) + ([r] if r is not None and r < len(self._log)
                                             else [])

    def _save(self, path):
        from . import POLICIES

        if type(self.policy) not in POLICIES.values():  # load rebuilds it by class name
            raise ValueError(f"a Tuner whose policy is a {type(self.policy).__name__}, not a "
                             f"bandit.POLICIES class, cannot be saved: Tuner.load rebuilds the "
                             f"policy by its class name (pickle the tuner instead)")
        # built and written by rank 0 alone, inside write_on_root: a failure building it
        # (a learner's state_dict) is raised on every rank, not left as a rank waiting
        _mpi.write_on_root(self._comm, lambda: _write_loadable(path, self._payload()))

    def _payload(self) -> dict:
        """The tuner file's content (:meth:`save`)."""
        return to_jsonable({
            "format": FORMAT, "version": VERSION,
            "config": {"solver": self.solver, "rtol": self.rtol, "atol": self.atol,
                       "maxiter": self.maxiter, "cost": self.cost, "backend": self.backend,
                       "guard": self.guard, "audit_budget": self.audit_budget,
                       "audit_seed": self.audit_seed,
                       **({} if self.auto_context is None else
                          {"auto_context": self.auto_context})},
            "policy": self.policy.state_dict(), "rows": self._file_rows(), "work": self._work,
            "audits": None if self._auditor is None else self._auditor.state_dict(),
            "measured": self._arms.measured_state(),
            "process_starts": self._starts(),
            # what each row ran, readable without the arm list (not read back: derived)
            "row_configs": _report.row_configs(self),
            # the tuner's own seconds per row (bandit._tuner_own; not compared: a clock's)
            "tuner_seconds": self._own,
            **({} if self._paid is None else {"paid": self._paid})})


def _write_loadable(path, payload) -> None:
    """Write ``payload`` as the tuner file ``path`` only if :meth:`bandit.Tuner.load` would
    read it back: the very checks of the loader, on the very bytes, before anything is
    written.  A state that is no longer finite (a run continued from a file holding numbers
    near the float range, 1e308 in a learner's model, overflows it) had been saved, and the
    file was then refused by ``load``."""
    data = (json.dumps(payload, allow_nan=False) + "\n").encode("utf-8")
    try:
        check_tuner_payload(path, json.loads(data), fmt=FORMAT, columns=_COLUMNS)
    except TunerFileError as exc:
        detail = str(exc).removeprefix(f"{path}: ")
        raise ValueError(
            f"cannot save to {path}: Tuner.load would refuse the file ({detail}); nothing was "
            f"written (a file already there is kept). The tuner's state went out of range "
            f"during the run: numbers near the float range in the file it was loaded from "
            f"(a hand edit) overflow as it learns") from None
    if gzip_name(path):
        # compressed as the name says (zcat, Python's gzip and pandas read such a name as
        # gzip: plain JSON under it had failed there with "Not a gzipped file")
        import gzip

        data = gzip.compress(data, mtime=0)
    write_bytes_atomic(path, data)


def _petsc_missing() -> bool:
    try:
        import petsc4py  # noqa: F401
        import mpi4py  # noqa: F401
    except ImportError:
        return True
    return False


def load_to_read(cls, path):
    """A tuner file read to be looked at — its history, reports and figures — in a process
    that may have no PETSc: :meth:`bandit.Tuner.load`, except that a ``backend="petsc"`` file
    read where petsc4py (or mpi4py) is not installed is rebuilt on the Numba backend, then
    named ``"petsc"`` again.  Its arms then solve nothing (a solve asks for petsc4py, as the
    constructor would have), and it is saved as it was read.  ``relaxtune plot`` had refused
    such a file ("needs petsc4py"): a figure needs no solver."""
    return load(cls, path, progress=False, callback=None, comm=None, settings={},
                to_read=True)


def load(cls, path, *, progress, callback, comm, settings, to_read=False):
    """:meth:`bandit.Tuner.load` (``to_read``: :func:`load_to_read`)."""
    if settings:
        import inspect

        known = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(settings) - known)
        if unknown:  # a misspelt keyword (progres=True) had been told it was a setting
            import difflib

            near = difflib.get_close_matches(unknown[0], ["progress", "callback", "comm"], 1)
            raise TypeError(f"Tuner.load got an unexpected keyword argument {unknown[0]!r}"
                            + (f" (did you mean {near[0]!r}?)" if near else "")
                            + "; it takes only progress, callback and comm")
        names = ", ".join(sorted(settings))
        raise TypeError(
            f"Tuner.load takes only progress, callback and comm, got {names}: a loaded tuner "
            f"continues with the settings it was saved with (a change would part it from "
            f"the run it continues); for other settings make a new "
            f"Tuner(loaded.policy, ...), which continues the learner with a new history")
    _check_hooks(progress, callback)  # the caller's, not the file's
    data = read_tuner_file(path, fmt=FORMAT, version=VERSION, oldest=1, columns=_COLUMNS,
                           comm=comm)
    config = data["config"]
    offline = (to_read and config.get("backend") == "petsc" and comm is None
               and _petsc_missing())
    if offline:
        config = {**config, "backend": "numba"}
    try:
        tuner = cls(data["policy"], **config, progress=progress, callback=callback,
                    comm=comm)
    except (TypeError, ValueError, ImportError) as exc:
        if offline:  # arms of PETSc options: only PETSc reads them
            raise TunerFileError(
                f"{path}: a tuner of backend='petsc' whose arms set PETSc options, which "
                f"only PETSc reads ({exc}); reading it needs petsc4py and mpi4py: "
                f"{install_hint('petsc')}") from None
        raise TunerFileError(f"{path}: config: {exc}") from None
    if offline:  # as saved: a solve asks for petsc4py, a save writes the file's backend
        tuner._backend = tuner._arms.backend = "petsc"
    tuner._log = data["log"]
    tuner._work = data["work"]
    _check_row_configs(path, tuner, data.get("row_configs"))
    # this process's first solve loads the compiled kernels again (a file written before
    # the starts were kept knows only the run's first)
    starts = list(data.get("process_starts") or [0])
    tuner._process_starts = starts
    tuner._resumed_at = len(tuner._log) if starts[-1] < len(tuner._log) else None
    from ._tuner_own import restore  # (the tuner's own time goes on from the file's)

    restore(tuner, data.get("tuner_seconds"), len(tuner._log))
    measured = data.get("measured")
    if measured is not None:  # what the runs measured: the guard's budgets go on the same
        arms = tuner._arms
        try:
            arms.check_measured(measured)
        except ValueError as exc:
            raise TunerFileError(f"{path}: {exc}") from None
        # (a learner whose timed_work price is not yet fixed: told again from here once it is)
        arms.load_measured(measured, tuner.policy, comm is None)
    if tuner._paid is not None:
        # what each solve paid in work or timed work; a file without it (written before
        # it was kept) reads the cost told to the policy, exact for a round whose first
        # attempt converged
        paid = data.get("paid")
        rows = tuner._rows
        tuner._paid = list(paid) if paid is not None else [float(c) for c in rows["cost"]]
        tuner._paid_sum = float(sum(tuner._paid))
    if data["auditor"] is not None and tuner._auditor is not None:
        tuner._auditor.load_state(data["auditor"])  # (a one-arm tuner audits nothing)
    return tuner


def _check_row_configs(path, tuner, saved) -> None:
    """The file's ``row_configs`` (what each row ran) must be what its rows' arms are: a
    hand edit that makes a row say another configuration than its arm is refused."""
    if saved is None:
        return
    expect = _report.row_configs(tuner)
    # a number arm of cg was labelled by its number ("1") before it was labelled "cg"
    old = [f"{a:.12g}" if not isinstance(a, dict) and math.isnan(w) else None
           for a, w in zip(tuner.policy.arms, tuner._omegas)]
    # an ic0 arm ran as block Jacobi + ICC(0) per rank on several ranks, as ICC(0) on one
    # (arms.on_ranks): a file written on either is read on the other (rank 0's, for analysis)
    other = {}
    for k, conf in enumerate(tuner._arms.configs or ()):
        arm = tuner.policy.arms[k]
        if isinstance(arm, dict) and conf.method == "cg" and conf.backend == "petsc" and (
                arm.get("pc") == "ic0"):
            base = parse_arm(arm, backend="petsc")
            alt = base if conf != base else on_ranks(base, 2)
            other[k] = {"label": alt.label, "method": alt.method, "pc": alt.pc}
    for c, values in expect.items():
        for i, (got, want) in enumerate(zip(saved[c], values)):
            arm = tuner._log[i][0]
            if got != want and not (c == "label" and got == old[arm]) and not (
                    arm in other and got == other[arm][c]):
                raise TunerFileError(f"{path}: row_configs.{c}[{i}] = {got!r}, but row {i} "
                                     f"ran arm {arm}, whose {c} is {want!r}")
