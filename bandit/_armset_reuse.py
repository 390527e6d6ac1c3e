"""The reuse clock of a set-up an arm of :class:`bandit.armset.ArmSet` keeps: a set-up older
than its ``reuse`` window is dropped before a run (:meth:`SetupReuse.age`), an audit runs on a
copy aged the same way (:meth:`SetupReuse.audit_call`), and a run on a reused set-up is capped
at a few times the iterations of the solve that built it (:meth:`SetupReuse.stale_cap`).

A mixin of :class:`~bandit.armset.ArmSet` (its class path, and the per-call path that sets the
clock when a run builds or reuses a set-up, :meth:`ArmSet.observe`, stay in
:mod:`bandit.armset`; whether a run builds one is :meth:`ArmSet.will_setup`, in
:mod:`bandit._armset_setup`); its methods read and write the set's own attributes.
"""
from __future__ import annotations

import copy

# a run on a reused set-up is capped at this many times the iterations of the solve that
# built it (at least _STALE_MIN): a hierarchy built for another matrix of a Monte Carlo
# sequence can leave CG short of convergence after 10⁴ iterations
_STALE_FACTOR, _STALE_MIN = 4, 20


class SetupReuse:
    """When a kept set-up is dropped, an audit's copy of it, and the cap of a run on a
    reused one."""

    def age(self, k, op=None) -> None:
        """Before a run of arm ``k`` on ``op``: a set-up older than its ``reuse`` window (in
        rounds) is dropped, so the run builds afresh — unless ``op`` is the very matrix it
        was built for (a rebuild would make the same set-up)."""
        pc = self._pcs[k]
        if pc is not None and pc.reuse and self.round - self._built_round[k] > pc.reuse and not (
                op is not None and pc._holds(op)):
            pc.invalidate()
            self._stale[k] = True

    def audit_call(self, k, call, op=None):
        """The call of arm ``k`` for an audit on ``op``: a shallow copy of its preconditioner
        (sharing the set-up it has, aged the same way), so an audit neither builds nor ages
        the arm's own set-up."""
        fn, kw = call
        pc = self._pcs[k]
        if pc is None:
            return fn, kw
        twin = copy.copy(pc)
        if pc.reuse and self.round - self._built_round[k] > pc.reuse and not (
                op is not None and pc._holds(op)):
            twin.invalidate()
        return fn, {g: dict(kw[g], pc=twin) for g in kw}

    def stale_cap(self, k, op, maxiter) -> int:
        """Iteration cap of a run of arm ``k`` on ``op`` (the leader's too): ``maxiter``,
        except on a reused set-up, ``4 ×`` the iterations of the solve that built it (at
        least 20).  A set-up kept for another matrix may precondition the new one badly — a
        pyamg hierarchy of one sample of a random-coefficient sequence leaves CG on the
        next short of convergence after 10⁴ iterations — so a reused set-up gets a few
        times the work it was built for; stopped there, the guard falls back and the set-up
        is rebuilt on the arm's next run."""
        pc = self._pcs[k] if self.configs is not None else None
        if pc is None or not pc.reuse or op is None or not self._built_its[k] \
                or self.will_setup(k, op) or pc._holds(op):
            return maxiter
        return int(min(maxiter, max(_STALE_MIN, _STALE_FACTOR * self._built_its[k])))
