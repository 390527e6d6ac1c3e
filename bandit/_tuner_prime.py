"""The compiled functions a :class:`bandit.Tuner`'s later solves use, loaded at its first solve.

A Numba kernel is loaded from the cache (a few milliseconds; compiled, after an edit or on a
fresh install, in up to a second) the first time a process calls it with a new combination
of argument types.  A Tuner's first solve loads what that solve runs; without this module a
user's loop went on loading kernels in its early solves: the refresh of the working copy at
solve 1, the learner's rounds from a second observation on (its compiled draw and update at
solves 1 to 4), the checks of a run that starts from another vector (a fall-back, an audit, a
preconditioned arm: at any solve), the change test's inverse (whenever it first fires).  Those
solves' timings carried the loads, and where a load fell inside a run (the check of a
preconditioned arm's start, the generic PCG loop of an AMG arm), so did the costs a
``cost="time"`` or ``"timed_work"`` learner was told.

:func:`warm_kernels`, called once by :meth:`Tuner._prime` before the first solve's draw,
runs each of them once on something small whose argument types are those of the user's own
later calls: the learner's code on a copy of the policy at the first system's context, a
refresh of a tiny matrix with the user's index types, the vector checks and, when an arm's
preconditioner runs it, the generic preconditioned CG loop on tiny vectors.  Nothing the
Tuner or its policy holds changes.

pyamg's once-per-process clocks (:meth:`solvers.precond.AMG.setup_clock_floor`,
:meth:`~solvers.precond.AMG.setup_price`) are not taken here: the guard takes them at its
first budget of an AMG try (:meth:`bandit.armset.ArmSet.setup_prior`), before that run's
clock starts, so they never reach a told cost either way, and a loop whose learner never
tries AMG (or whose guard refuses the try on the clock floor alone) no longer pays them:
up to 0.35 s of a first solve, more than the rest of a short loop's warm-up together.

A kernel, once loaded, stays loaded for the whole process, so each part of the warm-up runs
once per process and kind of Tuner (:func:`_policy_key`, :func:`_solver_key`): a second
Tuner of a policy of the same class, settings and context type, or a second matrix of the same
index types, skips it.  A process that makes a Tuner per sequence, per field or per round had
re-run the rounds at every new Tuner's first solve, loading nothing (in a process that had
loaded the kernels, on a system of 2 500 unknowns: 7.7-8.7 ms of the default configuration
learner's 8.8-10 ms first solve, 4.3-4.6 of the ω-only learner's 4.9-5.4, 0.6-0.9 of a fixed
arm's 1.4-1.8; ``python -m experiments.bench_first_call``).
"""
from __future__ import annotations

import copy
import inspect

import numpy as np

#: Rounds of the policy's copy: a first observation, then rounds at contexts inside the
#: range seen (a learner's one-call rounds need a context that widens nothing), one
#: censored (a guarded attempt the budget stopped).
_ROUNDS = 6
#: Above this many features (a long vector context) the policy's rounds are not run: their
#: refits when the context's range widens cost O(d³) each (seconds at d ≈ 1000, where a
#: kernel's load is a few ms), so such a learner loads its kernels where it first uses them.
_MAX_FEATURES = 256
#: Depth to which :func:`_shape` reads a policy's attributes (its feature map, its inner
#: learners and their arms are within it).
_DEPTH = 4

# the keys of the warm-ups this process has run to the end (_policy_key, _solver_key)
_WARMED = set()


def warm_kernels(tuner, op, A, context) -> None:
    """Load every compiled function the later solves of ``tuner`` may first call, with the
    argument types they will have: ``op`` the first system's operator, ``A`` the matrix the
    user passed, ``context`` the first solve's (checked) context.  Never raises (an
    ``Exception`` of a warm-up only means a kernel is loaded later, where it is used)."""
    try:
        key = _policy_key(tuner.policy, context)
        if key not in _WARMED:
            _warm_policy(tuner.policy, context)
            _WARMED.add(key)  # (only once it ran to the end: a failed one is tried again)
    except Exception:  # noqa: BLE001 - a warm-up must not refuse the user's solve
        pass
    if not (tuner._by_name and tuner.backend == "numba"):
        return  # a custom solver function's kernels are its own; PETSc compiles nothing here
    try:
        key = _solver_key(tuner, op, A)
        if key not in _WARMED:
            _warm_solvers(tuner, op, A)
            _WARMED.add(key)
    except Exception:  # noqa: BLE001
        pass


def _policy_key(policy, context) -> tuple:
    """What decides which kernels, with which argument types, the rounds of
    :func:`_warm_policy` load: the policy's class and :func:`_shape`, and the context's type
    and shape.  Two policies with one key run the same code on arguments of the same types."""
    if context is None or type(context) is float:
        ctx = type(context).__name__
    else:
        c = np.asarray(context)
        ctx = ("array", c.dtype.str, c.shape)
    return ("policy", ctx, _shape(policy, _DEPTH, set()))


def _shape(value, depth, seen):
    """A hashable summary of ``value`` that keeps what can change the code its rounds run,
    not its numbers: ``None``, booleans, strings and integers as they are (a seed as
    ``"seed"``: it changes the draws, not the code), a float as its kind (finite,
    infinite or NaN: a cap of ``inf`` turns a rule off), an array as its type and shape, a
    library object (a policy, its feature map) as its class and attributes, a container as
    its items, to :data:`_DEPTH` levels; anything else as its type."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return "nan" if v != v else "inf" if v == np.inf else "-inf" if v == -np.inf else "float"
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape)
    if depth <= 0 or id(value) in seen:
        return type(value).__qualname__
    if isinstance(value, (list, tuple)):
        seen.add(id(value))
        return (type(value).__name__,) + tuple(_shape(v, depth - 1, seen) for v in value)
    if isinstance(value, dict):
        seen.add(id(value))
        return ("dict",) + tuple((str(k), _shape(v, depth - 1, seen))
                                 for k, v in value.items())
    cls = type(value)
    if cls.__module__.split(".")[0] == "bandit" and hasattr(value, "__dict__"):
        seen.add(id(value))
        return (cls.__module__, cls.__qualname__) + tuple(
            (k, "seed" if k == "seed" else _shape(v, depth - 1, seen))
            for k, v in vars(value).items())
    return cls.__qualname__


def _solver_key(tuner, op, A) -> tuple:
    """What decides what :func:`_warm_solvers` loads: the refresh's index types (and whether
    it runs at all), and whether an arm runs the generic preconditioned CG loop."""
    from solvers._operator import _CSR_TYPES

    refresh = tuner._check_rhs is not None and type(A) in _CSR_TYPES and op is not A
    index = (type(A).__name__, A.indptr.dtype.str, A.indices.dtype.str) if refresh else None
    generic = any(_generic_loop(pc) for pc in getattr(tuner._arms, "_pcs", None) or ())
    return ("solvers", index, generic)


def _warm_policy(policy, context) -> None:
    """The policy's rounds on a copy of it: draws (the try gate runs inside them), leaders,
    predictions, updates (one censored) and the change test's forgetting, at contexts of the
    type and length of ``context``.  Only the library's own policies (a user's policy class may
    have effects a copy does not undo)."""
    if type(policy).__module__.split(".")[0] != "bandit":
        return
    if context is not None:
        # a context that has not varied yet: a learner that models the cost itself until it
        # does (JointCB(target="auto")) predicts an arm's cost from its cached, read-only
        # features in every update from the second on — a kernel of its own, loaded inside
        # the second solve of a loop whose context stays put (23-82 ms); two rounds reach
        # it, and the forgetting is left to the rounds below (two matrix inverses, 7 ms)
        _rounds(policy, [context] * 2, forgetting=False)
    _rounds(policy, _nearby(context))


def _rounds(policy, contexts, forgetting=True) -> None:
    """Rounds of a copy of ``policy`` at ``contexts`` (the fourth, if any, censored), then,
    with ``forgetting``, the change test's forgetting."""
    twin = copy.deepcopy(policy)
    for p in [twin] + list(getattr(twin, "inner_policies", None) or []):
        if p is not None:
            _own_methods(p)
    for r, c in enumerate(contexts):
        arm = int(twin.select(c))
        P = getattr(twin, "P", None)
        if r == 0 and isinstance(P, np.ndarray) and P.shape[0] > _MAX_FEATURES:
            return  # a model this large refits in seconds when the range widens: left lazy
        twin.leader(c)
        twin.predict(c)
        censored = r == 3
        twin.update(arm, 1.0 + 0.25 * r, c, censored, not censored)
    twin.predict(c)  # after an update: the means computed afresh (an audit's order)
    twin.leader(c)
    if not forgetting:
        return
    for inner in [twin] + list(getattr(twin, "inner_policies", None) or []):
        forget = getattr(inner, "_forget", None)
        if forget is not None and getattr(inner, "detect_changes", False):
            forget(0.5)  # what a detected change runs (a matrix inverse, compiled)


def _own_methods(obj) -> None:
    """Drop ``obj``'s instance attributes that stand in for methods of its class (a timing
    wrapper, say): a copy keeps such a function as it is (functions are not copied), and the
    function calls the original object's method — the copy's rounds would be the policy's."""
    cls = type(obj)
    for name in [k for k, v in vars(obj).items() if callable(v)]:
        if inspect.isfunction(inspect.getattr_static(cls, name, None)):
            del obj.__dict__[name]


def _nearby(context) -> list:
    """:data:`_ROUNDS` contexts of the type and length of ``context``: it, a neighbour far
    enough for a learner to take the context as varying (``JointCB(target="auto")``), and
    points between the two (inside the range the first two span)."""
    if context is None:
        return [None] * _ROUNDS
    steps = (0.0, 1.0, 0.0, 0.5, 0.25, 0.75)[:_ROUNDS]
    if type(context) is float:
        # half of it, or one more: no overflow, and a span of at least a third of its size
        d = -0.5 * context if abs(context) >= 1.0 else 1.0
        return [context + s * d for s in steps]
    c = np.asarray(context, dtype=np.float64)
    d = np.where(np.abs(c) >= 1.0, -0.5 * c, 1.0)
    return [c + s * d for s in steps]


def _warm_solvers(tuner, op, A) -> None:
    """The solver side: the in-place refresh of the working copy with ``A``'s index types
    (the loop's every solve after the first), the checks of ``b`` and of a start vector as
    the public solver functions make them (runs that start elsewhere than the user's ``x0``),
    and the generic preconditioned CG loop past its first iteration (preconditioners without
    a kernel of their own, AMG; a trial solve at the Tuner's construction stops after one)."""
    import scipy.sparse as sp

    import solvers
    from solvers._checks import check_vector_norm
    from solvers._operator import _CSR_TYPES

    if tuner._check_rhs is not None and type(A) in _CSR_TYPES and op is not A:
        indptr = np.array([0, 2, 4], dtype=A.indptr.dtype)
        indices = np.array([0, 1, 0, 1], dtype=A.indices.dtype)
        tiny = solvers.prepare(type(A)((np.array([2.0, -1.0, -1.0, 2.0]), indices, indptr),
                                       shape=(2, 2)), overwrite=True)
        again = type(A)((np.array([3.0, -1.0, -1.0, 3.0]), indices.copy(), indptr.copy()),
                        shape=(2, 2))
        # scipy may narrow the index arrays it is given: the user's types, as given
        again.indptr, again.indices = indptr.copy(), indices.copy()
        # both kinds of refresh, each with new values: the one that places them in the split
        # triangles (a solver asked for them since the last refresh), and the one that only
        # checks them (a CG or Jacobi-PCG loop), whose triangles are placed when an SOR or
        # SSOR-PCG arm asks later
        for value in (3.0, 4.0, 5.0):
            again.data[[0, 3]] = value
            tiny.split_triangles()
            if value == 5.0:
                tiny._split_asked = False  # (as after a refresh no solver has asked since)
            tiny._refresh_in_place(again)
        tiny.split_triangles()
    one = np.ones(1)
    check_vector_norm(one, 1, "x0")  # a copy of the start, checked (a run from elsewhere)
    check_vector_norm(one, 1, "b", copy=False)
    # the norm of a start whose sum of squares is 0 (a scaled pass of its own): a guarded
    # fall-back that goes on from a stopped attempt whose best iterate was its zero start
    check_vector_norm(np.zeros(1), 1, "x0")
    if any(_generic_loop(pc) for pc in getattr(tuner._arms, "_pcs", None) or ()):
        from solvers.precond import _pcg_loop

        # two steps of plain CG from b = e_1: the second's residual is above the first's, so
        # the loop also stashes its last iterate and replays to its best (a failed solve)
        tri = solvers.prepare(sp.csr_array(np.diag([4.0, 1.0, 1.0, 4.0]) - np.eye(4, k=1)
                                           - np.eye(4, k=-1)))
        b = np.array([1.0, 0.0, 0.0, 0.0])
        _pcg_loop(tri, lambda r, z: np.copyto(z, r), np.zeros(4), b, b.copy(), 1.0, 0.0, 2,
                  1e12)


def _generic_loop(pc) -> bool:
    """Whether preconditioner ``pc`` runs the generic PCG loop (AMG, a user's subclass without
    a kernel of its own), whose kernels a run loads inside its clock; Jacobi, IC(0) and the
    built-in others run a native kernel that the Tuner's construction has loaded."""
    from solvers.precond import NoPreconditioner, Preconditioner

    return (isinstance(pc, Preconditioner) and not isinstance(pc, NoPreconditioner)
            and type(pc)._solve is Preconditioner._solve)
