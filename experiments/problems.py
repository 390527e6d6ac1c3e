"""Problem generators of the paper's studies.

Sources of linear-system sequences:

* :class:`OffsetLaplacianSequence` -- ``A_t = A + c_t I`` on the 10×10 5-point Laplacian
  with Beta-distributed offsets ``c_t`` and random right-hand sides (the "learning" and
  "contextual" SOR studies);
* :class:`Heat2D` -- a Crank–Nicolson heat-equation simulation with time-varying diffusion
  ``κ(t)`` whose per-step systems are solved by SSOR-PCG (the "heat2d" study).  Its
  :meth:`Heat2D.system` / :meth:`Heat2D.run` interface is the docs' example of wrapping a
  user's simulation loop with :class:`bandit.Tuner`;
* :class:`DiffusionMC3D` -- a Monte Carlo batch of steady 3-D random-coefficient diffusion
  problems (SOR's best ω drifts with the coefficient's contrast);
* :class:`FEMHeat2D` -- a P1 finite-element heat loop on an unstructured mesh of the unit
  disk (SSOR-PCG, where ω barely matters near its best value);
* :class:`PlaneElasticity` -- one plane linear-elasticity matrix in block order with random
  right-hand sides (SOR, where Young's theory puts the best ω at 1.65 and the measured best
  is 1.45: a wrong theory prior).

All assembly is vectorised: no Python loop visits grid points.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import scipy.sparse as sp

__all__ = [
    "VARIANCES",
    "OFFSET_BOUNDS",
    "OFFSET_CONTEXT_BOUNDS",
    "grid_laplacian",
    "OffsetLaplacianSequence",
    "bump",
    "kappa",
    "Heat2D",
    "DiffusionMC3D",
    "disk_mesh",
    "p1_matrices",
    "FEMHeat2D",
    "elasticity_2d",
    "PlaneElasticity",
]

#: Beta(α, β) parameters of the offset distribution, by variance level (the paper's).
VARIANCES = {"high": (0.5, 1.5), "low": (2.0, 6.0)}
#: Support of the offsets ``c_t = -0.15 + 0.6·Beta(α, β)``; also the learners' context interval.
OFFSET_BOUNDS = (-0.15, 0.45)
#: Context interval the paper's contextual learners are given (wider than the support).
OFFSET_CONTEXT_BOUNDS = (-0.15, 0.65)


def _integer(value, name: str, low: int) -> int:
    """``value`` as an int if it is an integer >= ``low`` (numpy integers and integral floats
    such as ``1e3`` too), else ``ValueError`` naming ``name``: never truncated silently."""
    ok = not isinstance(value, (bool, np.bool_))
    try:
        ok = ok and float(value) == int(value) and int(value) >= low
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _positive(value, name: str) -> float:
    """``value`` as a float if it is a finite real number > 0, else ``ValueError``."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))
    if not (ok and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _state(out, n: int, where: str) -> np.ndarray:
    """The new state from what a user's ``solve`` returned (an array, or a result with
    ``x``), checked to be a solution of ``n`` entries."""
    x = getattr(out, "x", out)
    try:
        u = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        u = None
    if u is None or u.shape != (n,):
        what = f"shape {u.shape}" if u is not None else type(x).__name__
        raise ValueError(f"{where} {what}; expected a solution of {n} entries (an "
                         "array, or a result with .x such as a SolveResult)")
    return u


def grid_laplacian(m: int) -> sp.csr_matrix:
    """5-point Laplacian on an ``m × m`` interior grid (:func:`solvers.gallery.laplacian_2d`:
    4 on the diagonal, -1 off, natural row-major order, no ``1/h²`` scaling) as a
    ``scipy.sparse.csr_matrix``, whose ``*`` is the matrix product the studies' assembly uses.

    Examples
    --------
    >>> L = grid_laplacian(3)
    >>> L.shape, L.diagonal().tolist()[:2], float(L[0, 1]), float(L[0, 3]), float(L[0, 4])
    ((9, 9), [4.0, 4.0], -1.0, -1.0, 0.0)
    """
    from solvers import gallery

    return sp.csr_matrix(gallery.laplacian_2d(m))


# ---------------------------------------------------------------------------------------
# Offset Laplacian sequences
# ---------------------------------------------------------------------------------------


class OffsetLaplacianSequence:
    """The paper's SOR instance sequence ``A_t = A + c_t I``, ``b_t``, ``t = 0..T-1``.

    ``A`` is the 5-point Laplacian on an ``m × m`` grid (paper: m = 10, n = 100),
    ``c_t = -0.15 + 0.6·Beta(α, β)`` with ``(α, β)`` from :data:`VARIANCES`, and ``b_t`` is
    standard normal, redrawn until ``‖b_t‖ ≤ √n``.  All offsets are drawn first, then the
    right-hand sides in order, from one ``numpy.random.Generator`` seeded with ``seed``,
    so a (seed, T, variance, m) tuple fixes the whole sequence.

    Parameters
    ----------
    T : int
        Number of instances.
    variance : {"high", "low"} or (float, float)
        Offset distribution: a :data:`VARIANCES` key or explicit Beta ``(α, β)``.
    m : int, default 10
        Grid size of the base Laplacian.
    seed : int, numpy.random.Generator or None
        Seed of the generator.

    Attributes
    ----------
    A : scipy.sparse.csr_matrix
        Base Laplacian (``n × n``).
    offsets : ndarray, shape (T,)
        ``c_t``; also the context of the contextual learners.
    B : ndarray, shape (T, n)
        Right-hand sides, one per row.

    Examples
    --------
    >>> seq = OffsetLaplacianSequence(4, "low", seed=0)
    >>> len(seq), seq.n, bool(np.all(np.linalg.norm(seq.B, axis=1) <= 10.0))
    (4, 100, True)
    >>> A, b, c = seq[0]
    >>> bool(np.allclose(A.diagonal(), 4.0 + c))
    True
    """

    def __init__(self, T: int, variance="high", *, m: int = 10, seed=None):
        T = _integer(T, "T", 0)
        m = _integer(m, "m", 2)
        if isinstance(variance, str):
            if variance not in VARIANCES:
                raise ValueError(f"variance must be one of {sorted(VARIANCES)}, got {variance!r}")
            alpha, beta = VARIANCES[variance]
        else:
            alpha, beta = map(float, variance)
        self.variance = variance
        self.alpha, self.beta = alpha, beta
        self.T = int(T)
        self.m = int(m)
        self.A = grid_laplacian(m)
        self.n = self.A.shape[0]
        rng = np.random.default_rng(seed)
        self.offsets = -0.15 + 0.6 * rng.beta(alpha, beta, size=self.T)
        self.B = self._draw_rhs(rng, self.T, self.n)
        # position of the diagonal inside A.data: A_t only changes there
        self._diag_pos = _diagonal_positions(self.A)

    @staticmethod
    def _draw_rhs(rng: np.random.Generator, T: int, n: int) -> np.ndarray:
        """Standard normal rows, each redrawn until its norm is at most √n (rejection)."""
        B = np.empty((T, n))
        limit = np.sqrt(n)
        for t in range(T):  # loop over instances, not grid points; ~2 draws per row
            while True:
                b = rng.standard_normal(n)
                if np.linalg.norm(b) <= limit:
                    B[t] = b
                    break
        return B

    def __len__(self) -> int:
        return self.T

    def matrix(self, t: int) -> sp.csr_matrix:
        """``A + c_t I`` as a new CSR matrix with the sparsity pattern of ``A``."""
        At = self.A.copy()
        At.data[self._diag_pos] += self.offsets[t]
        return At

    def __getitem__(self, t: int):
        """``(A_t, b_t, c_t)``."""
        if not -self.T <= t < self.T:
            raise IndexError(t)
        t %= self.T
        return self.matrix(t), self.B[t], float(self.offsets[t])

    def __iter__(self) -> Iterator:
        for t in range(self.T):
            yield self[t]


def _diagonal_positions(A: sp.csr_matrix) -> np.ndarray:
    """Index into ``A.data`` of each stored diagonal entry (every row must have one)."""
    A = A.tocsr()
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    pos = np.flatnonzero(rows == A.indices)
    if pos.size != A.shape[0]:
        raise ValueError("matrix must store every diagonal entry")
    return pos


# ---------------------------------------------------------------------------------------
# Heat equation
# ---------------------------------------------------------------------------------------


def bump(X: np.ndarray, Y: np.ndarray, centre, radius: float) -> np.ndarray:
    """Smooth bump ``exp(1 - 1/(1 - min(1, |x - c|²/r²)))``: 1 at the centre, 0 outside.

    Examples
    --------
    >>> bump(np.array([0.5, 0.9]), np.array([0.5, 0.5]), (0.5, 0.5), 0.25).tolist()
    [1.0, 0.0]
    """
    q = ((X - centre[0]) ** 2 + (Y - centre[1]) ** 2) / radius**2
    with np.errstate(divide="ignore"):
        # q >= 1 gives 1/0 = inf and exp(-inf) = 0: exactly zero outside the ball
        return np.exp(1.0 - 1.0 / (1.0 - np.minimum(1.0, q)))


def kappa(t):
    """Diffusion coefficient ``κ(t) = max(0.1 sin 2πt, -10 sin 2πt)`` (in [0, 10]).

    Examples
    --------
    >>> round(float(kappa(0.25)), 12), round(float(kappa(0.75)), 12)
    (0.1, 10.0)
    """
    s = np.sin(2.0 * np.pi * np.asarray(t, dtype=float))
    return np.maximum(0.1 * s, -10.0 * s)


class Heat2D:
    """Crank–Nicolson simulation of ``u_t = κ(t) Δu + f(t, x)`` on the unit square.

    Zero Dirichlet boundary, ``nx`` intervals per side (``n = (nx - 1)²`` unknowns,
    ``dx = 1/nx``), ``steps`` steps of ``dt = t_end/steps``.  Step ``k`` goes from
    ``t = k·dt`` to ``t + dt`` through ``s = t + dt/2``::

        A = I - (κ(s) dt/2) K_h,   b = (I + (κ(s) dt/2) K_h) u + dt f(s, ·),

    with ``K_h = -grid_laplacian(nx - 1)/dx²``.  Forcing ``f = 32·bump(x; (0.5 + cos(16πs)/4,
    0.5 + sin(16πs)/4), 0.125)``; initial state ``bump(x; (0.5, 0.5), 0.25)``.  ``A`` is SPD
    with eigenvalues in ``[1, 1 + 4 κ dt/dx²]``, so κ(s) is the natural context.

    Parameters
    ----------
    nx : int, default 50
        Intervals per side (paper: 25, 50, 100, 200, 400).
    steps : int, default 5000
        Number of time steps.
    t_end : float, default 5.0
        Final time (paper: ``dt = 0.001``).

    Examples
    --------
    Wrap the time loop; any solver taking ``(A, b, x0)`` fits, e.g. ``bandit.Tuner.solve``:

    >>> import scipy.sparse.linalg as spla
    >>> sim = Heat2D(nx=8, steps=3)
    >>> u = sim.initial()
    >>> for k in range(sim.steps):
    ...     A, b, kap = sim.system(k, u)
    ...     u = spla.spsolve(A.tocsc(), b)
    >>> u.shape, bool(np.all(np.isfinite(u)))
    ((49,), True)
    """

    def __init__(self, nx: int = 50, steps: int = 5000, t_end: float = 5.0):
        # dt = t_end/steps enters every matrix: a negative or NaN end time would make them
        # indefinite or NaN, and a fractional size would be truncated
        self.nx = _integer(nx, "nx", 2)
        self.steps = _integer(steps, "steps", 1)
        self.t_end = _positive(t_end, "t_end")
        self.dt = self.t_end / self.steps
        self.dx = 1.0 / self.nx
        self.m = self.nx - 1
        self.n = self.m * self.m
        self.L = grid_laplacian(self.m)
        self._diag_pos = _diagonal_positions(self.L)
        xs = np.arange(1, self.nx) * self.dx
        # natural order: x fastest, matching grid_laplacian's idx[i, j] = i*m + j
        X, Y = np.meshgrid(xs, xs, indexing="xy")
        self.X, self.Y = X.ravel(), Y.ravel()

    # -- formulas -------------------------------------------------------------------------
    @property
    def kappa_bounds(self) -> tuple[float, float]:
        """Context interval ``[min κ, max κ] = [0, 10]`` given to contextual learners."""
        return (0.0, 10.0)

    def times(self) -> np.ndarray:
        """Mid-step times ``s_k = k·dt + dt/2``, shape ``(steps,)``."""
        return (np.arange(self.steps) + 0.5) * self.dt

    def contexts(self) -> np.ndarray:
        """``κ(s_k)`` for every step (the learners' context), shape ``(steps,)``."""
        return kappa(self.times())

    def initial(self) -> np.ndarray:
        """Initial state ``u0 = bump(x; (0.5, 0.5), 0.25)`` on the interior grid."""
        return bump(self.X, self.Y, (0.5, 0.5), 0.25)

    def forcing(self, s: float) -> np.ndarray:
        """``f(s, ·) = 32·bump(x; (0.5 + cos(16πs)/4, 0.5 + sin(16πs)/4), 0.125)``."""
        c = (0.5 + np.cos(16 * np.pi * s) / 4, 0.5 + np.sin(16 * np.pi * s) / 4)
        return 32.0 * bump(self.X, self.Y, c, 0.125)

    def matrix(self, s: float) -> sp.csr_matrix:
        """``A(s) = I + (κ(s) dt/(2 dx²)) L`` sharing the Laplacian's sparsity pattern."""
        alpha = float(kappa(s)) * self.dt / (2.0 * self.dx**2)
        A = self.L.copy()
        A.data *= alpha
        A.data[self._diag_pos] += 1.0
        return A

    def system(self, k: int, u: np.ndarray):
        """Linear system of step ``k`` from state ``u``: returns ``(A, b, κ(s))``.

        The matrix–vector product uses the Laplacian once (``b = u - α L u + dt f``) rather
        than assembling ``I + (κ dt/2) K_h``.
        """
        if not 0 <= k < self.steps:
            raise IndexError(f"step {k} outside 0..{self.steps - 1}")
        s = (k + 0.5) * self.dt
        kap = float(kappa(s))
        alpha = kap * self.dt / (2.0 * self.dx**2)
        A = self.matrix(s)
        b = u - alpha * (self.L @ u) + self.dt * self.forcing(s)
        return A, b, kap

    # -- loops ----------------------------------------------------------------------------
    def run(self, solve: Callable, u0: np.ndarray | None = None, *, progress=False,
            callback: Callable | None = None) -> np.ndarray:
        """Run the simulation with ``solve(A, b, x0=u, context=κ)`` as the linear solver.

        Parameters
        ----------
        solve : callable
            Returns either a solution array or an object with an ``x`` attribute (such as
            :class:`solvers.SolveResult`, which ``bandit.Tuner.solve`` returns).
        u0 : ndarray, optional
            Initial state (default :meth:`initial`).
        progress : bool or str
            Show a tqdm bar (a string is used as its description).
        callback : callable, optional
            ``callback(k, result)`` after each step with whatever ``solve`` returned.

        Returns
        -------
        ndarray
            The final state.
        """
        from tqdm.auto import tqdm

        u = self.initial() if u0 is None else _state(u0, self.n, "u0 (the initial state) has")
        desc = progress if isinstance(progress, str) else "heat2d"
        for k in tqdm(range(self.steps), desc=desc, disable=not progress, leave=False):
            A, b, kap = self.system(k, u)
            out = solve(A, b, x0=u, context=kap)
            u = _state(out, self.n, f"step {k}: solve returned")
            if callback is not None:
                callback(k, out)
        return u


# ---------------------------------------------------------------------------------------
# 3-D random-coefficient diffusion (Monte Carlo)
# ---------------------------------------------------------------------------------------


def _gaussian_field(rng: np.random.Generator, m: int, corr: float) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field on an ``m³`` cell grid of the unit cube.

    White noise filtered in Fourier space by a Gaussian kernel of correlation length ``corr``
    (periodic, then normalised to unit sample variance): cheap, smooth, and enough to make
    each sample a different heterogeneous medium.
    """
    k = np.fft.fftfreq(m, d=1.0 / m) * 2.0 * np.pi  # wavenumbers of the unit cube
    K2 = k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2
    spectrum = np.exp(-0.25 * K2 * corr**2)
    g = np.real(np.fft.ifftn(np.fft.fftn(rng.standard_normal((m, m, m))) * spectrum))
    g -= g.mean()
    sd = g.std()
    return g / sd if sd > 0 else g


class DiffusionMC3D:
    """Monte Carlo sequence of steady 3-D diffusion problems ``−∇·(a ∇u) = 1``, ``u = 0`` on ∂Ω.

    Cell-centred finite volumes on an ``m × m × m`` grid of the unit cube (``n = m³``,
    7-point stencil, natural order with x fastest).  Sample ``t`` draws a log-normal
    coefficient ``a_t = exp(σ_t g_t)`` with ``g_t`` a unit-variance Gaussian random field of
    correlation length ``corr`` and ``σ_t`` uniform in ``sigma_range``; faces get the harmonic
    mean of their two cells (boundary faces ``2 a`` of the cell, a Dirichlet wall half a cell
    away).  Rows are scaled by ``h²`` so ``A_t = h⁻² ·`` (flux matrix) is SPD, an M-matrix, and
    shares one sparsity pattern across samples: the situation of a user who re-assembles a
    new scipy matrix each sample.  The context is ``σ_t`` (larger σ: higher contrast, worse
    conditioning, SOR's best ω closer to 2).

    Parameters
    ----------
    m : int, default 24
        Cells per side (``n = m³``; 24 gives n = 13 824).
    samples : int, default 100
        Length of the sequence.
    sigma_range : (float, float), default (0.25, 2.5)
        Range of the log-coefficient's standard deviation.
    corr : float, default 0.1
        Correlation length of the log-coefficient field.
    seed : int or None
        Seed of the sequence (the fields and σ's are drawn lazily per sample from
        ``(seed, t)``, so ``seq[t]`` is the same whatever order samples are visited in).

    Examples
    --------
    >>> seq = DiffusionMC3D(m=6, samples=3, seed=0)
    >>> A, b, sigma = seq[0]
    >>> A.shape, A.nnz, bool(abs(A - A.T).max() < 1e-12), 0.25 <= sigma <= 2.5
    ((216, 216), 1296, True, True)
    >>> bool(np.all(np.linalg.eigvalsh(A.toarray()) > 0))
    True
    >>> A2 = seq[1][0]
    >>> bool(np.array_equal(A.indices, A2.indices)), bool(np.allclose(A.data, A2.data))
    (True, False)
    """

    def __init__(self, m: int = 24, samples: int = 100, *, sigma_range=(0.25, 2.5),
                 corr: float = 0.1, seed=None):
        if int(m) != m or m < 2:
            raise ValueError(f"m must be an integer >= 2, got {m!r}")
        if int(samples) != samples or samples < 1:
            raise ValueError(f"samples must be a positive integer, got {samples!r}")
        lo, hi = (float(v) for v in sigma_range)
        if not (0.0 <= lo <= hi and np.isfinite(hi)):
            raise ValueError(f"sigma_range must be (lo, hi) with 0 <= lo <= hi, got {sigma_range!r}")
        if not (corr > 0 and np.isfinite(corr)):
            raise ValueError(f"corr must be a positive number, got {corr!r}")
        self.m, self.samples = int(m), int(samples)
        self.n = self.m ** 3
        self.h = 1.0 / self.m
        self.sigma_range, self.corr = (lo, hi), float(corr)
        self.seed = seed
        self.b = np.ones(self.n)  # f = 1, times h² after the row scaling
        self._assemble_pattern()

    @property
    def context_bounds(self) -> tuple[float, float]:
        """Interval of the context σ (the sigma range)."""
        return self.sigma_range

    def _assemble_pattern(self):
        m, n = self.m, self.n
        idx = np.arange(n).reshape(m, m, m)  # idx[z, y, x]
        pairs = []
        for axis in range(3):  # interior faces along each axis: (cell, neighbour)
            lo = np.take(idx, np.arange(m - 1), axis=axis).ravel()
            hi = np.take(idx, np.arange(1, m), axis=axis).ravel()
            pairs.append((lo, hi))
        self._faces = (np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
        # number of boundary faces of each cell (Dirichlet walls)
        walls = np.zeros((m, m, m))
        for axis in range(3):
            for end in (0, m - 1):
                sl = [slice(None)] * 3
                sl[axis] = end
                walls[tuple(sl)] += 1
        self._walls = walls.ravel()
        lo, hi = self._faces
        rows = np.concatenate([np.arange(n), lo, hi])
        cols = np.concatenate([np.arange(n), hi, lo])
        # canonical CSR of the pattern; `order` maps (diag, lo-hi, hi-lo) entries to data slots
        key = rows.astype(np.int64) * n + cols
        order = np.argsort(key, kind="stable")
        self._slot = np.empty_like(order)
        self._slot[order] = np.arange(order.size)
        self._indices = cols[order].astype(np.int32)
        self._indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n)))).astype(np.int32)

    def sigma(self, t: int) -> float:
        """σ_t, the context of sample ``t``."""
        return float(self._rng(t).uniform(*self.sigma_range))

    def _rng(self, t: int) -> np.random.Generator:
        return np.random.default_rng([0 if self.seed is None else int(self.seed), int(t)])

    def coefficient(self, t: int) -> np.ndarray:
        """Cell values of ``a_t`` (length ``n``, natural order)."""
        rng = self._rng(t)
        sigma = rng.uniform(*self.sigma_range)
        return np.exp(sigma * _gaussian_field(rng, self.m, self.corr)).ravel()

    def matrix(self, t: int) -> sp.csr_matrix:
        """``A_t`` as a new scipy CSR matrix on the shared pattern (sorted indices)."""
        a = self.coefficient(t)
        lo, hi = self._faces
        face = 2.0 * a[lo] * a[hi] / (a[lo] + a[hi])  # harmonic mean
        diag = 2.0 * a * self._walls
        np.add.at(diag, lo, face)
        np.add.at(diag, hi, face)
        vals = np.concatenate([diag, -face, -face]) / self.h**2
        data = np.empty(vals.size)
        data[self._slot] = vals
        return sp.csr_matrix((data, self._indices.copy(), self._indptr.copy()),
                             shape=(self.n, self.n))

    def __len__(self) -> int:
        return self.samples

    def __getitem__(self, t: int):
        """``(A_t, b, σ_t)``."""
        if not -self.samples <= t < self.samples:
            raise IndexError(f"sample {t} outside 0..{self.samples - 1}")
        t = t % self.samples
        return self.matrix(t), self.b.copy(), self.sigma(t)

    def __iter__(self) -> Iterator:
        for t in range(self.samples):
            yield self[t]


# ---------------------------------------------------------------------------------------
# Unstructured P1 finite elements: heat equation on the unit disk
# ---------------------------------------------------------------------------------------


def disk_mesh(h: float = 0.02, *, seed=None):
    """Delaunay triangulation of the unit disk with about ``π/h²`` nodes.

    Interior nodes are a square lattice of spacing ``h`` jittered by up to ``0.3 h`` in each
    coordinate (kept if farther than ``0.6 h`` from the circle); boundary nodes are
    ``⌈2π/h⌉`` equally spaced points on the circle.  The interior nodes come first.

    Parameters
    ----------
    h : float
        Mesh size.
    seed : int or None
        Seed of the jitter.

    Returns
    -------
    (ndarray, ndarray, int)
        Node coordinates ``(N, 2)``, triangles ``(E, 3)`` (node indices, counter-clockwise or
        not) and the number of interior nodes.

    Examples
    --------
    >>> pts, tri, n_in = disk_mesh(0.25, seed=0)
    >>> bool(np.all(np.hypot(*pts[:n_in].T) < 1)), bool(np.allclose(np.hypot(*pts[n_in:].T), 1))
    (True, True)
    """
    from scipy.spatial import Delaunay

    if not (0 < h < 1):
        raise ValueError(f"h must lie in (0, 1), got {h!r}")
    rng = np.random.default_rng(seed)
    xs = np.arange(-1.0, 1.0 + h / 2, h)
    X, Y = np.meshgrid(xs, xs)
    P = np.column_stack([X.ravel(), Y.ravel()]) + rng.uniform(-0.3 * h, 0.3 * h, (X.size, 2))
    P = P[np.hypot(P[:, 0], P[:, 1]) < 1.0 - 0.6 * h]
    nb = int(np.ceil(2.0 * np.pi / h))
    theta = 2.0 * np.pi * np.arange(nb) / nb
    pts = np.vstack([P, np.column_stack([np.cos(theta), np.sin(theta)])])
    return pts, Delaunay(pts).simplices.astype(np.int64), len(P)


def p1_matrices(pts: np.ndarray, tri: np.ndarray):
    """Stiffness ``K`` and consistent mass ``M`` of continuous piecewise-linear elements.

    Element ``e`` with area ``|T|`` and barycentric gradients ``g_i`` adds
    ``K_ij = |T| g_i·g_j`` and ``M_ij = |T| (1 + δ_ij)/12``.

    Returns
    -------
    (scipy.sparse.csr_matrix, scipy.sparse.csr_matrix)
        ``K`` and ``M`` over all nodes (no boundary condition applied).

    Examples
    --------
    Constants are in the kernel of ``K``, and ``M`` integrates 1 to the area:

    >>> pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> K, M = p1_matrices(pts, np.array([[0, 1, 2], [1, 3, 2]]))
    >>> float(abs(K @ np.ones(4)).max()), round(float(M.sum()), 12)
    (0.0, 1.0)
    """
    p = pts[tri]
    d1, d2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    area = 0.5 * np.abs(det)
    G = np.empty((len(tri), 3, 2))
    G[:, 1] = np.column_stack([d2[:, 1], -d2[:, 0]]) / det[:, None]
    G[:, 2] = np.column_stack([-d1[:, 1], d1[:, 0]]) / det[:, None]
    G[:, 0] = -G[:, 1] - G[:, 2]
    Ke = area[:, None, None] * np.einsum("eik,ejk->eij", G, G)
    Me = area[:, None, None] / 12.0 * (np.ones((3, 3)) + np.eye(3))
    rows = np.repeat(tri, 3, axis=1).ravel()
    cols = np.tile(tri, (1, 3)).ravel()
    N = len(pts)
    K = sp.csr_matrix((Ke.ravel(), (rows, cols)), shape=(N, N))
    M = sp.csr_matrix((Me.ravel(), (rows, cols)), shape=(N, N))
    K.sum_duplicates()
    M.sum_duplicates()
    return K, M


class FEMHeat2D:
    """Crank–Nicolson P1 finite elements for ``u_t = κ(t) Δu + f(t, x)`` on the unit disk.

    Unstructured mesh (:func:`disk_mesh`), zero Dirichlet boundary, unknowns at the interior
    nodes numbered by reverse Cuthill–McKee (what a finite-element code typically does).
    Step ``k`` (``s = (k + ½) dt``) solves::

        (M + (dt/2) κ(s) K) u⁺ = (M − (dt/2) κ(s) K) u + dt M f(s)

    with ``κ(s) = 10^{sin(2π s / period)}`` (from 0.1 to 10) and a Gaussian source
    ``f = 10 exp(−|x − c(s)|²/0.02)`` circling at radius 0.5 once per unit time.  The matrix
    is SPD; SSOR-PCG warm-started from ``u`` takes 10–80 iterations and its best ω barely
    moves with κ (a flat landscape: the best fixed ω is within about 1 % of the per-step
    optimum), while ω near 2 costs twice as much.  The context is ``κ(s)``.

    Parameters
    ----------
    h : float, default 0.02
        Mesh size (0.02: n ≈ 7 700 unknowns).
    steps : int, default 600
        Time steps.
    t_end : float, default 6.0
        Final time.
    period : float, default 3.0
        Period of ``κ``.
    seed : int or None
        Seed of the mesh jitter.

    Examples
    --------
    >>> sim = FEMHeat2D(h=0.2, steps=3, seed=0)
    >>> A, b, kap = sim.system(0, sim.initial())
    >>> bool(abs(A - A.T).max() < 1e-14), bool(np.all(np.linalg.eigvalsh(A.toarray()) > 0))
    (True, True)
    """

    def __init__(self, h: float = 0.02, steps: int = 600, t_end: float = 6.0, *,
                 period: float = 3.0, seed=None):
        from scipy.sparse.csgraph import reverse_cuthill_mckee

        steps = _integer(steps, "steps", 1)
        t_end, period = _positive(t_end, "t_end"), _positive(period, "period")
        pts, tri, n_in = disk_mesh(h, seed=seed)
        K, M = p1_matrices(pts, tri)
        K, M = K[:n_in][:, :n_in].tocsr(), M[:n_in][:, :n_in].tocsr()
        perm = reverse_cuthill_mckee(K, symmetric_mode=True)
        self.K = K[perm][:, perm].tocsr()
        self.M = M[perm][:, perm].tocsr()
        self.K.sort_indices()
        self.M.sort_indices()
        self.points = pts[:n_in][perm]
        self.n = n_in
        self.steps, self.t_end, self.period = int(steps), float(t_end), float(period)
        self.dt = self.t_end / self.steps
        self.h, self.seed = float(h), seed

    @property
    def kappa_bounds(self) -> tuple[float, float]:
        """Range ``[0.1, 10]`` of the context κ."""
        return (0.1, 10.0)

    def kappa(self, s):
        """``κ(s) = 10^{sin(2π s / period)}``."""
        return 10.0 ** np.sin(2.0 * np.pi * np.asarray(s, dtype=float) / self.period)

    def initial(self) -> np.ndarray:
        """Initial state: zero."""
        return np.zeros(self.n)

    def forcing(self, s: float) -> np.ndarray:
        """Nodal values of ``f(s, ·)``."""
        c = 0.5 * np.array([np.cos(2.0 * np.pi * s), np.sin(2.0 * np.pi * s)])
        return 10.0 * np.exp(-np.sum((self.points - c) ** 2, axis=1) / 0.02)

    def system(self, k: int, u: np.ndarray):
        """Linear system of step ``k`` from state ``u``: ``(A, b, κ(s))``."""
        if not 0 <= k < self.steps:
            raise IndexError(f"step {k} outside 0..{self.steps - 1}")
        s = (k + 0.5) * self.dt
        kap = float(self.kappa(s))
        a = 0.5 * self.dt * kap
        A = (self.M + a * self.K).tocsr()
        A.sort_indices()
        b = self.M @ (u + self.dt * self.forcing(s)) - a * (self.K @ u)
        return A, b, kap

    def run(self, solve: Callable, u0: np.ndarray | None = None) -> np.ndarray:
        """Run the loop with ``solve(A, b, x0=u, context=κ)`` (returns an array or a result
        with ``x``); returns the final state."""
        u = self.initial() if u0 is None else _state(u0, self.n, "u0 (the initial state) has")
        for k in range(self.steps):
            A, b, kap = self.system(k, u)
            out = solve(A, b, x0=u, context=kap)
            u = _state(out, self.n, f"step {k}: solve returned")
        return u


# ---------------------------------------------------------------------------------------
# Plane linear elasticity (a matrix Young's theory mispredicts)
# ---------------------------------------------------------------------------------------


def elasticity_2d(m: int, lam: float = 10.0, mu: float = 1.0) -> sp.csr_matrix:
    """Plane linear elasticity on an ``m × m`` interior grid, finite differences, the two
    displacement components in block order (``2 m²`` unknowns, clamped boundary):

    ``A = [[μL + (λ+μ)(T⊗I), (λ+μ)(D⊗D)], [(λ+μ)(D⊗D)ᵀ, μL + (λ+μ)(I⊗T)]]``

    with ``T`` the 1-D second difference (2 on the diagonal, −1 off), ``D`` the central first
    difference (±1/2), ``L = T⊗I + I⊗T`` the 5-point Laplacian and Lamé parameters ``λ``,
    ``μ``.  Symmetric positive definite; not consistently ordered (the coupling blocks link
    unknowns whose levels in the two blocks do not differ by one), so Young's SOR theory,
    read off its Jacobi spectrum, predicts a best ω above the measured one.

    Examples
    --------
    >>> A = elasticity_2d(4)
    >>> A.shape, bool(abs(A - A.T).max() == 0), float(A.diagonal().min())
    ((32, 32), True, 26.0)
    >>> bool(np.linalg.eigvalsh(A.toarray()).min() > 0)
    True
    """
    m = _integer(m, "m", 2)
    lam, mu = _positive(lam, "lam"), _positive(mu, "mu")
    eye = sp.identity(m, format="csr")
    T = sp.diags([-np.ones(m - 1), 2.0 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    D = 0.5 * sp.diags([-np.ones(m - 1), np.ones(m - 1)], [-1, 1])
    L = sp.kron(T, eye) + sp.kron(eye, T)
    C = (lam + mu) * sp.kron(D, D)
    return sp.csr_matrix(sp.bmat([[mu * L + (lam + mu) * sp.kron(T, eye), C],
                                  [C.T, mu * L + (lam + mu) * sp.kron(eye, T)]]))


class PlaneElasticity:
    """``T`` right-hand sides for one :func:`elasticity_2d` matrix (a load-case sweep).

    The right-hand sides are standard normal, drawn in order from one
    ``numpy.random.Generator`` seeded with ``seed``.  The matrix never changes, so a learner
    has no context that varies; ``λ`` is given as the (constant) context.  Young's theory
    from the matrix's Jacobi spectrum puts SOR's best ω at 1.65 on the 8 × 8 grid, while the
    cheapest fixed ω over 200 right-hand sides is 1.45 (1.65 costs 1.4 × as much): a
    sequence on which a learner's theory prior is wrong along a whole side of the curve.

    Examples
    --------
    >>> seq = PlaneElasticity(3, m=4, seed=0)
    >>> len(seq), seq.n
    (3, 32)
    >>> A, b, c = seq[1]
    >>> A is seq.A, b.shape, c
    (True, (32,), 10.0)
    """

    def __init__(self, T: int, *, m: int = 8, lam: float = 10.0, mu: float = 1.0, seed=None):
        self.T = _integer(T, "T", 0)
        self.lam = _positive(lam, "lam")
        self.A = elasticity_2d(m, self.lam, mu)
        self.n = self.A.shape[0]
        rng = np.random.default_rng(seed)
        self.B = np.array([rng.standard_normal(self.n) for _ in range(self.T)]).reshape(
            self.T, self.n)

    def __len__(self) -> int:
        return self.T

    def __getitem__(self, t: int):
        """``(A, b_t, λ)``."""
        if not -self.T <= t < self.T:
            raise IndexError(t)
        return self.A, self.B[t % self.T], self.lam
