"""Running one arm of a :class:`bandit.Tuner`: the policy's prior from the first system,
one solver run (its untimed first run in a process, the fast entry of checked input, a
refused set-up or an iterate out of range), a clock reading that is not a number of seconds,
and a run's cost in the tuner's unit."""
from __future__ import annotations

import inspect
import math
import time
import warnings

import numpy as np

from . import mpi as _mpi
from ._cold_family import cold_run_needed
from ._tuner_account import account_plain
from ._tuner_checks import _check_result
from ._tuner_prime import warm_kernels
from solvers._result import IterateOverflowError
from solvers.precond import SetupError

# iterations of the untimed run before an arm's first timed run in a process (Tuner._run):
# enough to pass once over every line of its solver's code
_COLD_ITERATIONS = 2


def _takes_prior(policy) -> bool:
    """Whether ``policy.prime`` would use the first system: a prior still to take
    (``JointCB(prior=...)``, or a family policy with such an inner learner); a policy of
    another kind with a ``prime`` method is taken to use it."""
    inner = getattr(policy, "inner_policies", None)
    if inner is not None:
        return any(p is not None and _takes_prior(p) for p in inner)
    if getattr(policy, "prime", None) is None:
        return False
    return not hasattr(policy, "prior") or (policy.prior is not None
                                            and not getattr(policy, "prior_used", False))


def _scratch_rows(method) -> int:
    """Rows of the operator's scratch space (:meth:`solvers.CSROperator.workspace`) the
    Numba kernel of ``method`` uses (0: none)."""
    from solvers import _kernels, _kernels_ssor

    return {"ssor_pcg": _kernels_ssor.WORK_VECTORS, "cg": _kernels.CG_WORK_VECTORS,
            "sor": _kernels.SOR_WORK_VECTORS}.get(method, 0)


class RunSteps:
    """The prior, one run of an arm, its clock checks and its cost."""

    #: a configuration tuner's most common run (the reference family's warm solve without a
    #: set-up) accounted in one step (:func:`bandit._tuner_account.account_plain`); None:
    #: every run through ``ArmSet.attach_work`` and ``ArmSet.observe``, the same numbers bit
    #: for bit (what the tests compare it with)
    _account = staticmethod(account_plain)

    def _prime(self, op, A=None, context=None):
        """Show the policy the first system before its first draw, once: a policy with a
        ``prime(A, solver)`` method (e.g. ``JointCB(prior="theory")``) takes its prior from it.
        Under MPI only rank 0 is primed; the other ranks' policies are then made copies of
        rank 0's, prior included, at the first draw (:mod:`bandit.mpi`).  Ctrl-C while it
        runs (a spectral estimate of a large matrix) leaves it to the next solve, so an
        interrupted first call changes nothing, as any call abandoned before the draw.

        Then, on every rank and also for a tuner loaded from a file (its first solve in this
        process), the compiled functions the later solves may first call are loaded, with
        the argument types of ``A`` (the user's matrix) and ``context`` (this solve's):
        :func:`bandit._tuner_prime.warm_kernels`.  From the second solve on no solve loads
        or compiles a kernel (a cache load took a few ms inside solves 1 to 4; a compilation,
        after an edit, up to a second).  A kernel stays loaded for the whole process, so a
        later Tuner of the same kind (policy class, settings, context type, the matrix's
        index types) skips what an earlier one's first solve loaded."""
        prime = getattr(self.policy, "prime", None)
        if prime is None or self.policy.t > 0 or self._log:
            # (a run with rounds has primed at its first: a loaded tuner whose rounds were
            # all already solved, and so told nothing, keeps the prior of its first matrix)
            self._primed = True
            warm_kernels(self, op, A, context)
            return
        try:
            if self._comm is None:
                prime(op, self.solver_name)
            elif _mpi.on_root(self._comm, _takes_prior, self.policy):
                # the spectral estimate of a distributed matrix is collective: every rank
                # runs it (if rank 0's policy takes a prior), and rank 0's policy takes its
                # prior from the estimate
                from solvers.spectral import estimate_spectrum

                try:
                    est = estimate_spectrum(op)
                except (TypeError, ValueError):  # no prior (as theory_costs on one rank)
                    est = None
                _mpi.on_root(self._comm, prime, est, self.solver_name)
        except Exception:
            self._primed = True  # an error of the prior itself is not retried every solve
            raise
        self._primed = True
        # after the prior: the policy's copy runs the rounds the policy itself will
        warm_kernels(self, op, A, context)

    def _run(self, op, b, arm, x0, maxiter, guarded, tally=True):
        """One solver run with ``arm``; ``guarded`` runs stop early on divergence; ``tally``
        adds it to the running costs per iteration (the user's solves), else it is an audit
        run, on a copy of the arm's preconditioner (:meth:`ArmSet.audit_call`)."""
        arms = self._arms
        fast = self._fast[arm]
        checked = self._checked
        tol = self._tol  # this solve's own rtol/atol (None: the Tuner's, built into the calls)
        if self._split and op._split is None and arms.configs[arm].method in ("sor", "ssor_pcg"):
            # a working copy refreshed without its split triangles (no solver had asked for
            # them: CSROperator._check_csr) gets them placed here, outside the arm's timing
            op.split_triangles()
        start = time.perf_counter()
        try:
            if fast is not None and checked is not None and b is checked[0] and (
                    x0 is checked[2]):
                # b and x0 as _validate checked them, A prepared and its requirements checked
                entry = fast[guarded]
                if tol is not None:  # (the core's arguments start with rtol, atol)
                    entry = (entry[0], tol + entry[1][2:])
                x = checked[3]  # the copy of x0 made by the check, for the first run only
                # (no x0: x is new zeros, whose check of size the solver skips, run_checked)
                zero = x0 is None
                if x is None:
                    x = np.zeros(op.n) if zero else x0.copy()
                else:
                    self._checked = checked[:3] + (None,)
                if self._cold_runs and not arms._warm[arm] and cold_run_needed(arms, arm):
                    # the first run of the arm's family in this process: its one-time costs
                    # (the first pass of the interpreter and the caches over its code and
                    # this system's arrays) paid in a short untimed run from the same start
                    self._run_checked(entry, op, b, checked[1], x.copy(), _COLD_ITERATIONS,
                                      zero)
                    start = time.perf_counter()
                res = self._run_checked(entry, op, b, checked[1], x, maxiter, zero)
            else:
                if tally:
                    fn, kw = self._calls[arm]
                    if arms.has_setups:
                        arms.age(arm, op)
                else:
                    fn, kw = arms.audit_call(arm, self._calls[arm], op)
                kw = kw[guarded]
                if tol is not None:
                    kw = dict(kw, rtol=tol[0], atol=tol[1])
                res = fn(op, b, x0=x0, maxiter=maxiter, **kw)
                if not self._by_name:  # a user's function: its result is read from here on
                    res = _check_result(res, self.solver_name, b, maxiter)
        except SetupError as exc:
            return self._refused(arm, op, x0, exc, time.perf_counter() - start, tally,
                                 "setup_failed")
        except IterateOverflowError as exc:
            if not self._by_name:  # a custom solver function's errors are its own
                raise
            # an iterate out of double range: an unstable ω (SOR's first sweep) fails like a
            # divergence; a system no arm can solve (the solution itself out of range) is
            # raised once every arm has failed so (_fall_back)
            return self._refused(arm, op, x0, exc, time.perf_counter() - start, tally,
                                 "diverged")
        if self._comm is not None:
            res = _mpi.agree_result(self._comm, res)  # rank 0's clock: same costs on every rank
        seconds = res.seconds
        if not 0.0 < seconds < math.inf or (arms.has_setups and not 0.0 <= res.info.get(
                "setup_seconds", 0.0) <= seconds):  # (NaN fails both; 0 s: _clock_zero)
            res = self._clock_fault(arm, res, op)
        account = self._account
        unit = self._cost
        # (read once: a property of four tests, asked twice on the general path below)
        needs_work = arms.needs_work if unit != "iterations" else False
        if tally and account is not None and res.iterations and unit == "timed_work" and (
                needs_work and account(arms, arm, res, op)):
            # the leader's family's warm solve without a set-up: attach_work and observe in
            # one step (bandit._tuner_account), the same numbers
            work = self._work
            work[0] += res.seconds
            work[1] += res.iterations
            return res
        if needs_work:
            arms.attach_work(arm, res, op)
        if unit == "time":
            arms.cold_time(arm, res)  # an arm's first run in this process is cold
        if tally:
            work = self._work
            work[0] += res.seconds
            work[1] += res.iterations
            if res.iterations or not res.converged or not self._counts_starts:
                arms.observe(arm, res)  # (a start that met the rule: nothing to measure)
        return res

    def _seconds_per_iteration(self, arm, op):
        """The seconds per iteration measured so far: the arm's family's with
        ``cost="time"``, every run's otherwise (0 before any)."""
        if self.cost == "time":
            return self._arms.rate(arm, op)
        sec, its = self._work
        return sec / its if its > 0 else 0.0

    def _clock_fault(self, arm, res, op):
        """A run whose measured seconds are not a finite number >= 0 (a clock stepped back or
        jumping, a solver function's NaN), or whose set-up seconds are not within them: the
        seconds it is counted at, so no policy, estimate, history or file ever holds them —
        its iterations at the seconds per iteration measured so far (the arm's family's with
        ``cost="time"``, every run's otherwise; 0 before any), plus its set-up seconds when
        those are valid.  The reading is kept in ``info["clock_reading"]``; a
        ``RuntimeWarning`` says so."""
        reading = res.seconds
        setup = res.info.get("setup_seconds", 0.0)
        if reading == 0.0 and setup == 0.0:
            return self._clock_zero(arm, res, op)
        if not 0.0 <= setup < math.inf:
            setup = 0.0
        if 0.0 <= reading < math.inf:  # only the set-up's reading is out of place
            setup = min(setup, reading)
            seconds = reading
        else:
            rate = self._seconds_per_iteration(arm, op)
            seconds = setup + res.iterations * (rate if 0.0 < rate < math.inf else 0.0)
        info = dict(res.info, clock_reading=reading)
        if "setup_seconds" in info:
            info["setup_seconds"] = setup
        # one message whatever the reading (shown once per call site by Python's default
        # filter, not once per solve), pointing at the user's call
        warnings.warn("a run's measured seconds are not a finite number >= 0 (a clock stepped "
                      "back, a solver's NaN): it counts as its iterations at the seconds per "
                      "iteration measured so far (the reading is in info['clock_reading'])",
                      RuntimeWarning, stacklevel=_user_level())
        return res.replace(seconds=float(seconds), info=info)

    def _clock_zero(self, arm, res, op):
        """A run read at exactly 0 s.  With ``cost="time"`` or ``"timed_work"``, a converged
        run of ``k > 0`` iterations took time the clock did not see: its tick is long next to
        the solves (:func:`bandit._tuner_clock.clock_named`).  Told 0 s, the learner would
        take the arm for free (the first arm it plays, for ever, at a regret of 0); the reading
        only bounds the run above by one tick.  It is counted, as a clock fault's, at ``k``
        times the seconds per iteration measured so far, and before any at the clock's
        resolution (so every later such run at its iterations times one figure): the arms
        still compare by their iterations, as with ``cost="iterations"``.  The reading is
        kept in ``info["clock_reading"]``; the first such run of a tuner is warned about.
        Any other run read 0 s (no iterations: a start that met the rule; not converged:
        told as a failure; another cost) is kept as read."""
        if not (res.iterations > 0 and res.converged
                and self._cost in ("time", "timed_work")):
            return res
        from ._tuner_clock import clock_named, zero_reading_warning

        name, resolution = clock_named(self)
        rate = self._seconds_per_iteration(arm, op)
        seconds = res.iterations * rate if 0.0 < rate < math.inf else resolution
        if not self.__dict__.get("_zero_warned", False):
            self._zero_warned = True  # (once per tuner: every later such reading is alike)
            warnings.warn(zero_reading_warning(self._cost, name, resolution, res.iterations,
                                               seconds), RuntimeWarning, stacklevel=_user_level())
        return res.replace(seconds=float(seconds), info=dict(res.info, clock_reading=0.0))

    def _cost_of(self, r):
        return self._arms.cost_of(r)


def _user_level() -> int:
    """The ``stacklevel`` of a warning raised here that points at the user's call: the first
    frame outside the ``bandit`` package (one message per call site under Python's default
    filter, not one per solve)."""
    level, frame = 1, inspect.currentframe().f_back
    while frame is not None and frame.f_globals.get("__name__", "").startswith("bandit"):
        level, frame = level + 1, frame.f_back
    return level
