"""Model matrices for tests, examples and benchmarks (all returned as scipy CSR arrays)."""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["laplacian_1d", "laplacian_2d", "shifted_laplacian_2d", "anisotropic_2d",
           "crank_nicolson_2d", "jacobi_radius_laplacian_2d", "random_spd",
           "random_diagonally_dominant"]


def _size(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int if it is an integer >= ``minimum`` (numpy integers included; bools,
    floats and strings not), else ``ValueError`` naming the argument."""
    if (isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
            and value >= minimum):
        return int(value)
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _coefficient(value, name: str) -> float:
    """``value`` as a float if it is a finite real number (numpy scalars and 0-d arrays
    included; bools and strings not), else ``ValueError`` naming the argument: a NaN shift
    had made a matrix of NaN, and a string scipy's or NumPy's own ``TypeError``."""
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "fiu":
        value = value[()]
    if (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and np.isfinite(value)):
        return float(value)
    raise ValueError(f"{name} must be a finite real number, got {value!r}")


def _at_least(value, name: str, low: float, why: str) -> float:
    """:func:`_coefficient`, and ``>= low`` (else ``ValueError`` naming ``name`` and why)."""
    value = _coefficient(value, name)
    if not value >= low:
        raise ValueError(f"{name} must be >= {low:g} ({why}), got {value!r}")
    return value


def _density(value) -> float:
    """A density of non-zeros in [0, 1] (scipy's own message had been "cannot convert float
    NaN to integer" for a NaN)."""
    value = _coefficient(value, "density")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"density must lie in [0, 1] (a share of the entries), got {value!r}")
    return value


def _rng(seed):
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"seed must be None, a non-negative integer or a numpy Generator, "
                         f"got {seed!r} ({exc})") from None


def laplacian_1d(n: int) -> sp.csr_array:
    """Tridiagonal ``[-1, 2, -1]`` of size ``n``.

    Examples
    --------
    >>> laplacian_1d(3).toarray()
    array([[ 2., -1.,  0.],
           [-1.,  2., -1.],
           [ 0., -1.,  2.]])
    """
    n = _size(n, "n")
    return sp.diags_array([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)],
                          offsets=[-1, 0, 1], format="csr")


def laplacian_2d(m: int) -> sp.csr_array:
    """5-point Laplacian on an ``m × m`` interior grid in natural (row-major) order.

    4 on the diagonal, −1 for each grid neighbour, ``n = m²`` unknowns, unscaled (no 1/h²).
    Its Jacobi spectral radius is ``cos(π/(m + 1))``.

    Examples
    --------
    >>> A = laplacian_2d(2)
    >>> A.toarray()
    array([[ 4., -1., -1.,  0.],
           [-1.,  4.,  0., -1.],
           [-1.,  0.,  4., -1.],
           [ 0., -1., -1.,  4.]])
    """
    m = _size(m, "m")
    return _kron_sum(laplacian_1d(m), laplacian_1d(m))


def _kron_sum(X, Y):
    """``I ⊗ X + Y ⊗ I`` in canonical CSR (small krons come back as BSR with stored zeros)."""
    eye = sp.eye_array(X.shape[0], format="csr")
    A = sp.csr_array(sp.kron(eye, X, format="csr") + sp.kron(Y, eye, format="csr"))
    A.eliminate_zeros()
    A.sort_indices()
    return A


def shifted_laplacian_2d(m: int, c: float) -> sp.csr_array:
    """``laplacian_2d(m) + c I``: one instance of the paper's offset-Laplacian sequence.

    Symmetric positive definite for ``c > −λ_min``, ``λ_min = 4(1 − cos(π/(m + 1)))`` the
    smallest eigenvalue of ``laplacian_2d(m)``; a shift at or below it (singular or
    indefinite: no ω of SOR or SSOR-PCG converges) is refused with ``ValueError``.

    Examples
    --------
    >>> shifted_laplacian_2d(2, 0.5).diagonal()
    array([4.5, 4.5, 4.5, 4.5])
    """
    m = _size(m, "m")
    c = _coefficient(c, "c")
    lam_min = 4.0 * (1.0 - np.cos(np.pi / (m + 1)))
    if not c > -lam_min:
        raise ValueError(
            f"c must be > -{lam_min:.6g}, minus the smallest eigenvalue of laplacian_2d({m}), "
            f"got {c!r}: laplacian_2d({m}) + c I would not be positive definite (singular "
            "at c = -λ_min, indefinite below)")
    return sp.csr_array(laplacian_2d(m) + c * sp.eye_array(m * m, format="csr"))


def anisotropic_2d(m: int, epsilon: float = 0.01) -> sp.csr_array:
    """Anisotropic diffusion ``−u_xx − ε u_yy`` (5-point, unscaled) on an ``m × m`` grid.

    Examples
    --------
    >>> anisotropic_2d(2, 0.5).diagonal()
    array([3., 3., 3., 3.])
    """
    m = _size(m, "m")
    # ε < 0 is no diffusion: the matrix is indefinite (its −ε u_yy part negative definite)
    epsilon = _at_least(epsilon, "epsilon", 0.0, "the diffusion coefficient in y")
    return _kron_sum(laplacian_1d(m), epsilon * laplacian_1d(m))


def crank_nicolson_2d(nx: int, kappa_dt: float) -> sp.csr_array:
    """``I − (κ dt / 2) K_h`` for the heat equation on the unit square (the paper's heat study).

    ``K_h`` is the 5-point Laplacian divided by ``dx² = 1/nx²`` (negative definite), on the
    ``(nx − 1)²`` interior points.
    """
    nx = _size(nx, "nx", 2)  # intervals per side: at least one interior point
    # κ dt < 0 runs the heat equation backwards: I − (κ dt/2) K_h turns indefinite
    kappa_dt = _at_least(kappa_dt, "kappa_dt", 0.0, "a diffusivity times a time step")
    m = nx - 1
    K = -laplacian_2d(m) * float(nx * nx)
    return sp.csr_array(sp.eye_array(m * m, format="csr") - 0.5 * kappa_dt * K)


def jacobi_radius_laplacian_2d(m: int) -> float:
    """Analytic Jacobi spectral radius ``cos(π h)``, ``h = 1/(m + 1)``, of ``laplacian_2d(m)``."""
    return float(np.cos(np.pi / (_size(m, "m") + 1)))


def random_spd(n: int, density: float = 0.05, seed=None, shift: float = 1e-2) -> sp.csr_array:
    """Random sparse symmetric positive definite matrix (``B Bᵀ``-free: diagonally dominant).

    The diagonal is the absolute row sum plus ``shift`` so the matrix is SPD by Gershgorin.
    """
    n = _size(n, "n")
    shift = _at_least(shift, "shift", 0.0, "the matrix is SPD by Gershgorin")
    density = _density(density)
    rng = _rng(seed)
    R = sp.random_array((n, n), density=density, rng=rng, format="csr")
    S = sp.csr_array(sp.triu(R, 1))
    S = S + S.T
    S.data *= -1.0
    d = np.abs(S).sum(axis=1) + shift + rng.random(n)
    return sp.csr_array(S + sp.diags_array(d))


def random_diagonally_dominant(n: int, density: float = 0.05, seed=None) -> sp.csr_array:
    """Random sparse non-symmetric, strictly diagonally dominant matrix (SOR converges)."""
    n = _size(n, "n")
    density = _density(density)
    rng = _rng(seed)
    R = sp.random_array((n, n), density=density, rng=rng, format="csr",
                        data_sampler=lambda size: rng.uniform(-1, 1, size))
    R.setdiag(0)
    R.eliminate_zeros()
    d = np.abs(R).sum(axis=1) * (1.0 + rng.random(n)) + 0.1
    return sp.csr_array(R + sp.diags_array(d))
