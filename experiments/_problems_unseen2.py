"""Three more sequences the learners were not designed on (the ``unseen`` study,
:doc:`/studies/unseen`), every parameter fixed here before any measurement.

* ``convdiff2d`` — steady convection–diffusion ``−Δu + Pe w·∇u = 1`` on the unit square (zero
  Dirichlet boundary), 5-point diffusion and first-order upwind convection on ``nx × nx``
  squares, the wind ``w = (cos θ, sin θ)`` at ``θ = 120°`` (against the row order in x, with it
  in y) while the Péclet number is ramped up and down, ``log10 Pe_k = 2 (1 − cos(2π k / P))``
  (1 → 10⁴ → 1, twice), each solve warm-started from the method's previous solution (a
  continuation in the velocity).  **Nonsymmetric**: solved by SOR only.  Context ``log10 Pe``.
* ``inclusion3d`` — steady diffusion ``−∇·(k∇u) = 1`` in the unit cube (cell-centred finite
  volumes on ``m³`` cells, harmonic face means, zero Dirichlet wall), ``k = 1`` outside a cube
  inclusion ``[0.3, 0.65]³`` and ``k = c`` inside, the contrast swept ``c = 1 … 10⁴``
  log-uniformly in increasing order (a material parameter study), each solve warm-started
  from the method's previous solution.  Context ``log10 c``.
* ``fem2d`` — pseudo-transient continuation ``(M + τ K) u_{k+1} = M u_k + τ F`` towards the
  steady state of ``−Δu = f``, linear (P1) finite elements on a jittered triangular mesh of
  the unit square (``nx × nx`` squares, each interior node moved by up to a quarter of a
  square, fixed seed): a mass matrix (positive off-diagonal entries) plus a shifted
  stiffness matrix, ``n ≈ 9·10⁴`` at the measured size; ``τ`` grows by 1.3 a step from
  ``10⁻⁷`` to ``10⁻¹`` (a steady-state solver's step ramp), then the load changes and the ramp
  restarts from ``u = 0``, twice.  Context ``log10 τ/h²``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._problems_adaptive import AdaptiveStepSequence, SteadyLoadSequence
from ._problems_checks import _finite, _integer, _positive

__all__ = ["convdiff_matrix", "ConvDiffSweep2D", "ConvDiffSequence", "fv_matrix_3d",
           "Inclusion3D", "InclusionSequence", "jittered_mesh", "p1_mass_stiffness",
           "PseudoTransientFEM", "FEMSequence"]


def _sorted(A) -> sp.csr_matrix:
    A = A.tocsr()
    A.sum_duplicates()
    A.sort_indices()
    return A


# -- convdiff2d --------------------------------------------------------------------------------
def convdiff_matrix(nx: int, pe: float, theta: float) -> sp.csr_matrix:
    """``h² (−Δ + Pe w·∇)`` on the ``(nx − 1)²`` interior nodes of ``nx × nx`` squares (zero
    Dirichlet boundary), 5-point diffusion, first-order upwind convection with
    ``w = (cos θ, sin θ)``, x fastest, CSR with sorted indices.

    Examples
    --------
    >>> convdiff_matrix(3, 0.0, 0.0).toarray()[0].tolist()
    [4.0, -1.0, -1.0, 0.0]
    >>> convdiff_matrix(3, 3.0, 0.0).toarray()[1].tolist()  # Pe·h = 1, wind along +x
    [-2.0, 5.0, 0.0, -1.0]
    """
    nx = _integer(nx, "nx", 2)
    pe = float(pe)
    if not (math.isfinite(pe) and pe >= 0):
        raise ValueError(f"pe must be a finite number >= 0, got {pe!r}")
    theta = _finite(theta, "theta")
    m, a = nx - 1, pe / nx  # Pe·h
    wx, wy = math.cos(theta), math.sin(theta)
    west, east = -1.0 - max(wx, 0.0) * a, -1.0 + min(wx, 0.0) * a
    south, north = -1.0 - max(wy, 0.0) * a, -1.0 + min(wy, 0.0) * a
    e = np.ones(m - 1)
    Tx = sp.diags([west * e, east * e], [-1, 1], shape=(m, m))
    Ty = sp.diags([south * e, north * e], [-1, 1], shape=(m, m))
    Id = sp.identity(m)
    diag = (4.0 + (abs(wx) + abs(wy)) * a) * sp.identity(m * m)
    return _sorted(sp.kron(Id, Tx) + sp.kron(Ty, Id) + diag)


class PecletSweep2D:
    """A steady unit-square problem on ``(nx − 1)²`` interior nodes along a Péclet-number
    continuation, ``log10 Pe_k = ½ log10(pe_max) (1 − cos(2πk / per_sweep))`` (1 → ``pe_max``
    → 1, ``sweeps`` times), the right-hand side ``1/nx²``, each solve started from zero by
    :meth:`initial`; a subclass gives :meth:`matrix`."""

    def __init__(self, nx: int, sweeps: int, per_sweep: int, pe_max: float):
        self.nx = _integer(nx, "nx", 2)
        self.sweeps = _integer(sweeps, "sweeps", 1)
        self.per_sweep = _integer(per_sweep, "per_sweep", 2)
        self.pe_max = _positive(pe_max, "pe_max")
        self.n = (self.nx - 1) ** 2
        self.steps = self.sweeps * self.per_sweep
        k = np.arange(self.steps)
        top = math.log10(self.pe_max)
        self._ctx = 0.5 * top * (1 - np.cos(2 * np.pi * k / self.per_sweep)) + 0.0
        self.b = np.full(self.n, 1.0 / self.nx ** 2)

    def initial(self):
        return np.zeros(self.n)

    def contexts(self) -> np.ndarray:
        """``log10 Pe_k``."""
        return self._ctx.copy()


class ConvDiffSweep2D(PecletSweep2D):
    """Upwind convection–diffusion along a Péclet-number continuation (``convdiff2d``).

    Parameters
    ----------
    nx : int
        Squares a side (``n = (nx − 1)²`` unknowns).
    sweeps : int, default 2
        Times the Péclet number goes 1 → ``pe_max`` → 1.
    per_sweep : int, default 80
    pe_max : float, default 1e4
        Largest Péclet number ``|w| L / diffusivity`` (mesh Péclet ``Pe h / 2`` = 50 at nx = 100).
    theta : float, default 2π/3
        Wind direction.

    Examples
    --------
    >>> sim = ConvDiffSweep2D(4, sweeps=1, per_sweep=4)
    >>> sim.n, sim.steps, sim.contexts().round(3).tolist()
    (9, 4, [0.0, 2.0, 4.0, 2.0])
    """

    def __init__(self, nx: int, sweeps: int = 2, per_sweep: int = 80, pe_max: float = 1e4,
                 theta: float = 2 * math.pi / 3):
        super().__init__(nx, sweeps, per_sweep, pe_max)
        self.theta = _finite(theta, "theta")

    def matrix(self, k: int) -> sp.csr_matrix:
        return convdiff_matrix(self.nx, 10.0 ** self._ctx[k], self.theta)


class ConvDiffSequence(SteadyLoadSequence):
    """convdiff2d in the unseen study: shared ``A_k`` and load, each method starting from its
    own previous solution.  Nonsymmetric: the study runs SOR (``solver = "sor"``)."""

    kind, context_name, solver = "convdiff2d", "log10 Pe", "sor"

    def __init__(self, nx, sweeps=2, per_sweep=80):
        self._adopt(ConvDiffSweep2D(nx, sweeps, per_sweep), f"convdiff2d_nx{nx}")

    def tiny(self):
        return ConvDiffSequence(8, 1, 4)


# -- inclusion3d -------------------------------------------------------------------------------
def fv_matrix_3d(kcell: np.ndarray, m: int) -> sp.csr_matrix:
    """Cell-centred finite-volume ``−∇·(k∇·)`` on ``m³`` cells of the unit cube, times ``h``
    (a face's transmissibility is ``h² k / h``), harmonic means on interior faces, the zero
    Dirichlet wall half a cell outside (transmissibility ``2k``), x fastest.

    Examples
    --------
    >>> fv_matrix_3d(np.ones(8), 2).toarray()[0].tolist()
    [9.0, -1.0, -1.0, 0.0, -1.0, 0.0, 0.0, 0.0]
    """
    m = _integer(m, "m", 1)
    k = np.asarray(kcell, dtype=float).reshape(m, m, m)  # [z, y, x]
    idx = np.arange(m ** 3).reshape(m, m, m)
    diag = np.zeros((m, m, m))
    rows, cols, vals = [], [], []
    for ax in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(None, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        t = 2.0 * k[lo] * k[hi] / (k[lo] + k[hi])
        diag[lo] += t
        diag[hi] += t
        rows += [idx[lo].ravel(), idx[hi].ravel()]
        cols += [idx[hi].ravel(), idx[lo].ravel()]
        vals += [-t.ravel(), -t.ravel()]
        first = [slice(None)] * 3
        last = [slice(None)] * 3
        first[ax], last[ax] = 0, -1
        diag[tuple(first)] += 2.0 * k[tuple(first)]
        diag[tuple(last)] += 2.0 * k[tuple(last)]
    rows.append(idx.ravel())
    cols.append(idx.ravel())
    vals.append(diag.ravel())
    n = m ** 3
    return _sorted(sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                         np.concatenate(cols))), shape=(n, n)))


class Inclusion3D:
    """Steady diffusion with a cube inclusion of drifting contrast (``inclusion3d``).

    Parameters
    ----------
    m : int
        Cells a side (``n = m³``).
    steps : int, default 120
    contrast_max : float, default 1e4
        The last contrast (the first is 1).
    box : (float, float), default (0.3, 0.65)
        The inclusion ``box³``: cells whose centre lies inside.

    Examples
    --------
    >>> sim = Inclusion3D(4, steps=3, contrast_max=100.0)
    >>> sim.n, sim.contexts().tolist(), int(sim.inside.sum())  # centres 0.375, 0.625: 2³
    (64, [0.0, 1.0, 2.0], 8)
    """

    def __init__(self, m: int, steps: int = 120, contrast_max: float = 1e4,
                 box=(0.3, 0.65)):
        self.m = _integer(m, "m", 2)
        self.n = self.m ** 3
        self.steps = _integer(steps, "steps", 1)
        top = math.log10(_positive(contrast_max, "contrast_max"))
        self._ctx = np.linspace(0.0, top, self.steps)
        lo, hi = (_finite(v, "box") for v in box)
        if not 0 <= lo < hi <= 1:
            raise ValueError(f"box must be (low, high) with 0 <= low < high <= 1, got {box!r}")
        c = (np.arange(self.m) + 0.5) / self.m
        Z, Y, X = np.meshgrid(c, c, c, indexing="ij")
        self.inside = ((X > lo) & (X < hi) & (Y > lo) & (Y < hi) & (Z > lo) & (Z < hi)).ravel()
        if not self.inside.any():
            raise ValueError(f"no cell centre lies in the inclusion {box!r} at m = {self.m}")
        self.b = np.full(self.n, 1.0 / self.m ** 3)  # ∫ over a cell of f = 1, times h / h

    def initial(self):
        return np.zeros(self.n)

    def contexts(self) -> np.ndarray:
        """``log10 c_k``."""
        return self._ctx.copy()

    def coefficient(self, k: int) -> np.ndarray:
        return np.where(self.inside, 10.0 ** self._ctx[k], 1.0)

    def matrix(self, k: int) -> sp.csr_matrix:
        return fv_matrix_3d(self.coefficient(k), self.m) / self.m  # transmissibility × h


class InclusionSequence(SteadyLoadSequence):
    """inclusion3d in the unseen study: shared ``A_k`` and load, warm starts from each
    method's previous solution."""

    kind, context_name = "inclusion3d", "log10 c"

    def __init__(self, m, steps=120, contrast_max=1e4):
        self._adopt(Inclusion3D(m, steps, contrast_max), f"inclusion3d_m{m}")
        self._top = contrast_max

    def tiny(self):
        return InclusionSequence(5, 4, self._top)


# -- fem2d -------------------------------------------------------------------------------------
def jittered_mesh(nx: int, jitter: float = 0.25, seed: int = 0):
    """A triangular mesh of the unit square: ``nx × nx`` squares, each cut along the diagonal
    from its lower-left to its upper-right corner, every interior node moved uniformly by up
    to ``jitter·h`` in x and y (``jitter < 1/2`` keeps every triangle positively oriented).

    Returns
    -------
    (ndarray, ndarray, ndarray)
        Node coordinates ``(N, 2)`` (x fastest), triangles ``(2 nx², 3)`` (counter-clockwise)
        and the boundary mask of the nodes.
    """
    nx = _integer(nx, "nx", 1)
    jitter = float(jitter)
    if not 0 <= jitter < 0.5:
        raise ValueError(f"jitter must be in [0, 0.5), got {jitter!r}")
    p = nx + 1
    g = np.linspace(0.0, 1.0, p)
    X, Y = np.meshgrid(g, g, indexing="xy")
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    ix, iy = np.arange(p * p) % p, np.arange(p * p) // p
    boundary = (ix == 0) | (ix == nx) | (iy == 0) | (iy == nx)
    rng = np.random.default_rng(seed)
    move = rng.uniform(-jitter, jitter, (p * p, 2)) / nx
    pts[~boundary] += move[~boundary]
    i, j = np.meshgrid(np.arange(nx), np.arange(nx), indexing="xy")
    a = (j * p + i).ravel()
    b, c, d = a + 1, a + p + 1, a + p
    tris = np.concatenate([np.stack([a, b, c], axis=1), np.stack([a, c, d], axis=1)])
    return pts, tris, boundary


def p1_mass_stiffness(pts, tris, keep=None):
    """P1 mass and stiffness matrices (consistent mass) on ``keep`` nodes (default all).

    Element matrices: ``K_e = area · G Gᵀ`` with ``G`` the gradients of the barycentric
    coordinates, ``M_e = area/12 · (1 + δ_ij)``.  Returns ``(M, K)``, CSR on one sorted pattern.
    """
    pts, tris = np.asarray(pts, dtype=float), np.asarray(tris)
    P = pts[tris]  # (E, 3, 2)
    e1, e2 = P[:, 1] - P[:, 0], P[:, 2] - P[:, 0]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    if np.any(det <= 0):
        raise ValueError("a triangle is degenerate or clockwise")
    area = det / 2
    # gradient of λ_i: rotate the opposite edge by −90° and divide by 2·area
    opp = np.stack([P[:, 2] - P[:, 1], P[:, 0] - P[:, 2], P[:, 1] - P[:, 0]], axis=1)
    G = np.stack([opp[..., 1], -opp[..., 0]], axis=2) / det[:, None, None]
    Ke = area[:, None, None] * np.einsum("eik,ejk->eij", G, G)
    Me = area[:, None, None] / 12.0 * (np.ones((3, 3)) + np.eye(3))
    N = pts.shape[0]
    number = np.arange(N) if keep is None else np.where(keep, np.cumsum(keep) - 1, -1)
    n = N if keep is None else int(np.count_nonzero(keep))
    loc = number[tris]
    r = np.repeat(loc, 3, axis=1).ravel()
    c = np.tile(loc, (1, 3)).ravel()
    ok = (r >= 0) & (c >= 0)

    def build(E):
        return _sorted(sp.csr_matrix((E.reshape(-1)[ok], (r[ok], c[ok])), shape=(n, n)))

    M, K = build(Me), build(Ke)
    # one pattern (a mass entry is never zero where a stiffness entry is stored)
    assert np.array_equal(M.indptr, K.indptr) and np.array_equal(M.indices, K.indices)
    return M, K


class PseudoTransientFEM:
    """Pseudo-transient continuation with P1 elements on a jittered mesh (``fem2d``).

    Step ``k`` solves ``(M + τ_k K) u_{k+1} = M u_k + τ_k F``, ``F`` the load vector of
    ``f(x, y) = 1 + x`` (first ramp) or ``f = 2πy sin(πx)`` (second), ``u`` restarting at 0
    with each ramp.

    Parameters
    ----------
    nx : int
        Squares a side (``n = (nx − 1)²`` interior nodes).
    ramps : int, default 2
    tau_min, tau_max, growth : float, default 1e-7, 1e-1, 1.3

    Examples
    --------
    >>> sim = PseudoTransientFEM(4, ramps=1, tau_min=1e-2, tau_max=1e-1, growth=2.0)
    >>> sim.n, sim.tau.tolist()
    (9, [0.01, 0.02, 0.04, 0.08, 0.1])
    """

    def __init__(self, nx: int, ramps: int = 2, tau_min: float = 1e-7, tau_max: float = 1e-1,
                 growth: float = 1.3, seed: int = 0):
        self.nx = _integer(nx, "nx", 2)
        self.ramps = _integer(ramps, "ramps", 1)
        lo, hi = _positive(tau_min, "tau_min"), _positive(tau_max, "tau_max")
        growth = _positive(growth, "growth")
        if not (growth > 1 and hi >= lo):
            raise ValueError(f"need growth > 1 and tau_max >= tau_min, got {growth!r}, "
                             f"{lo!r}, {hi!r}")
        up = [lo]
        while up[-1] < hi * (1 - 1e-12):
            up.append(min(up[-1] * growth, hi))
        self.per_ramp = len(up)
        self.tau = np.tile(np.array(up), self.ramps)
        self.steps = self.tau.size
        self.pts, self.tris, self.boundary = jittered_mesh(self.nx, seed=seed)
        self.M, self.K = p1_mass_stiffness(self.pts, self.tris, ~self.boundary)
        self.n = self.M.shape[0]
        self.h = 1.0 / self.nx
        inner = self.pts[~self.boundary]
        x, y = inner[:, 0], inner[:, 1]
        # load vectors F = M f_I over the interior nodes (f's nodal values, mass-weighted)
        self._loads = [self.M @ (1.0 + x), self.M @ (2 * np.pi * y * np.sin(np.pi * x))]

    def initial(self):
        return np.zeros(self.n)

    def contexts(self) -> np.ndarray:
        """``log10 τ_k / h²``."""
        return np.log10(self.tau / self.h ** 2)

    def ramp(self, k: int) -> int:
        return k // self.per_ramp

    def matrix(self, k: int) -> sp.csr_matrix:
        A = self.M.copy()
        A.data = self.M.data + self.tau[k] * self.K.data
        return A

    def rhs(self, k: int, u: np.ndarray) -> np.ndarray:
        if k % self.per_ramp == 0:  # a new load: the ramp restarts from u = 0
            u = np.zeros(self.n)
        return self.M @ u + self.tau[k] * self._loads[self.ramp(k) % 2]


class FEMSequence(AdaptiveStepSequence):
    """fem2d in the unseen study: shared ``A_k``; ``b_k`` from each method's own state, which
    is also its start (zero at the start of each ramp)."""

    kind, context_name = "fem2d", "log10 τ/h²"

    def __init__(self, nx, ramps=2, **kw):
        self.sim = sim = PseudoTransientFEM(nx, ramps, **kw)
        self.name, self.n, self.T = f"fem2d_nx{nx}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))

    def shared(self, t):
        return self.sim.matrix(t), t, float(self.sim.contexts()[t])

    def system(self, shared, u):
        A, t, ctx = shared
        if t % self.sim.per_ramp == 0:  # a new load: every method restarts from u = 0
            u = np.zeros(self.n)
        return A, self.sim.rhs(t, u), u, ctx

    def tiny(self):
        return FEMSequence(5, 1, tau_min=1e-3, tau_max=1e-1, growth=3.0)
