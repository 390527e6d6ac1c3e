"""A sixth set of sequences the learners were not designed on (the ``unseen`` study,
:doc:`/studies/unseen`), every parameter fixed here before any measurement.

* ``const3d`` — a **constant matrix**: backward-Euler heat conduction with a fixed step in
  the unit cube (``m³`` interior nodes, cell-face conductivities the harmonic means of a fixed
  smooth field ``κ(x) = exp(1.5 sin 2πx sin 2πy sin 2πz)``), ``(I + r L_κ) u = u_prev + Δt f``
  with ``r = Δt/h² = 2``; only the right-hand side changes (a heater circling the cube).
  Every step hands the solver a **fresh copy** of the same matrix (a loop that assembles
  it again each step).  Context: the time ``t ∈ (0, 1]``.
* ``remesh2d`` — a **pattern that changes at the same size**: P1 heat conduction
  ``(M + τK) u = M (u_prev + τ f)`` on ``nx²`` points of the unit square (Neumann boundary),
  the interior points jittered afresh (by up to 0.35 h) and **re-triangulated** (Delaunay)
  every 10 steps, so the matrix's pattern changes while ``n`` and the node numbering stay.
  ``τ/h²`` cycles from 0.1 to 10 and back each mesh.  Context ``log10 τ/h²``.
* ``jump2d`` — **scale jumps by orders of magnitude, nearly singular steps**: single-phase
  pressure diffusion in SI units (``c ∂p/∂t = ∇·(k/μ ∇p) + q``: storage ``c = 10⁻⁹ /Pa``,
  viscosity ``10⁻³ Pa s``, a log-normal permeability ``~10⁻¹²`` m² on 100 m × 100 m, cell
  centred, no-flow boundary, an injector and a producer), backward Euler with a well-test
  step schedule: ``Δt`` from 10⁻² s growing by 2 to 10⁸ s, then a rate change and back to
  10⁻² s, four times.  The matrix ``(c h²/Δt) I + T`` jumps from about 10⁻⁴ I to the
  singular no-flow transmissibility matrix ``T ~ 10⁻⁹`` plus ``10⁻¹⁷``: condition numbers from
  1 to about 10¹⁰.  Context ``log10 Δt``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ._problems_adaptive import AdaptiveStepSequence, OwnRhsSequence
from ._problems_checks import _integer, _positive
from ._problems_unseen5 import _sorted

__all__ = ["face_laplacian", "Const3D", "ConstSequence", "p1_parts", "jittered_points",
           "Remesh2D", "RemeshSequence", "Jump2D", "JumpSequence", "KINDS"]


def face_laplacian(shape, faces, dirichlet: bool) -> sp.csr_matrix:
    """The cell/node-centred ``−∇·(κ∇)`` of a tensor grid (no ``1/h²``): ``faces[d]`` are the
    conductivities between neighbours along axis ``d`` (an array of ``shape`` with one less
    along ``d``); with ``dirichlet`` every boundary node also couples with weight 1 (its
    face's value is the node's own ``κ``-face, here ``faces`` padded by the nearest) to a zero
    ghost, else the boundary is no-flow.  Nodes numbered C order (last axis fastest).

    Examples
    --------
    >>> face_laplacian((3,), [np.ones(2)], True).toarray()[0].tolist()
    [2.0, -1.0, 0.0]
    >>> face_laplacian((3,), [np.ones(2)], False).toarray()[0].tolist()
    [1.0, -1.0, 0.0]
    """
    shape = tuple(int(s) for s in shape)
    n = int(np.prod(shape))
    idx = np.arange(n).reshape(shape)
    rows, cols, vals = [], [], []
    diag = np.zeros(shape)
    for d, w in enumerate(faces):
        w = np.asarray(w, dtype=float)
        lo = idx[tuple(slice(0, -1) if a == d else slice(None) for a in range(len(shape)))]
        hi = idx[tuple(slice(1, None) if a == d else slice(None) for a in range(len(shape)))]
        rows += [lo.ravel(), hi.ravel()]
        cols += [hi.ravel(), lo.ravel()]
        vals += [-w.ravel(), -w.ravel()]
        pad = [(0, 0)] * len(shape)
        pad[d] = (1, 0)
        diag += np.pad(w, pad)
        pad[d] = (0, 1)
        diag += np.pad(w, pad)
        if dirichlet:  # the boundary faces: the nearest interior face's conductivity
            first = np.take(w, [0], axis=d)
            last = np.take(w, [-1], axis=d)
            edge = np.zeros(shape)
            sl0 = tuple(slice(0, 1) if a == d else slice(None) for a in range(len(shape)))
            sl1 = tuple(slice(-1, None) if a == d else slice(None) for a in range(len(shape)))
            edge[sl0] += first
            edge[sl1] += last
            diag += edge
    rows.append(idx.ravel())
    cols.append(idx.ravel())
    vals.append(diag.ravel())
    A = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n))
    return _sorted(A)


def _harmonic_faces(kcell: np.ndarray) -> list:
    """Harmonic means of ``kcell`` across each axis's faces."""
    out = []
    for d in range(kcell.ndim):
        a = np.take(kcell, np.arange(kcell.shape[d] - 1), axis=d)
        b = np.take(kcell, np.arange(1, kcell.shape[d]), axis=d)
        out.append(2.0 * a * b / (a + b))
    return out


# -- const3d ------------------------------------------------------------------------------------
class Const3D:
    """Backward-Euler heat conduction with a fixed step and a fixed variable coefficient
    (``const3d``): ``(I + r L_κ) u_{k+1} = u_k + Δt f(t_{k+1})`` on ``m³`` interior nodes of
    the unit cube (zero Dirichlet), ``r = Δt/h²``.

    Parameters
    ----------
    m : int
        Interior nodes a side (``n = m³``, ``h = 1/(m + 1)``).
    steps : int, default 150
    r : float, default 2.0

    Examples
    --------
    >>> sim = Const3D(4, steps=3)
    >>> sim.n, sim.matrix(0).shape, bool((sim.matrix(0) != sim.matrix(2)).nnz == 0)
    (64, (64, 64), True)
    """

    def __init__(self, m: int, steps: int = 150, r: float = 2.0):
        self.m = _integer(m, "m", 2)
        self.steps = _integer(steps, "steps", 1)
        self.r = _positive(r, "r")
        self.h = 1.0 / (self.m + 1)
        self.dt = np.full(self.steps, self.r * self.h ** 2)
        self.t = np.arange(1, self.steps + 1) / self.steps
        x = np.arange(1, self.m + 1) * self.h
        Z, Y, X = np.meshgrid(x, x, x, indexing="ij")  # x fastest
        self.kappa = np.exp(1.5 * np.sin(2 * np.pi * X) * np.sin(2 * np.pi * Y)
                            * np.sin(2 * np.pi * Z))
        self.L = face_laplacian(self.kappa.shape, _harmonic_faces(self.kappa), True)
        self.n = self.L.shape[0]
        self._A = _sorted(sp.identity(self.n, format="csr") + self.r * self.L)
        self._X, self._Y, self._Z = X.ravel(), Y.ravel(), Z.ravel()

    def contexts(self) -> np.ndarray:
        return self.t.copy()

    def initial(self) -> np.ndarray:
        return np.zeros(self.n)

    def matrix(self, k: int) -> sp.csr_matrix:
        """A fresh copy of the one matrix ``I + r L_κ`` (the loop assembles it again)."""
        return self._A.copy()

    def forcing(self, k: int) -> np.ndarray:
        """A Gaussian heater (width 0.08, amplitude 100) circling at radius 0.25 in the plane
        ``z = 0.5``, one turn over the run."""
        a = 2 * math.pi * self.t[k]
        cx, cy = 0.5 + 0.25 * math.cos(a), 0.5 + 0.25 * math.sin(a)
        d2 = (self._X - cx) ** 2 + (self._Y - cy) ** 2 + (self._Z - 0.5) ** 2
        return 100.0 * np.exp(-d2 / (2 * 0.08 ** 2))


class ConstSequence(AdaptiveStepSequence):
    """const3d in the unseen study: every step a fresh copy of the same matrix; each method's
    right-hand side and start from its own state."""

    kind, context_name = "const3d", "t"

    def __init__(self, m, steps=150):
        self.sim = sim = Const3D(m, steps)
        self.name, self.n, self.T = f"const3d_m{m}", sim.n, sim.steps
        self.bounds = (0.0, 1.0)

    def tiny(self):
        return ConstSequence(5, 6)


# -- remesh2d -----------------------------------------------------------------------------------
def p1_parts(points: np.ndarray, triangles: np.ndarray):
    """P1 stiffness ``K`` and consistent mass ``M`` (CSR, sorted) of a triangulation.

    Examples
    --------
    >>> K, M = p1_parts(np.array([[0., 0.], [1., 0.], [0., 1.]]), np.array([[0, 1, 2]]))
    >>> K.toarray().tolist(), round(float(M.sum()), 12)
    ([[1.0, -0.5, -0.5], [-0.5, 0.5, 0.0], [-0.5, 0.0, 0.5]], 0.5)
    """
    P = points[triangles]  # (t, 3, 2)
    e1, e2 = P[:, 1] - P[:, 0], P[:, 2] - P[:, 0]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    area = 0.5 * np.abs(det)
    # gradients of the barycentric functions: rows of inv([e1 e2])ᵀ, and the first's
    inv = np.stack([np.stack([e2[:, 1], -e1[:, 1]], 1), np.stack([-e2[:, 0], e1[:, 0]], 1)],
                   1) / det[:, None, None]  # inv[:, :, i]: the gradient of λ_{i+1}
    g1, g2 = inv[:, :, 0], inv[:, :, 1]
    G = np.stack([-g1 - g2, g1, g2], 1)  # (t, 3, 2)
    Ke = area[:, None, None] * np.einsum("tid,tjd->tij", G, G)
    Me = area[:, None, None] / 12.0 * (np.ones((3, 3)) + np.eye(3))
    r = np.repeat(triangles, 3, axis=1).ravel()
    c = np.tile(triangles, (1, 3)).ravel()
    n = points.shape[0]
    K = _sorted(sp.coo_matrix((Ke.ravel(), (r, c)), shape=(n, n)))
    M = _sorted(sp.coo_matrix((Me.ravel(), (r, c)), shape=(n, n)))
    return K, M


def jittered_points(nx: int, amplitude: float, rng) -> np.ndarray:
    """``nx²`` points of a uniform grid on the unit square (x fastest), the interior ones
    moved uniformly by up to ``amplitude·h`` along each axis."""
    x = np.linspace(0.0, 1.0, nx)
    X, Y = np.meshgrid(x, x, indexing="xy")
    P = np.stack([X.ravel(), Y.ravel()], 1)
    inner = (P[:, 0] > 0) & (P[:, 0] < 1) & (P[:, 1] > 0) & (P[:, 1] < 1)
    h = 1.0 / (nx - 1)
    P[inner] += rng.uniform(-amplitude * h, amplitude * h, size=(int(inner.sum()), 2))
    return P


class Remesh2D:
    """P1 heat conduction on a point cloud re-triangulated every ``every`` steps
    (``remesh2d``): ``(M + τ_k K) u_{k+1} = M (u_k + τ_k f(t_{k+1}))``.

    Parameters
    ----------
    nx : int
        Points a side (``n = nx²``).
    meshes : int, default 12
    every : int, default 10
        Steps on each mesh.
    seed : int, default 0

    Examples
    --------
    >>> sim = Remesh2D(6, meshes=2, every=3)
    >>> sim.steps, sim.matrix(0).shape == sim.matrix(3).shape, sim.mesh_of.tolist()
    (6, True, [0, 0, 0, 1, 1, 1])
    """

    def __init__(self, nx: int, meshes: int = 12, every: int = 10, seed: int = 0):
        from scipy.spatial import Delaunay

        self.nx = _integer(nx, "nx", 3)
        self.every = _integer(every, "every", 1)
        meshes = _integer(meshes, "meshes", 1)
        self.n = self.nx ** 2
        self.h = 1.0 / (self.nx - 1)
        rng = np.random.default_rng(seed)
        self.points, self.K, self.M = [], [], []
        for _ in range(meshes):
            P = jittered_points(self.nx, 0.35, rng)
            tri = Delaunay(P).simplices
            K, M = p1_parts(P, tri)
            self.points.append(P)
            self.K.append(K)
            self.M.append(M)
        self.steps = meshes * self.every
        self.mesh_of = np.arange(self.steps) // self.every
        j = np.arange(self.steps) % self.every
        # τ/h² from 0.1 up to 10 and back on each mesh (log-even)
        s = np.where(j < (self.every + 1) // 2, j, self.every - 1 - j)
        top = max(1, (self.every - 1) // 2)
        self.tau = self.h ** 2 * 10.0 ** (-1.0 + 2.0 * s / top)
        self.t = np.cumsum(self.tau) / self.tau.sum()

    def contexts(self) -> np.ndarray:
        return np.log10(self.tau / self.h ** 2)

    def initial(self) -> np.ndarray:
        return np.zeros(self.n)

    def matrix(self, k: int) -> sp.csr_matrix:
        i = self.mesh_of[k]
        return _sorted(self.M[i] + self.tau[k] * self.K[i])

    def source(self, k: int) -> np.ndarray:
        """A Gaussian heater (width 0.08, amplitude 100) circling at radius 0.25."""
        P = self.points[self.mesh_of[k]]
        a = 2 * math.pi * self.t[k]
        cx, cy = 0.5 + 0.25 * math.cos(a), 0.5 + 0.25 * math.sin(a)
        return 100.0 * np.exp(-((P[:, 0] - cx) ** 2 + (P[:, 1] - cy) ** 2) / (2 * 0.08 ** 2))

    def rhs(self, k: int, u: np.ndarray) -> np.ndarray:
        return self.M[self.mesh_of[k]] @ (u + self.tau[k] * self.source(k))


class RemeshSequence(OwnRhsSequence):
    """remesh2d in the unseen study: shared ``A_k``; each method's right-hand side from its
    own state (the nodal values carried to the new mesh), which is also its start."""

    kind, context_name = "remesh2d", "log10 τ/h²"

    def __init__(self, nx, meshes=12, every=10):
        self._adopt(Remesh2D(nx, meshes, every), f"remesh2d_nx{nx}")

    def tiny(self):
        return RemeshSequence(8, 2, 3)


# -- jump2d -------------------------------------------------------------------------------------
def _well_schedule(dt_min, dt_max, growth, cycles) -> np.ndarray:
    """``dt_min·growth^j`` up to ``dt_max``, then back to ``dt_min`` at once, ``cycles`` times
    (a rate change restarts the step)."""
    up = [dt_min]
    while up[-1] < dt_max * (1 - 1e-12):
        up.append(min(up[-1] * growth, dt_max))
    return np.tile(np.array(up), cycles)


class Jump2D:
    """Single-phase pressure diffusion in SI units with a well-test step schedule
    (``jump2d``): ``(c h²/Δt_k) p_{k+1} + T p_{k+1} = (c h²/Δt_k) p_k + q_k`` on ``nx²``
    cells (``h = 100/nx`` m, unit depth), ``T`` the no-flow transmissibility matrix (harmonic
    face means of ``k/μ``).

    Parameters
    ----------
    nx : int
    cycles : int, default 4
    dt_min, dt_max, growth : float, default 1e-2, 1e8, 2.0
    seed : int, default 0

    Examples
    --------
    >>> sim = Jump2D(6, cycles=1, dt_min=1.0, dt_max=4.0)
    >>> sim.steps, bool(abs(sim.T.sum()) < 1e-20), sim.contexts().round(2).tolist()
    (3, True, [0.0, 0.3, 0.6])
    """

    c, mu = 1e-9, 1e-3

    def __init__(self, nx: int, cycles: int = 4, dt_min: float = 1e-2, dt_max: float = 1e8,
                 growth: float = 2.0, seed: int = 0):
        self.nx = _integer(nx, "nx", 2)
        self.n = self.nx ** 2
        self.h = 100.0 / self.nx
        cycles = _integer(cycles, "cycles", 1)
        self.dt = _well_schedule(_positive(dt_min, "dt_min"), _positive(dt_max, "dt_max"),
                                 _positive(growth, "growth"), cycles)
        self.steps = self.dt.size
        per = self.steps // cycles
        self.cycle_of = np.arange(self.steps) // per
        # log-normal permeability: a few smooth modes, 1.5 decades of spread
        rng = np.random.default_rng(seed)
        x = (np.arange(self.nx) + 0.5) / self.nx
        Y, X = np.meshgrid(x, x, indexing="ij")
        g = np.zeros_like(X)
        for _ in range(6):
            kx, ky = rng.integers(1, 5, size=2)
            ph = rng.uniform(0, 2 * np.pi, size=2)
            g += np.cos(np.pi * kx * X + ph[0]) * np.cos(np.pi * ky * Y + ph[1])
        g /= g.std()
        self.perm = 1e-12 * 10.0 ** (0.75 * g)
        self.T = face_laplacian(self.perm.shape, _harmonic_faces(self.perm / self.mu), False)
        self.rates = 1e-4 * np.array([1.0, 3.0, 0.5, 2.0, 1.5, 0.8])[
            np.arange(cycles) % 6]  # m³/s per metre of depth
        i = self.nx // 5
        self.wells = (i * self.nx + i, (self.nx - 1 - i) * self.nx + self.nx - 1 - i)

    def contexts(self) -> np.ndarray:
        return np.log10(self.dt)

    def initial(self) -> np.ndarray:
        return np.zeros(self.n)

    def storage(self, k: int) -> float:
        return self.c * self.h ** 2 / self.dt[k]

    def matrix(self, k: int) -> sp.csr_matrix:
        return _sorted(self.T + self.storage(k) * sp.identity(self.n, format="csr"))

    def rhs(self, k: int, p: np.ndarray) -> np.ndarray:
        q = np.zeros(self.n)
        rate = self.rates[self.cycle_of[k]]
        q[self.wells[0]], q[self.wells[1]] = rate, -rate
        return self.storage(k) * p + q


class JumpSequence(OwnRhsSequence):
    """jump2d in the unseen study: shared ``A_k``; each method's right-hand side from its own
    pressure, which is also its start."""

    kind, context_name = "jump2d", "log10 Δt"

    def __init__(self, nx, cycles=4):
        self._adopt(Jump2D(nx, cycles), f"jump2d_nx{nx}")

    def tiny(self):
        s = JumpSequence(8, 1)
        keep = np.r_[0:3, -3:0]
        s.sim.dt, s.sim.cycle_of = s.sim.dt[keep], s.sim.cycle_of[keep]
        s.sim.steps = s.T = keep.size
        return s


#: The kinds this module adds, with what their size argument means.
KINDS = {"const3d": ("m", ConstSequence), "remesh2d": ("nx", RemeshSequence),
         "jump2d": ("nx", JumpSequence)}
