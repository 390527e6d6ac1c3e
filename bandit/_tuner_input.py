"""Each solve's input, before the policy draws: ``A`` prepared (a matrix on the previous
call's pattern refreshes the Tuner's working copy in place), ``b``, ``x0`` and the context
checked as the solver would check them, and the automatic context (a part of
:class:`bandit.Tuner`)."""
from __future__ import annotations

import math
import time

import numpy as np

from . import mpi as _mpi
from ._tuner_checks import _check_context

#: What ``Tuner(auto_context=...)`` may compute for every system as (part of) its context.
AUTO_CONTEXTS = ("spectral",)
#: Lanczos steps of the automatic spectral context (about one SOR sweep each).
AUTO_CONTEXT_STEPS = 10


class InputSteps:
    """Validation and operator refresh of a solve (the step before the draw) and the
    automatic context."""

    def _checked_entries(self):
        if not self._by_name or self.backend != "numba":
            return [None] * self.policy.n_arms
        from solvers._api import checked_entry, run_checked
        from solvers._checks import check_rhs_start

        # bound once: the hot path
        self._run_checked, self._check_rhs = run_checked, check_rhs_start
        out = []
        for fn, kw in self._calls:
            entries = {g: checked_entry(fn, kw[g]) for g in kw}
            out.append(entries if None not in entries.values() else None)
        # the check copies x0 for the first run (in its pass over x0: a copy of its own after
        # the check costs a configuration tuner's SSOR-PCG solves 3-4 µs more at n = 10⁴)
        # when some arm runs its checked entry; an arm run through the public function copies
        # x0 itself, and the check's copy then waits for a later run of a checked entry
        self._copy_x0 = any(e is not None for e in out)
        return out

    def _validate(self, A, b, x0, context):
        """Step 1: everything the solve needs, checked and converted before the policy draws
        (``A`` prepared once per call; a matrix on the previous call's sparsity pattern reuses
        its pattern work)."""
        if not (context is None or (type(context) is float and context - context == 0.0)):
            c = float(context) if type(context) is np.float64 else math.nan
            # (a finite float needs no more; nor does a NumPy one, the usual result of a
            # user's arithmetic on arrays: _check_context's tests cost it 3-10 µs a call)
            context = c if c - c == 0.0 else _check_context(context)
        if not self._by_name:
            return A, b, x0, context  # a custom solver checks its own input
        op = self._last_op
        if self._check_rhs is not None and self._own_op and op is not None and (
                op._refresh_in_place(A)):
            # a simulation loop's usual call: a matrix on the pattern of the Tuner's own
            # working copy, refreshed in place with every check of prepare (see below)
            self._require(op)
            self._checked = checked = self._check_rhs(b, x0, op.n, self._copy_x0)
            return op, checked[0], checked[2], context
        import solvers

        # the previous call's operator lends its pattern work, and its storage when the
        # Tuner made it (overwrite: it is used by no one else) — never an operator the user
        # passed, even one the user prepares with overwrite=True: the user keeps that one
        try:
            op = solvers.prepare(A, backend=self.backend, like=self._last_op,
                                 overwrite=self._own_op, comm=self._mat_comm)
        except (ValueError, TypeError):
            from solvers._checks import swapped_arguments

            swapped = swapped_arguments(A, b, "tuner.solve(A, b)")
            if swapped is not None:
                raise swapped from None
            raise
        if not self._own_op and op is not A and op is not self._last_op:
            op._scratch = True  # a new operator of the Tuner's own: its working copy from now
        if self.backend == "petsc":
            ranks = 1 if self._comm is None else self._comm.Get_size()
            if op.comm.getSize() != ranks or (ranks > 1 and not _mpi.congruent(
                    op.comm, self._comm)):
                # rank 0's iteration count and verdict are every rank's: a rank solving its
                # own system would be told another rank's result
                said = f"A is distributed over {op.comm.getSize()} MPI rank(s), but the Tuner"
                if self._mat_comm is not None:
                    raise ValueError(
                        f"{said} runs on its communicator (comm=) of {ranks}: pass a system "
                        f"distributed over that communicator (a PETSc Mat on it, or a scipy "
                        f"matrix, which the Tuner converts on it)")
                raise ValueError(
                    f"{said} runs on PETSc.COMM_WORLD's {ranks}: rank 0 decides and its "
                    f"results are every rank's, so every rank must solve one system "
                    f"distributed over COMM_WORLD (for a separate system on each rank, give "
                    f"each rank a Tuner of its own with comm=MPI.COMM_SELF)")
            for method in self._arms.methods:
                op.require(method)
        else:
            self._require(op)
            if self._split:
                op.split_triangles()  # cached: only a new pattern's first operator builds them
            if getattr(self, "_scratch_rows", 0) and op._pattern.get("work") is None:
                op.workspace(self._scratch_rows).fill(0.0)  # first touch, once per pattern
        if self.backend == "petsc":
            b, x0 = self._petsc_vector(op, b, "b"), (
                None if x0 is None else self._petsc_vector(op, x0, "x0"))
        else:
            self._checked = checked = self._check_rhs(b, x0, op.n, self._copy_x0)
            b, x0 = checked[0], checked[2]
        self._last_op, self._own_op = op, op is not A
        return op, b, x0, context

    @staticmethod
    def _petsc_vector(op, v, name):
        from petsc4py import PETSc

        if isinstance(v, PETSc.Vec):
            from solvers.petsc import check_vec_on_every_rank

            # sizes and values, each rank's refusal raised on every rank (one exchange)
            check_vec_on_every_rank(op, v, name)
            return v
        from solvers._checks import check_vector

        return check_vector(v, op.n, name)

    def _auto_context_of(self, op) -> float:
        """The automatic context of ``op`` (``auto_context="spectral"``): the relaxation
        parameter the theory gives the system — Young's ω* for SOR, Axelsson's for SSOR-PCG —
        from :data:`AUTO_CONTEXT_STEPS` Lanczos steps
        (:func:`solvers.spectral.estimate_spectrum`; on PETSc with the Mat's own products, on
        every rank).  About that many matrix–vector products per solve; the seconds are kept
        (:meth:`summary`'s ``auto_context``)."""
        from solvers.spectral import estimate_spectrum

        t0 = time.perf_counter()
        try:
            est = estimate_spectrum(op, AUTO_CONTEXT_STEPS)
        except (TypeError, ValueError) as exc:
            # (the estimator's own hint, to solve with SOR instead, does not apply here)
            why = str(exc).split(" — use sor for others")[0]
            raise ValueError(f"auto_context='spectral' estimates the spectrum of every system: "
                             f"{why}") from None
        w = est.omega_sor if self._arms.configs[0].method == "sor" else est.omega_ssor
        self._context_seconds += time.perf_counter() - t0
        self._context_products += est.steps  # fewer than the steps on a small system
        return float(w)

    def _auto_context_refusal(self, exc, mine: int) -> None:
        """A policy's refusal of a context of another length, in the user's terms: the policy
        counts the automatic context too, one entry more than the user passed."""
        msg = str(exc)
        if not (msg.startswith("context must have ") or msg.startswith("a contextual policy")
                or msg.startswith("this policy was started without")):
            return
        ctx = self.history["context"]
        if not len(ctx):
            return
        first = ctx.shape[1] - 1 if ctx.ndim == 2 else 0

        def values(k):
            return "none" if k == 0 else str(k)

        given = ("no context of yours" if mine == 0 else
                 f"{mine} context value{'s' if mine > 1 else ''} of yours")
        raise ValueError(f"{given}, {values(first)} on the first solve: with "
                         f"auto_context={self._auto_context!r} the context is yours followed "
                         f"by the automatic one, so pass the same number of values on every "
                         f"solve") from None
