"""Why a guarded solve of a :class:`bandit.Tuner` failed or its system is refused: an arm
the solver refused once it had started (:meth:`GuardDiagnosis._refused`), an inconsistent
singular system no arm can solve (:meth:`GuardDiagnosis._refuse_inconsistent`), and the
explanations a failure message adds when every arm failed — every SOR run diverged, every run
broke down, ``A`` is singular.

A mixin of :class:`bandit.Tuner` through :class:`bandit._tuner_guard.GuardSteps` (the guard's
control flow, which calls these and writes the failure messages, stays in
:mod:`bandit._tuner_guard`); its methods read and write the Tuner's own attributes.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ._base import arm_omega
from solvers._operator import CSROperator

#: How a SOR failure message asks for under-relaxation, in the library's terms (the arms of
#: the Tuner's policy); the command line shows :data:`UNDER_RELAX_CLI` in its place, naming
#: its own option.
UNDER_RELAX_HINT = ("add ω below 1 (under-relaxation) to the arms, the ω list of the Tuner "
                    "or its policy: e.g. bandit.Tuner([0.6, 0.8, 1.0, 1.2], solver=\"sor\")")
#: :data:`UNDER_RELAX_HINT` as ``relaxtune tune`` shows it.
UNDER_RELAX_CLI = ("add ω below 1 (under-relaxation) to the arms: --omegas 0.6 0.8 1.0 1.2 "
                   "(in a new run: --resume keeps the file's ω)")


class GuardDiagnosis:
    """An arm the solver refused, and a system no arm can solve."""

    def _refused(self, arm, op, x0, exc, seconds, tally, reason):
        """The run of an arm the solver refused once it had started: its preconditioner
        refused this matrix (:class:`SetupError`, reason ``"setup_failed"``, warned once per
        arm), or an iterate left double range (:class:`solvers.IterateOverflowError`, reason
        ``"diverged"``).  A failed run of 0 iterations carrying the refusal in
        ``info["error"]``; the round goes on as after any failed attempt (a guarded solve falls
        back; the policy is told a failure), so a loop never stops on one unusable arm.  Not an
        observation of a solve for the arm's rates; its seconds are the user's all the same."""
        from solvers import SolveResult

        if reason == "setup_failed" and arm not in self._setup_warned:
            self._setup_warned.add(arm)
            warnings.warn(f"arm {arm} ({self.arm_labels[arm]}) could not be set up on a "
                          f"{op.n}-unknown system: {exc}; counted as a failed attempt of that "
                          f"arm (reason 'setup_failed')", RuntimeWarning, stacklevel=4)
        x = np.zeros(op.n) if x0 is None else np.array(x0, dtype=np.float64)
        rtol, atol = self._round_tol  # (this solve's stopping rule)
        res = SolveResult(x=x, iterations=0, converged=False, residual_norm=math.inf,
                          omega=arm_omega(self.policy.arms[arm]), solver=self._calls[arm][0]
                          .__name__, reason=reason, seconds=seconds,
                          backend=self.backend, rtol=rtol, atol=atol, maxiter=0,
                          info={"error": str(exc), "refused": type(exc).__name__,
                                "work": 0.0, "timed_work": seconds,
                                "setup": False, "setup_seconds": 0.0, "setup_work": 0.0})
        if tally:
            self._work[0] += seconds
        return res

    def _refuse_inconsistent(self, op, b):
        """Raise ``ValueError`` when no ``x`` can meet the stopping rule: ``Aᵀ`` has a known
        null vector ``y`` — ``1`` when the columns of ``A`` sum to zero, ``d⁻¹`` when
        ``A = diag(d)·S`` with ``S`` symmetric and zero row sums (a row-scaled Laplacian) —
        and ``b`` is not orthogonal to it (an inconsistent singular system,
        :func:`solvers.spectral.null_floor`).  Called once a run has failed on its own —
        the first attempt, or when the guard's budget cut that one short, the chain's next
        run (:meth:`_fall_back`) — so a solvable system pays nothing for it; the round is
        then abandoned and nothing is told, as for any refusal between the draw and the
        update — instead of every arm running to ``maxiter`` with nothing to say why.  (Its
        two passes over ``A``, 0.2 ms at n = 10⁴, had been paid by every exploration the
        budget cut short: 24–48 of a configuration learner's 1000 heat2d solves.)"""
        from scipy.linalg import norm as _norm
        from solvers._causes import _empty_rows_cause, consistent_rhs, inconsistency
        from solvers.spectral import null_floor

        try:
            floor, comps, kind = null_floor(op, b)
            if not floor:
                return
            b_norm = b.norm() if hasattr(b, "norm") else float(_norm(np.asarray(b, float)))
        except (TypeError, ValueError):  # a custom solver's input of a kind not prepared
            return
        rtol, atol = self._round_tol
        tol = max(rtol * b_norm, atol)
        words = inconsistency(floor, comps, kind, tol, b_norm)
        if not words:
            return
        if isinstance(op, CSROperator) and isinstance(b, np.ndarray):
            # a row with no entry where b does not vanish (an isolated vertex of a graph
            # Laplacian) is a component of its own whose column sum vanishes: it had been
            # told as "b's sum over the rows of each of the 2 connected components",
            # which names neither the row nor the fix (as a failed CG solve's cause does)
            cause = _empty_rows_cause(op, b, tol)
        else:
            cause = _petsc_empty_rows(op, b, tol)
        if cause:
            raise ValueError(f"A x = b is inconsistent: {cause}: no arm can converge; "
                             f"the round was abandoned once a run had failed, "
                             f"nothing was told or recorded")
        rhs = consistent_rhs(comps, kind)
        raise ValueError(f"{words}: no arm can converge. {rhs[0].upper()}{rhs[1:]}; the "
                         f"round was abandoned once a run had failed, nothing was told or "
                         f"recorded")

def _petsc_empty_rows(op, b, tol) -> str:
    """:func:`solvers._causes._empty_rows_cause` for a PETSc-backend operator (collective, as
    :func:`solvers.spectral.null_floor` there), or ``""`` for any other operator."""
    if not (type(op).__module__ == "solvers.petsc" and hasattr(op, "vector")):
        return ""
    from solvers.petsc import _empty_rows

    bv = op.vector(b, "b")  # (a copy: the caller's Vec is left alone)
    try:
        return _empty_rows(op.mat, bv, tol)
    finally:
        bv.destroy()


def _sor_diverged_note(solver, omegas, runs, op=None, b=None, x0=None) -> str:
    """The failure message's explanation when every SOR run of a round diverged.

    On a symmetric matrix with a positive diagonal SOR converges, for any ω in (0, 2),
    exactly when the matrix is positive definite (Ostrowski–Reich): every run diverging there
    says the matrix is indefinite, and no ω can help (the runs had been explained as wanting
    under-relaxation, which diverges as well: ω = 0.1 to 0.9 on the shifted Laplacian
    ``K − I``).  Otherwise, when no arm under-relaxes: on a matrix that is neither symmetric
    positive definite nor diagonally dominant (central differences of convection at a cell
    Péclet number above 2) SOR can diverge for every ω >= 1 and converge below 1 (the runs had
    been listed as "(arm 0, diverged)" with nothing to say what else to try)."""
    if not (solver == "sor" and runs and all(r.reason == "diverged" for _, r, *_ in runs)):
        return ""
    if _symmetric_positive_diagonal(op):
        return ("; every run diverged, and A is symmetric with a positive diagonal: there SOR "
                "converges, for any ω in (0, 2), exactly when A is positive definite "
                "(Ostrowski–Reich), so A is indefinite and no ω can solve it — use a method "
                "for symmetric indefinite systems (MINRES, a direct solver)")
    if min(w for w in omegas if w is not None) >= 1.0:
        return ("; every run diverged, and every ω of the list is >= 1: on a matrix that is "
                "neither symmetric positive definite nor diagonally dominant SOR can diverge "
                f"for every ω >= 1 — {UNDER_RELAX_HINT}")
    return ""


def _singular_note(op) -> str:
    """The failure message's explanation when ``A·1 = 0`` (a Numba-backend operator whose
    rows sum to zero, within :data:`solvers.spectral.NULL_ROWS` of each row's absolute sum):
    ``A`` is singular, and an ``A x = b`` no arm solves is likely inconsistent — the null
    vector of ``Aᵀ`` that would prove it (:func:`solvers.spectral.null_floor`) was not found,
    as for a convection–diffusion operator with zero-flux boundaries (the runs had been
    listed as "(arm 0, maxiter)" with nothing to say why).  One pass over ``A``, only once
    every arm has failed."""
    if not isinstance(op, CSROperator) or op.n == 0:
        return ""
    from scipy.sparse import csr_matrix
    from solvers._spectral_floor import unit_scaled
    from solvers.spectral import NULL_ROWS

    # (entries near the double range: their sums overflowed, and every row passed for zero)
    a = csr_matrix((unit_scaled(op.data), op.indices, op.indptr), shape=(op.n, op.n),
                   copy=False)
    one = np.ones(op.n)
    if not np.all(np.abs(a @ one) <= NULL_ROWS * (abs(a) @ one)):
        return ""
    return ("; A is singular (its rows sum to zero: A·1 = 0), so b is likely outside A's "
            "range — an inconsistent system, which no arm can solve (its null vector of Aᵀ "
            "is not known here, so no floor of ‖b − A x‖ could be proven): make b consistent "
            "(for a conservation law, sources that balance the boundary fluxes), or fix x's "
            "free constant with one Dirichlet row")


def _symmetric_positive_diagonal(op) -> bool:
    """Whether ``op`` (a Numba-backend operator; False for others) is symmetric, as the
    solvers judge it for SSOR-PCG and CG, with every diagonal entry positive."""
    if not isinstance(op, CSROperator):
        return False
    # (the solvers' own test of symmetry: CSROperator.require_symmetric's tolerance)
    return bool(np.all(op.diagonal > 0)) and op.asymmetry() <= 1e-10


def _all_broke_down(runs) -> str:
    """The failure message's explanation when every run of a round broke down: the matrix
    (or the preconditioner) is not positive definite — a symmetric indefinite system such
    as a shifted Laplacian, which no arm of CG or SSOR-PCG can solve (the runs had been
    listed as "(arm 0, breakdown)" with nothing to say why)."""
    if runs and all(r.reason == "breakdown" for _, r, *_ in runs):
        return ("; every run broke down (pᵀAp <= 0 or rᵀz <= 0): the matrix, or its "
                "preconditioner, is not positive definite")
    return ""
