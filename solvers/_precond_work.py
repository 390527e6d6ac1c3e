"""The work model of the solvers (:class:`WorkModel`, :func:`work_model`): the deterministic
cost of a solve in matrix-pass equivalents, counted from their kernels.  Imported from
:mod:`solvers.precond` (and :mod:`solvers`), where they are documented.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _kernels_ssor as KS
from ._operator import prepare
from .precond import preconditioner


@dataclass(frozen=True)
class WorkModel:
    """Deterministic cost of one solve in matrix-pass equivalents (``nnz(A)`` multiply–adds).

    ``total(iterations) = setup + fixed + iterations · per_iteration``.  ``setup`` is the work
    of the latest set-up (charge it only to the solve that built it); ``fixed`` covers the
    initial residual, the first preconditioner application and the final true-residual check.

    Examples
    --------
    >>> import solvers
    >>> w = solvers.work_model("sor", solvers.gallery.laplacian_2d(10))
    >>> w.setup, round(w.per_iteration, 3)     # 460 entries: a sweep, and ‖r‖ for the test
    (0.0, 2.478)
    >>> w.total(10) == w.setup + w.fixed + 10 * w.per_iteration
    True
    """

    setup: float
    per_iteration: float
    fixed: float

    def total(self, iterations: int, *, setup: bool = True) -> float:
        """Work of a solve with ``iterations`` iterations (``setup=False``: a reused one)."""
        return (self.setup if setup else 0.0) + self.fixed + iterations * self.per_iteration


def work_model(method: str, A, pc=None) -> WorkModel:
    """Work of the solvers' iterations, counted from their kernels.

    With ``N = nnz(A)``, ``n`` unknowns, ``N_L``/``N_U`` the strictly lower/upper entries,
    in multiply–adds (divide by ``N`` for matrix-pass equivalents):

    ============  ======================================  ==================================
    method        per iteration                           fixed per solve
    ============  ======================================  ==================================
    ``cg``        ``N + 5n``                              ``2(N + n)``
    ``pcg``       ``N + 6n + apply`` (``jacobi``: ``n``;  ``2(N + n) + apply``
                  ``ic0``: ``2(N_L + n)``; ``amg``: the
                  cycle, see :class:`AMG`)
    ``ssor_pcg``  ``2N_U + N_L + 14n`` (Eisenstat form)   ``2N + 2N_U + N_L + 7n``
                  (ω < 1/2: ``N + N_L + N_U + 9n``,       (ω < 1/2: ``2N + N_L + N_U + 6n``)
                  the plain form)
    ``sor``       ``N + N_U + 5n`` (sweep and residual)   ``N + n``
    ============  ======================================  ==================================

    ``pcg`` with ``pc="none"`` is ``cg`` and with ``pc="ssor"`` is ``ssor_pcg``.  For a
    5-point stencil (``N ≈ 5n``) an iteration of cg, Jacobi-PCG, IC(0)-PCG and SSOR-PCG costs
    2.0, 2.4, 3.4 and 4.0.

    Parameters
    ----------
    method : {"cg", "pcg", "ssor_pcg", "sor"}
    A : matrix or CSROperator
    pc : Preconditioner, str or dict, optional
        For ``method="pcg"``: a preconditioner (set up for ``A`` here if it is not built yet;
        ``setup`` is the work of its latest set-up).  For ``method="ssor_pcg"``: its SSOR
        preconditioner, for the ω (``ssor_pcg`` runs the plain form below ω = 1/2, see
        :func:`solvers.ssor_pcg`); without it the Eisenstat form's figures.

    Examples
    --------
    >>> from solvers import gallery
    >>> A = gallery.laplacian_2d(100)
    >>> [round(work_model(m, A, pc).per_iteration, 2) for m, pc in (("cg", None), ("pcg", "ic0"))]
    [2.01, 3.41]
    """
    op = prepare(A)
    N, n = float(op.nnz), float(op.n)
    if method == "cg":
        return WorkModel(0.0, (N + 5 * n) / N, 2 * (N + n) / N)
    if method in ("ssor_pcg", "sor"):
        (lp, _, _, lnear), (up, _, _, unear) = op.split_triangles()
        NL = float(lp[-1]) + float(np.count_nonzero(lnear))
        NU = float(up[-1]) + float(np.count_nonzero(unear))
        if method == "sor":
            return WorkModel(0.0, (N + NU + 5 * n) / N, (N + n) / N)
        omega = None
        if pc is not None and method == "ssor_pcg":
            pc = preconditioner(pc)
            if pc.name != "ssor":
                raise ValueError(f"work_model('ssor_pcg', A, pc): pc must be an SSOR "
                                 f"preconditioner (its ω), got {pc.label!r}")
            omega = pc.omega
        if omega is not None and omega < KS.EISENSTAT_MIN_OMEGA:
            # ssor_pcg_plain_solve: product and pᵀAp, update and ‖r‖², the two solves with
            # their scalings, rᵀz and the direction; start and end: two residuals, one solve
            return WorkModel(0.0, (N + NL + NU + 9 * n) / N, (2 * N + NL + NU + 6 * n) / N)
        return WorkModel(0.0, (2 * NU + NL + 14 * n) / N, (2 * N + 2 * NU + NL + 7 * n) / N)
    if method != "pcg":
        raise ValueError(f"method must be 'cg', 'pcg', 'ssor_pcg' or 'sor', got {method!r}")
    pc = preconditioner("none" if pc is None else pc)
    if pc.name == "none":
        return work_model("cg", op)
    if pc.name == "ssor":
        return work_model("ssor_pcg", op, pc)
    if not pc.built:
        pc.setup(op)
    a = pc.apply_mults(op)
    return WorkModel(pc.setup_work, (N + 6 * n + a) / N, (2 * (N + n) + a) / N)
