"""Sequences the learners were not designed on (the ``unseen`` study,
:doc:`/studies/unseen`): four kinds of SPD system sequence a scientist runs, every parameter
fixed here before any measurement (three more, ``convdiff2d``, ``inclusion3d`` and ``fem2d``,
in :mod:`experiments._problems_unseen2`, and three more, ``plgraph``, ``switch2d`` and
``layers3d``, in :mod:`experiments._problems_unseen3`, three more, ``refine2d``,
``rotconv2d`` and ``elast2d``, in :mod:`experiments._problems_unseen4`, and three more,
``bratu2d``, ``scaled2d`` and ``biharm2d``, in :mod:`experiments._problems_unseen5`, and three
more, ``const3d``, ``remesh2d`` and ``jump2d``, in :mod:`experiments._problems_unseen6`).

* ``aniso2d`` — steady anisotropic diffusion ``−∇·(K∇u) = 1`` on the unit square (zero
  Dirichlet boundary), bilinear (Q1) finite elements on ``nx × nx`` squares,
  ``K = R(θ) diag(1, ε) R(θ)ᵀ`` at a fixed angle ``θ = 30°`` while the anisotropy ratio
  drifts, ``log10 ε_k = −1.5 (1 − cos(2π k / P))`` (1 → 10⁻³ → 1, twice), each solve
  warm-started from the method's previous solution (a continuation).  Context ``log10 ε``.
* ``heat3d`` — backward-Euler heat conduction in the unit cube (7-point Laplacian, ``m``
  interior points a side, zero Dirichlet boundary) with a step that grows geometrically
  from ``dt_min`` to ``dt_max`` and shrinks back as the integrator approaches a scheduled
  switch of the heater, twice.  Context ``log10 κΔt/h²``.
* ``rgg`` — graph Tikhonov smoothing on a random geometric graph (``n`` points in the unit
  square, edges within a radius giving mean degree ≈ 10, Gaussian edge weights):
  ``(L + s I) x = s y`` for a fixed noisy signal ``y`` and shifts ``s`` drawn log-uniformly
  in ``[10⁻³, 10]`` (a hyper-parameter search), ``x0 = 0``.  Context ``log10 s``.
* ``picard2d`` — nonlinear heat conduction ``−∇·(k(u)∇u) = λ`` with ``k(u) = exp(u)`` on the
  unit square (cell-centred finite volumes, harmonic face means, zero Dirichlet boundary)
  solved by damped Picard (lagged-coefficient) iteration along a load continuation
  ``λ = 10 … 10⁴``: each system's coefficient comes from the previous iterate, which is also
  its start.  The iterates are computed once with a direct solver, so every method solves
  the same systems.  Context ``log10 (max k / min k)``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._problems_adaptive import AdaptiveStepSequence, SteadyLoadSequence
from ._problems_checks import _finite, _integer, _positive
from ._precond_sequences import Sequence
from .problems import _diagonal_positions

__all__ = ["UNSEEN", "q1_parts", "anisotropy_tensor", "AnisoSweep2D", "AnisoSequence",
           "grow_shrink_schedule", "laplacian_3d", "Heat3DGrowShrink", "Heat3DSequence",
           "geometric_graph_laplacian", "ShiftedLaplacian", "GraphShifts", "GraphShiftSequence",
           "picard_matrix", "Picard2D", "PicardSequence", "make_unseen"]

#: The kinds this module adds to the study, with what their size argument means.
UNSEEN = {"aniso2d": "nx", "heat3d": "m", "rgg": "n", "picard2d": "nx", "convdiff2d": "nx",
          "inclusion3d": "m", "fem2d": "nx", "plgraph": "n", "switch2d": "nx",
          "layers3d": "m", "refine2d": "per_level", "rotconv2d": "nx", "elast2d": "nx",
          "bratu2d": "nx", "scaled2d": "nx", "biharm2d": "nx", "const3d": "m",
          "remesh2d": "nx", "jump2d": "nx"}


def _csr_from_keys(keys: np.ndarray, n: int) -> sp.csr_matrix:
    """A CSR pattern (data zero) from sorted unique keys ``row·n + col``."""
    rows, cols = keys // n, keys % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sp.csr_matrix((np.zeros(keys.size), cols.astype(np.int64), indptr), shape=(n, n))


# -- aniso2d -----------------------------------------------------------------------------------
def _q1_element():
    """``(Exx, Eyy, Exy)`` of the unit square's bilinear element (nodes (0,0), (1,0), (1,1),
    (0,1)): ``∫∂xφi ∂xφj``, ``∫∂yφi ∂yφj`` and ``∫(∂xφi ∂yφj + ∂yφi ∂xφj)`` by 2 × 2 Gauss
    (exact for these bilinear integrands); the same on a square of any side in 2-D."""
    sx = np.array([-1.0, 1.0, 1.0, -1.0])
    sy = np.array([-1.0, -1.0, 1.0, 1.0])
    g = 0.5 + np.array([-1.0, 1.0]) / (2.0 * math.sqrt(3.0))
    Exx, Eyy, Exy = np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4))
    for x in g:
        for y in g:
            # φi = (1 + sx_i(2x − 1))(1 + sy_i(2y − 1)) / 4
            dx = sx * (1 + sy * (2 * y - 1)) / 2
            dy = sy * (1 + sx * (2 * x - 1)) / 2
            Exx += np.outer(dx, dx) / 4
            Eyy += np.outer(dy, dy) / 4
            Exy += (np.outer(dx, dy) + np.outer(dy, dx)) / 4
    return Exx, Eyy, Exy


def q1_parts(nx: int, dirichlet: bool = True):
    """The Q1 stiffness matrix's three parts on ``nx × nx`` squares of the unit square, on one
    sparsity pattern: ``A(K) = k11·Sxx + k22·Syy + k12·Sxy``.

    Parameters
    ----------
    nx : int
        Squares a side.
    dirichlet : bool, default True
        Keep only the ``(nx − 1)²`` interior nodes (zero Dirichlet boundary); else all
        ``(nx + 1)²`` nodes (natural boundary).

    Returns
    -------
    (scipy.sparse.csr_matrix, ndarray, ndarray, ndarray)
        The pattern (sorted indices, every diagonal stored) and the data of ``Sxx, Syy, Sxy``.
        Nodes are numbered with x fastest.
    """
    nx = _integer(nx, "nx", 2)
    Exx, Eyy, Exy = _q1_element()
    p = nx + 1
    i, j = np.meshgrid(np.arange(nx), np.arange(nx), indexing="xy")
    base = (j * p + i).ravel()
    nodes = np.stack([base, base + 1, base + p + 1, base + p], axis=1)  # element's 4 nodes
    if dirichlet:
        ix, iy = np.arange(p * p) % p, np.arange(p * p) // p
        inside = (ix > 0) & (ix < nx) & (iy > 0) & (iy < nx)
        number = np.full(p * p, -1)
        number[inside] = (iy[inside] - 1) * (nx - 1) + ix[inside] - 1
        n = (nx - 1) ** 2
    else:
        number, n = np.arange(p * p), p * p
    loc = number[nodes]  # (elements, 4)
    r = np.repeat(loc, 4, axis=1).ravel()
    c = np.tile(loc, (1, 4)).ravel()
    keep = (r >= 0) & (c >= 0)
    keys, inv = np.unique(r[keep] * n + c[keep], return_inverse=True)
    P = _csr_from_keys(keys, n)
    data = [np.bincount(inv, weights=np.broadcast_to(E.ravel(), (loc.shape[0], 16)).ravel()[keep],
                        minlength=keys.size) for E in (Exx, Eyy, Exy)]
    return P, data[0], data[1], data[2]


def anisotropy_tensor(eps: float, theta: float) -> tuple:
    """``(k11, k22, k12)`` of ``R(θ) diag(1, ε) R(θ)ᵀ``."""
    c, s = math.cos(theta), math.sin(theta)
    return c * c + eps * s * s, s * s + eps * c * c, (1.0 - eps) * c * s


class AnisoSweep2D:
    """Steady anisotropic diffusion at a drifting anisotropy ratio (``aniso2d``).

    Parameters
    ----------
    nx : int
        Squares a side (``n = (nx − 1)²`` unknowns).
    sweeps : int, default 2
        Times the ratio goes 1 → ``eps_min`` → 1.
    per_sweep : int, default 80
        Systems per sweep.
    eps_min : float, default 1e-3
        Strongest anisotropy (the weak direction's coefficient).
    theta : float, default π/6
        Angle of the strong direction to the x axis: not grid-aligned.

    Examples
    --------
    >>> sim = AnisoSweep2D(4, sweeps=1, per_sweep=4)
    >>> sim.n, sim.steps, sim.contexts().round(3).tolist()
    (9, 4, [0.0, -1.5, -3.0, -1.5])
    """

    def __init__(self, nx: int, sweeps: int = 2, per_sweep: int = 80, eps_min: float = 1e-3,
                 theta: float = math.pi / 6):
        self.nx = _integer(nx, "nx", 2)
        self.sweeps = _integer(sweeps, "sweeps", 1)
        self.per_sweep = _integer(per_sweep, "per_sweep", 2)
        self.eps_min = _positive(eps_min, "eps_min")
        self.theta = _finite(theta, "theta")
        self.P, self.dxx, self.dyy, self.dxy = q1_parts(self.nx)
        self.n = self.P.shape[0]
        self.steps = self.sweeps * self.per_sweep
        k = np.arange(self.steps)
        depth = -math.log10(self.eps_min)
        self._ctx = -0.5 * depth * (1 - np.cos(2 * np.pi * k / self.per_sweep)) + 0.0
        self.b = np.full(self.n, 1.0 / self.nx ** 2)  # ∫φi·1 = h² at an interior node

    def contexts(self) -> np.ndarray:
        """``log10 ε_k`` of every system."""
        return self._ctx.copy()

    def matrix(self, k: int) -> sp.csr_matrix:
        k11, k22, k12 = anisotropy_tensor(10.0 ** self._ctx[k], self.theta)
        A = self.P.copy()
        A.data = k11 * self.dxx + k22 * self.dyy + k12 * self.dxy
        return A


class AnisoSequence(SteadyLoadSequence):
    """aniso2d in the preconditioner study: shared ``A_k``, the fixed load, each method
    starting from its own previous solution."""

    kind, context_name = "aniso2d", "log10 ε"

    def __init__(self, nx, sweeps=2, per_sweep=80):
        self._adopt(AnisoSweep2D(nx, sweeps, per_sweep), f"aniso2d_nx{nx}")

    def initial_state(self):
        return np.zeros(self.n)

    def tiny(self):
        return AnisoSequence(8, 1, 4)


# -- heat3d ------------------------------------------------------------------------------------
def grow_shrink_schedule(dt_min: float, dt_max: float, growth: float,
                         cycles: int) -> np.ndarray:
    """Steps ``dt_min·growth^j`` up to ``dt_max`` (capped) and back down, ``cycles`` times.

    Examples
    --------
    >>> grow_shrink_schedule(1.0, 4.0, 2.0, 1).tolist()
    [1.0, 2.0, 4.0, 4.0, 2.0, 1.0]
    """
    dt_min, dt_max = _positive(dt_min, "dt_min"), _positive(dt_max, "dt_max")
    growth = _positive(growth, "growth")
    if not (growth > 1.0 and dt_max >= dt_min):
        raise ValueError(f"need growth > 1 and dt_max >= dt_min, got {growth!r}, "
                         f"{dt_min!r}, {dt_max!r}")
    up = [dt_min]
    while up[-1] < dt_max * (1 - 1e-12):
        up.append(min(up[-1] * growth, dt_max))
    one = up + up[::-1]
    return np.tile(np.array(one), _integer(cycles, "cycles", 1))


def laplacian_3d(m: int) -> sp.csr_matrix:
    """7-point Laplacian (6 on the diagonal, −1 off, no ``1/h²``) on an ``m³`` interior grid,
    x fastest, CSR with sorted indices."""
    m = _integer(m, "m", 1)
    T = sp.diags([-np.ones(m - 1), np.full(m, 2.0), -np.ones(m - 1)], [-1, 0, 1])
    Id = sp.identity(m)
    L = (sp.kron(Id, sp.kron(Id, T)) + sp.kron(Id, sp.kron(T, Id)) +
         sp.kron(T, sp.kron(Id, Id))).tocsr()
    L.sum_duplicates()
    L.sort_indices()
    return L


class Heat3DGrowShrink:
    """Backward-Euler heat conduction in the unit cube, steps growing then shrinking
    (``heat3d``).

    Step ``k`` solves ``(I + r_k L) u_{k+1} = u_k + Δt_k f_c``, ``r_k = κΔt_k/h²``,
    ``h = 1/(m + 1)``; the heater ``f_c`` (a Gaussian of width 0.1, amplitude 100) sits at
    ``(0.3, 0.3, 0.3)`` in even cycles and ``(0.7, 0.7, 0.7)`` in odd ones: the step
    shrinks towards each switch.

    Parameters
    ----------
    m : int
        Interior points a side (``n = m³``).
    cycles : int, default 2
    dt_min, dt_max, growth : float, default 1e-5, 3e-2, 1.2
        ``dt_max`` is about the slowest decay time ``1/(3π²κ) ≈ 0.034``.
    kappa : float, default 1.0

    Examples
    --------
    >>> sim = Heat3DGrowShrink(4, cycles=1)
    >>> sim.n, sim.steps, round(float(sim.contexts().min()), 3)  # log10(1e-5 · 5²)
    (64, 90, -3.602)
    """

    def __init__(self, m: int, cycles: int = 2, dt_min: float = 1e-5, dt_max: float = 3e-2,
                 growth: float = 1.2, kappa: float = 1.0):
        self.m = _integer(m, "m", 2)
        self.n = self.m ** 3
        self.h = 1.0 / (self.m + 1)
        self.kappa = _positive(kappa, "kappa")
        self.dt = grow_shrink_schedule(dt_min, dt_max, growth, cycles)
        self.steps = self.dt.size
        self._per_cycle = self.steps // _integer(cycles, "cycles", 1)
        self.ratios = self.kappa * self.dt / self.h ** 2
        self.L = laplacian_3d(self.m)
        self._diag_pos = _diagonal_positions(self.L)
        g = np.arange(1, self.m + 1) * self.h
        Z, Y, X = np.meshgrid(g, g, g, indexing="ij")  # x fastest
        self._heaters = [100.0 * np.exp(-((X - c) ** 2 + (Y - c) ** 2 + (Z - c) ** 2)
                                        / (2 * 0.1 ** 2)).ravel() for c in (0.3, 0.7)]

    def contexts(self) -> np.ndarray:
        return np.log10(self.ratios)

    def forcing(self, k: int) -> np.ndarray:
        return self._heaters[(k // self._per_cycle) % 2]

    def matrix(self, k: int) -> sp.csr_matrix:
        A = self.L.copy()
        A.data *= self.ratios[k]
        A.data[self._diag_pos] += 1.0
        return A


class Heat3DSequence(AdaptiveStepSequence):
    """heat3d in the preconditioner study (warm starts from each method's own state)."""

    kind, context_name = "heat3d", "log10 κΔt/h²"

    def __init__(self, m, cycles=2, kappa=1.0):
        self.sim = sim = Heat3DGrowShrink(m, cycles, kappa=kappa)
        self.name, self.n, self.T = f"heat3d_m{m}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))

    def initial_state(self):
        return np.zeros(self.n)

    def shared(self, t):
        sim = self.sim
        return sim.matrix(t), sim.dt[t] * sim.forcing(t), float(sim.contexts()[t])

    def tiny(self):
        sim = self.sim  # κ scaled so the ratios (and contexts) are the sequence's own
        return Heat3DSequence(4, 1, sim.kappa * ((4 + 1) * sim.h) ** -2)


# -- rgg ---------------------------------------------------------------------------------------
def geometric_graph_laplacian(n: int, degree: float = 10.0, seed: int = 0):
    """Weighted Laplacian ``L = D − W`` of a random geometric graph.

    ``n`` points uniform in the unit square; an edge joins points closer than
    ``ρ = sqrt(degree/(π n))`` (mean degree ≈ ``degree`` away from the sides) with weight
    ``exp(−4 d²/ρ²)``.

    Returns
    -------
    (scipy.sparse.csr_matrix, ndarray)
        ``L`` (sorted indices, every diagonal stored, explicit zero for an isolated point)
        and the points, shape ``(n, 2)``.
    """
    from scipy.spatial import cKDTree

    n = _integer(n, "n", 2)
    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2))
    rho = math.sqrt(_positive(degree, "degree") / (math.pi * n))
    pairs = cKDTree(pts).query_pairs(rho, output_type="ndarray")
    d2 = ((pts[pairs[:, 0]] - pts[pairs[:, 1]]) ** 2).sum(axis=1)
    w = np.exp(-4.0 * d2 / rho ** 2)
    i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    deg = np.bincount(pairs.ravel(), weights=np.repeat(w, 2), minlength=n)  # (row by row)
    v = np.concatenate([-w, -w, deg])
    L = sp.csr_matrix((v, (i, j)), shape=(n, n))
    L.sum_duplicates()
    L.sort_indices()
    return L, pts


class ShiftedLaplacian:
    """What a shifted graph Laplacian sequence shares: ``L``, the diagonal's positions in
    ``L.data`` (``_diag_pos``) and the contexts ``log10`` of each system's shift (``_ctx``);
    system ``k`` is ``L + 10**_ctx[k] I``."""

    def contexts(self) -> np.ndarray:
        """``log10`` of each system's shift."""
        return self._ctx.copy()

    def matrix(self, k: int) -> sp.csr_matrix:
        A = self.L.copy()
        A.data[self._diag_pos] += 10.0 ** self._ctx[k]
        return A


class GraphShifts(ShiftedLaplacian):
    """Graph Tikhonov smoothing over a log-uniform sample of shifts (``rgg``).

    System ``k``: ``(L + s_k I) x = s_k y``, ``y`` = a smooth signal
    ``sin(2πx₁)cos(3πx₂)`` plus unit Gaussian noise at each point.

    Parameters
    ----------
    n : int
        Graph nodes.
    samples : int, default 150
    s_range : (float, float), default (1e-3, 10)
    seed : int, default 0
        The graph, the signal's noise and the shifts.

    Examples
    --------
    >>> sim = GraphShifts(50, samples=3)
    >>> sim.n, sim.steps, bool(np.all((sim.contexts() >= -3) & (sim.contexts() <= 1)))
    (50, 3, True)
    """

    def __init__(self, n: int, samples: int = 150, s_range=(1e-3, 10.0), seed: int = 0):
        self.L, self.points = geometric_graph_laplacian(n, seed=seed)
        self.n = self.L.shape[0]
        self.steps = _integer(samples, "samples", 1)
        lo, hi = (_positive(v, "s_range") for v in s_range)
        if not lo <= hi:  # (numpy's own message had been "high - low < 0")
            raise ValueError(f"s_range must be (low, high) with low <= high, got {s_range!r}")
        rng = np.random.default_rng([seed, 1])
        self._ctx = rng.uniform(math.log10(lo), math.log10(hi), self.steps)
        x1, x2 = self.points[:, 0], self.points[:, 1]
        self.y = np.sin(2 * np.pi * x1) * np.cos(3 * np.pi * x2) + rng.standard_normal(self.n)
        self._diag_pos = _diagonal_positions(self.L)


class GraphShiftSequence(Sequence):
    """rgg in the preconditioner study: every method solves the same system from 0."""

    kind, context_name = "rgg", "log10 s"

    def __init__(self, n, samples=150, seed=0):
        self.sim = sim = GraphShifts(n, samples, seed=seed)
        self.name, self.n, self.T = f"rgg_n{n}", sim.n, sim.steps
        self.bounds = (-3.0, 1.0)
        self._seed = seed

    def shared(self, t):
        s = 10.0 ** self.sim.contexts()[t]
        return self.sim.matrix(t), s * self.sim.y, float(self.sim.contexts()[t])

    def system(self, shared, state):
        A, b, ctx = shared
        return A, b, None, ctx

    def tiny(self):
        return GraphShiftSequence(200, 4, self._seed)


# -- picard2d ----------------------------------------------------------------------------------
def picard_matrix(kcell: np.ndarray, nx: int) -> sp.csr_matrix:
    """Cell-centred finite-volume ``−∇·(k∇·)`` on ``nx × nx`` cells (times ``h⁰``: in 2-D a
    face's transmissibility is its conductivity), harmonic means on interior faces, the
    zero Dirichlet wall half a cell outside (transmissibility ``2k``), x fastest.

    Examples
    --------
    >>> picard_matrix(np.ones(4), 2).toarray().tolist()[0]
    [6.0, -1.0, -1.0, 0.0]
    """
    nx = _integer(nx, "nx", 1)
    k = np.asarray(kcell, dtype=float).reshape(nx, nx)  # [y, x]
    tx = 2.0 * k[:, :-1] * k[:, 1:] / (k[:, :-1] + k[:, 1:])  # faces between x-neighbours
    ty = 2.0 * k[:-1, :] * k[1:, :] / (k[:-1, :] + k[1:, :])
    diag = np.zeros((nx, nx))
    diag[:, :-1] += tx
    diag[:, 1:] += tx
    diag[:-1, :] += ty
    diag[1:, :] += ty
    diag[:, 0] += 2 * k[:, 0]
    diag[:, -1] += 2 * k[:, -1]
    diag[0, :] += 2 * k[0, :]
    diag[-1, :] += 2 * k[-1, :]
    idx = np.arange(nx * nx).reshape(nx, nx)
    rows = np.concatenate([idx.ravel(), idx[:, :-1].ravel(), idx[:, 1:].ravel(),
                           idx[:-1, :].ravel(), idx[1:, :].ravel()])
    cols = np.concatenate([idx.ravel(), idx[:, 1:].ravel(), idx[:, :-1].ravel(),
                           idx[1:, :].ravel(), idx[:-1, :].ravel()])
    vals = np.concatenate([diag.ravel(), -tx.ravel(), -tx.ravel(), -ty.ravel(), -ty.ravel()])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(nx * nx, nx * nx))
    A.sort_indices()
    return A


class Picard2D:
    """Damped Picard iteration for ``−∇·(e^u ∇u) = λ`` along a load continuation
    (``picard2d``).

    For each load ``λ_j`` (``loads`` values log-spaced in ``[10, 10⁴]``), from the previous
    load's solution: solve ``A(e^{u_p}) ũ = λ_j h² 1``, set ``u_{p+1} = u_p + ω (ũ − u_p)``,
    until ``‖ũ − u_p‖ ≤ tol ‖ũ‖`` or ``max_picard`` solves.  (Undamped Picard diverged on a
    40 × 40 grid from ``λ ≈ 460`` on, a contrast of about 20; ``ω = 1/2`` reaches the last
    load.)  Every
    solve is one step of the sequence, started from ``u_p``; the iterates are computed here
    once by a direct solver, so every method solves the same systems from the same start.

    Parameters
    ----------
    nx : int
        Cells a side (``n = nx²``).
    loads : int, default 10
    lam_max : float, default 1e4
        The last load (the first is 10).
    damping : float, default 0.5
    tol : float, default 1e-5
    max_picard : int, default 15

    Examples
    --------
    >>> sim = Picard2D(8, loads=2, lam_max=100.0)
    >>> sim.n, sim.loads.tolist(), sim.load_index[0], sim.load_index[-1]
    (64, [10.0, 100.0], 0, 1)
    """

    def __init__(self, nx: int, loads: int = 10, damping: float = 0.5, tol: float = 1e-5,
                 max_picard: int = 15, lam_max: float = 1e4):
        self.nx = _integer(nx, "nx", 2)
        self.n = self.nx ** 2
        self.loads = np.logspace(1, math.log10(_positive(lam_max, "lam_max")),
                                 _integer(loads, "loads", 1))
        self.damping = _positive(damping, "damping")
        self.tol = _positive(tol, "tol")
        self.max_picard = _integer(max_picard, "max_picard", 1)
        h2 = 1.0 / self.nx ** 2
        u = np.zeros(self.n)
        self.starts, self.rhs, self.load_index, self.picard_steps = [], [], [], []
        for j, lam in enumerate(self.loads):
            for p in range(self.max_picard):
                new = spla.spsolve(picard_matrix(np.exp(u), self.nx).tocsc(),
                                   np.full(self.n, lam * h2))
                if not np.all(np.isfinite(new)):
                    raise ValueError(f"Picard iterate overflowed at load {lam:g}: take more "
                                     "loads (smaller jumps) or a smaller lam_max")
                self.starts.append(u)
                self.rhs.append(lam * h2)
                self.load_index.append(j)
                done = np.linalg.norm(new - u) <= self.tol * np.linalg.norm(new)
                u = u + self.damping * (new - u)
                if done:
                    break
            self.picard_steps.append(p + 1)
        self.solution = u
        self.steps = len(self.starts)
        self._ctx = np.array([float(u.max() - u.min()) / math.log(10) for u in self.starts])

    def contexts(self) -> np.ndarray:
        """``log10 (max k / min k)`` of each system's coefficient ``k = e^{u_p}``."""
        return self._ctx.copy()

    def matrix(self, t: int) -> sp.csr_matrix:
        return picard_matrix(np.exp(self.starts[t]), self.nx)


class PicardSequence(Sequence):
    """picard2d in the preconditioner study: shared ``A_t``, ``b_t`` and start ``u_p``."""

    kind, context_name = "picard2d", "log10 max k/min k"

    def __init__(self, nx, loads=10, lam_max=1e4):
        self.sim = sim = Picard2D(nx, loads, lam_max=lam_max)
        self.name, self.n, self.T = f"picard2d_nx{nx}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))

    def shared(self, t):
        sim = self.sim
        return (sim.matrix(t), np.full(self.n, sim.rhs[t]), sim.starts[t],
                float(sim.contexts()[t]))

    def system(self, shared, state):
        return shared

    def tiny(self):
        return PicardSequence(8, 2, lam_max=100.0)


def make_unseen(kind: str, size: int) -> Sequence:
    """The study sequence of ``kind`` (a key of :data:`UNSEEN`) at ``size``."""
    from ._problems_unseen2 import ConvDiffSequence, FEMSequence, InclusionSequence
    from ._problems_unseen3 import KINDS
    from ._problems_unseen4 import KINDS as KINDS4
    from ._problems_unseen5 import KINDS as KINDS5
    from ._problems_unseen6 import KINDS as KINDS6

    makers = {"aniso2d": AnisoSequence, "heat3d": Heat3DSequence, "rgg": GraphShiftSequence,
              "picard2d": PicardSequence, "convdiff2d": ConvDiffSequence,
              "inclusion3d": InclusionSequence, "fem2d": FEMSequence,
              **{kind: maker for kind, (_, maker) in (*KINDS.items(), *KINDS4.items(),
                                                     *KINDS5.items(), *KINDS6.items())}}
    if kind not in makers:
        raise ValueError(f"sequence must be one of {sorted(makers)}, got {kind!r}")
    return makers[kind](size)
