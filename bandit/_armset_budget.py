"""The guard's budget for an exploratory try of an arm of :class:`bandit.armset.ArmSet`: the
iterations it may run for the cost it is allowed (its set-up's share taken off; 0 where it
cannot win and is not started), what a rival's try may cost in units of the leader's
predicted cost (:meth:`GuardBudget.allowance`, which the learner's try gate weighs too), the
lower bound a refused try is told, and what a failed arm is told.

A mixin of :class:`~bandit.armset.ArmSet` (its class path stays in :mod:`bandit.armset`; the
cost per iteration the budget is converted at, :meth:`ArmSet.rate`, is in
:mod:`bandit._armset_work`, the cap of a run on a reused set-up, :meth:`ArmSet.stale_cap`, in
:mod:`bandit._armset_reuse`); its methods read and write the set's own attributes.
"""
from __future__ import annotations

import math

# an attempt of an arm of another family than the leader's may cost this many times the
# leader's predicted cost (at most the Tuner's guard): it only has to show it is cheaper
_CHALLENGE = 1.5


class GuardBudget:
    """The guard's budget of a try, the bound of a refused one and the cost of a failure."""

    #: refuse a rival's first set-up of a kind not yet measured whose share exceeds every
    #: warm solve of the leader's family so far (:meth:`budget`)
    warm_leader_first = True
    #: allow a rival of a family that has not yet converged the leader's predicted cost, not
    #: :data:`_CHALLENGE` times it (:meth:`budget`)
    first_try_at_par = True
    #: weigh a rival's first try and a rival's set-up against the leader's predicted cost
    #: capped at the leader family's latest converged solve (:meth:`yardstick`)
    latest_yardstick = True
    #: per family, its latest converged run's cost (set by :meth:`ArmSet.observe`; a class
    #: default, so a set pickled without it loads and is not capped)
    _latest_solve = None
    #: the round of the latest run :meth:`ArmSet.observe` saw (a round's first run is a whole
    #: solve; later ones go on from a stopped try)
    _latest_round = -1
    #: a rival family that has not converged is allowed twice as much after each of its tries
    #: (:meth:`first_allowance`), at most a proven rival's margin of the leader's prediction
    grow_first_tries = True

    def budget(self, k, guard, predicted, op, maxiter, leader=None, proven=True,
               tries=0) -> int:
        """Iteration cap of an exploratory attempt of arm ``k`` allowed ``guard × predicted``
        cost units (``predicted``: the predicted cost of the arm ``leader``).

        The arm's known set-up cost, shared over the ``reuse + 1`` rounds it serves, is taken
        off the allowance and the rest converted at the arm's cost per iteration (at least one
        iteration).  0 means *do not start* (:meth:`skip_floor` is then a lower bound of
        what the attempt would have cost): the set-up share alone exceeds the allowance, or
        the share plus the cheapest solve ever seen with that preconditioner (set-up
        excluded) does.  For a rival (below) the bound is the leader's predicted cost
        itself, at most its family's latest whole solve (:meth:`yardstick`), and before any
        solve with that kind of set-up was seen the whole set-up counts, not its share: a
        set-up kept for ``reuse`` rounds is only worth building once a solve with it has
        shown it could pay (on a grid with a fresh-set-up sibling, the sibling shows it
        first); a rival's rebuild is shared over ``1 +`` the solves the
        set-up it replaces served (at most ``reuse``), not over its whole window — an
        exploring policy that draws it now and then pays its whole set-up each time.

        *Rivals* — configuration arms of another family than the leader's — only have to
        show that they are cheaper: their allowance is ``min(guard, 1.5) × predicted``, and
        while the rival's family has not converged once (``proven=False``: no arm of it has a
        converged observation), ``predicted`` itself, at most the leader family's latest whole
        solve (:meth:`yardstick`).  A first try is the family's first
        evidence: stopped at the leader's predicted cost, it shows what one stopped at 1.5 ×
        shows — that it is not cheaper there — and one that would have converged in between
        could not have won either; the margin is for a family whose costs are known, whose
        next solve may be cheaper than the leader's though the prediction says otherwise
        (on the 3-D Monte Carlo sequences the first tries of plain CG and Jacobi-CG ran to
        their budget: 1.5 × a prediction that rests on cold first solves was 2.3 × the
        leader's solve on the same system).  ``tries``: the tries of the rival's family so
        far, none converged; each doubles a first try's allowance, at most the proven
        margin (:meth:`first_allowance`).

        *Pricing before paying* (on the clock): a set-up not yet measured is charged its
        clock floor, and where that alone would let the attempt start, its price
        (:meth:`setup_prior` with ``priced=True``); and a rival's first set-up of a kind not
        yet measured is not started when its share exceeds the dearest warm solve the
        leader's family has shown (none yet: not started): the leader's predicted cost may
        rest on cold first solves or extrapolate to a context not yet seen, too dear a
        yardstick for a set-up that, once built, is paid.
        """
        self._floor_of_skip = (None, 0.0)
        self._probe = (None, 0)
        if self.cost == "iterations":
            return int(min(maxiter, max(1, math.ceil(min(guard * predicted, maxiter)))))
        rival = leader is not None and self.heterogeneous and self.family[k] != self.family[
            leader]
        ref = predicted
        if rival:
            margin = self.allowance(guard, True)
            guard = self.allowance(guard, proven)
            ref = self.yardstick(leader, predicted)
        maxiter = self.stale_cap(k, op, maxiter)
        # a first try (at par) and a rival's set-up are weighed against the yardstick, a
        # proven rival's 1.5 × margin against the prediction (its family's costs are known)
        allowance = guard * (predicted if proven else ref)
        if rival and not proven:  # its tries so far stopped: each doubles the next
            allowance = self.first_allowance(allowance, tries, margin * predicted)
        # a lower bound of the attempt's cost above this: it cannot win (a rival), or it
        # would exceed the whole allowance
        limit = ref if rival else allowance
        pc = self._pcs[k]
        share = 0.0
        # a set-up not yet measured is priced at its clock floor first, and where that
        # alone would let the attempt start, at its price (measured once per pattern size)
        for priced in (False, True):
            setup = self.setup_estimate(k, op, priced) if pc is not None and op is not None \
                else 0.0
            share = self._share(k, setup, rival)
            if share > limit:
                self._floor_of_skip = (k, share)
                return 0
            bound = share + self._solve_floor.get(self.configs[k].setup_key, 0.0) if setup \
                else 0.0
            if bound > limit:  # a new set-up's share plus the cheapest solve with it cannot win
                self._floor_of_skip = (k, bound)
                return 0
            if not (setup and self.price_setups and self.cost != "work"
                    and self.configs[k].pc == "amg"
                    and self.configs[k].setup_key not in self._setup):
                break
        if (rival and setup and self.warm_leader_first and self.cost != "work"
                and self.configs[k].setup_key not in self._setup
                and not share <= self._warm_most[self.family[leader]]):
            # a set-up that cannot be taken back is measured against what the leader's family
            # has shown, not against a prediction that rests on cold readings (an arm's first
            # solve: 2.6-3.2 × the steady state for SSOR-PCG, more for CG) or extrapolates to
            # a context not yet seen: its share must not exceed the dearest warm solve of the
            # family so far (none yet: it waits)
            self._floor_of_skip = (k, share)
            return 0
        rate = self.rate(k, op)
        if not rate > 0:
            its = maxiter
        else:
            its = (allowance - share) / rate
            its = int(min(maxiter, max(1, math.ceil(min(its, maxiter)))))
            if rival and self.probe_rivals and not (proven and not self.probe_proven):
                self._probe = (k, self._probe_length(its))
        return its

    def yardstick(self, leader, predicted) -> float:
        """What a rival's first try may cost and a rival's set-up is weighed against
        (:meth:`budget`): the leader's predicted cost, at most the latest converged solve of
        the leader's family that was its round's first run (a whole solve, not a fall-back
        going on from a stopped try), with :attr:`latest_yardstick`.  A leader that keeps a
        set-up (``reuse > 0``: its runs alternate builds and reuses) is not capped, nor is a
        set without the record (pickled before it).

        The prediction is a fit of the leader's readings and may rest on cold ones — a solve
        from zero, the first solves after the systems change — that the latest solve does
        not repeat; the cap never allows more than the prediction.  Measured side by side
        (``docs/studies/precond_rules.md``): it binds by a few per cent on the switching heat
        sequence, where the first solves are as dear as the prediction.

        Examples
        --------
        >>> from bandit.armset import ArmSet
        >>> a = ArmSet([{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}], "ssor_pcg",
        ...            cost="work")
        >>> a.yardstick(0, 10.0)  # no solve yet: the prediction
        10.0
        >>> a._latest_solve[a.family[0]] = 4.0
        >>> a.yardstick(0, 10.0), a.yardstick(0, 3.0)
        (4.0, 3.0)
        """
        latest = self._latest_solve
        if not self.latest_yardstick or latest is None:
            return predicted
        if self.configs is not None and self.configs[leader].reuse:
            return predicted
        last = latest[self.family[leader]]
        return last if 0.0 < last < predicted else predicted

    def _share(self, k, setup, rival) -> float:
        """The part of a set-up of cost ``setup`` an attempt of arm ``k`` is charged
        (:meth:`budget`)."""
        if not setup:
            return 0.0
        pc = self._pcs[k]
        if rival and self.configs[k].setup_key not in self._solve_floor:
            return setup  # no solve with this set-up seen: reuse is not yet worth a build
        if rival and pc.reuse and self._built_once[k]:
            # a rebuild: a rival's set-up serves the solves the policy gives it, not its whole
            # reuse window — shared over as many as the set-up it replaces served
            return setup / (1 + min(pc.reuse, self._uses[k]))
        return setup / (1 + pc.reuse)

    def skip_floor(self, k, op) -> float:
        """The lower bound of the cost of arm ``k``'s attempt that :meth:`budget` refused to
        start (what the policy is told, censored): the bound it was refused on, at least
        the set-up it would have built."""
        arm, bound = self._floor_of_skip
        setup = self.setup_estimate(k, op)
        return max(bound, setup) if arm == k else setup

    def failure_cost(self, maxiter, spent, op=None) -> float:
        """What a failed arm is told: at least what any arm converging within ``maxiter``
        could cost — the most expensive arm's ``maxiter`` iterations plus its set-up — and at
        least ``spent`` (the failed round's own cost)."""
        if self.cost == "iterations":
            return float(maxiter)
        worst = 0.0
        for k in range(len(self.labels)):
            rate = self.rate(k, op)
            if rate > 0:
                key = self.configs[k].setup_key if self.configs else None
                worst = max(worst, maxiter * rate + self._setup.get(key, 0.0))
        return max(worst, float(spent))

    def first_allowance(self, allowance, tries, most) -> float:
        """What a rival's try may cost while its family has not converged (:meth:`budget`),
        after ``tries`` tries of the family, every one stopped or refused: ``allowance`` (the
        first try's, the leader's :meth:`yardstick`) doubled after each, at most ``most``
        (the margin of a proven rival, ``min(guard, 1.5) ×`` the leader's predicted cost),
        never less than ``allowance``; ``allowance`` itself without
        :attr:`grow_first_tries`.

        A stopped try is told that it costs at least what it was allowed.  Where the
        yardstick lies below what the leader costs now (an easier system's solve on a rising
        context), that bound says nothing the model did not predict, and a try at the same
        allowance would say it again; doubled, within a few tries the family converges (and
        is measured) or is stopped above the leader's cost (the model is refuted).  Once it
        converges the family is proven and allowed the margin.

        Examples
        --------
        >>> from bandit.armset import ArmSet
        >>> a = ArmSet([{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}], "ssor_pcg",
        ...            cost="work")
        >>> [a.first_allowance(4.0, n, 15.0) for n in range(4)]
        [4.0, 8.0, 15.0, 15.0]
        >>> a.first_allowance(20.0, 2, 15.0)  # never below the first try's
        20.0
        """
        if not self.grow_first_tries or tries <= 0:
            return allowance
        grown = allowance * 2.0 ** min(tries, 60)
        return max(allowance, min(grown, most))

    def allowance(self, guard, proven=True) -> float:
        """What a rival's try may cost, in units of the leader's predicted cost
        (:meth:`budget`): ``min(guard, 1.5)``, or 1 while its family has not converged
        (``proven=False``, with :attr:`first_try_at_par`)."""
        return min(guard, _CHALLENGE if proven or not self.first_try_at_par else 1.0)
