"""Heat conduction in a slender cooling fin with adaptive time steps (the ``finadapt``
sequence of the preconditioner study).

A fin of length 1 and width ``1/64`` (``64·ny × ny`` square cells of side ``h = 1/(64 ny)``,
cell-centred finite volumes, natural order with x fastest): its base ``x = 0`` is held at
the ambient temperature (Dirichlet, the wall half a cell away), its sides and tip are
insulated (Neumann).  A heater sits at one place along the fin and moves to the next place
every ``period``; as in ``heatadapt`` (:mod:`experiments._problems_adaptive`) each move is a
discontinuity of the forcing, after which the error-controlled integrator restarts its
backward-Euler step at ``dt_min`` and lets it grow by ``growth`` per step up to ``dt_max``.
Step ``k`` solves::

    A_k = I + r_k L,   r_k = κ Δt_k / h²,   b_k = u_k + Δt_k f(t_{k+1}, ·),

``L = I_y ⊗ T_x + T_y ⊗ I_x`` with the 1-D cell-centred operators ``T_x`` (Dirichlet at the
base: 3 on its first diagonal entry; Neumann at the tip: 1 on its last) and ``T_y`` (Neumann on
both sides), so ``A_k`` is SPD with the eigenvalues ``1 + r_k (4 sin²((2p − 1)π/(4·64 ny)) +
4 sin²(qπ/(2 ny)))``, ``p = 1..64 ny``, ``q = 0..ny − 1``.

Why a fin: heat leaves a slender insulated conductor only through its base, so its slowest
mode decays in ``4/(π²κ) ≈ 0.4`` whatever the grid, while the grid resolves the width: the
settled (large-step) systems are as hard as a Poisson problem on a ``64 ny``-long line of
cells (condition number ``≈ 16·(64 ny)²/π²``), the restart steps near the identity.  Along a
period ``r_k`` spans seven decades.  The learner is given ``log10 r_k``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._problems_adaptive import AdaptiveSteps, AdaptiveStepSequence
from ._problems_checks import _integer, _positive
from .problems import _diagonal_positions, bump

__all__ = ["ASPECT", "HEATER_X", "fin_laplacian", "AdaptiveFin2D", "AdaptiveFinSequence"]

#: Length over width of the fin (cells along it per cell across).
ASPECT = 64
#: Where the heater sits along the fin in each period (cycled).
HEATER_X = (0.9, 0.5, 0.7, 0.3)


def _line(m: int, dirichlet_first: bool) -> sp.csr_matrix:
    """1-D cell-centred ``−u''·h²`` on ``m`` cells: insulated ends, or held at 0 half a
    cell before the first cell."""
    d = np.full(m, 2.0)
    d[0] = 3.0 if dirichlet_first else 1.0
    d[-1] -= 1.0  # (one cell: 2 held, 0 insulated)
    off = -np.ones(m - 1)
    return sp.diags([off, d, off], [-1, 0, 1], format="csr")


def fin_laplacian(ny: int) -> sp.csr_matrix:
    """``L = I_y ⊗ T_x + T_y ⊗ I_x`` of the ``ASPECT·ny × ny`` fin (base held, rest
    insulated), CSR with sorted indices and every diagonal entry stored."""
    ny = _integer(ny, "ny", 1)
    nx = ASPECT * ny
    L = (sp.kron(sp.identity(ny), _line(nx, True)) +
         sp.kron(_line(ny, False), sp.identity(nx))).tocsr()
    L.sum_duplicates()
    L.sort_indices()
    return L


class AdaptiveFin2D(AdaptiveSteps):
    """Backward-Euler conduction in a cooling fin, steps restarted at every heater move.

    Parameters
    ----------
    ny : int
        Cells across the fin (``64·ny`` along it, ``n = 64 ny²``).
    periods : int, default 2
        Heater positions visited (cycling through :data:`HEATER_X`).
    period : float, default 0.8
        Time between moves: twice the slowest mode's decay time ``4/(π²κ) ≈ 0.4``.
    dt_min, dt_max : float, default 1e-8, 0.08
        Restart step after a move and the largest step (a fifth of the slowest decay time).
    growth : float, default 1.2
        Step growth per step, as ``heatadapt``'s.
    kappa : float, default 1.0
        Diffusivity.

    Examples
    --------
    >>> import scipy.sparse.linalg as spla
    >>> sim = AdaptiveFin2D(1, periods=1)
    >>> u = sim.initial()
    >>> for k in range(sim.steps):
    ...     A, b, ctx = sim.system(k, u)
    ...     u = spla.spsolve(A.tocsc(), b)
    >>> sim.n, sim.steps, round(float(sim.times()[-1]), 12), bool(np.all(u > 0))
    (64, 93, 0.8, True)
    """

    def __init__(self, ny: int, periods: int = 2, period: float = 0.8, dt_min: float = 1e-8,
                 dt_max: float = 0.08, growth: float = 1.2, kappa: float = 1.0):
        self.ny = _integer(ny, "ny", 1)
        self.nx = ASPECT * self.ny
        self.n = self.nx * self.ny
        self.h = 1.0 / self.nx
        self.L = fin_laplacian(self.ny)
        self._diag_pos = _diagonal_positions(self.L)
        xs = (np.arange(self.nx) + 0.5) * self.h
        ys = (np.arange(self.ny) + 0.5) * self.h
        X, Y = np.meshgrid(xs, ys, indexing="xy")  # x fastest, as L's order
        self.X, self.Y = X.ravel(), Y.ravel()
        self._steps(period, periods, dt_min, dt_max, growth, kappa, self.h)

    def forcing(self, k: int) -> np.ndarray:
        """The heater of step ``k``'s period: ``32·bump(x; (x_heater, width/2), 0.05)``."""
        xc = HEATER_X[(k // self._per_period) % len(HEATER_X)]
        return 32.0 * bump(self.X, self.Y, (xc, 0.5 * self.ny * self.h), 0.05)


class AdaptiveFinSequence(AdaptiveStepSequence):
    """finadapt in the preconditioner study (an ``AdaptiveStepSequence``: every method
    starts each step from its own previous state)."""

    kind, context_name = "finadapt", "log10 κΔt/h²"

    def __init__(self, ny, periods=2, kappa=1.0):
        self.sim = sim = AdaptiveFin2D(ny, periods, kappa=kappa)
        self.name, self.n, self.T = f"finadapt_ny{ny}", sim.n, sim.steps
        self.bounds = sim.context_bounds

    def tiny(self):
        # one cell across (n = 64), κ scaled by ny² so the contexts log10(κ Δt/h²) and the
        # stiffness are the sequence's own
        sim = self.sim
        return AdaptiveFinSequence(1, 1, sim.kappa * sim.ny ** 2)
