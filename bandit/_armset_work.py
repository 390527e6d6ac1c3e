"""What one iteration of an arm of :class:`bandit.armset.ArmSet` costs: its work from the work
model of its method on the matrix (:func:`solvers.work_model`, kept per pattern), and in the
set's cost units, measured on its family's runs or, before any, converted from that work
(:meth:`IterationCost.rate`, at which the guard's budget and a failure's cost are converted).

A mixin of :class:`~bandit.armset.ArmSet` (its class path, and the per-call path that reads a
run's work from the same models, :meth:`ArmSet.attach_work`, stay in :mod:`bandit.armset`); its
methods read and write the set's own attributes.
"""
from __future__ import annotations

import math


class IterationCost:
    """The work and the cost of one iteration of an arm."""

    def _model(self, config, op):
        """The work model of ``config``'s method on ``op`` (for SSOR-PCG, of the form its ω
        runs: :func:`solvers.work_model` is given the SSOR preconditioner of that ω)."""
        method = config.method
        omega = config.omega if method == "ssor_pcg" else None
        # with_values copies share indptr
        key = (method, omega, op.n, op.nnz, id(op.indptr))
        model = self._models.get(key)
        if model is None:
            from solvers import work_model

            if len(self._models) > 64:
                self._models.clear()
            pc = None if omega is None else {"pc": "ssor", "omega": omega}
            model = self._models[key] = work_model(method, op, pc)
        return model

    def iteration_work(self, k, op):
        """Work of one iteration of arm ``k`` on ``op`` from the work model (None where it
        is not known before a set-up: AMG, PETSc, custom solvers)."""
        if self.configs is None or self.backend != "numba" or op is None:
            return None
        key = (k, op.n, op.nnz, id(op.indptr))
        if key in self._it_work:
            return self._it_work[key]
        c, pc = self.configs[k], self._pcs[k]
        if pc is None:
            w = self._model(c, op).per_iteration
        elif pc.built or c.pc != "amg":  # Jacobi and IC(0) count without a set-up
            w = (op.nnz + 6 * op.n + pc.apply_mults(op)) / op.nnz
        else:
            return None
        if len(self._it_work) > 256:
            self._it_work.clear()
        self._it_work[key] = w
        return w

    def rate(self, k, op=None) -> float:
        """Cost per iteration of arm ``k`` (set-up excluded): measured on its family's runs;
        before any, the work model's figure (``cost="time"``: times the seconds per unit of
        work measured on every run); else every run's average; else NaN."""
        c, n = self._rate[self.family[k]]
        if n > 0 and c > 0:
            return c / n
        w = self.iteration_work(k, op) if self.cost != "iterations" else None
        if w is not None:
            if self.cost == "work":
                return w
            sec, work = self._per_work
            if sec > 0 and work > 0:
                return w * sec / work
        c, n = self._all
        return c / n if n > 0 and c > 0 else math.nan
