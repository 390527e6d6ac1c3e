"""The accounting of a configuration tuner's runs: what the learner is told of a run whose
set-up is kept for later solves (:func:`told_cost`), and its most common run in one step: the
leader's family's warm solve without a set-up (an SSOR-PCG or plain CG arm whose family is the
reference of the paired prices, fixed) — :meth:`bandit.armset.ArmSet.attach_work` and
:meth:`bandit.armset.ArmSet.observe` with :meth:`bandit._prices._Prices.observe` for such a
run, fused.

The general path is five nested Python calls that read the same objects again
(``res.info``, the arm set's lists, the price book) right after a solve has pushed them out of
the caches; here each is read once.  Every number and every state is the general path's, bit
for bit (``tests/test_call13_account.py`` runs both side by side); a run this does not cover
— a set-up, a cold arm, a family that is not the reference or whose price is not fixed, a
solver that reported its own work, a zero right-hand side, a work
model not yet kept for the pattern — is left to the general path, untouched.
"""
from __future__ import annotations

from ._prices import _PAIR_AGE

__all__ = ["account_plain", "told_cost"]

_KEEP = 2 * _PAIR_AGE  # the price book's latest readings (_Prices._remember)


def account_plain(arms, k, res, op) -> bool:
    """``arms.attach_work(k, res, op)`` then ``arms.observe(k, res)`` for a warm run of arm
    ``k`` without a set-up in the reference family of fixed paired ``timed_work`` prices;
    returns False, having changed nothing, for any other run (the caller then takes the
    general path)."""
    # every object is read once into a local, the tests that refuse most runs first (a
    # set-up, a family that is not the reference): each first read after a solve is a
    # cache miss, and most of this step's time
    if arms._pcs[k] is not None or arms.cost != "timed_work":
        return False
    book = arms._prices
    if book is None or not book.fixed:
        return False
    fam = arms.family[k]
    if fam != book.ref or not book.base_readings or not arms._warm[k]:
        return False
    info = res.info
    if ("work" in info or not arms.plain_fast or not arms.paired_prices
            or not res.b_norm > 0):
        return False
    memo = arms._arm_work
    m = None if memo is None else memo[k]
    if m is None or m[2] != id(op.indptr) or m[0] != op.n or m[1] != op.nnz:
        return False
    its = res.iterations
    # attach_work: the work (WorkModel.total's sum) and its price (the reference family's)
    work = info["work"] = m[3] + its * m[4]
    told = info["timed_work"] = book.base * work + 0.0
    cost = float(told)  # (observe reads it back so)
    # observe: no set-up (0.0), unit timed_work; _tally_work inlined
    every = arms._all
    every[0] += cost
    every[1] += its
    row = arms._rate[fam]
    row[0] += cost if cost > 0.0 else 0.0
    row[1] += its
    sec = res.seconds
    if "setup_seconds" in info:
        sec = sec - info["setup_seconds"]
    if "setup_work" in info:
        work = work - info["setup_work"]
    pw = arms._per_work
    pw[0] += sec
    pw[1] += work
    fit = arms._fit[fam]
    fit[0] += 1
    fit[1] += work
    fit[2] += work * work
    fit[3] += sec
    fit[4] += sec * work
    if work > 0 and sec > 0:
        # _Prices.observe of the reference family's warm reading once its price is fixed:
        # the reading is remembered (the machine's speed for pairing the other families')
        tick = book.tick = book.tick + 1
        recent = book.recent
        recent.append((tick, fam, sec / work))
        if len(recent) > _KEEP:
            del recent[:-_KEEP]
    if res.converged:
        most = arms._warm_most
        if cost > most[fam]:
            most[fam] = cost
    if arms.round != arms._latest_round:  # (ArmSet.observe's record of the family's
        arms._latest_round = arms.round  # latest solve: the round's first run)
        latest = arms._latest_solve
        if res.converged and latest is not None:
            latest[fam] = cost
    return True


def told_cost(tuner, arm, r, cost, tell, budget) -> float:
    """What ``tuner``'s policy is told of the round in which arm ``arm``'s attempt ``r`` cost
    ``cost`` (the round's ``paid`` keeps the full charge): with
    :attr:`bandit.armset.ArmSet.amortise_setups`, an attempt of a ``reuse=k`` arm is told
    with the set-up it built or reused at its share (:meth:`bandit.armset.ArmSet.told_cost`)
    when the round's told cost is that attempt's — it converged, or the guard's ``budget``
    stopped it (or did not start it) and it is told censored (``tell``: ``(censored,
    converged)``).  A failure's cost, a converged run of the arm later in the fallback chain
    and a policy told the round's cost (``report_round_cost``) are told as before."""
    arms = tuner._arms
    pc = arms._pcs[arm]
    if pc is None or not getattr(pc, "reuse", 0):
        # no set-up kept (an arm without one, ``reuse=0``): ArmSet.told_cost tells ``cost``
        # too, so the round's other tests are not read
        return cost
    if not (arms.amortise_setups and arms.has_setups):
        return cost
    if not r.converged and not (tell[0] and tuner._budget_stop(r, budget)):
        return cost
    if getattr(tuner.policy, "report_round_cost", False):
        return cost
    return arms.told_cost(arm, r, cost)
