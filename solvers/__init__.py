"""Sparse iterative solvers with a relaxation parameter: SOR, SSOR-preconditioned CG and CG.

Numba kernels over CSR arrays (``solvers._kernels``) behind validating wrappers; an optional
PETSc backend (``backend="petsc"``).  Every solver returns a :class:`SolveResult` whose
``iterations`` field is always present.  Every solver stops at the first iterate with
``‖b − A x‖ ≤ max(rtol·‖b‖, atol)`` on the true residual, and counts the updates of ``x`` it
performed; the conventions are written out in the user guide's Solvers page.

Examples
--------
>>> import numpy as np
>>> from solvers import sor, ssor_pcg, prepare, gallery
>>> A = prepare(gallery.laplacian_2d(10))
>>> b = np.ones(100)
>>> [sor(A, b, w).iterations for w in (1.0, 1.56)]
[223, 41]
"""
from ._jitcache import ensure_cache_dir as _ensure_cache_dir

_ensure_cache_dir(__file__)  # before any kernel is defined (read-only installs)
from . import gallery
from ._api import BACKENDS, SOLVERS, SSOR_ORDERS, cg, pcg, sor, ssor_pcg
from ._operator import CSROperator, prepare
from ._result import REASONS, ConvergenceError, IterateOverflowError, SolveResult
from .spectral import jacobi_spectral_radius, optimal_omega, young_omega
from .precond import (AMG, IC0, PRECONDITIONERS, SSOR, IC0BreakdownError, Jacobi,
                      NoPreconditioner, Preconditioner, SetupError, WorkModel, preconditioner,
                      work_model)

__all__ = ["sor", "ssor_pcg", "cg", "prepare", "CSROperator", "SolveResult", "ConvergenceError",
           "IterateOverflowError",
           "REASONS", "SOLVERS", "BACKENDS", "SSOR_ORDERS", "optimal_omega",
           "jacobi_spectral_radius", "young_omega", "gallery",
           "pcg", "Preconditioner", "NoPreconditioner", "Jacobi", "SSOR", "IC0", "AMG",
           "PRECONDITIONERS", "preconditioner", "SetupError", "IC0BreakdownError", "WorkModel",
           "work_model"]
