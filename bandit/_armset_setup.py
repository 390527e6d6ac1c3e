"""What a set-up costs an arm of :class:`bandit.armset.ArmSet`: whether its next run builds
one, the cost of that set-up before it is measured (a lower bound: pyamg's counted work at
the run's seconds per unit of work, its clock floor, its price), the seconds a built one is
charged on the clock (a single slow reading bounded by its counted work), and the share of a
kept set-up the learner is told with each run that builds or reuses it
(:meth:`SetupCosts.told_cost`).

A mixin of :class:`~bandit.armset.ArmSet` (its class path, and the per-call path that records
the set-ups it measures, :meth:`ArmSet.observe`, stay in :mod:`bandit.armset`); its methods read
and write the set's own attributes.
"""
from __future__ import annotations

import math

from solvers.precond import _same_pattern

# a set-up's cost on the clock is the least of its kind's last few readings: the clock only
# adds (preemption, a cold cache), and the guard refuses a rival whose set-up alone cannot
# win, so one slow reading must not lock that rival out for the rest of the run
_SETUP_READINGS = 3
# nor may its first reading: a set-up reading is charged at most this many times the set-up's
# counted work at the run's own seconds per unit of work (measured on the study problems:
# 5-50 for IC(0), 1-5 for AMG), unless an earlier reading of the same set-up was as slow
_SETUP_TRUST = 10.0
# the rounds a reuse arm's set-up is expected to serve after the one that builds it: the mean
# over the arm's last this many set-ups of the rounds each could serve (SetupCosts.serves)
_LIFETIMES = 8


class SetupCosts:
    """What a set-up costs: whether a run builds one, its estimate before it is measured,
    and what a built one is charged on the clock."""

    #: price a set-up not yet measured by :meth:`solvers.precond.AMG.setup_price` (over its
    #: stated factor), not by pyamg's clock floor alone (:meth:`setup_prior`)
    price_setups = True
    #: tell the learner each run of a ``reuse=k`` arm with its set-up spread over the solves
    #: the set-up is expected to serve, the run that builds it and those that reuse it alike
    #: (:meth:`told_cost`); the user's accounting (``paid``, the regret) keeps the full charge
    amortise_setups = True

    #: per arm, the set-up its kept set-up was charged (cost units, :meth:`observe`), and the
    #: further rounds each of its last set-ups could serve (class defaults: made on first use,
    #: so a set pickled without them loads)
    _held = None
    _lifetimes = None

    def note_build(self, k) -> None:
        """A run of arm ``k`` in this round built a set-up: record the further rounds the
        set-up it replaces could serve — its whole ``reuse`` window when that had run out,
        else the rounds between the two builds (the pattern changed, or a reuse failed and
        the set-up went stale).  Called by :meth:`ArmSet.observe` before the reuse clock is
        reset, which then keeps the new set-up's charge in ``_held[k]`` (cost units)."""
        if self._held is None:
            K = len(self._pcs)
            self._held, self._lifetimes = [None] * K, [[] for _ in range(K)]
        reuse = getattr(self._pcs[k], "reuse", 0)
        # only a set-up this set built and held is replaced (a loaded tuner's first build,
        # made because its file keeps no set-up, says nothing of the pattern)
        if reuse and self._built_once[k] and self._held[k] is not None:
            age = self.round - self._built_round[k]
            seen = self._lifetimes[k]
            seen.append(float(reuse) if age > reuse else float(max(age - 1, 0)))
            del seen[:-_LIFETIMES]

    def serves(self, k) -> float:
        """The solves a set-up of arm ``k`` is expected to serve: ``1 + min(reuse, ℓ)``, ``ℓ``
        the mean further rounds its last (at most 8) set-ups could serve while the pattern
        held and their reuses converged (:meth:`note_build`); before any was replaced, its
        whole window, ``1 + reuse`` (reuse is counted in rounds, so this is what the set-up
        serves an arm played every round).  1 for an arm that keeps no set-up."""
        reuse = getattr(self._pcs[k], "reuse", 0)
        if not reuse:
            return 1.0
        seen = self._lifetimes[k] if self._lifetimes is not None else None
        further = min(float(reuse), sum(seen) / len(seen)) if seen else float(reuse)
        return 1.0 + further

    def told_cost(self, k, res, cost) -> float:
        """What the learner is told of arm ``k``'s run ``res`` whose cost is ``cost`` (with
        :attr:`amortise_setups`): for an arm that keeps its set-up (``reuse > 0``), the run's
        cost with the set-up it built or reused counted at its share,
        ``S / serves(k)`` (``S``: the set-up as charged, :meth:`setup_charge`) —

        * a run that built the set-up: ``cost − S + S / n``;
        * a run that reused it: ``cost + S / n``;

        ``n`` the solves the set-up is expected to serve (:meth:`serves`).  Over a window in
        which the arm is played every round, the told costs add up to what the runs were
        charged; a set-up is weighed at the share it costs a solve when the arm is kept, not
        whole on the one solve that builds it (on the cooling fin's stiff steps, a 45–60 ms
        AMG set-up against a saving of ~5 ms a solve), and an arm whose pattern keeps
        changing is told its set-ups whole from its first replaced one on.  Any other run
        (no set-up kept, ``reuse = 0``, ``cost="iterations"``) is told ``cost``, and so is an
        attempt the guard did not start (``res.info["skipped"]``): its bound is the guard's
        reason to refuse it (:meth:`budget`), which a share told instead would not move, so
        the learner would draw the refused arm again and again."""
        pc = self._pcs[k] if self.configs is not None else None
        if pc is None or not getattr(pc, "reuse", 0) or self.cost == "iterations":
            return cost
        info = res.info
        n = self.serves(k)
        if info.get("setup"):
            if self.cost == "work":
                setup = info.get("setup_work", 0.0)
            else:
                setup = info.get("setup_charged", 0.0) * (
                    info.get("clock_units", 1.0) if self.cost == "timed_work" else 1.0)
            if not 0.0 < setup <= cost:
                return cost
            return cost - setup + setup / n
        held = self._held[k] if self._held is not None else None
        if info.get("reused") and held:
            return cost + held / n
        return cost

    def setup_charge(self, k, res) -> float:
        """The seconds a set-up that arm ``k``'s run ``res`` built is charged on the clock
        (0 without one; kept in ``res.info["setup_charged"]``).

        Its reading, but at most the larger of ``10 ×`` the set-up's counted work at the
        run's own seconds per unit of work (every run's so far if the solve did no work) and
        the least earlier reading of the same set-up.  The clock only adds: one slow reading
        (a descheduled or cold set-up) charged in full would make the policy, and the
        guard's set-up estimate, refuse that arm for the rest of the run — it would never
        be measured again.  Charged at the bound, the arm stays in contention; a set-up that
        is genuinely that slow is charged in full from its second reading on (the earlier
        one confirms it), so it costs at most one more build before it is avoided.
        """
        info = res.info
        charged = info.get("setup_charged")
        if charged is not None:
            return charged
        reading = info.get("setup_seconds", 0.0) if info.get("setup") else 0.0
        charged = reading
        if reading > 0 and self.cost != "work" and self.configs is not None:
            bound = math.inf
            sw = info.get("setup_work", 0.0)
            sec, work = res.seconds - reading, info.get("work", 0.0) - sw
            if not (sec > 0 and work > 0):  # no solve to time: every run's rate
                sec, work = self._per_work
            if sw > 0 and sec > 0 and work > 0:
                bound = _SETUP_TRUST * sw * sec / work
            earlier = self._setup_readings.get(self.configs[k].setup_key)
            if earlier:  # (kept in the cost's seconds: _clock_units)
                bound = max(bound, min(earlier) / self._clock_units(res))
            charged = min(reading, bound)
        info["setup_charged"] = charged
        return charged
    def will_setup(self, k, op) -> bool:
        """Whether the next run of arm ``k`` on ``op`` builds its preconditioner (Numba ``cg``
        arms with one; an estimate from this set's own clock)."""
        pc = self._pcs[k]
        if pc is None:
            return False
        if not pc.built or self._stale[k]:
            return True
        if pc._holds(op):  # the matrix it was built for: neither a reuse nor a rebuild
            return False
        if self.round - self._built_round[k] > pc.reuse:
            return True
        # another sparsity pattern (even with as many entries) always sets up afresh
        return not (pc.reuse > 0 and _same_pattern(pc._op, op))

    def setup_estimate(self, k, op, priced=False) -> float:
        """Cost of the set-up arm ``k``'s next run would build (0 if none): the latest
        measured one of its kind (on the clock, the least of its last three readings: the
        clock only adds to a set-up's cost), or before any, :meth:`setup_prior` (``priced``:
        passed on)."""
        if not self.will_setup(k, op):
            return 0.0
        known = self._setup.get(self.configs[k].setup_key)
        return self.setup_prior(k, op, priced) if known is None else known

    def setup_prior(self, k, op, priced=False) -> float:
        """A lower bound of the cost of arm ``k``'s set-up on ``op`` before any was measured
        (0 where none is known): for pyamg smoothed aggregation (``pc="amg"``), the work the
        first level's set-up is counted at (:class:`solvers.precond.AMG`: candidate and level
        passes, the spectral radius estimate of the prolongation smoother, and at least one
        pass each for ``A·P`` and ``Pᵀ(A·P)``; the coarser levels left out), priced for
        ``cost="time"``/``"timed_work"`` at the larger of the cheapest seconds per unit of
        work measured on any family and pyamg's own clock floor
        (:meth:`solvers.precond.AMG.setup_clock_floor`: its fixed cost per set-up plus those
        passes at the clock of a scipy product with the matrix; measured once per pattern
        size).  The counted set-up understates the clock (measured: 290–680 SpMVs of the
        clock against ~200 counted, ``relaxtune bench pcg``; the clock floor is a twentieth
        to about half of a real set-up), so this bound is safe, and it lets the guard skip a first AMG
        set-up that could not pay for itself against a leader whose whole solve costs less
        (:meth:`budget`).

        ``priced=True`` (the guard, once the clock floor alone would let the attempt start):
        at least the set-up's price (:meth:`solvers.precond.AMG.setup_price`: pyamg's set-up
        seconds per product with the matrix, calibrated once per process on a 3-D Poisson
        cube, times the clock of a product with this matrix) over the factor it is measured
        to hold within (:data:`solvers.amg.AMG_PRICE_FACTOR`) — still a lower bound of
        the set-up, and close enough to refuse a first set-up of many leader solves (on the
        3-D Monte Carlo matrices of 10⁴ unknowns, 13–19 of SSOR-PCG's, where the clock floor
        is a fifth to a tenth of the set-up and below the leader's costly solves)."""
        c = self.configs[k]
        if c.pc != "amg" or self.backend != "numba" or op is None:
            return 0.0
        from solvers.amg import (_AMG_CANDIDATE_PASSES, _AMG_LEVEL_PASSES, _ARNOLDI_RUNS,
                                 _ARNOLDI_STEPS)

        N, n = float(op.nnz), float(op.n)
        passes = _AMG_CANDIDATE_PASSES + _AMG_LEVEL_PASSES + 2.0
        if getattr(self._pcs[k], "smooth", "jacobi") != "none":
            steps = _ARNOLDI_STEPS
            passes += 1.0 + _ARNOLDI_RUNS * (steps * N + (steps * (steps + 1) + 30) * n) / N
        if self.cost == "work":
            return passes
        if self.cost not in ("time", "timed_work"):
            return 0.0
        rates = [f[3] / f[1] for f in self._fit if f[1] > 0 and f[3] > 0]
        key = (c.setup_key, op.n, op.nnz)
        clock = self._clock_floor.get(key)
        if clock is None:  # measured once per pattern size (a few products with the matrix)
            clock = self._clock_floor[key] = self._pcs[k].setup_clock_floor(op, passes)
        if priced and self.price_setups:  # measured once per pattern size (and once per
            # process, a calibration: solvers.precond.AMG.setup_price)
            from solvers.amg import AMG_PRICE_FACTOR

            price = self._clock_price.get(key)
            if price is None:
                price = self._clock_price[key] = self._pcs[k].setup_price(op) / AMG_PRICE_FACTOR
            clock = max(clock, price)
        return max(passes * min(rates) if rates else 0.0, clock)
