"""The one result type returned by every solver and backend."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter

import numpy as np

__all__ = ["SolveResult", "ConvergenceError", "IterateOverflowError", "REASONS"]

#: Why a solve stopped.  Only ``"converged"`` means ``x`` meets the tolerance.
REASONS = {
    "converged": "‖b - A x‖ <= max(rtol·‖b‖, atol)",
    "maxiter": "iteration cap reached before the tolerance",
    "breakdown": "CG breakdown: pᵀAp <= 0 or rᵀz <= 0 (matrix or preconditioner not SPD)",
    # (not always an unstable iteration: on D A D with D over 16 decades, SPD, SOR's residual
    # grows 10¹² within 11 sweeps of an iteration that converges in the energy norm)
    "diverged": ("residual grew by more than dtol (default 1e12) times its start: an unstable "
                 "iteration, or the transient growth of a convergent one on a badly scaled "
                 "matrix (a tolerance far below its rounding level)"),
    "stagnated": ("the residual stopped improving at the rounding level of the system: the "
                  "tolerance looks unattainable in double precision (x is the best iterate)"),
    # the Tuner's attempt whose set-up alone exceeds its budget (not started, 0 iterations);
    # a custom solver stopped by a caller's budget may report it too
    "stopped": "stopped by a caller-supplied budget before the tolerance or the iteration cap",
    # a Tuner's arm whose preconditioner refused this matrix (solvers.SetupError): 0 iterations
    "setup_failed": "the preconditioner could not be set up for this matrix (no iteration ran)",
}


class IterateOverflowError(ValueError):
    """A solve whose residual left double range: the start's (``x0`` out of proportion with
    ``b``) or an iterate's (the solution, or a step towards it, overflows — for SOR also an
    unstable ω whose first sweep overflows).  A :class:`bandit.Tuner` counts it as a failed
    run of that arm and falls back; when every arm fails so, it raises it.

    Examples
    --------
    >>> import numpy as np, solvers
    >>> x0 = np.full(100, 1e308)
    >>> x0[::2] = -1e308                    # A @ x0 overflows
    >>> try:
    ...     solvers.sor(solvers.gallery.laplacian_2d(10), np.ones(100), 1.5, x0=x0)
    ... except solvers.IterateOverflowError as exc:
    ...     print(str(exc)[:37])
    sor cannot solve from this start: the
    """


class ConvergenceError(RuntimeError):
    """Raised by :meth:`SolveResult.raise_if_not_converged` for a failed solve.

    Examples
    --------
    >>> import numpy as np, solvers
    >>> res = solvers.sor(solvers.gallery.laplacian_2d(10), np.ones(100), 1.5, maxiter=5)
    >>> try:
    ...     res.raise_if_not_converged()
    ... except solvers.ConvergenceError as exc:
    ...     print(str(exc)[:45])
    sor did not converge (maxiter): 5 iterations,
    """


@dataclass(slots=True)
class SolveResult:
    """Outcome of one linear solve ``A x = b``.

    A plain slotted record: building one is a cheap ``__init__`` (well under a microsecond),
    so the solvers, backends and the Tuner construct it with its ordinary constructor, and
    the Tuner labels the result of its own solve (``arm``, ``settings``) by setting those
    fields before it hands the result out.  :meth:`replace` returns a changed copy; a
    misspelt field name raises ``AttributeError`` (there is no instance dictionary).

    Attributes
    ----------
    x : ndarray
        The last iterate of a converged solve; of a failed one (any other ``reason``) the
        iterate with the smallest monitored residual, the start included (its index in
        ``info["best_iteration"]``, on both backends).  A solution to tolerance only when
        ``converged`` is true.
    iterations : int
        Number of updates of ``x`` performed (SOR sweeps or CG steps); 0 when
        ``x0`` already met the stopping rule.  Equals ``maxiter`` on a capped solve.
    converged : bool
        Whether ``‖b - A x‖ <= max(rtol·‖b‖, atol)`` holds for the returned ``x``.
    residual_norm : float
        True (unpreconditioned) residual norm ``‖b - A x‖`` of the returned ``x``, as
        computed.  On a failed solve whose figure is not above twice its rounding margin
        ``(m + 1)·u·‖|b| + |A| |x|‖`` (rounding noise), ``info["residual_bound"]`` holds an
        upper bound of the exact residual (``docs/solvers.md``, *A failed solve's residual*).
    omega : float or None
        Relaxation parameter used (``None`` for plain CG).
    solver : str
        ``"sor"``, ``"ssor_pcg"`` or ``"cg"`` (or a PETSc KSP description).
    reason : str
        One of :data:`REASONS`.
    seconds : float
        Wall-clock time of the solve (kernel plus set-up that depends on ``omega``).
    backend : str
        ``"numba"`` or ``"petsc"``.
    b_norm : float
        ``‖b‖``, so the relative residual is ``residual_norm / b_norm``
        (:attr:`relative_residual`).
    rtol, atol, maxiter : float, float, int
        The stopping rule ``‖b − A x‖ <= max(rtol·‖b‖, atol)`` and the iteration cap the
        solve ran with.
    arm, settings : int, dict or None
        Filled in by :class:`bandit.Tuner`: the arm index and the settings it stands for.
    info : dict
        Backend- or tuner-specific extras (e.g. PETSc converged reason, censoring, a failed
        solve's ``best_iteration``).

    Examples
    --------
    >>> import numpy as np, solvers
    >>> res = solvers.sor(solvers.gallery.laplacian_2d(10), np.ones(100), 1.5)
    >>> res.converged, res.iterations, res.reason, res.solver
    (True, 62, 'converged', 'sor')
    >>> bool(res.relative_residual <= 1e-8)
    True
    >>> capped = solvers.sor(solvers.gallery.laplacian_2d(10), np.ones(100), 1.5, maxiter=5)
    >>> capped.converged, capped.iterations, capped.reason
    (False, 5, 'maxiter')
    """

    x: np.ndarray
    iterations: int
    converged: bool
    residual_norm: float
    omega: float | None
    solver: str
    reason: str
    seconds: float = 0.0
    backend: str = "numba"
    b_norm: float = 0.0
    rtol: float = 1e-8
    atol: float = 0.0
    maxiter: int = 10_000
    arm: int | None = None
    settings: dict | None = None
    info: dict = field(default_factory=dict)

    def __eq__(self, other):
        """Field by field, arrays by value.  The generated comparison had raised ValueError
        ("truth value of an array ... is ambiguous") on two results with equal but distinct
        ``x`` — and on Python ≥ 3.13, which compares field by field, even on one result."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(_same(a, b) for a, b in zip(_ALL_FIELDS(self), _ALL_FIELDS(other)))

    __hash__ = None  # mutable: as the generated comparison left it

    @property
    def relative_residual(self) -> float:
        """``residual_norm / ‖b‖`` (``residual_norm`` itself when ``b = 0``)."""
        return self.residual_norm / self.b_norm if self.b_norm > 0 else self.residual_norm

    def replace(self, **changes) -> "SolveResult":
        """Return a copy with some fields changed (like :func:`dataclasses.replace`).

        The copy is shallow: ``x`` and ``info`` are shared unless they are among ``changes``.

        Examples
        --------
        >>> from solvers import cg, gallery
        >>> r = cg(gallery.laplacian_2d(4), np.ones(16))
        >>> r.replace(arm=3).arm, r.arm
        (3, None)
        """
        unknown = changes.keys() - _FIELDS
        if unknown:
            raise TypeError(f"SolveResult has no field(s) {sorted(unknown)}")
        new = SolveResult(*_ALL_FIELDS(self))
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    def raise_if_not_converged(self) -> "SolveResult":
        """Return ``self`` if converged, else raise :class:`ConvergenceError`.

        Examples
        --------
        >>> from solvers import sor, gallery
        >>> A = gallery.laplacian_2d(4)
        >>> sor(A, A @ A.diagonal(), 1.2, maxiter=1).converged
        False
        """
        if not self.converged:
            raise ConvergenceError(
                f"{self.solver} did not converge ({self.reason}): {self.iterations} iterations, "
                f"‖b - A x‖/‖b‖ = {self.relative_residual:.3e} > rtol = {self.rtol:g} "
                f"(omega = {self.omega})"
                + (f": {self.info['cause']}" if self.info.get("cause") else "")
            )
        return self

    def __repr__(self) -> str:  # arrays are long; show the numbers a user looks at
        om = "None" if self.omega is None else f"{self.omega:.4g}"
        return (
            f"SolveResult(solver={self.solver!r}, omega={om}, iterations={self.iterations}, "
            f"converged={self.converged}, reason={self.reason!r}, "
            f"residual_norm={self.residual_norm:.3e}, backend={self.backend!r}, n={self.x.size})"
        )


_FIELDS = frozenset(f.name for f in fields(SolveResult))
_ALL_FIELDS = attrgetter(*(f.name for f in fields(SolveResult)))  # in constructor order


def _same(a, b) -> bool:
    """``a == b`` for the values a result holds: arrays by shape and value (NaN equal to NaN,
    as a failed solve's ``x`` may hold), dicts value by value."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        try:
            return bool(np.array_equal(a, b, equal_nan=True))
        except TypeError:  # not numbers: NaN has no meaning
            return bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)
