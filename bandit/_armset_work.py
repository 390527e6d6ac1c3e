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

from .arms import Config

#: the configuration whose work model converts :func:`solvers._precond_work.iteration_ratio`
#: into units of work (SSOR-PCG's Eisenstat form, the compiled kernels' reference)
_SSOR_REFERENCE = Config("ssor_pcg", omega=1.5)


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
        before any, the work model's figure (``cost="time"``/``"timed_work"``: times the
        seconds per unit of work measured on every run; for plain, Jacobi, IC(0) and AMG
        CG, :meth:`priced_work` instead); else every run's average; else NaN."""
        c, n = self._rate[self.family[k]]
        if n > 0 and c > 0:
            return c / n
        w = None
        if self.cost in ("time", "timed_work"):
            w = self.priced_work(k, op)
        if w is None and self.cost != "iterations":
            w = self.iteration_work(k, op)
        if w is not None:
            if self.cost == "work":
                return w
            sec, work = self._per_work
            if sec > 0 and work > 0:
                return w * sec / work
        c, n = self._all
        return c / n if n > 0 and c > 0 else math.nan

    def priced_work(self, k, op):
        """The clock of one iteration of arm ``k`` on ``op`` before its family has run, in
        units of work of SSOR-PCG's compiled kernel, for a family whose iteration costs a
        different amount per counted unit of work than that kernel's (None for any other:
        its work model's figure holds).

        - Plain CG, Jacobi-CG and IC(0)-CG (Numba backend): the family's own clock over
          SSOR-PCG's on ``op`` times SSOR-PCG's work an iteration
          (:func:`solvers._precond_work.iteration_ratio`: each kernel's seconds per entry and
          per row of the matrix, measured once per process on two small cubes).  Their
          vector updates cost more per multiply–add than SSOR-PCG's fused sweep, so per unit
          of work they cost 1.0–2.0 × its iteration, most on matrices of few entries a row.
          Before, they were priced at the work model's figure times the seconds per unit of
          work of every run (SSOR-PCG's in practice): IC(0)-CG at 0.55–0.91 × its clock on
          every matrix measured, so its first try could run up to 1.8 × its allowance.
        - CG with pyamg's cycle (``pc="amg"``): :meth:`solvers.precond.AMG.iteration_price`
          (multiply–adds of SSOR-PCG's kernel per row of the matrix, measured once per
          process on a small 3-D Poisson cube; no hierarchy of ``op`` needed).  Before, a
          never-run AMG family's iteration was priced at every run's average cost per
          iteration (its hierarchy not built, the work model had no figure), or at the work
          model's figure times the compiled kernels' seconds per unit of work: 2–7 × too
          cheap, so the guard's iteration cap let its first try run that many times its
          allowance (elasticity: 4.5 ×).

        The figures are measured in ``docs/studies/precond_rules.md``.

        Examples
        --------
        >>> from bandit.armset import ArmSet
        >>> from solvers import gallery, prepare
        >>> a = ArmSet([{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "amg"},
        ...             {"method": "cg", "pc": "ic0"}], "ssor_pcg", cost="timed_work")
        >>> calls = a.calls(None, {"rtol": 1e-8}, None)  # (the arms' preconditioners)
        >>> op = prepare(gallery.laplacian_2d(40))
        >>> a.priced_work(0, op) is None, a.priced_work(1, op) > 10, a.priced_work(2, op) > 1
        (True, True, True)
        """
        if self.configs is None or self.backend != "numba" or op is None:
            return None
        c, pc = self.configs[k], self._pcs[k]
        if c.method == "cg" and c.pc in (None, "none", "jacobi", "ic0") and not c.knobs:
            from solvers._precond_work import iteration_ratio

            # the family's clock over SSOR-PCG's on op, times SSOR-PCG's work an iteration
            ratio = iteration_ratio("cg" if c.pc in (None, "none") else c.pc, op)
            w = ratio * self._model(_SSOR_REFERENCE, op).per_iteration
            return w if w > 0 else None
        if c.pc != "amg" or pc is None:
            return None
        w = pc.iteration_price() * op.n / op.nnz
        return w if w > 0 else None
