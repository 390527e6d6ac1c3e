"""A fifth set of sequences the learners were not designed on (the ``unseen`` study,
:doc:`/studies/unseen`), every parameter fixed here before any measurement.

* ``bratu2d`` — a **Newton** sequence: the Bratu problem ``−Δu = λ eᵘ`` on the unit square
  (5-point, zero Dirichlet boundary, ``nx × nx`` squares) along a load continuation towards
  the fold ``λ_f`` of the lower branch (found by bisection on this grid,
  :func:`bratu_fold`): loads ``λ_j = λ_f (1 − 10^{−s_j})`` with ``s`` from 0.3 to 6 in 20 loads
  and back to 0.3 in 6 (:func:`bratu_loads`), Newton from the previous load's solution until the update is
  below ``10⁻⁹`` of the solution (the last step included).  Every Newton step is a system
  ``J δ = −F``, ``J = L − h²λ diag(eᵘ)`` (symmetric positive definite on the lower branch,
  its least eigenvalue → 0 at the fold), started from zero; the iterates are computed once
  by a direct solver, so every method solves the same systems.  Near the fold the systems
  get much harder while ``λ`` hardly moves.  Context ``λ`` (what the continuation knows).
* ``scaled2d`` — a **badly scaled** system: backward-Euler heat conduction ``(I + r L) u =
  u_prev + Δt f`` (5-point, ``r = Δt/h²`` from 10⁻² to 10² and back, twice) written in
  **mixed units**: the unknowns of four vertical strips of the square are in units
  ``10⁻⁶, 10⁻², 10², 10⁶`` (``u = D y``), so the matrix is ``D (I + r L) D`` with diagonal
  entries from 10⁻¹² to 10¹² and the right-hand side ``D (u_prev + Δt f)``.  Symmetric
  diagonal scaling (Jacobi, SSOR, IC(0)) is blind to ``D``; plain CG is not.  Context
  ``log10 r``.
* ``biharm2d`` — a **fourth-order** operator: backward Euler for ``u_t = −Δ²u + f`` on the
  unit square (clamped: ``u = ∂u/∂n = 0``), the 13-point stencil (ghost values mirrored),
  ``(I + r B) u = u_prev + Δt f`` with ``r = Δt/h⁴`` from 10⁻² to 10⁴ and back, twice:
  ``κ(B)`` grows like ``h⁻⁴``, and ``B`` is not an M-matrix (positive off-diagonal
  entries).  Context ``log10 r``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._problems_adaptive import AdaptiveStepSequence, OwnRhsSequence
from ._problems_checks import _integer, _positive
from ._problems_unseen import grow_shrink_schedule
from ._precond_sequences import Sequence

__all__ = ["laplacian_1d", "laplacian_2d", "bratu_residual", "bratu_jacobian", "bratu_fold",
           "bratu_loads", "Bratu2D", "BratuSequence", "unit_strips", "ScaledHeat2D",
           "ScaledSequence", "biharmonic_2d", "Biharm2D", "BiharmSequence", "KINDS"]


def _sorted(A) -> sp.csr_matrix:
    A = sp.csr_matrix(A)
    A.sum_duplicates()
    A.sort_indices()
    return A


def laplacian_1d(m: int) -> sp.csr_matrix:
    """``tridiag(−1, 2, −1)`` of order ``m``."""
    m = _integer(m, "m", 1)
    return _sorted(sp.diags([-np.ones(m - 1), np.full(m, 2.0), -np.ones(m - 1)], [-1, 0, 1]))


def laplacian_2d(nx: int) -> sp.csr_matrix:
    """5-point Laplacian (4 on the diagonal, −1 off, no ``1/h²``) on the ``(nx − 1)²``
    interior nodes of ``nx × nx`` squares, x fastest.

    Examples
    --------
    >>> laplacian_2d(3).toarray()[0].tolist()
    [4.0, -1.0, -1.0, 0.0]
    """
    m = _integer(nx, "nx", 2) - 1
    T, Id = laplacian_1d(m), sp.identity(m)
    return _sorted(sp.kron(Id, T) + sp.kron(T, Id))


def _heater(nx: int, t: float, laps: float = 2.0) -> np.ndarray:
    """A Gaussian (width 0.05, amplitude 100) circling the centre at radius 0.25, ``laps``
    turns over ``t ∈ [0, 1]``, at the interior nodes (x fastest)."""
    a = 2 * math.pi * laps * t
    cx, cy = 0.5 + 0.25 * math.cos(a), 0.5 + 0.25 * math.sin(a)
    x = np.arange(1, nx) / nx
    X, Y = np.meshgrid(x, x, indexing="xy")
    return (100.0 * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * 0.05 ** 2))).ravel()


# -- bratu2d -----------------------------------------------------------------------------------
def bratu_residual(L, u, lam: float, h: float) -> np.ndarray:
    """``h² F(u) = L u − h² λ eᵘ`` (``L`` the 5-point Laplacian without ``1/h²``)."""
    return L @ u - h * h * lam * np.exp(u)


def bratu_jacobian(L, u, lam: float, h: float) -> sp.csr_matrix:
    """``h² F'(u) = L − h² λ diag(eᵘ)``, CSR on ``L``'s pattern."""
    J = _sorted(L.copy())
    J.setdiag(J.diagonal() - h * h * lam * np.exp(u))
    return J


def _newton(L, u, lam, h, tol=1e-9, maxit=30, record=None):
    """Newton for the Bratu equation from ``u``; ``record`` (a list) gets ``(J, −F, δ)`` of
    every step.  Returns the solution or ``None`` if it did not converge in ``maxit`` steps
    (or left the lower branch: a Jacobian that is not positive definite)."""
    for _ in range(maxit):
        J = bratu_jacobian(L, u, lam, h)
        rhs = -bratu_residual(L, u, lam, h)
        try:
            lu = spla.splu(J.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                           options={"SymmetricMode": True})
        except RuntimeError:  # singular
            return None
        if np.any(lu.U.diagonal() <= 0):  # no pivoting: U's diagonal holds J's pivots
            return None
        d = lu.solve(rhs)
        if record is not None:
            record.append((J, rhs, d))
        u = u + d
        if not np.all(np.isfinite(u)):
            return None
        if np.abs(d).max() <= tol * max(1.0, np.abs(u).max()):
            return u
    return None


def bratu_fold(nx: int, rel: float = 1e-9) -> float:
    """The fold ``λ_f`` of the discrete Bratu problem's lower branch on ``nx × nx`` squares
    (the largest load with a solution), by bisection on whether Newton continued from the
    lower bracket's solution converges with a positive definite Jacobian.

    Examples
    --------
    >>> round(bratu_fold(8), 3)  # the continuous problem's is 6.808
    6.783
    """
    nx = _integer(nx, "nx", 2)
    L, h = laplacian_2d(nx), 1.0 / nx
    lo, hi = 6.0, 8.0
    u_lo = _newton(L, np.zeros(L.shape[0]), lo, h)
    if u_lo is None or _newton(L, u_lo, hi, h) is not None:
        raise RuntimeError("the fold is not in [6, 8]")
    while hi - lo > rel * lo:
        mid = 0.5 * (lo + hi)
        u = _newton(L, u_lo, mid, h)
        if u is None:
            hi = mid
        else:
            lo, u_lo = mid, u
    return lo


def bratu_loads(fold: float, up: int = 20, down: int = 6, s_max: float = 6.0) -> np.ndarray:
    """``λ_j = λ_f (1 − 10^{−s_j})``: ``s_j`` from 0.3 to ``s_max`` evenly in ``up`` loads,
    then back to 0.3 in ``down`` even steps (the top load once): small steps towards the
    fold, large ones away from it.

    Examples
    --------
    >>> bratu_loads(1.0, 3, 2, 2.0).round(4).tolist()
    [0.4988, 0.9292, 0.99, 0.9292, 0.4988]
    """
    s_max = float(s_max)
    s = np.concatenate([np.linspace(0.3, s_max, _integer(up, "up", 2)),
                        np.linspace(s_max, 0.3, _integer(down, "down", 1) + 1)[1:]])
    return _positive(fold, "fold") * (1.0 - 10.0 ** -s)


class Bratu2D:
    """Newton along a load continuation of the Bratu problem towards its fold
    (``bratu2d``).

    Parameters
    ----------
    nx : int
        Squares a side (``n = (nx − 1)²``).
    up, down : int, default 20, 6
        Loads on the way up to the fold and on the way back (:func:`bratu_loads`).
    s_max : float, default 6
        The closest load is ``λ_f (1 − 10^{−s_max})``.

    Attributes
    ----------
    systems : list of ``(J, b)``
        Every Newton step's Jacobian and right-hand side ``−h²F``, in order.
    load_of : ndarray
        The load index of every system.
    steps_per_load : ndarray
        Newton steps at each load.
    solutions : list of ndarray
        The converged solution at each load.

    Examples
    --------
    >>> sim = Bratu2D(8, up=3, down=2, s_max=2.0)
    >>> bool(sim.steps == len(sim.systems) == sim.steps_per_load.sum())
    True
    """

    def __init__(self, nx: int, up: int = 20, down: int = 6, s_max: float = 6.0):
        self.nx = _integer(nx, "nx", 2)
        self.L, self.h = laplacian_2d(self.nx), 1.0 / self.nx
        self.n = self.L.shape[0]
        self.fold = bratu_fold(self.nx)
        self.loads = bratu_loads(self.fold, up, down, s_max)
        u = np.zeros(self.n)
        self.systems, load_of, per, self.solutions = [], [], [], []
        for j, lam in enumerate(self.loads):
            rec = []
            u = _newton(self.L, u, float(lam), self.h, record=rec)
            if u is None:
                raise RuntimeError(f"Newton failed at load {j} (λ = {lam!r})")
            self.systems += [(J, b) for J, b, _ in rec]
            load_of += [j] * len(rec)
            per.append(len(rec))
            self.solutions.append(u)
        self.load_of = np.array(load_of)
        self.steps_per_load = np.array(per)
        self.steps = len(self.systems)

    def contexts(self) -> np.ndarray:
        """``λ`` of every system."""
        return self.loads[self.load_of].astype(float)


class BratuSequence(Sequence):
    """bratu2d in the unseen study: shared ``J_t``, ``−h²F_t``, each solve started from
    zero."""

    kind, context_name = "bratu2d", "λ"

    def __init__(self, nx, up=20, down=6, s_max=6.0):
        self.sim = sim = Bratu2D(nx, up, down, s_max)
        self.name, self.n, self.T = f"bratu2d_nx{nx}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))

    def shared(self, t):
        J, b = self.sim.systems[t]
        return J.copy(), b, np.zeros(self.n), float(self.sim.contexts()[t])

    def system(self, shared, state):
        return shared

    def tiny(self):
        return BratuSequence(8, 3, 2, 2.0)


# -- scaled2d ----------------------------------------------------------------------------------
def unit_strips(nx: int, exponents=(-6.0, -2.0, 2.0, 6.0)) -> np.ndarray:
    """The unit ``d_i = 10^{e}`` of each interior node: the square cut into vertical strips
    of equal width, one exponent each (x fastest).

    Examples
    --------
    >>> unit_strips(4, (0.0, 1.0)).tolist()
    [1.0, 10.0, 10.0, 1.0, 10.0, 10.0, 1.0, 10.0, 10.0]
    """
    nx = _integer(nx, "nx", 2)
    e = np.asarray(exponents, dtype=float)
    x = np.arange(1, nx) / nx
    strip = np.minimum((x * e.size).astype(np.int64), e.size - 1)
    return np.tile(10.0 ** e[strip], nx - 1)


class ScaledHeat2D:
    """Backward-Euler heat conduction in mixed units (``scaled2d``).

    Step ``k`` solves ``D (I + r_k L) D y_{k+1} = D (D y_k + Δt_k f(t_{k+1}))`` for the
    unknowns in their units, ``y = D⁻¹ u`` (:func:`unit_strips`), ``r_k = Δt_k/h²`` from
    :func:`grow_shrink_schedule`.

    Parameters
    ----------
    nx : int
        Squares a side (``n = (nx − 1)²``).
    r_min, r_max, growth : float, default 1e-2, 1e2, 1.4
    cycles : int, default 2
    exponents : sequence of float, default (−6, −2, 2, 6)

    Examples
    --------
    >>> sim = ScaledHeat2D(4, r_min=1.0, r_max=2.0, growth=2.0, cycles=1)
    >>> sim.steps, sim.contexts().round(3).tolist()
    (4, [0.0, 0.301, 0.301, 0.0])
    """

    def __init__(self, nx: int, r_min: float = 1e-2, r_max: float = 1e2, growth: float = 1.4,
                 cycles: int = 2, exponents=(-6.0, -2.0, 2.0, 6.0)):
        self.nx = _integer(nx, "nx", 2)
        self.L = laplacian_2d(self.nx)
        self.n = self.L.shape[0]
        self.r = grow_shrink_schedule(r_min, r_max, growth, cycles)
        self.steps = self.r.size
        self.dt = self.r / self.nx ** 2
        self.t = np.cumsum(self.dt) / self.dt.sum()
        self.d = unit_strips(self.nx, exponents)
        self._I = sp.identity(self.n, format="csr")

    def contexts(self) -> np.ndarray:
        """``log10 r_k``."""
        return np.log10(self.r)

    def initial(self) -> np.ndarray:
        return np.zeros(self.n)

    def physical_matrix(self, k: int) -> sp.csr_matrix:
        """``I + r_k L`` (the system in physical units)."""
        return _sorted(self._I + self.r[k] * self.L)

    def matrix(self, k: int) -> sp.csr_matrix:
        """``D (I + r_k L) D``."""
        A = self.physical_matrix(k)
        A.data *= self.d[np.repeat(np.arange(self.n), np.diff(A.indptr))] * self.d[A.indices]
        return A

    def rhs(self, k: int, y: np.ndarray) -> np.ndarray:
        """``D (D y + Δt_k f(t_{k+1}))``."""
        d = self.d
        return d * (d * y + self.dt[k] * _heater(self.nx, self.t[k]))


class ScaledSequence(OwnRhsSequence):
    """scaled2d in the unseen study: shared ``A_k``; each method's right-hand side from its
    own state (in its units), which is also its start."""

    kind, context_name = "scaled2d", "log10 Δt/h²"

    def __init__(self, nx, cycles=2):
        self._adopt(ScaledHeat2D(nx, cycles=cycles), f"scaled2d_nx{nx}")

    def tiny(self):
        s = ScaledSequence(8, 1)
        keep = np.r_[0:3, -3:0]  # a few steps of each end
        s.sim.r, s.sim.dt, s.sim.t = s.sim.r[keep], s.sim.dt[keep], s.sim.t[keep]
        s.sim.steps = s.T = keep.size
        return s


# -- biharm2d ----------------------------------------------------------------------------------
def biharmonic_2d(nx: int) -> sp.csr_matrix:
    """The 13-point ``h⁴ Δ²`` of the clamped plate (``u = ∂u/∂n = 0`` on the boundary, the
    ghost values mirrored) on the ``(nx − 1)²`` interior nodes, x fastest:
    ``kron(I, T² + E) + 2 kron(T, T) + kron(T² + E, I)``, ``T`` :func:`laplacian_1d`,
    ``E = 2 (e₁e₁ᵀ + e_m e_mᵀ)`` (the mirrored ghost of the 1-D ``[1, −4, 6, −4, 1]``; 20 on the diagonal of interior rows, 21 next to an edge,
    22 in a corner).

    Examples
    --------
    >>> B = biharmonic_2d(6)
    >>> B.diagonal()[[0, 1, 5, 12]].tolist(), int(B.indptr[13] - B.indptr[12])
    ([22.0, 21.0, 21.0, 20.0], 13)
    """
    m = _integer(nx, "nx", 2) - 1
    T = laplacian_1d(m)
    E = sp.csr_matrix(([2.0, 2.0], ([0, m - 1], [0, m - 1])), shape=(m, m))  # (4 if m = 1)
    T2 = T @ T + E
    Id = sp.identity(m)
    B = _sorted(sp.kron(Id, T2) + 2 * sp.kron(T, T) + sp.kron(T2, Id))
    B.eliminate_zeros()
    return B


class Biharm2D:
    """Backward Euler for ``u_t = −Δ²u + f`` on the clamped unit square (``biharm2d``):
    ``(I + r_k B) u_{k+1} = u_k + Δt_k f(t_{k+1})``, ``B`` :func:`biharmonic_2d`,
    ``r_k = Δt_k/h⁴`` from :func:`grow_shrink_schedule`.

    Parameters
    ----------
    nx : int
    r_min, r_max, growth : float, default 1e-2, 1e4, 1.6
    cycles : int, default 2

    Examples
    --------
    >>> sim = Biharm2D(4, r_min=1.0, r_max=10.0, growth=10.0, cycles=1)
    >>> sim.steps, float(sim.matrix(1).diagonal()[4])
    (4, 201.0)
    """

    def __init__(self, nx: int, r_min: float = 1e-2, r_max: float = 1e4, growth: float = 1.6,
                 cycles: int = 2):
        self.nx = _integer(nx, "nx", 2)
        self.B = biharmonic_2d(self.nx)
        self.n = self.B.shape[0]
        self.r = grow_shrink_schedule(r_min, r_max, growth, cycles)
        self.steps = self.r.size
        self.dt = self.r / self.nx ** 4
        self.t = np.cumsum(self.dt) / self.dt.sum()
        self._I = sp.identity(self.n, format="csr")

    def contexts(self) -> np.ndarray:
        """``log10 r_k``."""
        return np.log10(self.r)

    def initial(self) -> np.ndarray:
        return np.zeros(self.n)

    def matrix(self, k: int) -> sp.csr_matrix:
        return _sorted(self._I + self.r[k] * self.B)

    def forcing(self, k: int) -> np.ndarray:
        """``f(t_{k+1})``: the circling heater (:func:`_heater`) scaled by ``1/Δt`` of the
        largest step (so each step adds at most ``100`` a node)."""
        return _heater(self.nx, self.t[k]) * (self.nx ** 4 / self.r.max())


class BiharmSequence(AdaptiveStepSequence):
    """biharm2d in the unseen study: shared ``A_k`` and ``Δt f``; each method's own state is
    its right-hand side and its start."""

    kind, context_name = "biharm2d", "log10 Δt/h⁴"

    def __init__(self, nx, cycles=2):
        self.sim = sim = Biharm2D(nx, cycles=cycles)
        self.name, self.n, self.T = f"biharm2d_nx{nx}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))

    def tiny(self):
        s = BiharmSequence(8, 1)
        keep = np.r_[0:3, -3:0]
        s.sim.r, s.sim.dt, s.sim.t = s.sim.r[keep], s.sim.dt[keep], s.sim.t[keep]
        s.sim.steps = s.T = keep.size
        return s


#: The kinds this module adds, with what their size argument means.
KINDS = {"bratu2d": ("nx", BratuSequence), "scaled2d": ("nx", ScaledSequence),
         "biharm2d": ("nx", BiharmSequence)}
