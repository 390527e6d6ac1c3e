"""The ω formulas of :mod:`solvers.spectral`: Young's for SOR (:func:`young_omega`, and the
convergence factor :func:`sor_rate`) from a Jacobi spectral radius, and Axelsson's for
SSOR-PCG (:func:`ssor_omega`, :func:`ssor_condition_bound`) from ``λ_min(D⁻¹A)``.  Imported
from :mod:`solvers.spectral` (and :mod:`solvers`), where they are documented.
"""
from __future__ import annotations

import math
import numbers

import numpy as np


def _real(value, name: str) -> float:
    """``value`` as a float if it is a real number (numpy scalars included; bools, strings
    and arrays not), else ``ValueError`` naming the argument."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "fiu":
        return float(value)  # (np.array(0.5) is a number, as it is for the solvers)
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) == 2:
        # a matrix where its spectral quantity goes: its repr (a sparse matrix's two lines,
        # or a dense matrix's every entry) said nothing of what to pass
        raise ValueError(f"{name} must be a real number, got a matrix of shape {shape}: "
                         f"these formulas take a number computed from A, not A itself "
                         f"({_FROM_MATRIX.get(name, 'see solvers.spectral')})")
    raise ValueError(f"{name} must be a real number, got {value!r}")


#: What to call with a matrix instead, by the formulas' argument names.
_FROM_MATRIX = {
    "rho_j": "young_omega(jacobi_spectral_radius(A)), or optimal_omega(A), which does both",
    "mu_min": "mu_min is λ_min(D⁻¹A): solvers.spectral.estimate_spectrum(A).omega_ssor "
              "gives Axelsson's ω of A",
}


#: The largest double below 2: the formulas' ω rounds to 2.0 next to a singular matrix, which
#: the solvers refuse (ω must lie in the open interval (0, 2)).
_BELOW_TWO = float(np.nextafter(2.0, 0.0))


def young_omega(rho_j: float) -> float:
    """Young's formula ``ω* = 2 / (1 + √(1 − ρ_J²))`` (needs ``0 <= ρ_J < 1``).

    Examples
    --------
    The 5-point Laplacian of a 10 × 10 grid has ``ρ_J = cos(π/11)``:

    >>> import numpy as np
    >>> round(young_omega(np.cos(np.pi / 11)), 4)
    1.5604
    >>> young_omega(0.0)                   # a diagonal matrix: plain Gauss–Seidel
    1.0
    >>> young_omega(np.eye(3))
    Traceback (most recent call last):
    ...
    ValueError: rho_j must be a real number, got a matrix of shape (3, 3): these formulas take a number computed from A, not A itself (young_omega(jacobi_spectral_radius(A)), or optimal_omega(A), which does both)
    """
    rho_j = _real(rho_j, "rho_j")
    if not 0.0 <= rho_j < 1.0:
        raise ValueError(
            f"Young's formula needs a Jacobi spectral radius in [0, 1), got {rho_j:.6g}: "
            "the Jacobi iteration does not converge for this matrix")
    return min(float(2.0 / (1.0 + np.sqrt(1.0 - rho_j * rho_j))), _BELOW_TWO)


def sor_rate(omega, rho_j):
    """Asymptotic SOR convergence factor ``ρ(L_ω)`` of a consistently ordered matrix (Young).

    With ``ω_b`` Young's ω*: ``ω − 1`` for ``ω >= ω_b``, else
    ``((ω ρ_J + √(ω² ρ_J² − 4(ω − 1))) / 2)²``.  ``ρ_J²`` at ω = 1 (Gauss–Seidel).

    Examples
    --------
    >>> rj = np.cos(np.pi / 11)
    >>> bool(np.isclose(sor_rate(1.0, rj), rj ** 2))
    True
    >>> bool(np.isclose(sor_rate(young_omega(rj), rj), young_omega(rj) - 1))
    True
    """
    w = np.asarray(omega, dtype=float)
    disc = np.maximum(w * w * rho_j * rho_j - 4.0 * (w - 1.0), 0.0)
    below = (0.5 * (w * rho_j + np.sqrt(disc))) ** 2
    return np.where(w >= young_omega(rho_j), np.abs(w - 1.0), below)


def ssor_omega(mu_min: float) -> float:
    """ω minimising Axelsson's bound on ``κ(M⁻¹A)`` for SSOR-PCG: ``2 / (1 + √(2 μ))``.

    ``μ = λ_min(D⁻¹A)``; the bound is :func:`ssor_condition_bound` with ``δ = 0`` (exact for
    the model Laplacian up to O(h²)).

    Examples
    --------
    >>> round(ssor_omega(1 - np.cos(np.pi / 11)), 4)
    1.5569
    """
    mu_min = _real(mu_min, "mu_min")
    if not 0.0 < mu_min <= 1.0:
        raise ValueError(f"λ_min(D⁻¹A) must lie in (0, 1], got {mu_min:.6g}")
    return min(2.0 / (1.0 + math.sqrt(2.0 * mu_min)), _BELOW_TWO)


def ssor_condition_bound(omega, mu_min, delta=0.0):
    """Axelsson's bound ``κ(M_ω⁻¹A) <= (1 + ωδ)/(2 − ω) + (2 − ω)/(4 ω μ)`` for SSOR(ω).

    ``A = D − L − Lᵀ`` SPD, ``μ = λ_min(D⁻¹A)``,
    ``δ = max_x xᵀ(L D⁻¹ Lᵀ − D/4)x / xᵀAx`` (≤ 0 for the model Laplacian).  The SSOR matrix
    satisfies ``M_ω >= A``, so ``λ_max(M⁻¹A) <= 1`` and the bound is ``max xᵀM x / xᵀA x``.

    Examples
    --------
    >>> mu = 0.01
    >>> w = ssor_omega(mu)
    >>> bool(ssor_condition_bound(w, mu) < ssor_condition_bound([1.0, 1.95], mu).min())
    True
    """
    w = np.asarray(omega, dtype=float)
    return (1.0 + w * delta) / (2.0 - w) + (2.0 - w) / (4.0 * w * mu_min)
