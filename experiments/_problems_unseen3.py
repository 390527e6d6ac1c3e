"""A third set of sequences the learners were not designed on (the ``unseen`` study,
:doc:`/studies/unseen`), every parameter fixed here before any measurement.

* ``plgraph`` — a regularisation path on a graph with power-law degrees (not a PDE):
  ``(L + μ I) x = μ y`` with ``L`` the Laplacian of a Chung–Lu random graph (expected
  degrees ``∝ (i + i₀)^{−1/(γ−1)}``, ``γ = 2.5``, mean degree 6: a few hubs of degree
  several hundred, many leaves; unit weights, fixed seed) and ``μ`` decreasing
  log-uniformly from ``10²`` to ``10⁻⁴`` (``κ`` from about 7 to about 10⁷), each solve
  warm-started from the method's previous solution (a path).  Context ``log10 μ``.
* ``switch2d`` — backward-Euler heat conduction ``u_t = ∇·(k∇u) + 1`` on the unit square
  (cell-centred finite volumes, harmonic face means, zero Dirichlet wall), a fixed step
  ``Δt = 20 h²``, whose conductivity switches **abruptly**: a smooth field
  ``log10 k = ½ sin(2πx) sin(2πy)`` for the first third of the steps, a checkerboard of
  8 × 8 blocks with ``log10 k = ±2`` (contrast 10⁴) for the second, the smooth field again
  for the last.  Each method steps its own state.  Context ``log10 (max k / min k)``.
* ``layers3d`` — a **short** sequence (40 solves, ``n ≈ 3·10⁴``): steady diffusion
  ``−∇·(k(z)∇u) = 1`` in the unit cube, trilinear (Q1) finite elements on ``m³`` cubes
  (a 27-point stencil), ``k`` constant in each of 8 horizontal layers; the layers'
  ``log10 k`` move along an inversion's iterates ``a_l (1 − 0.85^t)`` towards targets
  ``a_l = ±1.5`` alternating (contrast 1 → 10³), each forward solve warm-started from the
  method's previous solution.  Context ``log10 (max k / min k)``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._problems_adaptive import AdaptiveStepSequence, SteadyLoadSequence
from ._problems_checks import _integer, _positive
from ._problems_unseen import ShiftedLaplacian, picard_matrix
from .problems import _diagonal_positions

__all__ = ["chung_lu_laplacian", "GraphPath", "GraphPathSequence", "switch_fields",
           "SwitchHeat2D", "SwitchSequence", "q1_1d", "q1_layered_3d", "Layers3D",
           "LayersSequence"]


def _sorted(A) -> sp.csr_matrix:
    A = A.tocsr()
    A.sum_duplicates()
    A.sort_indices()
    return A


# -- plgraph -----------------------------------------------------------------------------------
def chung_lu_laplacian(n: int, degree: float = 6.0, gamma: float = 2.5, seed: int = 0):
    """Laplacian ``L = D − W`` (unit weights) of a Chung–Lu-type random graph with power-law
    expected degrees.

    Node ``i`` gets the weight ``w_i ∝ (i + i₀)^{−1/(γ−1)}`` (``i₀ = 1``), scaled to mean
    ``degree``; ``n·degree/2`` edges are drawn with both endpoints independent and
    ``P(i) = w_i / Σw``; self-loops and repeated edges are dropped (so the realised mean
    degree is a little below ``degree``).

    Returns
    -------
    (scipy.sparse.csr_matrix, ndarray)
        ``L`` (sorted indices, every diagonal stored, an explicit zero for an isolated node)
        and the edges, shape ``(E, 2)`` with ``i < j``, unique.

    Examples
    --------
    >>> L, edges = chung_lu_laplacian(200)
    >>> bool(abs(L.sum(axis=1)).max() < 1e-12), bool((L != L.T).nnz == 0)
    (True, True)
    """
    n = _integer(n, "n", 2)
    degree, gamma = _positive(degree, "degree"), _positive(gamma, "gamma")
    if gamma <= 2:
        raise ValueError(f"gamma must be > 2 (a finite mean degree), got {gamma!r}")
    rng = np.random.default_rng(seed)
    w = (np.arange(n) + 1.0) ** (-1.0 / (gamma - 1.0))
    p = w / w.sum()
    draws = int(round(n * degree / 2))
    ends = rng.choice(n, size=(draws, 2), p=p)
    ends = ends[ends[:, 0] != ends[:, 1]]
    ends.sort(axis=1)
    edges = np.unique(ends, axis=0)
    i, j = edges[:, 0], edges[:, 1]
    deg = np.bincount(edges.ravel(), minlength=n).astype(float)
    rows = np.concatenate([i, j, np.arange(n)])
    cols = np.concatenate([j, i, np.arange(n)])
    vals = np.concatenate([-np.ones(2 * i.size), deg])
    return _sorted(sp.csr_matrix((vals, (rows, cols)), shape=(n, n))), edges


class GraphPath(ShiftedLaplacian):
    """A Tikhonov regularisation path on a power-law graph (``plgraph``).

    System ``k``: ``(L + μ_k I) x = μ_k y``, ``μ_k`` from ``mu_max`` down to ``mu_min``
    log-uniformly, ``y`` a fixed signal (labels ±1 alternating with the node index, plus unit
    Gaussian noise).

    Parameters
    ----------
    n : int
        Graph nodes.
    steps : int, default 120
    mu_max, mu_min : float, default 1e2, 1e-4
    seed : int, default 0
        The graph and the signal's noise.

    Examples
    --------
    >>> sim = GraphPath(100, steps=3)
    >>> sim.n, sim.contexts().tolist()
    (100, [2.0, -1.0, -4.0])
    """

    def __init__(self, n: int, steps: int = 120, mu_max: float = 1e2, mu_min: float = 1e-4,
                 seed: int = 0):
        self.L, self.edges = chung_lu_laplacian(n, seed=seed)
        self.n = self.L.shape[0]
        self.steps = _integer(steps, "steps", 1)
        hi, lo = _positive(mu_max, "mu_max"), _positive(mu_min, "mu_min")
        if lo > hi:
            raise ValueError(f"need mu_min <= mu_max, got {lo!r}, {hi!r}")
        self._ctx = np.linspace(math.log10(hi), math.log10(lo), self.steps)
        rng = np.random.default_rng([seed, 1])
        labels = np.where(np.arange(self.n) % 2 == 0, 1.0, -1.0)
        self.y = labels + rng.standard_normal(self.n)
        self._diag_pos = _diagonal_positions(self.L)

    def initial(self):
        return np.zeros(self.n)


class GraphPathSequence(AdaptiveStepSequence):
    """plgraph in the unseen study: shared ``A_k`` and ``b_k = μ_k y``, each method starting
    from its own previous solution."""

    kind, context_name = "plgraph", "log10 μ"

    def __init__(self, n, steps=120, seed=0):
        self.sim = sim = GraphPath(n, steps, seed=seed)
        self.name, self.n, self.T = f"plgraph_n{n}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))
        self._seed = seed

    def shared(self, t):
        ctx = float(self.sim.contexts()[t])
        return self.sim.matrix(t), 10.0 ** ctx * self.sim.y, ctx

    def system(self, shared, u):
        A, b, ctx = shared
        return A, b, u, ctx

    def tiny(self):
        return GraphPathSequence(300, 4, self._seed)


# -- switch2d ----------------------------------------------------------------------------------
def switch_fields(nx: int, blocks: int = 8, smooth_amp: float = 0.5, checker: float = 2.0):
    """The two conductivity fields of ``switch2d`` on ``nx × nx`` cells (x fastest):
    ``(smooth, checkerboard)``, ``log10 k = smooth_amp·sin(2πx) sin(2πy)`` at the cell
    centres and ``log10 k = ±checker`` on ``blocks × blocks`` blocks (``+`` where the block
    indices' sum is even; a cell's block from its centre).

    Examples
    --------
    >>> s, c = switch_fields(4, blocks=2)
    >>> np.log10(c).reshape(4, 4).tolist()[0]
    [2.0, 2.0, -2.0, -2.0]
    """
    nx = _integer(nx, "nx", 1)
    blocks = _integer(blocks, "blocks", 1)
    x = (np.arange(nx) + 0.5) / nx
    X, Y = np.meshgrid(x, x, indexing="xy")
    smooth = 10.0 ** (smooth_amp * np.sin(2 * np.pi * X) * np.sin(2 * np.pi * Y))
    bx, by = np.floor(X * blocks).astype(int), np.floor(Y * blocks).astype(int)
    checkerboard = 10.0 ** np.where((bx + by) % 2 == 0, checker, -checker)
    return smooth.ravel(), checkerboard.ravel()


class SwitchHeat2D:
    """Backward-Euler heat conduction whose conductivity switches abruptly (``switch2d``).

    Step ``k``: ``(I + (Δt/h²) K_k) u_{k+1} = u_k + Δt``, ``K_k`` the finite-volume operator
    (:func:`experiments._problems_unseen.picard_matrix`) of the smooth field on the first and
    last thirds of the steps and of the checkerboard on the middle third.

    Parameters
    ----------
    nx : int
        Cells a side (``n = nx²``).
    steps : int, default 120
    ratio : float, default 20
        ``Δt / h²``.

    Examples
    --------
    >>> sim = SwitchHeat2D(8, steps=6)
    >>> sim.n, sim.phase.tolist()
    (64, [0, 0, 1, 1, 0, 0])
    """

    def __init__(self, nx: int, steps: int = 120, ratio: float = 20.0):
        self.nx = _integer(nx, "nx", 2)
        self.n = self.nx ** 2
        self.steps = _integer(steps, "steps", 3)
        self.ratio = _positive(ratio, "ratio")
        self.h = 1.0 / self.nx
        self.dt = self.ratio * self.h ** 2
        third = self.steps / 3
        k = np.arange(self.steps)
        self.phase = ((k >= third) & (k < 2 * third)).astype(int)  # 1: the checkerboard
        fields = switch_fields(self.nx)
        self._K = [picard_matrix(f, self.nx) for f in fields]
        self._ctx = [float(np.log10(f.max() / f.min())) for f in fields]
        eye = sp.identity(self.n, format="csr")
        self._A = [_sorted(eye + self.ratio * K) for K in self._K]

    def initial(self):
        return np.zeros(self.n)

    def contexts(self) -> np.ndarray:
        """``log10 (max k / min k)`` of the step's field."""
        return np.array([self._ctx[p] for p in self.phase])

    def matrix(self, k: int) -> sp.csr_matrix:
        return self._A[self.phase[k]].copy()


class SwitchSequence(AdaptiveStepSequence):
    """switch2d in the unseen study: shared ``A_k``, ``b_k = u_k + Δt`` from each method's
    own state, which is also its start."""

    kind, context_name = "switch2d", "log10 max k/min k"

    def __init__(self, nx, steps=120):
        self.sim = sim = SwitchHeat2D(nx, steps)
        self.name, self.n, self.T = f"switch2d_nx{nx}", sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))

    def shared(self, t):
        return self.sim.matrix(t), self.sim.dt, float(self.sim.contexts()[t])

    def system(self, shared, u):
        A, dt, ctx = shared
        return A, u + dt, u, ctx

    def tiny(self):
        return SwitchSequence(16, 6)


# -- layers3d ----------------------------------------------------------------------------------
def q1_1d(m: int, kelem=None):
    """The 1-D linear-element matrices on ``m`` equal elements of [0, 1], the ``m − 1``
    interior nodes: ``(K, M)`` with ``K`` the stiffness of the element coefficients
    ``kelem`` (default 1) and ``M`` the mass matrix weighted the same way.

    Examples
    --------
    >>> K, M = q1_1d(3)
    >>> K.toarray().tolist()
    [[6.0, -3.0], [-3.0, 6.0]]
    """
    m = _integer(m, "m", 2)
    k = np.ones(m) if kelem is None else np.asarray(kelem, dtype=float)
    if k.shape != (m,):
        raise ValueError(f"kelem must have {m} entries, got shape {k.shape}")
    h = 1.0 / m
    # full (m + 1)-node matrices, then the interior block
    kd = np.zeros(m + 1)
    kd[:-1] += k
    kd[1:] += k
    md = np.zeros(m + 1)
    md[:-1] += k
    md[1:] += k
    K = sp.diags([-k / h, kd / h, -k / h], [-1, 0, 1], format="csr")
    M = sp.diags([k * h / 6, md * h / 3, k * h / 6], [-1, 0, 1], format="csr")
    return K[1:-1, 1:-1], M[1:-1, 1:-1]


def q1_layered_3d(m: int, kz) -> sp.csr_matrix:
    """Trilinear (Q1) stiffness of ``−∇·(k(z)∇u)`` on ``m³`` equal cubes of the unit cube,
    the ``(m − 1)³`` interior nodes (x fastest), ``kz`` the coefficient of each of the ``m``
    element layers in z.  With ``k`` constant on each element and the element basis a
    tensor product, the matrix is exactly
    ``M_z(k) ⊗ M_y ⊗ K_x + M_z(k) ⊗ K_y ⊗ M_x + K_z(k) ⊗ M_y ⊗ M_x`` (27-point stencil).
    """
    m = _integer(m, "m", 2)
    Kz, Mz = q1_1d(m, kz)
    K1, M1 = q1_1d(m)
    A = sp.kron(Mz, sp.kron(M1, K1)) + sp.kron(Mz, sp.kron(K1, M1)) + sp.kron(
        Kz, sp.kron(M1, M1))
    return _sorted(A)


class Layers3D:
    """A layered medium along an inversion's iterates (``layers3d``).

    Iterate ``t``: ``log10 k`` of layer ``l`` (of ``layers`` equal horizontal layers) is
    ``a_l (1 − rate^t)``, ``a_l = +target`` for even ``l`` and ``−target`` for odd.

    Parameters
    ----------
    m : int
        Cubes a side (``n = (m − 1)³`` interior nodes; ``m`` a multiple of ``layers``).
    steps : int, default 40
    layers : int, default 8
    target : float, default 1.5
    rate : float, default 0.85

    Examples
    --------
    >>> sim = Layers3D(8, steps=3, layers=2)
    >>> sim.n, sim.contexts().round(3).tolist()
    (343, [0.0, 0.45, 0.833])
    """

    def __init__(self, m: int, steps: int = 40, layers: int = 8, target: float = 1.5,
                 rate: float = 0.85):
        self.m = _integer(m, "m", 2)
        self.layers = _integer(layers, "layers", 1)
        if self.m % self.layers:
            raise ValueError(f"m = {self.m} is not a multiple of layers = {self.layers}")
        self.steps = _integer(steps, "steps", 1)
        self.target = _positive(target, "target")
        self.rate = _positive(rate, "rate")
        if self.rate >= 1:
            raise ValueError(f"rate must be < 1, got {rate!r}")
        self.n = (self.m - 1) ** 3
        sign = np.where(np.arange(self.layers) % 2 == 0, 1.0, -1.0)
        t = np.arange(self.steps)[:, None]
        self.log_k = sign[None, :] * self.target * (1 - self.rate ** t)  # (steps, layers)
        self.b = np.full(self.n, 1.0 / self.m ** 3)  # ∫ f φ_i for f = 1

    def initial(self):
        return np.zeros(self.n)

    def contexts(self) -> np.ndarray:
        """``log10 (max k / min k)`` of each iterate."""
        return self.log_k.max(axis=1) - self.log_k.min(axis=1)

    def element_coefficients(self, t: int) -> np.ndarray:
        """``k`` of each of the ``m`` element layers in z at iterate ``t``."""
        return np.repeat(10.0 ** self.log_k[t], self.m // self.layers)

    def matrix(self, t: int) -> sp.csr_matrix:
        return q1_layered_3d(self.m, self.element_coefficients(t))


class LayersSequence(SteadyLoadSequence):
    """layers3d in the unseen study: shared ``A_t`` and load, warm starts from each method's
    previous solution."""

    kind, context_name = "layers3d", "log10 max k/min k"

    def __init__(self, m, steps=40):
        self._adopt(Layers3D(m, steps), f"layers3d_m{m}")

    def tiny(self):
        return LayersSequence(8, 4)


#: The kinds this module adds, with what their size argument means.
KINDS = {"plgraph": ("n", GraphPathSequence), "switch2d": ("nx", SwitchSequence),
         "layers3d": ("m", LayersSequence)}
