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

from ._problems_checks import _integer, _positive, _state
from ._problems_elasticity import PlaneElasticity, elasticity_2d
from ._problems_fem import FEMHeat2D, disk_mesh, p1_matrices
from ._problems_mc3d import DiffusionMC3D

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


def _set_unit_square_grid(sim, nx: int) -> None:
    """Give ``sim`` the interior grid of the unit square with ``nx`` intervals a side.

    Sets ``dx``, ``m`` (interior points a side), ``n = m²``, the 5-point Laplacian ``L``
    (:func:`grid_laplacian`), its diagonal positions and the points' coordinates ``X, Y``
    in the Laplacian's order.
    """
    sim.dx = 1.0 / nx
    sim.m = nx - 1
    sim.n = sim.m * sim.m
    sim.L = grid_laplacian(sim.m)
    sim._diag_pos = _diagonal_positions(sim.L)
    xs = np.arange(1, nx) * sim.dx
    # natural order: x fastest, matching grid_laplacian's idx[i, j] = i*m + j
    X, Y = np.meshgrid(xs, xs, indexing="xy")
    sim.X, sim.Y = X.ravel(), Y.ravel()


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
        _set_unit_square_grid(self, self.nx)

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
