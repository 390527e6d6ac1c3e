"""The guard of a :class:`bandit.Tuner`'s solve: the budget of an exploratory attempt, an
attempt not started, and the fallback chain after a failed attempt and its order, so that
every guarded solve converges whenever some arm converges on the system — unless a run
stagnates (the tolerance looks unattainable), which cuts the chain short
(:data:`STAGNATION_FALLBACKS`).  Why a solve failed or a system is refused (an attempt the
solver refused, an inconsistent system, the explanations of a failure message) is told by
:mod:`bandit._tuner_guard_diagnosis`."""
from __future__ import annotations

import math

import numpy as np

from ._base import arm_omega, count_of as _count
from . import mpi as _mpi
from . import report as _report
from ._tuner_guard_diagnosis import (_all_broke_down, _singular_note,
                                     _sor_diverged_note, GuardDiagnosis)
from solvers._result import IterateOverflowError

#: Divergence tolerance of the attempts of a guarded solve: an attempt stops as diverged once
#: ``‖r_k‖ > GUARD_DTOL·‖r_0‖``, so an unstable ω costs a few iterations, not the climb to the
#: solvers' default 1e12.  Converging SOR can grow its residual first (by up to ~1e5 on upwind
#: convection–diffusion at a Péclet number of 1000), so such a stop is not final: when no arm
#: converges, the stopped arms are run again with the solvers' default.
GUARD_DTOL = 1e6
#: Runs a guarded solve makes after a run has stagnated (``reason="stagnated"``: the residual
#: stopped improving at the rounding level of the system, the tolerance looks unattainable in
#: double precision): the most conservative arm not yet run, once; then the solve returns
#: the run with the smallest residual, not converged, instead of running every arm to the cap.
STAGNATION_FALLBACKS = 1
#: A failed round whose runs stagnated (the tolerance looks unattainable) is run again from
#: ``x = 0`` when ``‖x0‖`` exceeds this many times the best iterate's ``‖x‖``: the runs from
#: ``x0`` keep its rounding level ``ε‖A‖‖x0‖``, this many times the zero start's.
START_RATIO = 10.0
_COLUMNS = _report.LOG_COLUMNS  # the fields of one solve's row tuple in the log


def _nonzero(x0) -> bool:
    """Whether a start vector (an array, or a PETSc Vec) has a non-zero entry."""
    if isinstance(x0, np.ndarray):
        return bool(x0.any())
    norm = getattr(x0, "norm", None)
    return bool(norm() > 0.0) if norm is not None else bool(np.any(np.asarray(x0)))


def _start_ratio(x0, best) -> float:
    """``‖x0‖ / ‖x‖`` of the best run's iterate (0 for a start that is not an ndarray — a
    PETSc Vec, whose parts live on several ranks — or an iterate that is zero or not
    finite)."""
    if not isinstance(x0, np.ndarray) or not isinstance(best.x, np.ndarray):
        return 0.0
    size = float(np.linalg.norm(best.x))
    if not 0.0 < size < math.inf:
        return 0.0
    return float(np.linalg.norm(x0)) / size


def _stuck(r, op, b, x0=None) -> bool:
    """Whether run ``r`` says the tolerance looks unattainable: it stagnated.  (SOR stops as
    stagnated only when its current residual lies on its current iterate's rounding level, so
    a diverging run is reported as diverged by the solver itself, not taken for a stagnation
    here: tests/test_sor_indefinite_diverged.py.)"""
    return r.reason == "stagnated"


def _residual_key(r) -> float:
    """What a failed run's residual is known to be at most: its ``residual_norm``, or where
    that figure is rounding noise its ``info["residual_bound"]`` (``docs/solvers.md``, *A
    failed solve's residual*), so that a run read off a residual lost to cancellation is not
    returned over one whose residual is certified."""
    v = r.info.get("residual_bound", r.residual_norm)
    return v if math.isfinite(v) else math.inf


class GuardSteps(GuardDiagnosis):
    """Budgets, skipped attempts, the fallback chain and the last resort, and the order of
    the chain (:meth:`bandit.Tuner.fallback_order`); refused attempts and systems are
    :class:`~bandit._tuner_guard_diagnosis.GuardDiagnosis`'s."""

    def _skip(self, op, b, x0, arm):
        """The attempt of an arm whose set-up alone exceeds its budget, not started: a stopped
        run of 0 iterations, carrying a lower bound of what it would have cost (``cost_floor``:
        :meth:`ArmSet.skip_floor`, at least the set-up it would have paid)."""
        from solvers import SolveResult

        x = np.zeros(op.n) if x0 is None else np.array(x0, dtype=np.float64)
        floor = self._arms.skip_floor(arm, op)
        rtol, atol = self._round_tol
        return SolveResult(x=x, iterations=0, converged=False, residual_norm=math.inf,
                           omega=arm_omega(self.policy.arms[arm]), solver="skipped",
                           reason="stopped", seconds=0.0, backend=self.backend,
                           rtol=rtol, atol=atol, maxiter=0,
                           info={"work": 0.0, "timed_work": 0.0, "skipped": True,
                                 "cost_floor": floor})

    def _attempt(self, op, b, x0, arm, budget, explores=True):
        """The attempt of ``arm`` with ``budget`` iterations; a rival family's first try
        (:meth:`ArmSet.probe_at`) in two runs.  The probe runs a quarter of the budget; if
        the mean reduction rate of its residual so far needs more than
        :data:`bandit.armset._PROBE_MARGIN` × the budget to reach the tolerance
        (:meth:`ArmSet.probe_stops`), the try stops there — a budget stop like any other:
        the fallback chain's first arm, the leader, goes on from its iterate, and the policy
        is told, censored, what the try would have cost at its budget (``info["probe"]``:
        the probe's iterations, its projection, and that floor).  Otherwise the try goes on
        from the probe's iterate with the rest of the budget, and the two runs are one
        attempt (their iterations, seconds and costs added).  ``explores``: the arm is not
        the leader (whose run is never probed, whatever an earlier budget — an audit's —
        left in the arm set)."""
        arms = self._arms
        c = arms.probe_at(arm, budget) if explores and arms.heterogeneous else 0
        if not c:
            return self._run(op, b, arm, x0, budget, True)
        from solvers._kernels import residual_norm

        # the start's residual, before the probe (whose run may work on x0's storage)
        r0 = float(residual_norm(op.indptr, op.indices, op.data, x0, b)) if (
            x0 is not None) else None
        probe = self._run(op, b, arm, x0, c, True)
        if probe.converged or probe.reason != "maxiter" or probe.iterations < c:
            return probe  # converged, or failed on its own: an attempt as any other
        r0 = probe.b_norm if r0 is None else r0
        rtol, atol = self._round_tol
        tol = max(rtol * probe.b_norm, atol)
        k = probe.info.get("best_iteration", probe.iterations)
        projected = arms.projected_iterations(k, r0, probe.residual_norm, tol)
        if arms.probe_stops(k, budget, r0, probe.residual_norm, tol):
            # what the try would have cost had it run to its budget: it cannot have finished
            # within it, so at least that (censored)
            rest = arms.probe_rest(arm, budget, probe.iterations, op)
            probe.info["probe"] = {"iterations": int(probe.iterations), "budget": int(budget),
                                   "projected": projected, "stopped": True,
                                   "floor": self._cost_of(probe) + rest}
            return probe
        rest = self._run(op, b, arm, probe.x, budget - probe.iterations, True)
        info = dict(probe.info)
        info.update({key: v for key, v in rest.info.items() if key not in (
            "setup", "setup_seconds", "setup_work", "setup_charged", "clock_units")})
        for key in ("work", "timed_work"):
            if key in probe.info and key in rest.info:
                info[key] = probe.info[key] + rest.info[key]
        if "best_iteration" in rest.info:
            info["best_iteration"] = probe.iterations + rest.info["best_iteration"]
        info["probe"] = {"iterations": int(probe.iterations), "budget": int(budget),
                         "projected": projected, "stopped": False}
        return rest.replace(iterations=probe.iterations + rest.iterations,
                            seconds=probe.seconds + rest.seconds, maxiter=budget, info=info)

    def _budget_stop(self, first, budget) -> bool:
        """Whether an attempt stopped only because the guard's budget for it ran out (or was
        not started for it): an exploration cut short, not a failure of the arm or of the
        system."""
        return first.reason in ("maxiter", "stopped") and budget < self.maxiter

    def _failure_cost(self, spent):
        """What a failed arm is told: ``maxiter`` iterations — in seconds or work, the most
        expensive arm's ``maxiter`` iterations at its running cost per iteration plus its
        set-up — at least ``spent`` (the failed round's own cost): more than any arm
        converging within ``maxiter`` costs."""
        return self._arms.failure_cost(self.maxiter, spent, self._last_op)

    def _proven(self, arm) -> bool:
        """Whether some arm of ``arm``'s family has a converged observation (its family is
        known to converge: a rival's try is then allowed the 1.5 × margin)."""
        arms = self._arms
        counts = self.policy.converged_counts
        return not arms.heterogeneous or any(counts[j] > 0 for j in arms.members(arm))

    def _budget(self, arm, best, pred, op=None):
        """Iteration cap of an exploratory attempt (``maxiter`` when not guarded; 0: not
        started, its set-up alone would exceed ``guard ×`` the leader's predicted cost)."""
        if self.guard is None or best is None or arm == best or not math.isfinite(pred):
            return self.maxiter
        arms = self._arms
        # whether the arm's family has converged matters only to a rival of another family
        # (its allowance and probe): an arm of the leader's family is not asked (the
        # configuration learner's most common exploration, a neighbouring ω)
        fam = arms.family
        proven = fam[arm] == fam[best] or self._proven(arm)
        # a family not yet converged: its tries so far (each stopped or refused) grow the next
        tries = 0 if proven else sum(int(self.policy.counts[j]) for j in arms.members(arm))
        return arms.budget(arm, self.guard, pred, op, self.maxiter, leader=best,
                           proven=proven, tries=tries)

    def _fall_back(self, op, b, x0, context, arm, best, first, budget):
        """The fall-back step of a guarded solve whose attempt did not converge: the chain,
        the last resort, and what the policy is to be told (class notes).  Returns ``(result,
        cost to tell, True (the history's censored), (censored, converged) to tell,
        fallback arm, info)``."""
        order = _mpi.on_root(self._comm, self.fallback_order, arm, best, context)
        runs = [(arm, first, "x0", budget, self._dtol)]
        done = None
        # only the budget stopped it ("stopped": a custom solver's word for the same)
        budget_stop = self._budget_stop(first, budget)
        # an attempt the budget cut short was not checked for an inconsistent system (_solve):
        # the check runs if the next run fails too
        unchecked = budget_stop
        warm = first.x if budget_stop and first.iterations else None
        setups = self._arms.has_setups
        # a stagnated run: the tolerance looks unattainable, not the arm bad (see
        # STAGNATION_FALLBACKS); the chain is then cut to the safest arms not yet run
        unattainable = _stuck(first, op, b, x0)
        chain = self._after_stagnation({arm}) if unattainable else [
            k for k in order if k != arm]
        ran = {arm}
        while chain:  # the chain
            k = chain.pop(0)
            # a run on a reused set-up is capped here too (a stale one is rebuilt for the
            # last resort: a capped run is not a final failure)
            cap = self._arms.stale_cap(k, op, self.maxiter) if setups else self.maxiter
            if warm is None:
                r = self._run(op, b, k, x0, cap, True)
                runs.append((k, r, "x0", cap, self._dtol))
            else:  # the first fallback goes on from a budget-stopped attempt
                r = self._run(op, b, k, warm, cap, True)
                runs.append((k, r, "warm", cap, self._dtol))
                warm = None
            ran.add(k)
            if r.converged:
                done = len(runs) - 1
                break
            if unchecked:
                unchecked = False
                self._refuse_inconsistent(op, b)
            if not unattainable and _stuck(r, op, b, x0):
                unattainable = True
                chain = self._after_stagnation(ran)
        if done is None and unchecked:  # (no chain: one arm)
            self._refuse_inconsistent(op, b)
        if done is None and not unattainable:  # last resort: every failure that was not
            # final, from x0, plain
            last = [k for k in order if not self._settled(k, runs)]
            while last:
                k = last.pop(0)
                r = self._run(op, b, k, x0, self.maxiter, False)
                runs.append((k, r, "x0", self.maxiter, False))
                if r.converged:
                    done = len(runs) - 1
                    break
                if not unattainable and _stuck(r, op, b, x0):
                    # as in the chain: the guard's tighter divergence limit had stopped every
                    # arm (a residual that grows by 10⁶ before it falls, as on a badly scaled
                    # system), and a plain run now finds the tolerance below the rounding
                    # level — one more arm, not every arm again
                    unattainable = True
                    last = [j for j in self._after_stagnation({j for j, *_ in runs})
                            if not self._settled(j, runs)]
        if done is None and all(r.info.get("refused") == "IterateOverflowError"
                                for _, r, *_ in runs):
            # every arm's iterate left double range: the system's (its solution, or x0 out of
            # proportion with b), not an arm's — refused as the solvers refuse it (the round
            # is abandoned, nothing is told)
            raise IterateOverflowError(runs[0][1].info["error"])
        zero_start = ""
        if done is None and x0 is not None and _nonzero(x0):
            if all(not r.relative_residual < 1.0 for _, r, *_ in runs):
                zero_start = (
                    f"no run from x0 came closer to b than x = 0 (best relative residual "
                    f"{min(r.relative_residual for _, r, *_ in runs):.1e})")
            elif unattainable:
                ratio = _start_ratio(x0, min((r for _, r, *_ in runs), key=_residual_key))
                if ratio > START_RATIO:
                    zero_start = (
                        f"every run from x0 stopped above the tolerance with x0 {ratio:.0e} "
                        f"times the size of the best iterate (their rounding level is "
                        f"x0's, ε‖A‖‖x0‖)")
        if zero_start:
            # no run came closer to b than x = 0 does (‖b − A x‖ >= ‖b‖): the start, not the
            # tolerance or the arms, is the trouble — an x0 out of proportion with the
            # solution (a diverging outer iteration's last iterate), whose rounding level
            # ε‖|A| |x0|‖ every CG-type run from it keeps, far above the tolerance (they stop
            # as stagnated, the tolerance "unattainable"). The round is run again from the
            # zero start, as a round with x0 = 0 would have run: the chosen arm with its
            # budget (so the policy learns what its arm costs on this system, not what the
            # start cost every arm), then, unless it converged, the best-known arm (the
            # safest before any converged) — from the chosen arm's iterate when only the
            # budget stopped it
            k = best if best is not None else self._safe[0]
            warm = None
            if arm != k and budget:
                r = self._run(op, b, arm, None, budget, True)
                runs.append((arm, r, "zero", budget, self._dtol))
                if r.converged:
                    done = len(runs) - 1
                elif self._budget_stop(r, budget) and r.iterations:
                    warm = r.x
            if done is None:
                r = self._run(op, b, k, warm, self.maxiter, False)
                runs.append((k, r, "zero" if warm is None else "warm", self.maxiter, False))
                if r.converged:
                    done = len(runs) - 1
        its = sum(r.iterations for _, r, *_ in runs)
        secs = sum(r.seconds for _, r, *_ in runs)
        floor = first.info.get("cost_floor", 0.0)  # a skipped attempt's set-up
        # a probed try stopped early: what it would have cost at its budget, of which it
        # paid its own cost
        probed = first.info.get("probe", {}).get("floor", 0.0)
        if done is None:
            best_run = min(range(len(runs)), key=lambda i: _residual_key(runs[i][1]))
        else:
            best_run = done
        used, res = runs[best_run][0], runs[best_run][1]
        final = res.replace(iterations=its, seconds=secs, info=dict(res.info))
        for key in ("work", "timed_work"):
            works = [r.info.get(key) for _, r, *_ in runs]
            if all(w is not None for w in works):
                # the work covers every run, as iterations and seconds do (it had been the
                # returned run's alone: a stopped try's work, its set-up included, went
                # missing), and so does its timed figure
                final.info[key] = float(sum(works))
        round_cost = secs if self.cost == "time" else float(its) if self.cost == "iterations" \
            else sum(self._cost_of(r) for _, r, *_ in runs)
        self._round_cost = round_cost
        # what the policy is told about the arm it chose (class notes)
        mine = [r for k, r, *_ in runs[1:] if k == arm and r.converged]
        # the chosen arm's run from the zero start, when x0 was dropped: what it is told
        # follows that run, as in a round from x = 0 (its runs from x0 say nothing of it)
        fresh = [r for k, r, s, *_ in runs if k == arm and s == "zero"] if zero_start else []
        if mine:
            cost = round_cost if self.policy.report_round_cost else self._cost_of(mine[0])
            censored, converged = False, True
        elif fresh and self._budget_stop(fresh[0], budget):
            censored, converged = True, False  # stopped by the budget from x = 0
            cost = self._cost_of(fresh[0])
            if self.policy.report_round_cost:
                cost, censored = round_cost, False
        elif budget_stop and all(k != arm for k, *_ in runs[1:]):
            censored, converged = True, False  # stopped by the budget: at least this much
            cost = max(self._cost_of(first), floor, probed)
            if self.policy.report_round_cost:
                cost, censored = round_cost + max(floor, probed - self._cost_of(first)), False
        else:  # failed
            cost = self._failure_cost(round_cost)
            if self.policy.report_round_cost:
                cost = max(cost, round_cost)
            censored, converged = True, False
        info = {"explored": {"arm": arm, "omega": arm_omega(self.policy.arms[arm]),
                             "iterations": first.iterations, "seconds": first.seconds,
                             "reason": first.reason, "censored": True, "budget": budget,
                             "restarted": len(runs) < 2 or runs[1][2] == "x0"},
                "attempts": [{"arm": k, "omega": self._omegas[k], "iterations": r.iterations,
                              "seconds": r.seconds, "reason": r.reason, "start": s, "budget": m,
                              "dtol": GUARD_DTOL if g else None,
                              **{key: r.info[key] for key in ("work", "timed_work")
                                 if key in r.info}}
                             for k, r, s, m, g in runs]}
        if zero_start:
            info["zero_start"] = (
                f"{zero_start}: x0 is out of proportion with the solution, so the solve "
                f"{'was finished' if done is not None else 'was tried again'} from x = 0")
        if "error" in first.info:
            info["explored"]["error"] = first.info["error"]
        if "probe" in first.info:
            info["explored"]["probe"] = first.info["probe"]
        if floor or first.info.get("skipped"):  # not started: its set-up exceeded the budget
            info["explored"]["skipped"] = True
        if done is None and unattainable:
            tried = sorted({k for k, *_ in runs})
            stuck = sum(r.reason == "stagnated" for _, r, *_ in runs)
            info["unattainable"] = True
            untried = ("; the other arms were not tried" if len(tried) < self.policy.n_arms
                       else "")
            rtol, atol = self._round_tol
            info["failure"] = (
                f"the tolerance looks unattainable for this system (rtol {rtol:g}, atol "
                f"{atol:g}): best relative residual {res.relative_residual:.1e} after "
                f"{_count(len(runs), 'run')} ({_count(its, 'iteration')}) of arms {tried}, "
                f"{stuck} of them stopped "
                "as stagnated (the residual stopped improving at the rounding level of the "
                f"system){untried}; returning the run with the smallest "
                f"residual (arm {used}, {res.reason}), not converged: loosen rtol or atol, or "
                "rescale the system")
        elif done is None:
            tried = sorted({k for k, *_ in runs})
            info["all_arms_failed"] = True
            info["failure"] = (f"every arm failed on this system: {len(tried)} of "
                               f"{self.policy.n_arms} arms, {_count(len(runs), 'run')}, "
                               f"{_count(its, 'iteration')}; "
                               f"returning the run with the smallest residual (arm {used}, "
                               f"{res.reason})"
                               + _all_broke_down(runs)
                               + _sor_diverged_note(self.solver_name, self._omegas, runs,
                                                    op, b, x0)
                               + _singular_note(op))
        fallback = -1 if best_run == 0 else used
        return final, cost, True, (censored, converged), fallback, info

    def _after_stagnation(self, ran) -> list:
        """The chain once a run has stagnated: the most conservative arms not yet run, at most
        :data:`STAGNATION_FALLBACKS` of them."""
        return [k for k in self._safe if k not in ran][:STAGNATION_FALLBACKS]

    def _settled(self, k, runs) -> bool:
        """Whether a run of arm ``k`` this round failed for good: from ``x0`` with the whole
        ``maxiter``, and not merely stopped by the guard's divergence tolerance."""
        for arm, r, start, cap, guarded in runs:
            if arm == k and r.reason == "setup_failed":
                return True  # the same matrix would be refused again
            if arm != k or start != "x0" or cap < self.maxiter:
                continue
            if r.reason in ("maxiter", "breakdown", "converged", "stagnated"):
                return True
            if r.reason == "diverged" and (not guarded or not math.isfinite(r.residual_norm)):
                return True
        return False

    # --- the order of the chain ------------------------------------------------------------
    def fallback_order(self, arm, best, context=None) -> list:
        """Every arm in the order a failed guarded solve tries them, the chosen ``arm`` in its
        place (it is skipped until the last resort; see the class notes).

        ``best`` is the leader from :meth:`decide`: first, then the other arms with a converged
        observation by the policy's predicted cost, then the arms that finished earlier solves
        in this chain (the latest first: a converged run the policy was not told of), then the
        conservative arm, then the rest from the most conservative on.

        Examples
        --------
        >>> from bandit import FixedArm, Tuner
        >>> t = Tuner(FixedArm([1.0, 1.3, 1.6, 1.9], arm=3), solver="sor")
        >>> t.fallback_order(3, None)          # nothing converged yet: the smallest ω first
        [0, 1, 2, 3]
        >>> t.policy.update(2, 30.0); t.policy.update(1, 50.0)
        >>> t.policy.update(3, 9.0, converged=False)  # failed: not proven
        >>> t.fallback_order(3, 2)
        [2, 1, 0, 3]
        """
        p = self.policy
        trusted = p.converged_counts > 0
        first = [] if best is None else [int(best)]
        proven = [k for k in range(p.n_arms) if trusted[k] and k not in first]
        if proven:
            pred = np.asarray(p.predict(context), dtype=np.float64)
            rank = {k: i for i, k in enumerate(self._safe)}
            proven.sort(key=lambda k: (pred[k] if pred[k] == pred[k] else math.inf, rank[k]))
        # an arm that finished a solve no chosen arm could, before the sweep from the most
        # conservative arm: where only a few arms converge within maxiter, a learner that has
        # not drawn one yet had every chain sweep all the failing arms first (13-18 times
        # the cost of the arm that finished the solve before)
        proven += [k for k in self._rescued() if k not in first and k not in proven]
        safe = self._safe[0]
        order = first + [k for k in proven if k != safe]
        if safe not in first:
            order.append(safe)
        order += [k for k in self._safe if k not in order]
        return order

    def _rescued(self) -> list:
        """The arms that finished earlier solves of the fallback chain (a converged round with
        a ``fallback_arm``), each once, the latest first; read from the log as it grows."""
        seen, arms = self._rescuers
        log = self._log
        if seen > len(log):  # (a log replaced by a shorter one: read it again)
            seen, arms = 0, []
        fb, ok = _COLUMNS.index("fallback_arm"), _COLUMNS.index("converged")
        for row in log[seen:]:
            k = row[fb]
            if k >= 0 and row[ok]:
                arms = [int(k)] + [a for a in arms if a != k]
        self._rescuers = [len(log), arms]
        return arms
