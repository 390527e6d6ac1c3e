"""A heat simulation with adaptive time steps (the ``heatadapt`` sequence of the
preconditioner study).

Backward Euler on ``u_t = κ Δu + f(t, x)`` on the unit square (zero Dirichlet boundary,
``nx`` intervals per side, the 5-point Laplacian), with a heater that moves to a new place
every ``period``.  Each move is a discontinuity of the forcing, and the integrator restarts
its step there at ``dt_min`` and lets it grow by ``growth`` per step up to ``dt_max``: the
pattern of an error-controlled stiff integrator after a disturbance (the step such a
controller accepts on a decaying transient grows in proportion to the time since the
disturbance, ``Δt ≈ c (t − t_s)``, i.e. geometrically in the step count) with the step
clipped to land on the next move.  Step ``k`` solves::

    A_k = I + (κ Δt_k / dx²) L,   b_k = u_k + Δt_k f(t_{k+1}, ·),

``L`` = :func:`experiments.problems.grid_laplacian` (4 on the diagonal, −1 off), so ``A_k``
is SPD with eigenvalues ``1 + r_k λ_{ij}``, ``λ_{ij} = 4 − 2 cos(iπ/nx) − 2 cos(jπ/nx)``,
``r_k = κ Δt_k / dx²`` (in ``(1, 1 + 8 r_k)``).  Along a period ``r_k`` spans
``dt_max/dt_min`` (four decades by default): near the identity after a move (a few CG
iterations) to stiff once the solution settles.  The context a user has is the step; the
learner is given ``log10 r_k``, since steps (and condition numbers ``≈ 1 + 8 r_k``) vary by
decades.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._problems_checks import _integer, _positive
from ._precond_sequences import Sequence
from .problems import _set_unit_square_grid, bump

__all__ = ["HEATER_CENTRES", "step_schedule", "AdaptiveSteps", "AdaptiveStepSequence", "OwnRhsSequence",
           "AdaptiveHeat2D", "AdaptiveHeatSequence"]

#: Where the heater sits in each period (cycled): the four quadrants' centres.
HEATER_CENTRES = ((0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7))


def step_schedule(period: float, periods: int, dt_min: float, dt_max: float,
                  growth: float) -> np.ndarray:
    """Step sizes of ``periods`` periods: in each, ``dt_min · growth^j`` capped at ``dt_max``
    until the next step would pass the period's end, then one step to the end (merged into
    the step before if it would be shorter than ``dt_min``).

    Examples
    --------
    >>> step_schedule(1.0, 1, 0.1, 0.4, 2.0).round(12).tolist()
    [0.1, 0.2, 0.4, 0.3]
    """
    period, dt_min, dt_max = (_positive(v, name) for v, name in (
        (period, "period"), (dt_min, "dt_min"), (dt_max, "dt_max")))
    periods = _integer(periods, "periods", 1)
    growth = float(growth)
    if not growth >= 1.0:
        raise ValueError(f"growth must be >= 1, got {growth!r}")
    if not dt_min <= dt_max <= period:
        raise ValueError(f"need dt_min <= dt_max <= period, got {dt_min!r}, {dt_max!r}, "
                         f"{period!r}")
    one, t, dt = [], 0.0, dt_min
    while t + dt < period * (1 - 1e-12):
        one.append(dt)
        t += dt
        dt = min(dt * growth, dt_max)
    rest = period - t
    if rest < dt_min and one:
        one[-1] += rest
    else:
        one.append(rest)
    return np.tile(np.array(one), periods)


class AdaptiveSteps:
    """What the adaptive-step simulations share: the schedule, its ratios ``r_k = κ Δt_k / h²``
    and contexts ``log10 r_k``, and the step ``A_k = I + r_k L`` (a subclass sets ``L``,
    ``_diag_pos``, the grid and :meth:`forcing`, then calls :meth:`_steps`)."""

    def _steps(self, period, periods, dt_min, dt_max, growth, kappa, h) -> None:
        self.kappa = _positive(kappa, "kappa")
        self.period = _positive(period, "period")
        self.periods = _integer(periods, "periods", 1)
        self.dt = step_schedule(period, periods, dt_min, dt_max, growth)
        self.steps = self.dt.size
        self._per_period = self.steps // self.periods  # the schedule repeats per period
        self.ratios = self.kappa * self.dt / h**2
        ctx = np.log10(self.ratios)
        self.context_bounds = (float(ctx.min()), float(ctx.max()))

    def times(self) -> np.ndarray:
        """End time ``t_{k+1}`` of every step, shape ``(steps,)``."""
        return np.cumsum(self.dt)

    def contexts(self) -> np.ndarray:
        """``log10(κ Δt_k / h²)`` of every step, ``h`` the grid spacing (the learner's
        context)."""
        return np.log10(self.ratios)

    def initial(self) -> np.ndarray:
        """``u0 = 0``: the body starts at the temperature its boundary is held at."""
        return np.zeros(self.n)

    def matrix(self, k: int) -> sp.csr_matrix:
        """``A_k = I + r_k L`` sharing the Laplacian's sparsity pattern."""
        A = self.L.copy()
        A.data *= self.ratios[k]
        A.data[self._diag_pos] += 1.0
        return A

    def system(self, k: int, u: np.ndarray):
        """``(A_k, b_k, log10 r_k)`` of step ``k`` from state ``u``."""
        if not 0 <= k < self.steps:
            raise IndexError(f"step {k} outside 0..{self.steps - 1}")
        return self.matrix(k), u + self.dt[k] * self.forcing(k), float(np.log10(self.ratios[k]))


class AdaptiveStepSequence(Sequence):
    """An adaptive-step simulation in the preconditioner study: ``A_k`` and the forcing are
    shared, ``b_k`` is built from each method's own state and each method starts from it
    (warm start).  A subclass sets ``sim``, ``name``, ``n``, ``T`` and ``bounds``, or calls
    :meth:`_adopt` with a simulation that has ``n``, ``steps`` and ``contexts()``."""

    def _adopt(self, sim, name):
        self.sim, self.name, self.n, self.T = sim, name, sim.n, sim.steps
        c = sim.contexts()
        self.bounds = (float(c.min()), float(c.max()))

    def initial_state(self):
        return self.sim.initial()

    def shared(self, t):
        sim = self.sim
        return sim.matrix(t), sim.dt[t] * sim.forcing(t), float(sim.contexts()[t])

    def system(self, shared, u):
        A, f, ctx = shared
        return A, u + f, u, ctx

    def advance(self, state, x):
        return np.asarray(x, dtype=float)


class OwnRhsSequence(AdaptiveStepSequence):
    """A sequence whose ``A_k`` is shared and whose right-hand side each method builds from its
    own state, ``sim.rhs(t, u)``, the state also its start.  A subclass calls :meth:`_adopt`
    with its simulation (``n``, ``steps``, ``matrix(t)``, ``rhs(t, u)``, ``contexts()``,
    ``initial()``)."""

    def shared(self, t):
        return t, self.sim.matrix(t), float(self.sim.contexts()[t])

    def system(self, shared, u):
        t, A, ctx = shared
        return A, self.sim.rhs(t, u), u, ctx


class SteadyLoadSequence(AdaptiveStepSequence):
    """A sweep of steady problems under one load ``sim.b``: ``A_k`` is shared and each method
    starts from its own previous solution (a continuation).  A subclass calls
    :meth:`_adopt` with its simulation, which has ``n``, ``steps``, ``b``, ``matrix(t)`` and
    ``contexts()``."""

    def shared(self, t):
        return self.sim.matrix(t), float(self.sim.contexts()[t])

    def system(self, shared, u):
        A, ctx = shared
        return A, self.sim.b, u, ctx

class AdaptiveHeat2D(AdaptiveSteps):
    """Backward-Euler heat simulation with adaptive steps restarted at every heater move.

    Parameters
    ----------
    nx : int
        Intervals per side (``n = (nx − 1)²``).
    periods : int, default 6
        Heater positions visited (cycling through :data:`HEATER_CENTRES`).
    period : float, default 0.1
        Time between moves: twice the slowest mode's decay time ``1/(2π²κ) ≈ 0.05``, so the
        solution nearly settles before each move.
    dt_min, dt_max : float, default 1e-6, 1e-2
        Restart step after a move and the largest step (a fifth of the slowest decay time).
    growth : float, default 1.2
        Step growth per step (a cautious controller's growth limit): ``dt_min`` to
        ``dt_max`` in 51 steps.
    kappa : float, default 1.0
        Diffusion coefficient.

    Examples
    --------
    >>> import scipy.sparse.linalg as spla
    >>> sim = AdaptiveHeat2D(8, periods=1)
    >>> u = sim.initial()
    >>> for k in range(sim.steps):
    ...     A, b, ctx = sim.system(k, u)
    ...     u = spla.spsolve(A.tocsc(), b)
    >>> sim.steps, round(float(sim.times()[-1]), 12), bool(np.all(u > 0))
    (56, 0.1, True)
    """

    def __init__(self, nx: int, periods: int = 6, period: float = 0.1, dt_min: float = 1e-6,
                 dt_max: float = 1e-2, growth: float = 1.2, kappa: float = 1.0):
        self.nx = _integer(nx, "nx", 2)
        _set_unit_square_grid(self, self.nx)
        self._steps(period, periods, dt_min, dt_max, growth, kappa, self.dx)

    def forcing(self, k: int) -> np.ndarray:
        """The heater of step ``k``'s period: ``32·bump(x; centre, 0.125)``."""
        centre = HEATER_CENTRES[(k // self._per_period) % len(HEATER_CENTRES)]
        return 32.0 * bump(self.X, self.Y, centre, 0.125)


class AdaptiveHeatSequence(AdaptiveStepSequence):
    """heatadapt in the preconditioner study (an ``AdaptiveStepSequence``: every method
    starts each step from its own previous state)."""

    kind, context_name = "heatadapt", "log10 κΔt/dx²"

    def __init__(self, nx, periods=6, kappa=1.0):
        self.sim = sim = AdaptiveHeat2D(nx, periods, kappa=kappa)
        self.name, self.n, self.T = f"heatadapt_nx{nx}", sim.n, sim.steps
        self.bounds = sim.context_bounds

    def tiny(self):
        # an 8 × 8 grid, the coarsest whose nodes the heater (radius 0.125) reaches: on a 5 × 5
        # one the forcing is zero at every node, so every solve starts solved and a learner
        # never learns (its rounds at step 2 on would then compile in a timed call); κ scaled
        # by (nx/8)², so the contexts log10(κ Δt/dx²) and the stiffness are the sequence's own
        sim = self.sim
        return AdaptiveHeatSequence(8, 1, sim.kappa * (sim.nx / 8) ** 2)
