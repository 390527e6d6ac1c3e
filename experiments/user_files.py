"""Your own sequence of systems from files: what ``relaxtune tune`` runs.

A simulation can write its systems as files (Matrix Market from most codes, scipy's ``.npz``
from Python) long before anyone wraps its loop.  :func:`load_systems` reads them,
:func:`run` solves them in order through a :class:`bandit.Tuner` and, unless told not to,
solves every system again with every arm from the same start, so that the totals, the best
fixed arm in hindsight and the regret are exact rather than estimated; :func:`summarize`
puts the tuned run, every fixed arm, the instance-optimal choice and the Tuner's own
regret estimate (with its interval) side by side.

Examples
--------
>>> import scipy.sparse as sp
>>> from solvers import gallery
>>> systems = [(gallery.laplacian_2d(8) + s * sp.eye(64), np.ones(64)) for s in (0, 1, 2)]
>>> res = run(systems, solver="sor", arms=[1.0, 1.3, 1.6])
>>> s = summarize(res)
>>> s["best_fixed"]["omega"], s["tuned"]["iterations"] >= s["instance_optimal"]["iterations"]
(1.3, True)
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

# the parts (every name importable from here, as before): the matrix and right-hand-side
# files, the contexts file, the report of a run.  The systems, run and summarize stay here,
# where ``relaxtune tune`` looks them up (tests replace run, summarize and read_matrix here;
# _check_numbers, replaced here too, is looked up here by _user_files_mtx._checked_numbers)
from ._user_files_contexts import check_contexts, read_contexts
from ._user_files_mtx import (MATRIX_SUFFIXES, VECTOR_SUFFIXES, _check_numbers,  # noqa: F401
                              read_matrix, read_vector)
from ._user_files_report import (_best_fixed, _tuned_costs, figure_data, format_failures,
                                 format_report)

__all__ = ["read_matrix", "read_vector", "read_contexts", "SystemFiles", "load_systems",
           "check_systems", "run",
           "summarize",
           "format_report", "figure_data", "make_policy", "needs_context"]


class SystemFiles(Sequence):
    """The systems ``(A_t, b_t)`` of files, each read when it is asked for.

    Only the system in use is in memory (plus the matrix, when one matrix has many right-hand
    sides), so a sequence of thousands of large systems needs the memory of one: a loop over
    it reads each file again (a read is cheap next to the solves of one system).  Made by
    :func:`load_systems`; a file that cannot be read raises ``ValueError`` naming it when its
    system is asked for (:func:`check_systems` asks for every one before anything is solved).

    Examples
    --------
    >>> import tempfile, scipy.io
    >>> from solvers import gallery
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for t in range(3):
    ...         scipy.io.mmwrite(f"{d}/A{t}.mtx", gallery.laplacian_2d(4) * (t + 1))
    ...     systems = load_systems([f"{d}/A{t}.mtx" for t in range(3)])  # nothing read yet
    ...     A, b = systems[2]                                          # read when asked for
    >>> len(systems), float(A[0, 0]), b.shape                          # b = (1, ..., 1)
    (3, 12.0, (16,))
    """

    def __init__(self, matrices, rhs=None):
        self._matrices = [Path(p) for p in matrices]
        self._rhs = None if rhs is None else [Path(p) for p in rhs]
        # one matrix for many right-hand sides: read once and shared, as the solves share it
        self._single = read_matrix(self._matrices[0]) if len(self._matrices) == 1 else None

    def __len__(self) -> int:
        return len(self._matrices) if self._rhs is None or self._single is None \
            else len(self._rhs)

    def rhs_path(self, t: int):
        """The right-hand side file of system ``t`` (``None`` without one: ``b = 1``)."""
        return None if self._rhs is None else self._rhs[t]

    def matrix_key(self, t: int) -> int:
        """Which matrix file system ``t`` uses (systems with the same key share a matrix)."""
        return 0 if self._single is not None else t

    def __getitem__(self, t):
        if isinstance(t, slice):
            return [self[i] for i in range(*t.indices(len(self)))]
        if t < 0:
            t += len(self)
        if not 0 <= t < len(self):
            raise IndexError(f"system {t} of {len(self)}")
        A = self._single if self._single is not None else read_matrix(self._matrices[t])
        b = np.ones(A.shape[0]) if self._rhs is None else read_vector(self._rhs[t], A.shape[0])
        return A, b


def load_systems(matrices, rhs=None) -> SystemFiles:
    """The sequence ``[(A_t, b_t)]`` in the order given, read from the files one system at a
    time (:class:`SystemFiles`; only the counts are checked here).

    ``rhs``: ``None`` (``b = (1, …, 1)`` for every system), one file per matrix, or several
    files for a single matrix (one matrix, many right-hand sides)."""
    matrices = [Path(p) for p in matrices]
    if not matrices:
        raise ValueError("no matrix files given")
    rhs = None if rhs is None else [Path(p) for p in rhs]
    if rhs is not None and len(rhs) != len(matrices) and len(matrices) != 1:
        raise ValueError(f"{len(rhs)} right-hand sides for {len(matrices)} matrices; give one "
                         f"per matrix, or many for a single matrix")
    return SystemFiles(matrices, rhs)


def check_systems(systems, solver, names=None, auto_context=None, rtol=None,
                  atol=0.0) -> None:
    """Refuse, naming the file (``names``, one per system) or the system, a system that
    cannot be read (:class:`SystemFiles`) or a matrix ``solver`` cannot take — a zero or
    missing diagonal entry; for SSOR-PCG, or an automatic context, a matrix that is not
    symmetric, or whose diagonal is not positive (for an automatic context with SOR: of both
    signs) — before anything is solved (each distinct matrix once, one system in memory at a
    time).  With ``rtol``, a right-hand side inconsistent with its singular matrix (a pure
    Neumann or graph Laplacian's, :func:`solvers.spectral.null_floor`: no ``x`` meets
    ``max(rtol·‖b‖, atol)``) is refused too, naming the right-hand side's file: the Tuner
    had refused it only once its system ran, after every earlier system was solved, and the
    refusal named the matrix's file."""
    import solvers

    seen = set()
    key = getattr(systems, "matrix_key", None)
    for t in range(len(systems)):
        A, b = systems[t]  # a file that cannot be read names itself
        if rtol is not None:
            _check_consistent(systems, t, A, b, rtol, atol, names)
        # a list holds its matrices, so their ids stay distinct; files are told apart by index
        k = key(t) if key is not None else id(A)
        if k in seen:
            continue
        seen.add(k)
        try:
            op = solvers.prepare(A)
            # the automatic context's estimate takes a diagonal all of one sign (an operator
            # assembled with the other sign has the estimate of −A); SSOR-PCG needs it positive
            flipped = solver != "ssor_pcg" and op.diagonal.max() < 0.0
            op.require_diagonal(solver, positive=solver == "ssor_pcg"
                                or (auto_context is not None and not flipped))
            if solver == "ssor_pcg":
                op.require_symmetric(solver)
            elif auto_context is not None and op.asymmetry() > 1e-10:
                raise ValueError(f"A is not symmetric (max |a_ij - a_ji| = "
                                 f"{op.asymmetry():.2e} relative to max |a_ij|); the automatic "
                                 f"context estimates the spectrum of symmetric matrices only")
        except ValueError as exc:
            name = names[t] if names else f"system {t}"
            raise ValueError(f"{name}: {_file_terms(str(exc), name)}") from None


def _rhs_name(systems, t: int, names) -> str:
    """How a refusal of system ``t``'s right-hand side names it: its file and its matrix's
    (``"b1.npy (the right-hand side of N1.mtx)"``), or, without a file (``b = 1``), the
    matrix's file and that."""
    name = names[t] if names else f"system {t}"
    rhs = getattr(systems, "rhs_path", lambda t: None)(t)
    if rhs is not None:
        return f"{rhs} (the right-hand side of {name})"
    if isinstance(systems, SystemFiles):
        return f"{name} (no --rhs: b = (1, ..., 1))"
    return name


def _consistency_problem(A, b, rtol, atol) -> str:
    """Why no ``x`` meets the stopping rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)`` for this
    ``b`` — ``A`` singular with a known null vector of ``Aᵀ`` that ``b`` is not orthogonal to
    (the thresholds of the Tuner's own refusal) — in words for files, or ``""``."""
    from solvers.spectral import null_floor

    try:
        floor, comps, kind = null_floor(A, b)
    except (TypeError, ValueError):
        return ""
    if not floor:
        return ""
    b_norm = float(np.linalg.norm(b))
    tol = max(rtol * b_norm, atol)
    if not (floor > tol and floor > 1e3 * np.finfo(float).eps * b_norm):
        return ""
    each = "" if comps == 1 else f" on each of the {comps} connected components of A's graph"
    if kind == "rows":
        what = ("the matrix is a row-scaled Neumann or graph Laplacian (A·1 = 0, "
                "A = diag(d)·S with S symmetric)")
        fix = (f"a consistent right-hand side has Σ b_i/d_i = 0{each} (divide b by d, "
               f"subtract the mean, multiply by d)")
    else:
        what = ("the columns of the matrix sum to zero (a pure Neumann or graph Laplacian), "
                "so b's sum stays in the residual whatever x is")
        fix = (f"a consistent right-hand side sums to zero{each} (subtract the mean of its "
               f"entries from each entry)")
    return (f"inconsistent with its matrix: {what}, and ‖b − A x‖ >= {floor:.3e} for every "
            f"x, above the tolerance max(rtol·‖b‖, atol) = {tol:.3e}: no ω and no solver can "
            f"converge; {fix}")


def _check_consistent(systems, t, A, b, rtol, atol, names) -> None:
    """Refuse system ``t`` when its right-hand side is inconsistent with its matrix
    (:func:`_consistency_problem`), naming the right-hand side (:func:`_rhs_name`)."""
    why = _consistency_problem(A, b, rtol, atol)
    if why:
        raise ValueError(f"{_rhs_name(systems, t, names)}: {why}")


def _file_terms(msg: str, name: str) -> str:
    """A refusal of a Matrix Market file's matrix in the file's terms: a symmetric matrix
    stored as one triangle under a ``general`` header had been told to pass the full matrix,
    ``A + sp.triu(A, 1).T`` — Python for a command-line user; the file needs the
    ``symmetric`` header, under which the format keeps one triangle."""
    if not str(name).lower().endswith((".mtx", ".mtx.gz")):
        return msg
    for full in ("A + sp.triu(A, 1).T", "A + sp.tril(A, -1).T"):
        msg = msg.replace(f"pass the full matrix, {full}",
                          "write 'symmetric' instead of 'general' in the file's first line "
                          "(Matrix Market then keeps one triangle and relaxtune mirrors it)")
    return msg


def make_policy(policy, solver, arms, seed=0):
    """A policy over ``arms``: a :data:`bandit.POLICIES` name, ``"default"`` or ``None`` (the
    library's default learner for ``solver``), or a policy, returned as it is."""
    import bandit

    if isinstance(policy, str) and policy != "default":
        return bandit.POLICIES[policy](list(arms), seed=seed)
    if policy is None or policy == "default":
        return bandit.default_policy(solver, list(arms), seed=seed)
    return policy


def needs_context(policy) -> bool:
    """Whether ``policy`` refuses to choose without a context (asked of a copy)."""
    import copy

    try:
        copy.deepcopy(policy).select(None)
    except ValueError as exc:
        return "context" in str(exc)
    return False


def unresumable(tuner) -> str | None:
    """Why :func:`run` cannot continue ``tuner`` (``None``: it can).  The comparison it
    makes solves every system with every ω of the tuner's grid by the Numba kernels and counts
    iterations, so the tuner must be of the Numba backend, over ω of ``sor`` or ``ssor_pcg``
    (not solver configurations), with its cost in iterations (a cost in seconds or work would
    print the tuner's regret estimate in that unit beside the exact regret in iterations)."""
    if tuner.backend != "numba":
        return (f"a tuner of backend {tuner.backend!r}; relaxtune tune solves with the numba "
                f"backend")
    configs = [a for a in tuner.policy.arms if isinstance(a, dict)]
    if configs or tuner.solver not in ("sor", "ssor_pcg"):
        what = (f"{len(configs)} configuration arms such as {configs[0]}" if configs
                else repr(tuner.solver))
        return (f"a tuner over solver configurations ({what}); relaxtune tune tunes the ω "
                f"of 'sor' or 'ssor_pcg'")
    if tuner.cost != "iterations":
        return (f"a tuner whose cost is {tuner.cost!r}; relaxtune tune compares iteration "
                f"counts, and the tuner's own regret estimate would be in its cost's unit")
    return None


def run(systems, *, solver="ssor_pcg", arms=None, policy=None, contexts=None, warm=False,
        rtol=1e-8, maxiter=10_000, exact=True, audit_budget=0.05, progress=False,
        seed=0, interruptible=False, auto_context=None, names=None, tuner=None) -> dict:
    """Solve ``systems`` in order through a Tuner and, if ``exact``, with every arm.

    Parameters
    ----------
    systems : sequence of (A, b)
        A list, or :class:`SystemFiles` (read one system at a time).
    solver : {"sor", "ssor_pcg"}
    arms : sequence of float, optional
        The ω grid (default :data:`bandit.DEFAULT_ARMS`, or a policy object's own arms).
    policy : str or bandit.Policy, optional
        A :data:`bandit.POLICIES` name or a policy over ``arms`` (a policy over other ω is
        refused); default the library's
        default learner for ``solver``.
    contexts : list, optional
        One context per system (a number or a vector).
    warm : bool
        Start each solve from the previous system's solution when the sizes match (as a
        time-stepping loop does); every arm of the exact run starts from the same ``x0`` as
        the tuned solve of that system.
    exact : bool
        Also solve every system with every arm (``len(arms)`` times the tuned run's solves)
        for exact totals and regret.
    auto_context : {None, "spectral"}
        The Tuner's automatic context (:class:`bandit.Tuner`): the theory's ω of each system
        from a few Lanczos steps, beside ``contexts`` if given.
    interruptible : bool
        Ctrl-C returns what was finished (``interrupted``: the systems finished in full)
        instead of raising.
    names : list of str, optional
        One name per system (its file) for a refusal: ``ValueError("<name>: ...")``;
        default ``system <index>``.
    tuner : bandit.Tuner, optional
        A tuner to continue (:meth:`bandit.Tuner.load`): its solver, arms, policy, ``rtol``,
        ``maxiter``, audit budget and automatic context are used (the arguments of those
        names are ignored), and the summary's tuned run covers the rounds added here
        (``start``: the rounds it had before).
    audit_budget : float or None
        The Tuner's audit budget (a share of its solve time spent on audit runs, off the
        clock), which gives its own regret estimate an interval; ``None`` or 0: no audits.

    Returns
    -------
    dict
        ``tuner``, ``arms``, ``C`` (iterations, systems × arms; a failed solve, or one the
        solver refused at that ω, counts ``maxiter``) and ``converged`` (both ``None`` without ``exact``), ``solver``, ``maxiter``,
        ``interrupted`` (``None``, or the systems finished before Ctrl-C; then ``stop``, the
        ``KeyboardInterrupt`` caught).
    """
    import bandit
    import solvers

    atol = 0.0
    if tuner is not None:  # continued: the tuner's settings, not the arguments'
        why = unresumable(tuner)
        if why is not None:
            raise ValueError(f"cannot continue {why}")
        solver, arms, policy = tuner.solver, list(tuner.policy.arms), tuner.policy
        rtol, maxiter, auto_context = tuner.rtol, tuner.maxiter, tuner.auto_context
        # a tuner saved with atol > 0 stops there: the fixed ω of the comparison stop at
        # the same rule (they had run to rtol alone, and the tuned run looked cheaper than
        # the best fixed ω in hindsight: "0.857 × best fixed", an exact regret of -6)
        atol = tuner.atol
    if solver not in ("sor", "ssor_pcg"):
        raise ValueError(f"solver must be 'sor' or 'ssor_pcg', got {solver!r}")
    try:  # (a generator had met "object of type 'generator' has no len()")
        count = len(systems)
    except TypeError:
        raise TypeError(f"systems must be a sequence of (A, b) pairs (a list, or "
                        f"load_systems(...)), got {type(systems).__name__}: every system is "
                        f"solved twice, by the tuner and by every arm, so it is read by "
                        f"index; pass list(systems)") from None
    if not count:  # (had returned a table of zeros naming ω = 1 the best fixed arm)
        raise ValueError("no systems given: systems is empty")
    if not isinstance(systems, SystemFiles):
        _check_pairs(systems, names)
    arms = _policy_arms(policy, arms) if tuner is None else arms
    arms = list(bandit.DEFAULT_ARMS if arms is None else arms)
    if contexts is not None and len(contexts) != count:
        raise ValueError(f"{len(contexts)} contexts for {count} systems")
    policy = make_policy(policy, solver, arms, seed)
    if contexts is None and auto_context is None and needs_context(policy):
        raise ValueError(f"{type(policy).__name__} needs a context for every system (give "
                         f"contexts or auto_context='spectral', or a learner that works "
                         f"without)")
    if tuner is None:
        tuner = bandit.Tuner(policy, solver=solver, rtol=rtol, maxiter=maxiter,
                             audit_budget=audit_budget or 0.0, audit_seed=seed,
                             auto_context=auto_context)
    start = len(tuner.history["arm"])  # rounds of the runs it continues
    fn = solvers.SOLVERS[solver]
    T, K = len(systems), len(arms)
    C = np.zeros((T, K)) if exact else None
    conv = np.zeros((T, K), dtype=bool) if exact else None
    steps = range(T)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="systems", unit="system")
    x = None
    done = 0  # systems with the tuned solve and (if exact) every arm's
    # the tuned solves that failed: (system, why), as the Tuner's result says it (every run
    # breaking down: "not positive definite"); the table had said only "no solve converged"
    failures = []
    try:
        for t in steps:
            try:
                A, b = systems[t]
            except ValueError as exc:  # read again to solve it, and refused now
                changed = UnreadSystem(str(exc))
                if not (interruptible and done):
                    raise changed from None
                # the systems finished so far are kept, as for Ctrl-C (a file rewritten
                # during the run had lost every one of them, and its message named the
                # matrix's file before the right-hand side's)
                if exact:
                    C, conv = C[:done], conv[:done]
                return {"tuner": tuner, "arms": arms, "C": C, "converged": conv,
                        "solver": solver, "interrupted": done, "maxiter": maxiter,
                        "stop": changed, "start": start, "failures": _named(failures, names)}
            x0 = x if warm and x is not None and x.shape[0] == A.shape[0] else None
            ctx = None if contexts is None else contexts[t]
            res = tuner.solve(A, b, x0=x0, context=ctx)
            if not res.converged:
                failures.append((t, (res.info or {}).get("failure") or res.reason))
            x = res.x
            if exact:
                op = solvers.prepare(A)
                for k, w in enumerate(arms):
                    try:
                        r = fn(op, b, w, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)
                    except ValueError:
                        # the tuned solve took this system: a refusal is this ω's, e.g. an
                        # iterate that overflows in SOR's first sweep at a large ω
                        C[t, k], conv[t, k] = maxiter, False
                        continue
                    C[t, k] = r.iterations if r.converged else maxiter
                    conv[t, k] = r.converged
            done = t + 1
    except ValueError as exc:  # a system refused once it ran: say which
        if isinstance(exc, UnreadSystem):  # it names its file
            raise
        if str(exc).startswith("A x = b is inconsistent") and done < count:
            # the right-hand side's fault, not the matrix's: named by its file (the
            # matrix's file had been named, and told to take b − b.mean())
            raise ValueError(f"{_rhs_name(systems, done, names)}: "
                             f"{_consistency_problem(*systems[done], rtol, atol) or exc}"
                             ) from None
        raise ValueError(f"{names[done] if names else f'system {done}'}: {exc}") from None
    except KeyboardInterrupt as exc:
        if not interruptible:
            raise
        # Ctrl-C: what was finished is kept (the tuner has every round it recorded; the
        # exact costs cover the systems finished in full)
        if exact:
            C, conv = C[:done], conv[:done]
        return {"tuner": tuner, "arms": arms, "C": C, "converged": conv, "solver": solver,
                "interrupted": done, "maxiter": maxiter, "stop": exc, "start": start,
                "failures": _named(failures, names)}
    return {"tuner": tuner, "arms": arms, "C": C, "converged": conv, "solver": solver,
            "interrupted": None, "maxiter": maxiter, "start": start,
            "failures": _named(failures, names)}


def _check_pairs(systems, names=None) -> None:
    """Refuse a list of systems whose entries are not ``(A, b)`` pairs, naming the first and
    what it is: Python's unpacking had said "too many values to unpack (expected 2)" of a
    bare matrix or an ``(A, b, context)`` triple, raised as a system that could not be read
    again (:class:`UnreadSystem`), a file's problem."""
    for t, item in enumerate(systems):
        if isinstance(item, (tuple, list)) and len(item) == 2:
            continue
        where = names[t] if names is not None and t < len(names) else f"system {t}"
        if isinstance(item, (tuple, list)) and len(item) == 3:
            what = (f"a triple of {len(item)} items; a context goes in contexts=[...], one "
                    f"per system")
        elif isinstance(item, (tuple, list)):
            what = f"a {type(item).__name__} of {len(item)} item{'s' if len(item) != 1 else ''}"
        else:
            shape = getattr(item, "shape", None)
            what = f"a {type(item).__name__}" + (f" of shape {shape}" if shape else "")
            if shape is not None and len(shape) == 2:
                what += ("; a matrix alone has no right-hand side: pair it with one, "
                         "(A, np.ones(A.shape[0]))")
        raise ValueError(f"{where}: systems must be (A, b) pairs, got {what}")


class UnreadSystem(ValueError):
    """A system of :class:`SystemFiles` that could not be read when :func:`run` came to solve
    it (its file changed since :func:`check_systems` read it); the message names the file.
    With ``interruptible`` and some systems finished, :func:`run` returns them (``stop`` is
    this error) instead of raising."""


def _policy_arms(policy, arms):
    """The ω grid of :func:`run` given a policy object: its own arms (``arms=None``), or
    ``arms`` when they are the same ω in the same order.  Other arms are refused: the exact
    comparison solves with ``arms`` while the tuner plays the policy's, and its best fixed
    ω, regret and the tuner's estimate beside it had been of two different grids, without a
    word; so are configuration arms, which the comparison cannot run (each had counted
    ``maxiter`` in every row)."""
    if policy is None or isinstance(policy, str) or not hasattr(policy, "arms"):
        return arms
    own = list(policy.arms)
    configs = [a for a in own if isinstance(a, dict)]
    if configs:
        raise ValueError(f"{type(policy).__name__} holds {len(configs)} configuration arms "
                         f"such as {configs[0]}; run compares the ω of 'sor' or 'ssor_pcg' "
                         f"(give a policy over ω values)")
    if arms is None:
        return own
    given = list(arms)
    if len(given) != len(own) or any(float(a) != float(w) for a, w in zip(given, own)):
        raise ValueError(f"arms {given} are not the policy's arms {own}: the tuner plays the "
                         f"policy's and the exact comparison would solve with others; leave "
                         f"arms out to compare the policy's, or give a policy over arms")
    return own


def _own_time(tuner):
    """The Tuner's own time against its solves' (medians of the latest solves, µs), and
    whether it exceeded them (:class:`bandit.TunerCostWarning`'s test); ``None`` before a
    solve was measured."""
    from bandit import _tuner_own

    if not any(o == o for o in getattr(tuner, "_own", ())):
        return None
    mine, solves = _tuner_own._medians(tuner)
    if not (mine == mine and solves == solves):
        return None
    return {"median_us": mine * 1e6, "solver_median_us": solves * 1e6,
            "exceeds_solves": bool(getattr(tuner, "_own_warned", False))}


def _named(failures, names):
    """The failed systems of :func:`run` as ``{"system": t + 1, "name": ..., "why": ...}``."""
    return [{"system": t + 1, "name": None if not names else str(names[t]), "why": str(why)}
            for t, why in failures]



def summarize(result) -> dict:
    """Totals and regret of a :func:`run`: the tuned run, the best fixed arm in hindsight,
    ω = 1 (or the arm closest to it), the instance-optimal choice, and the Tuner's own regret
    estimate against the best fixed arm with its 90 % interval beside the exact value.

    A continued tuner (``result["start"]`` earlier rounds): the totals and the exact regret
    cover this run's systems, the Tuner's estimate every round it holds (``resumed``)."""
    tuner, arms, C = result["tuner"], result["arms"], result["C"]
    h = tuner.history
    s = result.get("start", 0)
    # after Ctrl-C the tuner may have one round more than the exact costs: compare the same
    T = len(h["arm"]) - s if C is None else C.shape[0]
    its = int(np.sum(_tuned_costs(result, T)))
    out = {"solver": result["solver"], "systems": int(T),
           "tuned": {"iterations": its, "seconds": float(np.sum(h["seconds"][s:s + T])),
                     "all_converged": bool(np.all(h["converged"][s:s + T])),
                     "not_converged": int(T - np.sum(h["converged"][s:s + T]))}}
    if s:
        out["resumed"] = {"earlier_rounds": int(s), "rounds": int(s + T)}
    failures = [f for f in result.get("failures", ()) if f["system"] <= T]
    if failures:
        out["failures"] = failures
    if result.get("interrupted") is not None:
        out["interrupted"] = True
    own = _own_time(tuner)
    if own is not None:
        out["own_time"] = own
    auto = getattr(tuner, "auto_context", None)
    if auto is not None:  # paid by the tuned run only: its Lanczos steps, one product each
        # (counted by the tuner: fewer than the steps on a system smaller than them)
        out["auto_context"] = {"kind": auto,
                               "matvecs": int(getattr(tuner, "_context_products", 0))}
    # after Ctrl-C the tuner may have one round more than the exact costs: the estimate
    # covers the systems the exact costs cover
    rep = tuner.regret(rounds=s + T)
    est = rep.best_fixed
    out["estimate"] = {"best_fixed": float(est.estimate), "low": float(est.low),
                       "high": float(est.high), "method": est.method,
                       "at_bound": bool(est.at_bound)}
    if C is None:
        return out
    k, totals, conv = _best_fixed(result)
    k1 = int(np.argmin([abs(w - 1.0) for w in arms]))
    inst = float(C.min(axis=1).sum())
    failed = (~result["converged"]).sum(axis=0)  # per arm: the systems it did not solve
    out["best_fixed"] = {"omega": arms[k], "iterations": int(totals[k]),
                         "all_converged": bool(conv[k]), "not_converged": int(failed[k])}
    out["omega_one"] = {"omega": arms[k1], "iterations": int(totals[k1]),
                        "all_converged": bool(conv[k1]), "not_converged": int(failed[k1])}
    solved = result["converged"].any(axis=1)
    out["instance_optimal"] = {"iterations": int(inst), "all_converged": bool(solved.all()),
                               "not_converged": int((~solved).sum())}
    out["fixed"] = {float(w): int(c) for w, c in zip(arms, totals)}
    out["exact_regret"] = {"best_fixed": its - int(totals[k]),
                           "instance_optimal": its - int(inst)}
    if not s:  # (a continued run's estimate covers other rounds than the exact regret)
        out["covered"] = bool(est.low <= its - totals[k] <= est.high)
    return out

