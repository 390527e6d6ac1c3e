"""What the user's solves and the auditor's plans cost (:class:`bandit.audit.Auditor`):
the solves' cost so far in the tuner's cost unit (:func:`_solved`), and a plan's fixed CPU
time and its price per round of history, measured on synthetic runs when the auditor is
made (:func:`_warm_up`, :func:`_plan_slope`; :meth:`bandit.audit.Auditor.plan_charge`
charges a plan at those prices).  Imported from :mod:`bandit.audit` once its constants
exist.
"""
from __future__ import annotations

import time

import numpy as np

from .audit import AUDIT_COLUMNS


def _solved(tuner):
    """What the user's solves have cost so far, in the tuner's cost unit."""
    if tuner._paid is not None:  # work or timed work
        return tuner._paid_sum
    return float(tuner._work[0] if tuner.cost == "time" else tuner._work[1])


def _tiny_run(K):
    """The run of 64 rounds whose plan is a plan's fixed part."""
    from .estimate import RunData

    T = 64
    t = np.arange(T)
    arm = t % K
    audits = {c: np.zeros(0) for c in AUDIT_COLUMNS}
    return RunData(paid=1.0 + arm, x=t / T, arm=arm, p=np.full(T, 0.5), played=1.0 + arm,
                   epoch_start=np.zeros(1, np.int64), q=np.full((1, K), 0.1), r=np.zeros(1),
                   audits=audits, fail_cost=100.0, n_arms=K, arm_order=np.arange(K))


def _warm_up(K=3):
    """Load (or compile) the estimator's Numba kernels and run a plan's computation on a tiny
    run of ``K`` arms, so that the measured first plan (which prices every later one) pays no
    first-call costs (tens of milliseconds, against about one for a plan of 512 rounds).
    Returns the CPU seconds of a second such computation: what any plan costs at least."""
    from .estimate import quick_totals

    data = _tiny_run(K)
    quick_totals(data)
    cpu = time.process_time()
    quick_totals(data)
    return time.process_time() - cpu


def synthetic_run(K, T):
    """A run of ``T`` rounds and ``K`` arms (randomised plays, an audit every tenth round):
    what a plan's computation is priced on before one was measured."""
    from ._regretdata import RunData

    rng = np.random.default_rng(0)
    t = np.arange(T)
    arm = rng.integers(0, K, T)
    ar = t[::10]
    n = ar.size
    audits = {"round": ar, "arm": rng.integers(0, K, n), "row": np.zeros(n, bool),
              "value": np.full(n, 2.0), "iterations": np.full(n, 2), "seconds": np.ones(n),
              "converged": np.ones(n, bool), "budget": np.full(n, 100), "cap": np.full(n, 100),
              "p": np.full(n, 0.1)}
    return RunData(paid=1.0 + arm, x=rng.random(T), arm=arm, p=np.full(T, 0.3),
                   played=1.0 + arm + rng.random(T), epoch_start=np.zeros(1, np.int64),
                   q=np.full((1, K), 0.1), r=np.zeros(1), audits=audits, fail_cost=100.0,
                   n_arms=K, arm_order=np.arange(K))


def _plan_slope(K, floor, T=1024):
    """CPU seconds per round of history of a plan's computation beyond ``floor``, from one on
    a synthetic run of ``T`` rounds and ``K`` arms (randomised plays, an audit every tenth
    round): the price of a first plan before one was measured (without it, a first plan put
    late — when the budget so far first affords the fixed part — would cost many times its
    guess)."""
    from .estimate import quick_totals

    data = synthetic_run(K, T)
    tiny = _tiny_run(K)
    quick_totals(data)
    # the least of three interleaved measurements of each: a single one may land on a
    # page fault or a timer tick, and a fixed part measured too long would price the rounds
    # at nothing
    big, small = np.inf, np.inf
    for _ in range(3):
        cpu = time.process_time()
        quick_totals(data)
        big = min(big, time.process_time() - cpu)
        cpu = time.process_time()
        quick_totals(tiny)
        small = min(small, time.process_time() - cpu)
    return max(big - min(small, floor), 0.0) / T


def setup_prices(tuner):
    """Per arm, the set-up an audit run of it would build, in the tuner's cost unit, at
    least (:meth:`bandit.armset.ArmSet.setup_estimate` on the latest system: the latest
    measured set-up of its kind, before any the guard's priced lower bound); 0 for an arm
    without a set-up or one whose run would reuse the set-up it holds.  ``None`` when no
    arm builds one (SOR and SSOR-PCG arms, a solver function) or the cost is counted in
    iterations (a set-up costs none).

    An audit priced at a solve alone — what the schedule assumes of an arm it has not
    measured — is right for the ω of one method, and wrong by two orders of magnitude for a
    configuration whose run builds an AMG hierarchy: on a 2-D heat sequence of 2,401
    unknowns one such audit cost 170 solves, as much as a budget of 5 % accrues in 3,400
    rounds, and left a run of 1,000 rounds with four audits in all."""
    arms = getattr(tuner, "_arms", None)
    op = getattr(tuner, "_last_op", None)
    if arms is None or op is None or tuner.cost == "iterations" or not getattr(
            arms, "has_setups", False):
        return None
    K = tuner.policy.n_arms
    out = np.zeros(K)
    for k in range(K):
        if arms._pcs[k] is None:
            continue
        try:
            s = float(arms.setup_estimate(k, op, priced=True))
            if s > 0:  # a set-up not measured yet: at its price, not below it
                s = max(s, unmeasured_price(arms, k, op))
        except (TypeError, ValueError, ArithmeticError):  # no estimate: priced at a solve
            s = 0.0
        out[k] = s if s > 0 and np.isfinite(s) else 0.0
    return out if out.any() else None


def unmeasured_price(arms, k, op):
    """What an audit that builds arm ``k``'s set-up on ``op`` is expected to cost before any
    set-up of its kind was measured: the set-up's price itself
    (:meth:`solvers.precond.AMG.setup_price`, within :data:`solvers.amg.AMG_PRICE_FACTOR` of
    the clock above or below), not the guard's lower bound (that price over the factor, or
    pyamg's clock floor: :meth:`bandit.armset.ArmSet.setup_prior`).  0 once one was measured
    (the measured one prices it), for a cost counted in work or iterations, without
    :attr:`~bandit.armset.ArmSet.price_setups`, or for an arm whose set-up has no price.

    The guard needs a bound it cannot exceed, so that it never refuses a set-up that could
    win; the auditor needs what an audit costs, since its probabilities spend the budget in
    expectation.  Priced at the bound, a first AMG audit on a 2-D heat matrix of 2,401
    unknowns was priced at 2.3 ms and cost 40–70 ms: drawn 17–30 × as often as its cost
    allows, one such audit took a run's budget to 32 %."""
    from solvers.amg import AMG_PRICE_FACTOR

    if getattr(arms, "cost", None) not in ("time", "timed_work") or not getattr(
            arms, "price_setups", False):
        return 0.0
    configs = getattr(arms, "configs", None)
    c = configs[k] if configs is not None else None
    if c is None or c.pc != "amg" or arms._setup.get(c.setup_key) is not None:
        return 0.0
    # the price over the factor, as the guard's set-up prior keeps it (ArmSet.setup_prior)
    bound = arms._clock_price.get((c.setup_key, op.n, op.nnz))
    if bound is None:
        return 0.0
    return float(bound) * AMG_PRICE_FACTOR
