"""A fourth set of sequences the learners were not designed on (the ``unseen`` study,
:doc:`/studies/unseen`), every parameter fixed here before any measurement.

* ``refine2d`` — a sequence whose **size changes**: backward-Euler heat conduction
  ``u_t = Δu + f`` on the unit square (5-point Laplacian, zero Dirichlet boundary, a fixed
  step ``Δt = 10⁻³``) whose grid is refined every ``per_level`` steps, ``nx = 51, 71, 101,
  141, 201`` squares a side (``n = 2 500 … 40 000`` interior nodes); at each refinement the
  state is carried to the new grid by bilinear interpolation (each method its own state).
  The heater ``f`` (a Gaussian of width 0.05, amplitude 100) circles the centre twice.
  Context ``log10 n`` (a user knows the size of the system; ``log10 n ≈ −2 log10 h``, and
  ``Δt/h²`` grows with it: an affine change of the context changes nothing of the learner).
* ``rotconv2d`` — steady convection–diffusion ``−Δu + Pe w·∇u = 1`` on the unit square
  (zero Dirichlet boundary), 5-point diffusion and first-order upwind convection on
  ``nx × nx`` squares, with a **recirculating** wind (the "double-glazing" flow
  ``w = (2ŷ(1 − x̂²), −2x̂(1 − ŷ²))``, ``x̂ = 2x − 1``, ``ŷ = 2y − 1``) whose direction turns
  round the centre: the upwind matrix is not similar to a symmetric one by a positive
  diagonal (the ratios ``a_ji/a_ij`` do not multiply to 1 round a cell), so SOR's theory
  prior does not cover it.  ``log10 Pe_k = 1.5 (1 − cos(2πk/P))`` (1 → 10³ → 1, twice),
  each solve warm-started from the method's previous solution.  **Nonsymmetric**: solved by
  SOR only.  Context ``log10 Pe``.
* ``elast2d`` — a **vector** problem: plane-strain linear elasticity, bilinear (Q1)
  elements on ``nx × nx`` squares of the unit square, clamped on the left edge, under its
  own weight (a body force ``(0, −1)``), the two displacement components of a node next to
  each other (``n = 2 nx (nx + 1)``), Young's modulus 1, Poisson's ratio ``ν`` swept towards
  incompressibility and back: ``1 − 2ν_k = 0.4 · 0.05^{s_k}``, ``s_k = (1 − cos(2πk/P))/2``
  (``ν`` = 0.3 → 0.49 → 0.3, twice), each solve warm-started from the method's previous
  solution.  Context ``ν``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._problems_adaptive import AdaptiveStepSequence, SteadyLoadSequence
from ._problems_unseen2 import PecletSweep2D
from ._problems_checks import _integer, _positive

__all__ = ["REFINE_LEVELS", "laplacian_2d", "prolongation_1d", "prolongation_2d",
           "RefineHeat2D", "RefineSequence", "double_glazing_wind", "rotconv_matrix",
           "RotConvSweep2D", "RotConvSequence", "q1_elasticity_parts", "lame",
           "Elasticity2D", "ElasticitySequence", "KINDS"]

#: refine2d's grids (squares a side), coarse to fine: n = (nx − 1)² = 2 500 … 40 000.
REFINE_LEVELS = (51, 71, 101, 141, 201)


def _sorted(A) -> sp.csr_matrix:
    A = sp.csr_matrix(A)
    A.sum_duplicates()
    A.sort_indices()
    return A


# -- refine2d ----------------------------------------------------------------------------------
def laplacian_2d(nx: int) -> sp.csr_matrix:
    """5-point Laplacian (4 on the diagonal, −1 off, no ``1/h²``) on the ``(nx − 1)²`` interior
    nodes of ``nx × nx`` squares, x fastest, CSR with sorted indices.

    Examples
    --------
    >>> laplacian_2d(3).toarray()[0].tolist()
    [4.0, -1.0, -1.0, 0.0]
    """
    m = _integer(nx, "nx", 2) - 1
    T = sp.diags([-np.ones(m - 1), np.full(m, 2.0), -np.ones(m - 1)], [-1, 0, 1])
    Id = sp.identity(m)
    return _sorted(sp.kron(Id, T) + sp.kron(T, Id))


def prolongation_1d(nx_old: int, nx_new: int) -> sp.csr_matrix:
    """Linear interpolation from the ``nx_old − 1`` interior nodes of ``[0, 1]`` cut in
    ``nx_old`` equal pieces to the ``nx_new − 1`` interior nodes of ``nx_new`` pieces, the
    boundary values zero; shape ``(nx_new − 1, nx_old − 1)``.

    Examples
    --------
    >>> prolongation_1d(2, 4).toarray().ravel().tolist()  # a hat at 1/2, read at 1/4, 1/2, 3/4
    [0.5, 1.0, 0.5]
    """
    nx_old, nx_new = _integer(nx_old, "nx_old", 2), _integer(nx_new, "nx_new", 2)
    x = np.arange(1, nx_new) / nx_new
    pos = x * nx_old  # in old intervals
    left = np.minimum(np.floor(pos).astype(np.int64), nx_old - 1)
    frac = pos - left
    rows, cols, vals = [], [], []
    for node, weight in ((left, 1.0 - frac), (left + 1, frac)):
        keep = (node >= 1) & (node <= nx_old - 1) & (weight != 0.0)  # interior old nodes
        rows.append(np.flatnonzero(keep))
        cols.append(node[keep] - 1)
        vals.append(weight[keep])
    P = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(nx_new - 1, nx_old - 1))
    return _sorted(P)


def prolongation_2d(nx_old: int, nx_new: int) -> sp.csr_matrix:
    """Bilinear interpolation between the interior grids of the unit square (x fastest):
    the tensor product of :func:`prolongation_1d`."""
    P = prolongation_1d(nx_old, nx_new)
    return _sorted(sp.kron(P, P))


class RefineHeat2D:
    """Backward-Euler heat conduction on a grid refined every ``per_level`` steps
    (``refine2d``).

    Step ``k`` on level ``ℓ`` (grid ``nx_ℓ``, ``h = 1/nx_ℓ``) solves
    ``(I + (Δt/h²) L) u_{k+1} = u_k + Δt f(t_{k+1})``, ``L`` :func:`laplacian_2d`, ``u_k``
    carried to the new grid by :func:`prolongation_2d` at the first step of a level.

    Parameters
    ----------
    levels : sequence of int, default :data:`REFINE_LEVELS`
    per_level : int, default 24
    dt : float, default 1e-3
    laps : float, default 2
        Turns of the heater round the centre over the whole run.

    Examples
    --------
    >>> sim = RefineHeat2D((5, 9), per_level=2)
    >>> sim.sizes.tolist(), sim.contexts().round(3).tolist()
    ([16, 16, 64, 64], [1.204, 1.204, 1.806, 1.806])
    """

    def __init__(self, levels=REFINE_LEVELS, per_level: int = 24, dt: float = 1e-3,
                 laps: float = 2.0):
        self.levels = tuple(_integer(v, "levels", 2) for v in levels)
        if not self.levels:
            raise ValueError("levels must name at least one grid")
        self.per_level = _integer(per_level, "per_level", 1)
        self.dt = _positive(dt, "dt")
        self.laps = float(laps)
        self.steps = self.per_level * len(self.levels)
        self.level = np.repeat(np.arange(len(self.levels)), self.per_level)
        self.sizes = np.array([(self.levels[j] - 1) ** 2 for j in self.level])
        self.n = int(self.sizes.max())
        self._A = []
        for nx in self.levels:
            A = laplacian_2d(nx) * (self.dt * nx ** 2)
            self._A.append(_sorted(A + sp.identity(A.shape[0])))
        self._P = [None] + [prolongation_2d(a, b) for a, b in zip(self.levels, self.levels[1:])]

    def contexts(self) -> np.ndarray:
        """``log10 n`` of every step's system."""
        return np.log10(self.sizes.astype(float))

    def initial(self) -> np.ndarray:
        return np.zeros(self.sizes[0])

    def matrix(self, k: int) -> sp.csr_matrix:
        return self._A[self.level[k]].copy()

    def forcing(self, k: int) -> np.ndarray:
        """``f(t_{k+1})`` at the interior nodes of step ``k``'s grid."""
        nx = self.levels[self.level[k]]
        t = (k + 1) / self.steps
        a = 2 * math.pi * self.laps * t
        cx, cy = 0.5 + 0.25 * math.cos(a), 0.5 + 0.25 * math.sin(a)
        x = np.arange(1, nx) / nx
        X, Y = np.meshgrid(x, x, indexing="xy")
        return (100.0 * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * 0.05 ** 2))).ravel()

    def carried(self, k: int, u: np.ndarray) -> np.ndarray:
        """The state ``u`` on step ``k``'s grid (interpolated at a level's first step; ``u`` of
        the previous grid's size)."""
        n = self.sizes[k]
        if u.size == n:
            return u
        P = self._P[self.level[k]]
        if P is None or P.shape[1] != u.size:
            raise ValueError(f"a state of {u.size} entries does not fit step {k} (n = {n})")
        return P @ u


class RefineSequence(AdaptiveStepSequence):
    """refine2d in the unseen study: shared ``A_k`` and ``Δt f``; each method's state is
    carried to the new grid (off the clock) and is also its start."""

    kind, context_name = "refine2d", "log10 n"

    def __init__(self, per_level=24, levels=REFINE_LEVELS):
        self.sim = sim = RefineHeat2D(levels, per_level)
        self.name, self.n, self.T = f"refine2d_{per_level}x{len(sim.levels)}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))
        self._t = 0

    def shared(self, t):
        sim = self.sim
        return t, sim.matrix(t), sim.dt * sim.forcing(t), float(sim.contexts()[t])

    def system(self, shared, u):
        t, A, f, ctx = shared
        u = self.sim.carried(t, u)
        return A, u + f, u, ctx

    def tiny(self):
        return RefineSequence(2, (9, 13))


# -- rotconv2d ---------------------------------------------------------------------------------
def double_glazing_wind(x, y):
    """The recirculating wind ``w = (2ŷ(1 − x̂²), −2x̂(1 − ŷ²))`` (``x̂ = 2x − 1``,
    ``ŷ = 2y − 1``) at points of the unit square: zero on the boundary, turning clockwise
    round the centre.

    Examples
    --------
    >>> [round(float(v), 3) for v in double_glazing_wind(0.5, 1.0)]
    [2.0, -0.0]
    """
    xh, yh = 2 * np.asarray(x, dtype=float) - 1, 2 * np.asarray(y, dtype=float) - 1
    return 2 * yh * (1 - xh ** 2), -2 * xh * (1 - yh ** 2)


def rotconv_matrix(nx: int, pe: float) -> sp.csr_matrix:
    """``h² (−Δ + Pe w·∇)`` on the ``(nx − 1)²`` interior nodes of ``nx × nx`` squares (zero
    Dirichlet boundary), 5-point diffusion, first-order upwind convection with the wind of
    :func:`double_glazing_wind` at each node, x fastest, CSR with sorted indices.

    Examples
    --------
    >>> A = rotconv_matrix(4, 10.0)
    >>> A.shape, bool(abs(A - A.T).max() > 0), bool((A.diagonal() >= 4).all())
    ((9, 9), True, True)
    """
    nx = _integer(nx, "nx", 2)
    pe = float(pe)
    if not (math.isfinite(pe) and pe >= 0):
        raise ValueError(f"pe must be a finite number >= 0, got {pe!r}")
    m, h = nx - 1, 1.0 / nx
    x = np.arange(1, nx) * h
    X, Y = np.meshgrid(x, x, indexing="xy")
    wx, wy = (c.ravel() * pe * h for c in double_glazing_wind(X, Y))  # Pe·w·h
    i, j = np.tile(np.arange(m), m), np.repeat(np.arange(m), m)
    node = np.arange(m * m)
    rows, cols, vals = [node], [node], [4.0 + np.abs(wx) + np.abs(wy)]
    for di, dj, coef in ((-1, 0, -1.0 - np.maximum(wx, 0.0)), (1, 0, -1.0 + np.minimum(wx, 0.0)),
                         (0, -1, -1.0 - np.maximum(wy, 0.0)), (0, 1, -1.0 + np.minimum(wy, 0.0))):
        ii, jj = i + di, j + dj
        keep = (ii >= 0) & (ii < m) & (jj >= 0) & (jj < m)
        rows.append(node[keep])
        cols.append((jj * m + ii)[keep])
        vals.append(coef[keep])
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(m * m, m * m))
    return _sorted(A)


class RotConvSweep2D(PecletSweep2D):
    """Upwind convection–diffusion in a recirculating wind along a Péclet-number
    continuation (``rotconv2d``).

    Parameters
    ----------
    nx : int
        Squares a side (``n = (nx − 1)²``).
    sweeps : int, default 2
        Times the Péclet number goes 1 → ``pe_max`` → 1.
    per_sweep : int, default 60
    pe_max : float, default 1e3
        Largest Péclet number (the largest mesh Péclet number ``Pe·max|w|·h/2`` is 20 at
        nx = 50, the size measured).

    Examples
    --------
    >>> sim = RotConvSweep2D(4, sweeps=1, per_sweep=4)
    >>> sim.n, sim.steps, sim.contexts().round(3).tolist()
    (9, 4, [0.0, 1.5, 3.0, 1.5])
    """

    def __init__(self, nx: int, sweeps: int = 2, per_sweep: int = 60, pe_max: float = 1e3):
        super().__init__(nx, sweeps, per_sweep, pe_max)

    def matrix(self, k: int) -> sp.csr_matrix:
        return rotconv_matrix(self.nx, 10.0 ** self._ctx[k])


class RotConvSequence(SteadyLoadSequence):
    """rotconv2d in the unseen study: shared ``A_k`` and load, each method starting from its
    own previous solution.  Nonsymmetric: the study runs SOR (``solver = "sor"``)."""

    kind, context_name, solver = "rotconv2d", "log10 Pe", "sor"

    def __init__(self, nx, sweeps=2, per_sweep=60):
        self._adopt(RotConvSweep2D(nx, sweeps, per_sweep), f"rotconv2d_nx{nx}")

    def tiny(self):
        return RotConvSequence(8, 1, 4)


# -- elast2d -----------------------------------------------------------------------------------
def lame(nu: float, E: float = 1.0):
    """Lamé's ``(λ, μ)`` of Young's modulus ``E`` and Poisson's ratio ``nu`` (plane strain).

    Examples
    --------
    >>> [round(v, 4) for v in lame(0.25)]
    [0.4, 0.4]
    """
    nu, E = float(nu), _positive(E, "E")
    if not (math.isfinite(nu) and -1.0 < nu < 0.5):
        raise ValueError(f"nu must be in (-1, 0.5), got {nu!r}")
    return E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))


def _q1_elasticity_element():
    """``(Kλ, Kμ)``: the plane-strain Q1 element stiffness of a square (any side: it is
    scale-free in 2-D) for ``λ = 1, μ = 0`` and ``λ = 0, μ = 1``, dofs ``(u₀, v₀, u₁, v₁, …)``
    over the nodes (0,0), (1,0), (1,1), (0,1), by 2 × 2 Gauss (exact)."""
    sx = np.array([-1.0, 1.0, 1.0, -1.0])
    sy = np.array([-1.0, -1.0, 1.0, 1.0])
    g = 0.5 + np.array([-1.0, 1.0]) / (2.0 * math.sqrt(3.0))
    Kl, Km = np.zeros((8, 8)), np.zeros((8, 8))
    for x in g:
        for y in g:
            dx = sx * (1 + sy * (2 * y - 1)) / 2
            dy = sy * (1 + sx * (2 * x - 1)) / 2
            B = np.zeros((3, 8))  # strains (εxx, εyy, γxy)
            B[0, 0::2], B[1, 1::2] = dx, dy
            B[2, 0::2], B[2, 1::2] = dy, dx
            div = B[0] + B[1]
            Kl += np.outer(div, div) / 4
            Km += (2 * np.outer(B[0], B[0]) + 2 * np.outer(B[1], B[1]) +
                   np.outer(B[2], B[2])) / 4
    return Kl, Km


def q1_elasticity_parts(nx: int, clamp_left: bool = True):
    """Plane-strain Q1 stiffness of ``nx × nx`` squares of the unit square as
    ``A = λ Aλ + μ Aμ``: ``(P, dl, dm)``, ``P`` the CSR pattern (sorted) and ``dl``, ``dm`` the
    data of ``Aλ`` and ``Aμ`` on it.  Nodes x fastest, a node's ``(u, v)`` next to each other;
    with ``clamp_left`` the nodes of the edge ``x = 0`` are removed (``n = 2 nx (nx + 1)``),
    else every node is kept (``n = 2 (nx + 1)²``, singular: the rigid motions).

    Examples
    --------
    >>> P, dl, dm = q1_elasticity_parts(2)
    >>> P.shape, P.nnz == dl.size == dm.size
    ((12, 12), True)
    """
    nx = _integer(nx, "nx", 1)
    Kl, Km = _q1_elasticity_element()
    N = nx + 1
    ex, ey = np.meshgrid(np.arange(nx), np.arange(nx), indexing="xy")
    ex, ey = ex.ravel(), ey.ravel()
    corners = np.stack([ey * N + ex, ey * N + ex + 1, (ey + 1) * N + ex + 1,
                        (ey + 1) * N + ex], axis=1)
    dofs = np.empty((corners.shape[0], 8), dtype=np.int64)
    dofs[:, 0::2], dofs[:, 1::2] = 2 * corners, 2 * corners + 1
    rows = np.repeat(dofs, 8, axis=1).ravel()
    cols = np.tile(dofs, (1, 8)).ravel()
    total = 2 * N * N
    keep_dof = np.ones(total, dtype=bool)
    if clamp_left:
        left = np.arange(N) * N
        keep_dof[2 * left], keep_dof[2 * left + 1] = False, False
    new = np.cumsum(keep_dof) - 1
    ok = keep_dof[rows] & keep_dof[cols]
    r, c = new[rows[ok]], new[cols[ok]]
    n = int(keep_dof.sum())
    P = _sorted(sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n)))
    data = []
    for K in (Kl, Km):  # the same (row, col) pairs: the same stored positions as P
        A = _sorted(sp.csr_matrix((np.tile(K.ravel(), corners.shape[0])[ok], (r, c)),
                                  shape=(n, n)))
        if A.nnz != P.nnz or not np.array_equal(A.indices, P.indices):
            raise AssertionError("the parts' patterns differ")  # (a cancelled entry kept)
        data.append(A.data.copy())
    P.data[:] = 0.0
    return P, data[0], data[1]


class Elasticity2D:
    """Plane-strain elasticity as Poisson's ratio sweeps towards incompressibility
    (``elast2d``).

    Parameters
    ----------
    nx : int
        Squares a side (``n = 2 nx (nx + 1)``).
    sweeps : int, default 2
        Times ``ν`` goes 0.3 → 0.49 → 0.3.
    per_sweep : int, default 60
    nu_low, nu_high : float, default 0.3, 0.49

    Examples
    --------
    >>> sim = Elasticity2D(2, sweeps=1, per_sweep=4)
    >>> sim.n, sim.contexts().round(3).tolist()
    (12, [0.3, 0.455, 0.49, 0.455])
    """

    def __init__(self, nx: int, sweeps: int = 2, per_sweep: int = 60, nu_low: float = 0.3,
                 nu_high: float = 0.49):
        self.nx = _integer(nx, "nx", 1)
        self.sweeps = _integer(sweeps, "sweeps", 1)
        self.per_sweep = _integer(per_sweep, "per_sweep", 2)
        lame(nu_low), lame(nu_high)
        if not nu_low <= nu_high:
            raise ValueError(f"need nu_low <= nu_high, got {nu_low!r}, {nu_high!r}")
        self.P, self.dl, self.dm = q1_elasticity_parts(self.nx)
        self.n = self.P.shape[0]
        self.steps = self.sweeps * self.per_sweep
        k = np.arange(self.steps)
        s = 0.5 * (1 - np.cos(2 * np.pi * k / self.per_sweep))
        lo, hi = 1 - 2 * nu_low, 1 - 2 * nu_high  # 1 − 2ν, geometric between the ends
        self._nu = 0.5 * (1 - lo * (hi / lo) ** s)
        h = 1.0 / self.nx
        # ∫ (0, −1)·φ: h² at an interior node, half at an edge node (x = 1, y = 0 or 1), a
        # quarter at a corner
        N = self.nx + 1
        w = np.ones((N, N))
        w[0, :] *= 0.5
        w[-1, :] *= 0.5
        w[:, -1] *= 0.5
        self.b = np.zeros(self.n)
        self.b[1::2] = -h * h * w[:, 1:].ravel()

    def initial(self):
        return np.zeros(self.n)

    def contexts(self) -> np.ndarray:
        """``ν_k``."""
        return self._nu.copy()

    def matrix(self, k: int) -> sp.csr_matrix:
        lam, mu = lame(self._nu[k])
        A = self.P.copy()
        A.data = lam * self.dl + mu * self.dm
        return A


class ElasticitySequence(SteadyLoadSequence):
    """elast2d in the unseen study: shared ``A_k`` and load, each method starting from its
    own previous solution."""

    kind, context_name = "elast2d", "ν"

    def __init__(self, nx, sweeps=2, per_sweep=60):
        self._adopt(Elasticity2D(nx, sweeps, per_sweep), f"elast2d_nx{nx}")

    def tiny(self):
        return ElasticitySequence(6, 1, 4)


#: The kinds this module adds, with what their size argument means.
KINDS = {"refine2d": ("per_level", RefineSequence), "rotconv2d": ("nx", RotConvSequence),
         "elast2d": ("nx", ElasticitySequence)}
