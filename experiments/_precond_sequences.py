"""The preconditioner study's sequences (:mod:`experiments.precond_study`): the systems every
method solves in lockstep, step by step, and :func:`make_sequence`, which builds one by name.
Kept apart from the running and the scoring; :mod:`experiments.precond_study` re-exports every
name here."""
from __future__ import annotations

import numpy as np


class Sequence:
    """A sequence of systems every method solves in lockstep.

    Step ``t``: :meth:`shared` builds what all methods share (the matrix, the context), then
    :meth:`system` gives each method its system from its own state (heat2d: the method's own
    previous solution, which the next right-hand side depends on), and :meth:`advance` stores
    the method's solution.
    """

    name = kind = context_name = ""
    n = T = 0
    bounds = (0.0, 1.0)

    def initial_state(self):
        return None

    def shared(self, t):
        raise NotImplementedError

    def system(self, shared, state):
        """``(A, b, x0, context)`` of one method at this step."""
        raise NotImplementedError

    def advance(self, state, x):
        return None

    def tiny(self):
        """A few-step sequence of the same kind, for warming up every method."""
        raise NotImplementedError


class HeatSequence(Sequence):
    """heat2d: ``A(s)`` and the forcing are shared; ``b = u − α L u + dt f(s)`` is built from
    each method's own state ``u`` (:meth:`experiments.problems.Heat2D.system`'s formulas)."""

    kind, context_name = "heat2d", "κ"

    def __init__(self, nx, steps=1000, t_end=1.0):
        from .problems import Heat2D

        self.sim = sim = Heat2D(nx, steps, t_end)
        self.name, self.n, self.T = f"heat2d_nx{nx}", sim.n, sim.steps
        self.bounds = sim.kappa_bounds
        self._args = (steps, t_end)

    def initial_state(self):
        return self.sim.initial()

    def shared(self, t):
        from .problems import kappa

        sim = self.sim
        s = (t + 0.5) * sim.dt
        kap = float(kappa(s))
        alpha = kap * sim.dt / (2.0 * sim.dx ** 2)
        return sim.matrix(s), alpha, sim.dt * sim.forcing(s), kap

    def system(self, shared, u):
        A, alpha, f, kap = shared
        return A, u - alpha * (self.sim.L @ u) + f, u, kap

    def advance(self, state, x):
        return np.asarray(x, dtype=float)

    def tiny(self):
        return HeatSequence(5, 4, self._args[1])


class MCSequence(Sequence):
    """mc3d: every method solves the same sample ``(A_t, b, σ_t)`` from ``x0 = 0``."""

    kind, context_name = "mc3d", "σ"

    def __init__(self, m, samples=100, seed=0):
        from .problems import DiffusionMC3D

        self.seq = DiffusionMC3D(m, samples, seed=seed)
        self.name, self.n, self.T = f"mc3d_m{m}", self.seq.n, samples
        self.bounds = self.seq.context_bounds
        self._seed = seed

    def shared(self, t):
        return self.seq[t]

    def system(self, shared, state):
        A, b, sigma = shared
        return A, b, None, sigma

    def tiny(self):
        return MCSequence(4, 3, self._seed)


def make_sequence(kind: str, size: int, *, steps=1000, t_end=1.0, samples=100,
                  seed=0) -> Sequence:
    """``heat2d`` or ``heatadapt`` (adaptive time steps,
    :class:`experiments._problems_adaptive.AdaptiveHeatSequence`) with ``nx = size``,
    ``mc3d`` with ``m = size``, or ``finadapt`` (a cooling fin with adaptive time steps,
    :class:`experiments._problems_fin.AdaptiveFinSequence`) with ``ny = size``."""
    if kind == "heat2d":
        return HeatSequence(size, steps, t_end)
    if kind == "heatadapt":
        from ._problems_adaptive import AdaptiveHeatSequence

        return AdaptiveHeatSequence(size)
    if kind == "mc3d":
        return MCSequence(size, samples, seed)
    if kind == "finadapt":
        from ._problems_fin import AdaptiveFinSequence

        return AdaptiveFinSequence(size)
    from ._problems_unseen import UNSEEN, make_unseen

    if kind in UNSEEN:  # aniso2d, heat3d, rgg, picard2d: the unseen study's sequences
        return make_unseen(kind, size)
    raise ValueError(f"sequence must be 'heat2d', 'heatadapt', 'mc3d' or 'finadapt', got "
                     f"{kind!r}")
