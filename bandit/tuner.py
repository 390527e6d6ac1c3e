"""The Tuner: one-line change inside a simulation loop that learns the solver's ω as it goes."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ._base import Policy, arm_omega, from_jsonable, to_jsonable
from ._persist import TunerFileError, read_versioned, write_atomic
from . import mpi as _mpi

__all__ = ["Tuner", "arm_kwargs", "TunerFileError"]

FORMAT, VERSION = "relaxtune.tuner", 1
_COLUMNS = ("arm", "omega", "iterations", "seconds", "context", "converged", "cost", "censored",
            "fallback_arm")


def arm_kwargs(arm, solver="sor", backend="numba") -> dict:
    """Solver keyword arguments an arm stands for (the one place arms become settings).

    A float is ``omega``.  A dict gives ``omega`` (or PETSc's ``pc_sor_omega``) as ``omega``
    and passes its other keys as keyword arguments, or, with ``backend="petsc"``, as the
    ``options`` database entries.  Plain CG takes no ``omega``.

    Examples
    --------
    >>> arm_kwargs(1.4)
    {'omega': 1.4}
    >>> arm_kwargs({"pc_type": "sor", "pc_sor_omega": 1.2}, "ssor_pcg", "petsc")
    {'omega': 1.2, 'options': {'pc_type': 'sor', 'pc_sor_omega': 1.2}}
    """
    om = arm_omega(arm)
    kw = {} if om is None or solver == "cg" else {"omega": om}
    if isinstance(arm, dict):
        rest = {k: v for k, v in arm.items() if k != "omega"}
        if backend == "petsc":
            if rest:
                kw["options"] = rest
        else:
            kw.update({k: v for k, v in rest.items() if k != "pc_sor_omega"})
    return kw


class Tuner:
    """Solve a sequence of systems, choosing each solve's arm (ω) with a policy; costs minimised.

    Parameters
    ----------
    policy : Policy, optional
        Any :data:`bandit.POLICIES` learner over the arms (ω values or setting dicts); default
        :func:`bandit.default_policy` for the solver.  A policy with a ``prime(A, solver)``
        method is shown the first system once, before its first draw (its prior).
    solver : {"ssor_pcg", "sor", "cg"} or callable
        A :data:`solvers.SOLVERS` name, or a function with the same signature
        ``f(A, b, omega=..., *, x0, rtol, atol, maxiter, backend)`` returning a SolveResult.
    rtol, atol, maxiter : float, float, int
        Stopping rule and cap of every solve (REFERENCE §1).
    cost : {"iterations", "time"}
        What the policy minimises: iteration counts or wall-clock seconds of the solve.
    backend : str
        Passed through to the solver.
    guard : float or None, default 3.0
        Guarded exploration: an arm that is not the policy's predicted best gets a budget of
        ``guard ×`` the best arm's predicted cost; if it has not converged by then it is
        stopped, reported to the policy as *censored* and the solve is finished from its
        current iterate with the predicted best arm (up to ``maxiter`` more iterations).
        ``None`` disables it.  With ``cost="time"`` the budget is converted to iterations with
        the running seconds-per-iteration of this tuner's solves.
    audit : float, default 0.0
        Fraction of solves on which every other arm is also run on the same system, off the
        user's clock (``audit_seconds``), to estimate regret in production.
    audit_seed : int, optional
        Seed of the audit coin (kept apart from the policy's generator).

    Notes
    -----
    A diverged or broken-down attempt is fed back as censored with the whole budget as cost and
    the fallback restarts from the user's ``x0``.  The cost of a fallback phase is not fed to
    regression learners (it started from a warm iterate, so it is not a comparable observation
    of either arm): they get the attempt's censored cost, a lower bound on the arm's cost.
    Policies with ``report_round_cost`` (the adversarial ones, which add a censored cost as if
    observed) get the whole round's cost instead, attempt plus fallback, uncensored: it is the
    loss their choice caused, whereas the attempt alone would make an arm that had to be
    stopped look no worse than ``guard ×`` the leader.  On heat2d at nx = 200 this took
    Tsallis-INF from 122.9k iterations (4 trials) to 104.8k–107.7k, the reference's 107.2k
    (no guard: 106.3k–109.5k).

    Examples
    --------
    >>> import numpy as np
    >>> from bandit import Tuner, SmoothIGW
    >>> from solvers import gallery
    >>> A = gallery.laplacian_2d(8)
    >>> tuner = Tuner(SmoothIGW(np.linspace(1.0, 1.9, 10), seed=0), solver="sor")
    >>> rng = np.random.default_rng(0)
    >>> results = [tuner.solve(A + c * np.eye(64), rng.standard_normal(64), context=c)
    ...            for c in rng.uniform(0, 0.5, 20)]
    >>> all(r.converged for r in results), tuner.summary()["rounds"]
    (True, 20)
    """

    def __init__(self, policy=None, solver="ssor_pcg", *, rtol=1e-8, atol=0.0, maxiter=10_000,
                 cost="iterations", backend="numba", guard=3.0, audit=0.0, audit_seed=None):
        if policy is None:  # the recommended learner for the solver (bandit.default_policy)
            from .defaults import default_policy

            policy = default_policy(solver if isinstance(solver, str) else None)
        if not isinstance(policy, Policy):
            raise ValueError(f"policy must be a bandit Policy, got {type(policy).__name__}")
        if cost not in ("iterations", "time"):
            raise ValueError(f"cost must be 'iterations' or 'time', got {cost!r}")
        if guard is not None and not (isinstance(guard, numbers.Real) and guard >= 1):
            raise ValueError(f"guard must be None or a number >= 1, got {guard!r}")
        if not (isinstance(audit, numbers.Real) and 0 <= audit <= 1):
            raise ValueError(f"audit must be a fraction in [0, 1], got {audit!r}")
        if int(maxiter) != maxiter or maxiter < 1:
            raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}")
        self.policy = policy
        self.solver = solver
        self._solve_fn = self._resolve(solver)
        self.rtol, self.atol, self.maxiter = float(rtol), float(atol), int(maxiter)
        self.cost, self.backend = cost, backend
        self.guard = None if guard is None else float(guard)
        self.audit = float(audit)
        self.audit_seed = audit_seed
        self._audit_rng = np.random.default_rng(audit_seed)
        self._log = []  # one tuple of _COLUMNS per solve
        self.audits = []  # (round, arm played, costs of every arm on that system)
        self.audit_seconds = 0.0
        self._work = [0.0, 0]  # seconds, iterations of every solve: seconds per iteration
        self._comm = _mpi.world(backend)  # PETSc on > 1 rank: rank 0 decides (bandit/mpi.py)
        self._last_op = None
        self._primed = False  # _prime runs once, before the policy's first draw
        self._by_name = isinstance(solver, str)
        self._arm_kw = [arm_kwargs(a, self.solver_name, backend) for a in policy.arms]
        self._omegas = [math.nan if arm_omega(a) is None else arm_omega(a) for a in policy.arms]

    @staticmethod
    def _resolve(solver):
        if callable(solver):
            return solver
        import solvers

        if solver not in solvers.SOLVERS:
            raise ValueError(f"unknown solver {solver!r}; known: {sorted(solvers.SOLVERS)}")
        return solvers.SOLVERS[solver]

    @property
    def solver_name(self):
        return self.solver if isinstance(self.solver, str) else getattr(self.solver, "__name__", "custom")

    # --- the decision point: the one place a parallel run would broadcast from rank 0 --------
    def decide(self, context=None):
        """Ask the policy for an arm; return ``(arm, best_arm, predicted_best_cost)``.

        Under MPI (``backend="petsc"``, > 1 rank) the policy is asked on rank 0 only and the
        decision is broadcast, so every rank solves with the same arm.
        """
        return _mpi.on_root(self._comm, self._decide, context)

    def _decide(self, context=None):
        """Ask the policy for an arm; return ``(arm, best_arm, predicted_best_cost)``.

        ``best_arm`` is the arm with the lowest predicted cost among arms with data (None
        before any), used for the guard budget and as the fallback.
        """
        arm = self.policy.select(context)
        best, pred = self.policy.leader(context)
        return arm, best, pred

    def tell(self, arm, cost, context=None, censored=False):
        """Report a cost to the policy (the other half of the decision point)."""
        self.policy.update(arm, cost, context, censored)

    # --- solving --------------------------------------------------------------------------------
    def _run(self, op, b, arm, x0, maxiter):
        kw = self._arm_kw[arm]
        res = self._solve_fn(op, b, x0=x0, rtol=self.rtol, atol=self.atol, maxiter=int(maxiter),
                             backend=self.backend, **kw)
        if self._comm is None:
            return res
        return _mpi.agree_result(self._comm, res)  # rank 0's clock: same costs on every rank

    def _cost_of(self, r):
        return float(r.seconds) if self.cost == "time" else float(r.iterations)

    def _budget(self, arm, best, pred):
        """Iteration cap of an exploratory attempt (``maxiter`` when not guarded)."""
        if self.guard is None or best is None or arm == best or not math.isfinite(pred):
            return self.maxiter
        if self.cost == "time":
            sec, its = self._work
            if its == 0 or sec <= 0:
                return self.maxiter
            pred = pred / (sec / its)
        return int(min(self.maxiter, max(1, math.ceil(self.guard * pred))))

    def solve(self, A, b, *, x0=None, context=None):
        """Solve ``A x = b`` with the arm the policy picks, learn from the cost, return the result.

        Returns
        -------
        SolveResult
            ``arm``/``settings``/``omega`` are the arm that finished the solve; ``iterations``
            and ``seconds`` cover every phase; ``info["explored"]`` describes a stopped
            exploratory attempt (arm, ω, iterations, seconds, censored).
        """
        op = A
        if self._by_name:
            if self.backend == "petsc":  # also a PETSc.Mat; its KSPs are cached per Mat
                import solvers.petsc

                op = solvers.petsc.prepare(A)
            else:
                # one conversion per call, shared by fallback and audit; a matrix on the previous
                # call's sparsity pattern (a re-assembled stencil) reuses its pattern work
                if self._last_op is None:
                    import solvers

                    op = solvers.prepare(A)
                else:
                    op = self._last_op.with_values(A)
                self._last_op = op
        # the hot path of a simulation loop: at a few hundred unknowns a solve takes ~20 µs, so
        # every layer of Python here shows in the wall-clock comparison with plain CG
        policy = self.policy
        if policy.t == 0 and not self._primed:
            self._prime(op)
        if self._comm is None:  # == self.decide(context)
            arm = policy.select(context)
            best, pred = policy.leader(context)
        else:
            arm, best, pred = self.decide(context)
        budget = self.maxiter if arm == best else self._budget(arm, best, pred)
        r = self._run(op, b, arm, x0, budget)
        work = self._work
        work[0] += r.seconds
        work[1] += r.iterations
        censored, fallback = not r.converged, -1
        cost = self._cost_of(r)
        if censored and r.reason in ("diverged", "breakdown"):
            cost = cost * budget / max(r.iterations, 1)  # penalise as if the budget was spent
        falls_back = censored and best is not None and best != arm
        round_cost = falls_back and policy.report_round_cost
        if not round_cost:
            policy.update(arm, cost, context, censored)  # == self.tell(...)
        final, info = r, {}
        if falls_back:
            restart = r.reason in ("diverged", "breakdown")
            r2 = self._run(op, b, best, x0 if restart else r.x, self.maxiter)
            self._work[0] += r2.seconds
            self._work[1] += r2.iterations
            info["explored"] = {"arm": arm, "omega": arm_omega(self.policy.arms[arm]),
                                "iterations": r.iterations, "seconds": r.seconds,
                                "reason": r.reason, "censored": True, "budget": budget,
                                "restarted": restart}
            final = r2.replace(iterations=r.iterations + r2.iterations,
                               seconds=r.seconds + r2.seconds)
            fallback = best
            if round_cost:  # the whole round's work: what choosing `arm` cost (not a bound)
                cost = self._cost_of(final)
                policy.update(arm, cost, context, False)
        used = fallback if fallback >= 0 else arm
        label = {"arm": used, "settings": self._settings(used),
                 "info": {**final.info, **info, "cost": cost, "censored": censored}}
        # a result of our own solvers is fresh from this call: label it in place (a user's
        # solver function might hand out a shared object, so that one is copied)
        final = final._fill(**label) if self._by_name else final.replace(**label)
        if self.audit and _mpi.agree(self._comm, self._audit_rng.random()) < self.audit:
            self._audit(op, b, x0, arm, r)
        self._record(arm, final, context, cost, censored, fallback)
        return final

    def _prime(self, op):
        """Show the policy the first system before its first draw, once: a policy with a
        ``prime(A, solver)`` method (e.g. ``JointCB(prior="theory")``) takes its prior from it."""
        self._primed = True
        prime = getattr(self.policy, "prime", None)
        if prime is not None:
            prime(op, self.solver_name)

    def _settings(self, arm):
        a = self.policy.arms[arm]
        return dict(a) if isinstance(a, dict) else {"omega": a}

    def _audit(self, op, b, x0, arm, r):
        costs = np.empty(self.policy.n_arms)
        for k in range(self.policy.n_arms):
            rk = r if (k == arm and r.converged) else self._run(op, b, k, x0, self.maxiter)
            if k != arm or not r.converged:
                self.audit_seconds += rk.seconds
            costs[k] = self._cost_of(rk) if rk.converged else math.inf
        self.audits.append((len(self._log), arm, costs))

    def _record(self, arm, res, context, cost, censored, fallback):
        if context is None:
            ctx = math.nan
        elif isinstance(context, (float, int)):
            ctx = float(context)
        else:
            ctx = np.asarray(context, dtype=float).reshape(-1).tolist()
        self._log.append((arm, self._omegas[arm], res.iterations, res.seconds, ctx,
                          res.converged, cost, censored, fallback))

    @property
    def _rows(self) -> dict:
        """The log as one list per column (:data:`_COLUMNS`)."""
        cols = list(zip(*self._log)) if self._log else [()] * len(_COLUMNS)
        return {k: list(v) for k, v in zip(_COLUMNS, cols)}

    # --- reporting --------------------------------------------------------------------------------
    @property
    def history(self) -> dict:
        """Per-solve arrays: ``arm`` (chosen), ``omega``, ``iterations`` and ``seconds`` (all
        phases), ``context`` (NaN if none; 2-D for vectors), ``converged``, ``cost`` fed to the
        policy, ``censored``, ``fallback_arm`` (−1 if none)."""
        r = self._rows
        ctx = r["context"]
        if ctx and all(isinstance(c, list) for c in ctx):
            ctx = np.array(ctx, dtype=float)
            ctx = ctx[:, 0] if ctx.shape[1] == 1 else ctx
        else:
            ctx = np.array([c[0] if isinstance(c, list) else c for c in ctx], dtype=float)
        return {"arm": np.array(r["arm"], dtype=np.int64), "omega": np.array(r["omega"], float),
                "iterations": np.array(r["iterations"], dtype=np.int64),
                "seconds": np.array(r["seconds"], dtype=float), "context": ctx,
                "converged": np.array(r["converged"], dtype=bool),
                "cost": np.array(r["cost"], dtype=float),
                "censored": np.array(r["censored"], dtype=bool),
                "fallback_arm": np.array(r["fallback_arm"], dtype=np.int64)}

    def summary(self) -> dict:
        """Totals, arm histogram and an estimate of regret with the method that produced it."""
        h = self.history
        T = len(h["arm"])
        hist = np.bincount(h["arm"], minlength=self.policy.n_arms) if T else np.zeros(self.policy.n_arms, int)
        out = {"rounds": T, "cost": self.cost, "total_iterations": int(h["iterations"].sum()),
               "total_seconds": float(h["seconds"].sum()),
               "converged": int(h["converged"].sum()), "censored": int(h["censored"].sum()),
               "fallbacks": int((h["fallback_arm"] >= 0).sum()),
               "arm_counts": {_arm_label(a): int(n) for a, n in zip(self.policy.arms, hist)},
               "audits": len(self.audits), "audit_seconds": self.audit_seconds}
        out["regret"] = self._regret_estimate(h) if T else {"method": "no rounds yet"}
        return out

    def _regret_estimate(self, h):
        T = len(h["arm"])
        total = float(h["cost"].sum())
        if self.audits:
            C = np.array([c for _, _, c in self.audits])
            played = np.array([c[a] for _, a, c in self.audits])
            ok = np.all(np.isfinite(C), axis=0)  # an arm that failed on an audit is never best
            per_fixed = float(played.mean() - C[:, ok].mean(axis=0).min()) if ok.any() else math.nan
            per_inst = float(np.mean(played - np.min(C, axis=1)))
            return {"method": f"audit rounds: {len(C)} of {T} solves re-run with every arm; "
                              "mean per-round regret scaled to all rounds",
                    "best_fixed": per_fixed * T, "instance_optimal": per_inst * T}
        p = self.policy
        if p.contextual:
            ctx = h["context"]
            best = sum(np.nanmin(p.predict(c)) for c in ctx)
            return {"method": "model-based: Σ_t cost_t − Σ_t min_k ŷ_k(context_t) with the "
                              "policy's current cost model (no audits)",
                    "instance_optimal": total - float(best)}
        pred = p.predict()
        return {"method": "plug-in: Σ_t cost_t − T·min_k of the policy's estimated mean cost "
                          "(no audits; optimistic for the comparator when data are few)",
                "best_fixed": total - T * float(np.nanmin(pred)) if np.isfinite(pred).any() else math.nan}

    # --- persistence ----------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the tuner (policy state, history, audits) to a versioned JSON file atomically."""
        if not isinstance(self.solver, str):
            raise ValueError("a Tuner with a custom solver function cannot be saved by name; "
                             "use a solvers.SOLVERS name")
        payload = to_jsonable({
            "format": FORMAT, "version": VERSION,
            "config": {"solver": self.solver, "rtol": self.rtol, "atol": self.atol,
                       "maxiter": self.maxiter, "cost": self.cost, "backend": self.backend,
                       "guard": self.guard, "audit": self.audit, "audit_seed": self.audit_seed},
            "policy": self.policy.state_dict(), "rows": self._rows,
            "audits": [[i, a, np.asarray(c)] for i, a, c in self.audits],
            "audit_seconds": self.audit_seconds, "work": self._work,
            "audit_rng": self._audit_rng.bit_generator.state})
        _mpi.write_on_root(self._comm, write_atomic, path, payload)  # once, by rank 0

    @classmethod
    def load(cls, path) -> "Tuner":
        """Read a file written by :meth:`save`; raises :class:`TunerFileError` if unusable."""
        payload = read_versioned(path, FORMAT, VERSION)
        try:
            policy = Policy.from_state_dict(payload["policy"])
            data = from_jsonable({k: v for k, v in payload.items() if k != "policy"})
            tuner = cls(policy, **data["config"])
            tuner._log = list(zip(*(data["rows"][k] for k in _COLUMNS)))
            tuner.audits = [(int(i), int(a), np.asarray(c, dtype=float)) for i, a, c in data["audits"]]
            tuner.audit_seconds = float(data["audit_seconds"])
            tuner._work = [float(data["work"][0]), int(data["work"][1])]
            tuner._audit_rng.bit_generator.state = data["audit_rng"]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise TunerFileError(f"{path}: incomplete or inconsistent tuner file ({exc})") from None
        return tuner

    def __repr__(self):
        return (f"Tuner({type(self.policy).__name__}, solver={self.solver_name!r}, "
                f"cost={self.cost!r}, rounds={len(self._log)})")


def _arm_label(arm) -> str:
    """Readable key for an arm: ``"1.55"`` rather than linspace's ``"1.5499999999999998"``."""
    return f"{arm:.12g}" if isinstance(arm, (float, np.floating)) else str(arm)
