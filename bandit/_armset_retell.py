"""``timed_work``'s first rounds told again at the price fixed after them: a mixin of
:class:`bandit.armset.ArmSet` (:attr:`~EarlyRetell.retell_early`).

The reference family of the paired prices (:class:`bandit._prices._Prices`) is priced at a
cold reading, then at the lower median of its warm readings, and only from its ninth warm
reading on at one constant: the costs told before then are its work times prices that the
clock set (0.06–3.6 × the fixed price on the preconditioner study's 3-D Monte Carlo
sequence).  A learner keeps what those rounds taught — the shape of its ω curve, and a
noise scale ``σ̂`` of 0.14–0.48 to the end of the run where the costs' own noise is 0.08.
So the arm set keeps, from the Tuner's first draw to the round the price is fixed, a copy of
the learner as it was before that draw and every round told since; once the price is fixed
the learner is set back to that copy and told the same rounds again, the reference family's
at the fixed price.  The learner then ends as one told the corrected costs from the start
would, bit for bit — its fit, its noise scale, its Huber clip and change test, which
all depend on the order of the errors, included — which no correction of the fit's sums
alone could give (``σ̂`` sums one-step errors, each against the fit of the rounds before).

Only a learner with a ``retell(start, rounds)`` method (:meth:`bandit.JointCB.retell`) is
told again; for every other policy nothing is kept and nothing changes.
"""
from __future__ import annotations

import copy
import math

import numpy as np

__all__ = ["EarlyRetell"]

# the most rounds kept before a price is fixed (it is fixed by the run's 31st clock reading,
# so a run with fewer readings than rounds — solves that start converged — could keep more:
# past this many the record is dropped and nothing is told again)
_MAX_ROUNDS = 64


class EarlyRetell:
    """The reference family's rounds told before its ``timed_work`` price was fixed, told
    again at that price once it is (:attr:`retell_early`)."""

    #: Tell a learner that can be told again (:meth:`bandit.JointCB.retell`) the rounds
    #: before the reference family's ``timed_work`` price was fixed again once it is, the
    #: reference family's at the fixed price (the module's notes).  Measured side by side
    #: on the preconditioner study (``docs/studies/precond_rules.md``, the Monte Carlo sequence's
    #: section) and adopted.  A class attribute: a set can switch it off
    #: (``tuner._arms.retell_early = False``) before its first solve.
    retell_early = True
    #: With :attr:`retell_early`, also the other families' rounds, at their price when the
    #: reference's is fixed (their ratio is never fixed: it follows the last 31 readings).
    #: Off: within the rounds' noise on the Monte Carlo sequence, where a round's first
    #: window holds one or two of them (``docs/studies/precond_rules.md``).
    retell_rivals = False

    #: the record while it is kept, ``[start, rounds]`` — the learner before the first
    #: recorded draw, and per round told since ``[context, arm, cost, censored, converged,
    #: family, work, setup, told_work]``: ``work`` the attempt's work without its set-up,
    #: ``setup`` the set-up charge in its told cost, ``told_work`` its ``timed_work`` (NaN:
    #: not a run priced by work).  A plain list, so a pickle names no private module; a
    #: class default, so a set pickled without it loads.
    _early = None

    def start_early(self, policy, alone=True) -> None:
        """Before a Tuner's first draw: keep a copy of ``policy`` if its rounds may have to be
        told again (``timed_work`` with paired prices not yet fixed, a policy with
        ``retell``, one process: ``alone``)."""
        if not (self.retell_early and alone and self.cost == "timed_work"
                and self.paired_prices and self.configs is not None
                and callable(getattr(policy, "retell", None))):
            return
        book = self._price_book()
        if book.fixed:
            return
        try:
            start = copy.deepcopy(policy)
        except Exception:  # (a policy that will not copy: nothing to tell again)
            return
        self._early = [start, []]

    def keep_early(self, policy, arm, cost, context, censored, converged, res) -> None:
        """After a round was told: keep it (``res`` the attempt of arm ``arm``), and once the
        reference family's price is fixed tell ``policy`` every kept round again."""
        early = self._early
        info = res.info
        tw = info.get("timed_work")
        if tw is not None and "work" in info:
            work = info["work"] - info.get("setup_work", 0.0)
            setup = (info.get("setup_charged", 0.0) * info.get("clock_units", 1.0)
                     if self._pcs[arm] is not None else 0.0)
            told = float(tw)
        else:
            work = setup = told = math.nan
        if isinstance(context, np.ndarray):
            context = context.copy()
        early[1].append([context, arm, cost, censored, converged, self.family[arm], work,
                         setup, told])
        book = self._prices
        if book is not None and book.fixed:
            self._early = None
            self._retell(policy, early)
        elif len(early[1]) > _MAX_ROUNDS:
            self._early = None

    def retold(self, early) -> list:
        """The rounds of ``early`` as they are told again: ``(context, arm, cost, censored,
        converged)``, the cost of each run of the reference family (and with
        :attr:`retell_rivals` of the others) scaled by its ``timed_work`` at the price now
        over the one it was told (the whole told cost, so a fallback's bound scales with the
        run it bounds)."""
        book = self._prices
        out = []
        for context, arm, cost, censored, converged, fam, work, setup, told in early[1]:
            if (fam == book.ref or self.retell_rivals) and told > 0 and work >= 0:
                price = book.price(fam)
                if price > 0:
                    new = price * work + setup
                    cost = float(new if cost == told else cost * (new / told))
            out.append((context, arm, cost, censored, converged))
        return out

    def _retell(self, policy, early) -> None:
        rounds = self.retold(early)
        if any(new[2] != old[2] for new, old in zip(rounds, early[1])):
            # the kept copy is this set's alone (``_early`` dropped before): a JointCB tells
            # it in place instead of copying it again
            consume = getattr(policy, "_retell_consuming", None)
            (consume or policy.retell)(early[0], rounds)
