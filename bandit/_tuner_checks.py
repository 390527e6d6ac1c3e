"""Checks of the :class:`bandit.Tuner`'s settings and of each solve's context: a refused
argument raises ``ValueError`` naming the parameter (NumPy scalars and 0-d arrays are numbers
too), before anything changes."""
from __future__ import annotations

import decimal
import inspect
import math
import numbers
from operator import attrgetter

import numpy as np

from ._base import Policy, arm_omega
from solvers._checks import _check_unmasked, scalar

# solve keywords the Tuner sets itself; an arm may not set them
_TUNER_KEYS = frozenset({"x0", "rtol", "atol", "maxiter", "backend", "dtol"})
_INT64_MAX = int(np.iinfo(np.int64).max)


def _float(value) -> float:
    """``float(value)`` of a real number, ``±inf`` for one beyond the float range (an integer
    like ``10**400``), so that the callers' finiteness checks refuse it by name."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _number(value, name) -> float:
    if type(value) is float:
        return value
    value = scalar(value)  # a 0-d array is a number too
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return _float(value)


def _integer(value, name) -> int:
    if type(value) is int:
        return value
    value = scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _not_finite(context) -> ValueError:
    """The refusal of a context with an entry that is not a finite double: NaN or ±inf as
    such; a number beyond the double range (a Python integer such as ``10**400``, which is
    finite) said to be one — its whole repr had been printed, 401 digits, as "must be finite",
    of a number that is."""
    values = context if isinstance(context, (list, tuple)) else [context]
    big = [v for v in values if isinstance(v, numbers.Integral)
           and not isinstance(v, (bool, np.bool_)) and abs(int(v)) >= 2 ** 1024]
    if big:
        digits = len(str(abs(int(big[0]))))
        return ValueError(f"context holds an integer of {digits} digits (about "
                          f"{'-' if big[0] < 0 else ''}1e{digits - 1}), beyond the double "
                          f"range (1.8e308) in which contexts are read: pass a measure of "
                          f"ordinary size instead, such as its logarithm (math.log10(c))")
    shown = repr(context)
    if len(shown) > 200:
        shown = shown[:200] + "..."
    return ValueError(f"context must be finite, got {shown}")


def _check_context(context):
    """``None``, a finite float, or a finite 1-D float array; else ``ValueError``.

    Checked before the policy draws, and what the history records; whether the policy can use
    it (a context at all, its length) the policy checks before it draws.
    """
    if context is None or (type(context) is float and math.isfinite(context)):
        return context
    if isinstance(context, decimal.Decimal):  # a number, though not numbers.Real
        context = float(context)
    if isinstance(context, numbers.Real) and not isinstance(context, (bool, np.bool_)):
        c = _float(context)
        if not math.isfinite(c):
            raise _not_finite(context)
        return c
    if isinstance(context, (str, bytes, bool, np.bool_)):
        raise ValueError(f"context must be a number or a sequence of numbers, got {context!r}")
    if isinstance(context, np.ma.MaskedArray):  # np.ma.masked too: np.asarray drops the mask
        _check_unmasked_context(context)
    try:
        raw = np.asarray(context)
        if raw.dtype.kind == "O" and raw.ndim == 1 and all(
                isinstance(c, (numbers.Real, decimal.Decimal))
                and not isinstance(c, (bool, np.bool_)) for c in raw):
            raw = raw.astype(np.float64)  # numbers of mixed types (a Fraction, an int, ...)
        if raw.dtype.kind not in "fiu":  # strings float() would parse, bools, anything else
            raise TypeError
        arr = np.array(raw, dtype=np.float64)
    except OverflowError:  # an integer beyond the float range
        raise _not_finite(context) from None
    except (TypeError, ValueError):
        raise ValueError(
            f"context must be a number or a sequence of numbers, got {context!r}") from None
    if arr.ndim == 0 and isinstance(context, np.ndarray):  # np.array(0.5): a number
        return _check_context(float(arr))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"context must be a number or a 1-D sequence of numbers, got shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise _not_finite(context)
    return arr


def _check_unmasked_context(context) -> None:
    """Refuse a masked context with masked entries: ``np.asarray`` passes the values under
    the mask (0 for ``np.ma.masked``), which the learner had taken as the context's numbers
    without a word; a mask of ``False`` only leaves an ordinary array."""
    mask = np.ma.getmaskarray(context)
    if mask.ndim == 0 and mask:
        raise ValueError("context is masked (np.ma.masked, a missing value): the learner "
                         "needs the context's numbers; pass a number, or no context")
    _check_unmasked(context, "context", "the learner would use the values under the mask as "
                                        "the context's numbers")


def _first_checks(context, A, b, x0):
    """The checks a rank makes on its own before any collective step of a solve on several
    ranks: the context, and that no PETSc object was destroyed (any PETSc call on one
    crashes; a rank refusing one later, alone, would leave the others waiting).  Returns the
    context and the kind of ``A``, both compared across the ranks."""
    from solvers.petsc import _check_alive

    for name, v in (("A", A), ("b", b), ("x0", x0)):
        _check_alive(v, name)
    # a PETSc Mat is used in place, any other matrix is converted collectively (after a
    # comparison across the ranks); a PETSc Vec is checked collectively, a numpy vector by
    # each rank alone: ranks mixing the two would wait in different operations
    kind = {"Mat": "a PETSc Mat", "PetscOperator": "a prepared PETSc operator"}.get(
        type(A).__name__, "a matrix to convert")
    vecs = ["a PETSc Vec" if type(v).__name__ == "Vec" else "none" if v is None else "an array"
            for v in (b, x0)]
    return _check_context(context), (kind, *vecs)


def _what_policy(policy) -> str:
    """What was passed instead of a policy, with the way to make one (a class or a registry
    name is the usual slip)."""
    from . import POLICIES

    if isinstance(policy, type) and issubclass(policy, Policy):
        return (f"the class {policy.__name__}; pass an instance, e.g. "
                f"{policy.__name__}(arms, seed=0)")
    if isinstance(policy, str) and policy in ("sor", "ssor_pcg", "cg"):
        return (f"the solver name {policy!r}: the first argument is the policy (or a list "
                f"of arms); pass the solver by keyword, Tuner(solver={policy!r})")
    if isinstance(policy, str) and policy in POLICIES:
        return (f"the name {policy!r}; make one with bandit.POLICIES[{policy!r}](arms, seed=0)"
                f" or bandit.default_policy(solver)")
    if isinstance(policy, (set, frozenset)):
        return (f"a {type(policy).__name__}: arms are named by their index, so give them in a "
                f"list (e.g. sorted(arms))")
    if not isinstance(policy, (str, bytes, dict)) and hasattr(policy, "__iter__"):
        # a range, a generator, a pandas Series...: the arms, not in a list
        return (f"{type(policy).__name__}; arms go in a list, a tuple or a 1-D array "
                f"(list(arms))")
    return type(policy).__name__


def _check_hooks(progress, callback):
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be a function or None, got {callback!r}")
    if not isinstance(progress, (bool, str)):
        raise ValueError(f"progress must be True, False or a description, got {progress!r}")


#: Settings fixed at construction: the arms' solver calls, budgets, audits and cost model are
#: built from them, so a change would reach some runs and not others — and a saved file
#: would load with it.  Read-only attributes (stored as ``_name``).
_FIXED = ("policy", "solver", "rtol", "atol", "maxiter", "cost", "backend", "guard",
          "audit_budget", "audit_seed", "auto_context")


def _fixed(name):
    def refuse(self, value):
        raise AttributeError(
            f"Tuner.{name} is fixed when the tuner is made (its solves, budgets and audits are "
            f"built from it; a change would reach some runs and not others, and a saved file "
            f"would load with it): make a new Tuner for other settings")
    return property(attrgetter("_" + name), refuse, doc=f"``{name}`` as given to the "
                                                         f"constructor (read-only).")


def _takes_dtol(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "dtol" or p.kind is p.VAR_KEYWORD for p in params)


class SettingChecks:
    """The constructor's checks of the solver, the cost and the arms (a part of
    :class:`bandit.Tuner`)."""

    @staticmethod
    def _resolve_cost(cost, arms, backend):
        """``cost`` checked against the arms: iterations only where they mean the same work."""
        if cost is None:  # timed work: the clock's ranking of families without its noise
            if not arms.heterogeneous:
                return "iterations"
            return "timed_work" if backend == "numba" and not arms.custom else "time"
        if cost == "iterations" and arms.heterogeneous:
            a = arms.family.index(1)
            # the work costs are only offered where they are accepted (below)
            use = ("cost='timed_work' (the default for such arms), cost='time' or cost='work'"
                   if backend == "numba" and not arms.custom else
                   "cost='time' (the default for such arms)")
            raise ValueError(
                f"cost='iterations' compares iteration counts, which cost different work "
                f"across these arms (arm 0 {arms.labels[0]!r} and arm {a} {arms.labels[a]!r} "
                f"differ in more than ω); use {use}")
        if cost in ("work", "timed_work") and (arms.custom or backend != "numba"):
            raise ValueError(f"cost={cost!r} counts the Numba solvers' arithmetic "
                             "(solvers.work_model); it needs a solver name and "
                             "backend='numba' (use cost='time' otherwise)")
        return cost

    @staticmethod
    def _resolve(solver):
        if isinstance(solver, str):
            import solvers

            if solver not in solvers.SOLVERS:
                raise ValueError(f"unknown solver {solver!r}; known: {sorted(solvers.SOLVERS)}")
            return solvers.SOLVERS[solver]
        if callable(solver):
            return solver
        raise ValueError(f"solver must be a solvers.SOLVERS name or a function, got {solver!r}")

    @staticmethod
    def _max_int(backend) -> int:
        """Largest ``maxiter`` the kernels take: int64 for Numba, ``PetscInt`` for PETSc."""
        if backend == "petsc":
            try:
                from petsc4py import PETSc
            except ImportError:
                return _INT64_MAX  # the solver explains how to install it
            return int(np.iinfo(PETSc.IntType).max)
        return _INT64_MAX

    def _check_arms(self):
        """Every arm's ω (NaN if none), as the history records it; the arms of a custom solver
        function are checked here (configurations are checked by :class:`ArmSet`)."""
        omegas = []
        for i, arm in enumerate(self.policy.arms):
            try:
                om = arm_omega(arm)
            except (TypeError, ValueError):
                raise ValueError(f"arm {i} ({arm!r}): omega must be a number") from None
            if isinstance(arm, dict) and not self._by_name:
                owned = sorted(_TUNER_KEYS & arm.keys())
                if owned:
                    raise ValueError(f"arm {i} ({arm!r}) sets {owned}, which the Tuner sets "
                                     "for every solve")
            omegas.append(math.nan if om is None else om)
        return omegas

    def _check_solver_call(self):
        """Refuse, at construction, a solver function that cannot take the call the Tuner
        makes of it — ``fn(A, b, x0=..., maxiter=..., rtol=..., atol=..., backend=...,
        omega=...)`` with each arm's settings (and ``dtol`` on guarded runs when it declares
        one) — as Python would refuse it at the first solve: the usual slips are
        ``solvers.pcg`` (no ``omega``) and scipy's solvers (no ``backend``, and a tuple
        back).  A function whose signature cannot be read is left to its first call."""
        fn = self._solve_fn
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return
        name = self.solver_name
        for arm, (_, kws) in enumerate(self._calls):
            for kw in kws.values():
                try:
                    sig.bind(None, None, x0=None, maxiter=1, **kw)
                except TypeError as exc:
                    raise ValueError(self._call_refusal(fn, name, arm, kw, exc)) from None

    def _call_refusal(self, fn, name, arm, kw, exc) -> str:
        """The message of :meth:`_check_solver_call`, with the way out for the usual slips."""
        import solvers

        keys = ", ".join(f"{k}=..." for k in ("x0", "maxiter", *kw))
        msg = (f"solver function {name} cannot be called as the Tuner calls it for arm {arm} "
               f"({self.policy.arms[arm]!r}), {name}(A, b, {keys}): {exc}; a solver function "
               f"takes f(A, b, omega=..., *, x0, rtol, atol, maxiter, backend) (a dict arm's "
               f"settings as keywords) and returns a solvers.SolveResult")
        if fn is solvers.pcg:
            msg += ("; to choose a preconditioner give configuration arms instead, e.g. "
                    "Tuner(bandit.config_grid(omegas=[1.2, 1.6], pcs=['jacobi', 'ic0', "
                    "'amg']))")
        elif getattr(fn, "__module__", "").startswith("scipy."):
            msg += ("; scipy's solvers return (x, info): wrap one in a function that returns "
                    "a SolveResult, or use solver='cg', 'sor' or 'ssor_pcg'")
        return msg

    def _try_arms(self):
        """Run every arm that is more than an ω once on a tiny SPD system, with its own
        (throwaway) preconditioner, so that a setting the solver refuses is refused here
        rather than after a draw, and the first timed solve of each kernel is not its
        compilation."""
        import solvers

        arms = self._arms
        # on PETSc, a Mat on the Tuner's communicator: the trials are as collective as its
        # solves (on COMM_SELF, not at all)
        tiny = solvers.prepare(np.array([[2.0, -1.0], [-1.0, 2.0]]), backend=self.backend,
                               comm=self._mat_comm)
        seen = set()
        # with a clock for cost, a float arm's solver runs once too: the first timed solve
        # would otherwise pay for loading its kernels (~10 ms against a solve of ~50 µs), and
        # the learner would be told that as the arm's cost
        timed = self.cost in ("time", "timed_work")
        for i, (arm, cfg) in enumerate(zip(self.policy.arms, arms.configs)):
            key = (cfg.family, cfg.knobs)
            if key in seen or not (isinstance(arm, dict) or arms.heterogeneous or timed):
                continue  # a float arm is a checked ω
            seen.add(key)
            fn, kw = cfg.call()
            kw = {**self._calls[i][1][True], **kw, "backend": self.backend}
            try:
                fn(tiny, np.ones(2), x0=None, maxiter=1, **kw)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"arm {i} ({arm!r}) is not valid for {cfg.method}: "
                                 f"{exc}") from None


def _check_result(res, name, b, maxiter=None):
    """The result of a user's solver function ``name`` for the right-hand side ``b``, checked
    before the Tuner reads it: a :class:`solvers.SolveResult` whose ``iterations`` is an
    integer count, at most the ``maxiter`` the function was called with, ``converged`` a
    bool, ``reason`` one of :data:`solvers.REASONS` that agrees with ``converged``
    (``"converged"`` exactly when it is True), ``seconds`` a number, ``info`` a dict and
    ``x`` a vector of ``b``'s size, finite when ``converged`` (NumPy integers and bools are
    converted, in a copy).  Raises
    ``TypeError`` for another type (scipy's ``(x, info)`` tuple is the usual slip) and
    ``ValueError`` naming the field otherwise; the solve is then abandoned before anything is
    told or recorded, as for any error of the solver function."""
    from solvers import SolveResult

    if not isinstance(res, SolveResult):
        raise TypeError(f"solver function {name} returned a {type(res).__name__}, not a "
                        f"solvers.SolveResult (see the Tuner's solver parameter; a scipy "
                        f"solver's (x, info) must be wrapped in one)")

    def bad(field, value, want):
        return ValueError(f"solver function {name} returned a SolveResult whose {field} is "
                          f"{value!r}; it must be {want}")

    its, conv = res.iterations, res.converged
    if isinstance(its, (bool, np.bool_)) or not isinstance(its, numbers.Integral) or not (
            0 <= its <= _INT64_MAX):
        raise bad("iterations", its, "an integer count >= 0 (within int64)")
    if maxiter is not None and its > maxiter:
        # a count past the cap it was given: the Tuner's budgets, audits and failure cost
        # all read it as at most maxiter (it had been recorded, as a converged solve too)
        raise bad("iterations", its, f"at most maxiter={maxiter}, the cap it was called with")
    if not isinstance(conv, (bool, np.bool_)):
        raise bad("converged", conv, "True or False")
    from solvers import REASONS

    reason = res.reason
    if not isinstance(reason, str) or reason not in REASONS:
        raise bad("reason", reason, f"one of {', '.join(map(repr, REASONS))}")
    if bool(conv) != (reason == "converged"):
        # only "converged" means x meets the tolerance: a converged=True with reason
        # "maxiter", or converged=False with reason "converged", had been recorded as given
        raise ValueError(f"solver function {name} returned a SolveResult whose converged is "
                         f"{bool(conv)} but whose reason is {reason!r}; converged=True goes "
                         f"with reason 'converged' only, and reason 'converged' with "
                         f"converged=True")
    if isinstance(res.seconds, (bool, np.bool_)) or not isinstance(res.seconds, numbers.Real):
        raise bad("seconds", res.seconds, "a number")  # (a NaN is the clock check's)
    if not isinstance(res.info, dict):
        raise bad("info", res.info, "a dict")
    x = res.x
    if x is None or (isinstance(x, np.ndarray) and isinstance(b, np.ndarray)
                     and x.size != b.size):
        raise bad("x", x if x is None else f"an array of shape {x.shape}",
                  f"the solution, a vector of b's {np.size(b)} entries")
    if conv and isinstance(x, np.ndarray) and x.dtype.kind in "fc" and not np.isfinite(x).all():
        # a converged NaN would be handed to the user (and learnt from) as a solution
        raise bad("x", f"an array with {np.count_nonzero(~np.isfinite(x))} NaN or Inf "
                  f"entries and converged True", "finite when the solve converged")
    if type(its) is not int or type(conv) is not bool:
        res = res.replace(iterations=int(its), converged=bool(conv))
    return res
