"""The recommended learner for each solver (what ``Tuner(solver=...)`` uses without a policy)."""
from __future__ import annotations

import numpy as np

__all__ = ["ARM_BASIS", "DEFAULT_ARMS", "EXPLORE_RADIUS", "EXPLORE_WIDTH", "TRY_GATE",
           "default_policy", "explore_radius"]

#: The paper's ω grid, ``linspace(1.0, 1.95, 20)``.
DEFAULT_ARMS = tuple(float(w) for w in np.round(np.linspace(1.0, 1.95, 20), 10))


#: The default learners explore only arms within this many grid steps in ω of the predicted
#: best, counted in the grid's sorted ω (``explore_radius`` of :class:`~bandit.JointCB`): the
#: cost is unimodal in ω, so a better arm is reached through the neighbours of the best, and
#: far arms, where exploring is dear, are played only once the model predicts them best.
EXPLORE_RADIUS = 1.0

#: The least reach in ω of the default learners' exploration (:func:`explore_radius`): one
#: step of the paper's grid.
EXPLORE_WIDTH = 0.05


def explore_radius(arms):
    """The default learners' ``explore_radius`` for ``arms``: :data:`EXPLORE_RADIUS` grid
    steps, or more on a grid finer than :data:`EXPLORE_WIDTH` in ω, so that exploration
    reaches the neighbours within one step of the paper's grid of the predicted best
    whatever the grid's density.

    On a grid of 2,000 ω over (0, 2) one step is 0.001 and a radius of one step walked
    towards the best ω by a thousandth a round (SSOR-PCG: 1.58 × the best ω's sweeps
    after 40 solves); a grid of 20 ω over [1, 1.95] keeps its radius of one step.

    >>> explore_radius(DEFAULT_ARMS), explore_radius(np.linspace(0.01, 1.99, 100))
    (1.0, 2.5)
    """
    from ._base import arm_omega
    from ._checks import arm_sequence

    om = [arm_omega(a) for a in arm_sequence(arms)]
    if len(om) < 2 or any(w is None for w in om):
        return EXPLORE_RADIUS
    steps = np.diff(np.unique(np.asarray(om, dtype=float)))
    if not steps.size:
        return EXPLORE_RADIUS
    return max(EXPLORE_RADIUS, round(EXPLORE_RADIUS * EXPLORE_WIDTH / float(np.median(steps)), 6))


#: The default layout of configuration arms in the learner's model (``arm_basis`` of
#: :class:`~bandit.JointCB`): one line, each family of several ω placed by its ω.
ARM_BASIS = "omega"


#: Whether the default learner over configuration arms gates a rival family's try by its
#: value (``try_gate`` of :class:`~bandit.JointCB`, inside its compiled draw): side by side
#: with the learner without it, 0.965 × its CPU seconds on the adaptive-step heat sequence
#: (nx = 100, 9 rounds; 0.957 at nx = 200), 0.988 on heat2d nx = 100 and 1.007 (median
#: 0.999) on the Monte Carlo sequence m = 22 (``docs/studies/precond_rules.md``).
TRY_GATE = True

def _sized(value) -> bool:
    """Whether ``value`` has a length (a list, a tuple, a 1-D array; not a 0-d array)."""
    try:
        len(value)
    except TypeError:
        return False
    return True


def default_policy(solver="ssor_pcg", arms=None, *, context_dim=None, context_bounds=None,
                   seed=None, arm_basis=None, try_gate=None):
    """The recommended learner for ``solver``, measured on the short and long benchmark suites.

    Both are :class:`~bandit.JointCB` (one model of the log-cost over context and ω, shared by
    all arms, lower-confidence-bound exploration restricted to the neighbours in ω of the
    predicted best, :func:`explore_radius`) with the context range learnt online, so no
    ``context_bounds`` are needed and any context works: none, a number or a vector.

    * ``"sor"``: with the theory prior (``prior="theory"``): the first system's spectrum
      (:func:`solvers.spectral.estimate_spectrum`, ~40 matrix–vector products) gives Young's
      predicted cost of every ω; the learner starts at its minimum and treats the curve as
      pseudo-observations that the measured costs correct.
    * ``"ssor_pcg"`` and anything else: no prior (Axelsson's SSOR-PCG bound mispredicts the best
      ω on the benchmark sequences, by up to 0.4 both ways), the same model otherwise.
    * configuration arms (``solver=None``, :func:`bandit.config_grid`): the same learner, the
      arms on one line, each family of arms that differ only by ω placed by its ω and the
      families end to end, the radius within the predicted best's family (:data:`ARM_BASIS`,
      ``"omega"``); ``"line"`` (every arm by its index, as before) and ``"family"`` (a block
      of arm features per family) are options: the index line explores the far ω of a
      family more, and the family layout's larger model costs about 45 µs more per solve
      and explores more on the Monte Carlo sequences (``docs/bandit.md``, section 8).  Under
      a guarded Tuner a drawn arm of another family than the leader's is played only where
      the model expects its try to pay (:data:`TRY_GATE`, :attr:`bandit.JointCB.try_gate`).

    Without a context (``select(None)``) the model's target is the cost itself rather than its
    logarithm (``target="auto"`` of :class:`~bandit.JointCB`): the systems are then draws
    from one sequence, and the best fixed ω is the one of least *total* cost, which the
    log-cost's fit (the least geometric mean) misses where hard systems cost more below the
    best ω than above it, as for SOR.

    The measurements behind the choice are in ``docs/studies/short_horizon.md``.

    Parameters
    ----------
    solver : str or None
        A :data:`solvers.SOLVERS` name (a custom solver function or configuration arms: pass
        ``None``); any other name is refused.
    arms : sequence of float or dict, optional
        Default :data:`DEFAULT_ARMS`; for ``"cg"``, which takes no ω, one arm (plain CG).
        Configuration arms (:func:`bandit.config_grid`) let a learner choose among CG's
        preconditioners.
    context_dim : int, optional
        Context length; default: taken from the first context (none at all is allowed).
    context_bounds : (float, float) or sequence of (float, float), optional
        Starting range of the context (a hint; the range is learnt either way).
    seed : int, optional
        Seed of the policy's generator.
    arm_basis : {"omega", "line", "family"}, optional
        The layout of configuration arms in the model (:class:`~bandit.JointCB`); default:
        the recommended one above.  Plain ω arms are one family: the same model either way
        (by default their config says ``"line"``, as it always did).
    try_gate : bool, optional
        Gate a rival family's try by its value (:attr:`bandit.JointCB.try_gate`); default
        :data:`TRY_GATE` over configuration arms, off over plain ω arms (one family: nothing
        to gate, and their saved config reads as before).

    Returns
    -------
    Policy

    Examples
    --------
    >>> p = default_policy("sor")
    >>> type(p).__name__, p.n_arms, p.prior
    ('JointCB', 20, 'theory')
    >>> p.select(None) in range(20)                 # no context: a context-free learner
    True
    """
    from .joint import JointCB

    if solver is not None:
        from solvers import SOLVERS

        if not isinstance(solver, (str, bytes, dict)) and _sized(solver):
            # the arms passed first (default_policy(config_grid(...))): the message had called
            # the whole list an unknown solver
            raise ValueError(
                f"default_policy's first argument is the solver's name (or None), not the "
                f"arms: got {type(solver).__name__} of {len(solver)}; pass the arms second — "
                f"default_policy(None, arms) for configuration arms, "
                f"default_policy('ssor_pcg', omegas) for ω arms")
        if not isinstance(solver, str) or solver not in SOLVERS:
            # a misspelt name would silently be the solver-free learner (no SOR prior)
            raise ValueError(f"unknown solver {solver!r}; known: {sorted(SOLVERS)} (None for a "
                             f"custom solver function or configuration arms)")
    if arms is None:  # plain CG has no ω: one arm, not twenty copies of the same solver
        arms = [1.0] if solver == "cg" else DEFAULT_ARMS
    from ._checks import arm_sequence

    arms = arm_sequence(arms)  # (a string, bytes or one dict: refused, not taken apart)
    prior = "theory" if solver == "sor" else None
    from .smooth import family_positions

    # plain ω arms have one model whatever the layout: their config keeps "line", so a file
    # saved by the ω learners reads as before; one family, no gate
    plain = family_positions(arms)[2]
    if arm_basis is None:
        arm_basis = "line" if plain else ARM_BASIS
    if try_gate is None:
        try_gate = TRY_GATE and not plain
    return JointCB(arms, context_bounds=context_bounds, context_dim=context_dim,
                   explore_radius=explore_radius(arms), prior=prior, target="auto",
                   arm_basis=arm_basis, try_gate=try_gate, seed=seed)
