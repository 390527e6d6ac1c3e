"""JointCB: one regression of the log-cost over the joint (context, ω) space, shared by all arms.

The per-arm learners of :mod:`bandit.squarecb` learn each arm from its own rounds only, so
with 20 arms most of their regret is paid while every arm is tried; here a single ridge fit on
tensor-product Chebyshev features ``T_i(u_c)·T_j(u_ω)`` lets every observation inform the
neighbouring arms as well.
"""
from __future__ import annotations

import math

import numpy as np

from ._base import Policy, check_choice, check_nonnegative, check_positive
from ._checks import check_not_flag
# (the draw's and the reports' kernels, now called from bandit/_joint_draw.py and
# bandit/_joint_leader.py, stay importable here as before)
from ._kernels import (igw_probabilities, joint_decide, joint_observe,  # noqa: F401
                       joint_predict, joint_scores, joint_select_lcb, joint_tell, played_argmin)
from ._joint_basis import ArmBasis
from ._joint_change import ChangeTests
from ._joint_context import ContextRules
from ._joint_draw import Draw
from ._joint_first import first_pick
from ._joint_gate import TryGate
from ._joint_leader import Reports
from ._joint_retell import Retell
from ._joint_rules import AutoTargetRules, PriorRules
from ._joint_state import SavedState
from .features import Chebyshev
from .smooth import family_positions

__all__ = ["JointCB"]

_FLOOR = 1e-2  # log target: log(cost/unit + 0.01) keeps a cost of 0 finite (as SquareCB)
# a one-step prediction error beyond this many predictive standard deviations (σ̂ times the
# prediction's own spread) is fed as that bound: one slow clock reading (preemption, a tick
# of a coarse clock) must not raise σ̂, and with it every width, for the rest of the run
_CLIP = 3.0


# JointCB is put together from parts kept in private modules: the arm basis
# (bandit/_joint_basis.py), the theory prior's and target="auto"'s rules
# (bandit/_joint_rules.py), the change and drift tests (bandit/_joint_change.py), a round's
# context's features and the model's size (bandit/_joint_context.py), the saved state and
# settings (bandit/_joint_state.py), the draw's general path (bandit/_joint_draw.py), the
# predictions and the leader (bandit/_joint_leader.py), the try gate and the first pick's
# settings (bandit/_joint_gate.py) and the retelling of rounds (bandit/_joint_retell.py).
# The parts hold the documented constants they read.  Its constructor, the scores and the
# cost of an arm, the draw's one-call round (select) and the update path stay here: they read
# joint_decide, joint_tell, joint_scores, joint_predict, first_pick and _CLIP, which tests and
# benchmarks replace on this module
class JointCB(ArmBasis, PriorRules, AutoTargetRules, ChangeTests, ContextRules, SavedState,
              Draw, Reports, TryGate, Retell, Policy):
    """Contextual learner with one ridge model of the log-cost in (context, ω), costs minimised.

    Features of arm ``k`` at context ``c``: ``φ_k(c) = ψ(c) ⊗ χ_k`` with
    ``ψ_i = T_i(u_c)``, ``u_c = 2(c − a)/(b − a) − 1`` for the context's range ``[a, b]``
    (learnt, :mod:`bandit.features`; a vector context has the products of total degree ``< m``,
    no context the single feature 1) and ``χ_kj = T_j(u_k)``,
    ``u_k`` the arm's ω mapped to [−1, 1] (``j < m_omega``) for *plain ω arms* (floats, or
    settings dicts of one solver that differ only by ω; configuration arms: see below).
    One ridge fit ``θ = (λΛ + Σ φφᵀ)⁻¹ Σ φ y`` over *all* rounds, target
    ``y = log(cost/unit + 0.01)`` (``unit`` = the first positive cost), penalty
    ``Λ = diag((i + 1)²(j + 1)²)``: a cost smooth in both the context and ω is cheap to
    represent, so a round played with one arm also informs its neighbours.  ``P = (λΛ + Σ φφᵀ)⁻¹``
    is kept by Sherman–Morrison rank-one updates: ``O(d²)`` per round (``d = m·m_omega``)
    whatever ``t``, and equal to the batch ridge solve on the same rows.

    *Configuration arms* (:func:`bandit.config_grid`, or any arms of more than one family —
    arms that differ only by ω, :func:`bandit.arm_families` — or with an arm without an ω)
    have no common ω axis.  With ``arm_basis="family"`` ``χ_k`` is a column shared
    by every arm, then one block per family: the family's indicator times ``T_j`` of the
    arm's ω mapped to [−1, 1] *within its family* (``j <`` the family's size, at most
    ``m_omega``; the indicator alone for a family of one arm) and, in a family of several ω,
    each arm's own level (its indicator, penalised as the family's level: an ω read once,
    slow on a cold first solve, stays as uncertain as an arm alone instead of pricing the
    whole family; an ω never played is predicted by the family's curve).  SSOR-PCG's ω = 1.2 and 1.5
    share through their ω, SSOR-PCG and plain CG share no column (only the level all arms
    have in common), unevenly spaced ω are placed by their values.  The penalty's ``j`` is
    the degree within the family (the smoothness in ω never pulls one family towards
    another), and a family's own dependence on the context (context features ``i > 0`` of a
    family block) is penalised :attr:`FAMILY_CONTEXT_PENALTY` (4) times more than the shared
    one: a family tried at a few contexts is predicted elsewhere by how the whole sequence's
    cost moves with the context, not left open at every new context, while a family whose
    relation to the context differs (IC(0)-CG cheapest at small κ, SSOR-PCG at large κ on a
    heat loop) is still learnt from its rounds.  ``arm_basis="line"`` (default) places every
    arm on one line, by ω when every arm has one, else by its index in the list (which couples
    ω = 1.9 with plain CG listed after it and spaces uneven ω evenly).  ``arm_basis="omega"``
    (:func:`bandit.default_policy`'s) is the same line with the families end to end and a
    family of several ω placed by its ω (1.0, 1.2, 1.4, 1.5 at 0, 2, 4, 5 family steps), so
    within a family the model is a curve in ω as over plain ω arms, and the exploration
    radius applies within the predicted best's family as with ``"family"``.  The family layout is
    not the default: measured with the default cost ``timed_work`` it makes the line's
    choices on the preconditioner study's heat2d sequence but its larger model costs about
    45 µs more per solve (1.04–1.05 against 0.99–1.02 × the best fixed configuration), and
    it explores more on the Monte Carlo sequences (``docs/bandit.md``, section 8).  For plain ω
    arms the two are the same model, bit for bit; a state saved before the option existed
    loads with the layout it was learnt with (``"line"``).

    Selection (``exploration="lcb"``, default): play ``argmin_k μ_k − β σ̂ sqrt(φ_kᵀ P φ_k)``,
    ``μ_k = φ_kᵀθ``, ``σ̂² = (Σ squared one-step prediction errors + 0.1)/(t + 1)``; the K
    widths cost ``O(d² + K m_omega²)`` together because ``φ_k`` shares the factor ``ψ``.

    *A few bad readings* (a clock that read a solve 50 times slower than it ran: preemption, a
    cold cache, a coarse clock) do not derail the learning: a one-step prediction error
    ``r = y − φᵀθ`` beyond three predictive standard deviations, ``3 σ̂ sqrt(1 + φᵀPφ)``, is
    fed to the fit and to ``σ̂`` as that bound with its sign (a Huber clip).  One wild reading
    then moves the model and the noise scale no more than an honest error of three standard
    deviations, instead of tripling ``σ̂`` and every width with it; an arm the model knows
    little of has a wide prediction, so learning a new arm or a new context is not slowed.
    Costs with no error beyond the bound (iteration counts, on every sequence measured)
    are learnt exactly as without the clip, bit for bit.
    ``exploration="igw"`` instead samples by inverse-gap weighting on ``μ`` with
    ``γ_t = gamma·√(t + 1)`` (as :class:`~bandit.SquareCB`).

    ``explore_within = f`` caps the optimism at ``log f``: the drawn arm minimises
    ``μ_k − min(β σ̂ width_k, log f)``, so an arm predicted to cost more than ``f`` times the
    predicted best is never explored, however uncertain (under a guarded
    :class:`~bandit.Tuner` it would mostly be stopped anyway).  Uncertain arms near the best
    are still tried, and the grid's ends, where the Chebyshev widths are largest, no longer
    draw exploration by width alone.

    ``explore_radius = r`` keeps exploration next to the predicted best: the drawn arm is the
    lowest score among the arms whose ω is within ``r`` places of that of ``argmin_k μ_k`` in
    the sorted distinct ω of the grid (the model's best, which may be any arm; on an even grid,
    ``r`` grid steps; on an uneven one the ``r`` nearest ω on either side).  The cost of a
    relaxation method is unimodal in ω, so the way to a better arm leads through the
    neighbours of the current best; a far arm is played once
    the model predicts it best, not because its width is large.  Far arms are where the
    exploration is dear (SOR's cost is steep below the best ω) and where it is least needed:
    when the context moves (a time loop whose coefficient ramps up), the model's own
    extrapolation moves the predicted best and the exploration follows it.  Over
    configuration arms (``arm_basis="family"`` or ``"omega"``) the radius applies within the
    predicted best's family, counted in that family's ω order (the r nearest ω on either side, however
    uneven the grid); every other family has no order to the best and is explored by the
    confidence width.  With ``arm_basis="line"`` the radius applies only when every arm has
    an ω.

    ``prior="theory"``: :meth:`prime` (called by the Tuner with the first system) predicts the
    cost of every arm from the theory of the solver (:func:`bandit.theory_costs`); the
    first draw plays the predicted best and the predicted log-cost differences enter the fit as
    ``prior_weight`` pseudo-observations at the first context.

    The curve's errors are not independent: where the theory is off, it is off because it
    puts the best ω in the wrong place (plane elasticity in block order, not consistently
    ordered: Young's ω 1.65, the best fixed ω 1.45), so the whole side of the curve is wrong
    together.  ``prior_shift = τ`` (default 0.15) models that: besides its own error of the
    size of a measurement, every pseudo-observation carries one error shared by all, how it
    moves when the curve's best ω moves by ``s ~ N(0, τ²)`` (the curve recomputed from the
    same spectrum estimate with ``ω* + s``, its covariance over ``s`` by 9-point
    Gauss–Hermite quadrature: at most 8 components).  Measurements that contradict the
    curve's place then move it as a whole, as one piece of evidence rather than 19, and the
    widths of the arms on the curve's uncertain side keep the size of that error however
    small the noise is.  The shared error is kept in the model as a few rank-one downdates
    of ``P`` whose weights follow the noise scale ``σ̂`` (:meth:`_refresh_prior`); a model of
    the cost takes it to first order in the cost ratios.  On the elasticity sequence the
    default learner, which stayed at 1.60–1.65 (1.23–1.38 × the best fixed ω over 200
    solves), reaches 1.45 (1.03–1.05 ×); where the curve is right (the 5- and 9-point
    Laplacians, a random SPD and a finite-element matrix) the learner pays 0.1–1.6 % more
    for the trials on the curve's other side (``docs/studies/short_horizon.md``).

    Censored costs (true cost ≥ c): the target is ``max(y(c), μ_k)``, as for SquareCB.

    *Sequences that change without a context that says so* (``detect_changes=True``, the
    default): the model assumes that a cost depends on the context and ω only, and a
    simulation whose systems change abruptly (an eigenvalue iteration whose warm start
    converges, then a time loop on another matrix, no context passed) breaks that.  The
    played arm's one-step errors, in predictive standard deviations
    ``z = r / (σ̂ sqrt(1 + φᵀPφ))`` (capped at ±3), feed Page's CUSUM both ways,
    ``S⁺ ← max(0, S⁺ + z − 1)`` and ``S⁻ ← max(0, S⁻ − z − 1)``; while the model fits,
    the errors have mean 0 and the sums stay small, and when the costs leave what the model
    predicts they keep one sign and a sum passes 8 within a few rounds (at least five errors
    at the cap, so a few wild readings never do).  The alarm discounts everything
    learnt before, the measured rounds and the prior's pseudo-observations alike, to
    :attr:`CHANGE_KEEP` (3) rounds' worth: the data statistics of the fit are multiplied by
    ``ρ = 3/n`` and the penalty kept, ``P ← (λΛ + ρ(P⁻¹ − λΛ))⁻¹``, ``θ ← P ρ P_old⁻¹ θ_old``
    (discounted ridge regression, one discount per detected change, ``O(d³)`` then and
    ``O(1)`` a round otherwise), ``σ̂``'s sum and count are discounted alike.  The widths
    grow back, the lower confidence bound explores next to the predicted best again, and
    the costs measured from then on soon outweigh the old ones.  A sequence on which no
    alarm is raised is learnt bit for bit as without the test.  Measured on a scientist's
    two-phase loop without a context (inverse iteration, then Crank–Nicolson steps on
    another matrix, SOR): 1.90 × the best fixed ω without the test, 0.41 × with it;
    :attr:`changes` counts the alarms.  A learner saved before the option existed loads
    without it.

    *Sequences that drift slowly* (``detect_drift=True``, off by default; without a context,
    with the change test): errors that keep a level below the CUSUM's drift of one standard
    deviation are seen late or never, so an exponentially weighted level of them,
    ``m ← γ m + (1 − γ) z`` (:attr:`DRIFT_RATES`, 0.9), predicts the next error, and the
    CUSUM of the log-likelihood ratio of that prediction against the model's level 0,
    ``S ← max(0, S + z m − m²/2)``, raises an alarm above :attr:`DRIFT_LIMIT` (8) that keeps
    everything as :attr:`DRIFT_KEEP` (3) rounds' worth (:meth:`_drift_test`; :attr:`drifts`
    counts them).  A slow synthetic drift of the best ω is then followed within 0.04–0.06
    (0.09–0.13 without); it is off by default because on a loop whose costs first fall step
    by step and then jump (the two-phase loop) its alarms come first and the jump raises
    none (0.41 → 0.71 × the best fixed ω), and a loop whose costs follow κ up and down pays
    4.5 % more (``docs/bandit.md``).

    ``target="auto"`` (what :func:`bandit.default_policy` uses) models the log-cost when there
    is a context and the cost itself, ``y = cost/unit``, when there is none.  Without a
    context every system is a draw from the same sequence, and the quantity a fixed ω is judged
    by is the total cost, the arithmetic mean of its costs; a model of the log-cost converges
    to the arm of least *geometric* mean instead.  The two differ wherever the spread between
    systems differs between arms, which is the rule for SOR: below a system's best ω its cost
    grows with the system's difficulty, above it the cost is ``log(tol)/log(ω − 1)`` whatever
    the system, so the log-cost's best sits below the best fixed ω (on the offset Laplacians
    of high variance, the arm of least mean log-cost costs 1.15 × the best fixed ω's total).
    The hard systems are then not bad readings but most of the total: a model of the cost
    clips a reading on the log scale, at three predictive standard deviations of the
    log-ratios of the readings to their predictions (wide where systems differ a lot, so hard
    systems enter whole; narrow on a steady sequence, so a wild clock reading is bounded as
    for the log-cost model); the widths use the spread of the costs themselves; the prior's
    curve enters as cost ratios.  With a context, the context explains most of that spread
    and the log-cost keeps its advantages (costs that span orders of magnitude across
    contexts, multiplicative structure), bit for bit as ``target="log"``, the default of this
    class (a learner saved before the option existed is read back as what it was).
    ``target="cost"`` models the cost with a context too.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid or setting dicts.
    context_bounds : (float, float) or sequence of (float, float), optional
        Starting range of the context (one pair per coordinate); without, the range is learnt
        from the contexts seen, and a context outside widens it (:mod:`bandit.features`).
    m : int, optional
        Chebyshev polynomials per context coordinate (default 10; for a vector context the
        products of total degree ``< 4``).
    context_dim : int, optional
        Context length (default: from ``context_bounds`` or the first context; a first call
        without a context makes a context-free learner that still shares across arms).
    m_omega : int, default 12
        Chebyshev polynomials in ω (at most the number of arms is used: with ``m_omega = K``
        every per-arm function of the context is representable, the penalty still shares).
    ridge : float, default 0.01
        ``λ``.
    beta : float, default 1.0
        Width multiplier of the lower confidence bound.
    exploration : {"lcb", "igw"}
    gamma : float, default 30.0
        IGW schedule scale (``exploration="igw"`` only).
    explore_within : float > 1, optional
        Explore only arms predicted to cost at most this many times the predicted best
        (``exploration="lcb"``).
    explore_radius : float > 0, optional
        Explore only arms within this many grid steps in ω of the predicted best (steps in
        the sorted distinct ω of the grid; ``exploration="lcb"``; :func:`bandit.default_policy`
        uses 1; over configuration arms within the predicted best's family, see above).  With
        it, ``explore_within`` is rarely needed: the optimism cap then mostly locks the
        learner onto a wrong best predicted by a prior from an untypical first system.
    prior : {None, "theory"}
        Starting belief from the first system (see above).
    prior_weight : float, default 1.0
        Pseudo-observations per arm the prior is worth.
    prior_shift : float in (0, 2] or None, default 0.15
        Standard deviation, in ω, of the prior curve's shared error: how far its best ω may
        be off (see above); ``None``: the pseudo-observations' errors are independent (a
        learner saved before the option existed loads so).
    target : {"log", "cost", "auto"}, default "log"
        What the model fits: ``log(cost/unit + 0.01)``, ``cost/unit``, or the latter only
        without a context (see above).  ``exploration="igw"``'s ``gamma`` scales the gaps of
        that target; ``explore_within = f`` caps the optimism at a factor ``f`` either way
        (a score of at least ``μ_k − log f``, or ``μ_k / f`` for a model of the cost).
    arm_basis : {"line", "omega", "family"}, default "line"
        The arm features over configuration arms (see above; ``"omega"`` is the line with
        each family of several ω placed by its ω, :func:`bandit.default_policy`'s layout); the
        same for plain ω arms.
    first_pick : bool, default True
        A rival's first try goes to a never-played family by the regime the leader's cost
        shows at the context (:attr:`first_pick`, ``bandit/_joint_first.py``); a learner
        saved before the option loads with it off.
    first_wait : bool, default True
        With :attr:`first_pick`, a rival family's first try waits until the leader's family
        has been read at two of its arms (:attr:`first_wait`); a learner saved before the
        option loads with it off.
    detect_changes : bool, default True
        Watch the one-step errors for a change of the sequence and forget the past on one
        (see above).
    detect_drift : bool, default False
        Without a context, also watch them for a slow drift (with ``detect_changes``; see
        above).
    try_gate : bool, default False
        Under a guarded Tuner over several families, play a drawn rival family's arm only
        when the model expects its try to pay (:attr:`try_gate`).
    gate_pick : bool, default True
        With the try gate, weigh for a drawn rival the rival arm of greatest gate value
        (:attr:`gate_pick`).
    seed : int, optional
        Seed of the generator (used by ``"igw"``; ``"lcb"`` is deterministic).

    Examples
    --------
    >>> p = JointCB(np.linspace(1.0, 1.9, 10), context_bounds=(0, 1))
    >>> for i in range(300):
    ...     c = (i * 0.618) % 1.0                  # best ω moves from 1.2 to 1.7 with c
    ...     k = p.select(c)
    ...     p.update(k, 20 + 200 * (p.arms[k] - 1.2 - 0.5 * c) ** 2, context=c)
    >>> [p.select(0.2), p.select(0.8)]           # ω 1.3 and 1.6
    [3, 6]

    Without a context, ``target="auto"`` (the default learner's) fits the cost itself: an arm
    cheap on most systems but dear on one in four costs more in total than a steady one, which
    a model of the log-cost, judging by the geometric mean, misses:

    >>> for target in ("log", "auto"):
    ...     q = JointCB([1.2, 1.6], target=target)
    ...     for i in range(40):
    ...         _ = q.select(None)
    ...         q.update(0, 10.0 if i % 4 else 1000.0)   # mean 257.5, geometric mean 31.6
    ...         q.update(1, 100.0)
    ...     print(target, q.select(None))
    log 0
    auto 1
    """

    contextual = True
    _info = None  # joint_observe's error before the clip and its spread (scratch)

    def __init__(self, arms, context_bounds=None, m=None, *, context_dim=None, m_omega=12,
                 ridge=0.01, beta=1.0, exploration="lcb", gamma=30.0, explore_within=None,
                 explore_radius=None, prior=None, prior_weight=1.0, prior_shift=0.15,
                 target="log", arm_basis="line", detect_changes=True,
                 detect_drift=False, try_gate=False,
                 gate_pick=True, first_pick=True, first_wait=True,
                 seed=None):
        super().__init__(arms, seed=seed)
        check_choice("target", target, ("log", "cost", "auto"))
        self.target = target
        self.try_gate = try_gate
        self.gate_pick = gate_pick
        if explore_radius is not None and not (isinstance(explore_radius, (int, float))
                                               and not isinstance(explore_radius, bool)
                                               and 0 < explore_radius < math.inf):
            raise ValueError(f"explore_radius must be None or a finite number > 0, "
                             f"got {explore_radius!r}")
        self.explore_radius = None if explore_radius is None else float(explore_radius)
        if explore_within is not None and not (isinstance(explore_within, (int, float))
                                               and explore_within > 1):
            raise ValueError(f"explore_within must be None or a number > 1, got {explore_within!r}")
        self.explore_within = None if explore_within is None else float(explore_within)
        self._cap = math.inf if explore_within is None else math.log(explore_within)
        check_choice("prior", prior, (None, "theory"))
        check_positive(prior_weight=prior_weight)
        self.prior, self.prior_weight = prior, float(prior_weight)
        if prior_shift is not None:
            check_positive(prior_shift=prior_shift)
            if prior_shift > 2.0:  # a standard deviation in ω, whose whole range is (0, 2)
                raise ValueError(f"prior_shift must be None or a number in (0, 2] (the "
                                 f"spread of the best ω, in ω), got {prior_shift!r}")
        self.prior_shift = None if prior_shift is None else float(prior_shift)
        if not isinstance(detect_changes, (bool, np.bool_)):
            raise ValueError(f"detect_changes must be True or False, got {detect_changes!r}")
        self.detect_changes = bool(detect_changes)
        if not isinstance(detect_drift, (bool, np.bool_)):
            raise ValueError(f"detect_drift must be True or False, got {detect_drift!r}")
        self.detect_drift = bool(detect_drift)
        self.drift_level = np.zeros(len(self.DRIFT_RATES))
        self.drift_score = np.zeros(len(self.DRIFT_RATES))
        self.prior_curve = None  # predicted log-cost of each arm relative to the best (prime)
        self.prior_used = False  # whether the curve has entered the model
        check_positive(ridge=ridge, gamma=gamma)
        check_nonnegative("beta", beta)
        check_choice("exploration", exploration, ("lcb", "igw"))
        check_not_flag(m_omega=m_omega)
        if int(m_omega) != m_omega or m_omega < 1:
            raise ValueError(f"m_omega must be a positive integer, got {m_omega!r}")
        self._m_arg = m
        # a vector context takes total degree < 4 (d = number of ψ · m_omega stays moderate)
        self.features = Chebyshev(context_bounds, 10 if m is None else m, context_dim,
                                  vector_m=4 if m is None else None)
        self.m_omega = int(m_omega)
        self.ridge, self.beta, self.gamma = float(ridge), float(beta), float(gamma)
        self.exploration = exploration
        check_choice("arm_basis", arm_basis, ("family", "line", "omega"))
        self.arm_basis = arm_basis
        family, pos, plain = family_positions(self.arms)
        if plain or arm_basis == "line":
            self._line_basis()
        elif arm_basis == "omega":
            self._omega_line_basis(family, pos)
        else:
            self._family_basis(family, pos)
        self.first_pick = first_pick
        self.first_wait = first_wait
        self.P = self.theta = None  # allocated once the context length is known
        if self.features.context_dim is not None:
            self._allocate()
        self.unit = math.nan
        self.sq_err = 0.0
        self.log_sq_err = 0.0  # a model of the cost: the squared log-ratios fed (the clip's scale)
        self._mu = np.empty(self.n_arms)
        self._score = np.empty(self.n_arms)
        self._mu_of = None  # (memo_key(context), t, leader or None) for which _mu holds the means
        self._key = None  # memo_key of the context of the last select/update

    @property
    def models_cost(self):
        """Whether the model's target is the cost itself (``cost / unit``) rather than
        ``log(cost / unit + 0.01)``: ``target="cost"``, or ``"auto"`` with no context or with
        one that has not varied yet (:meth:`_auto_target`)."""
        if self.target != "auto":
            return self.target == "cost"
        # (features.range.dim: features.context_dim without its property call; read by
        # every draw, leader and update)
        return (self.features.range.dim == 0 or self.auto_span is not None
                or (self.t == 0 and math.isnan(self.unit)))

    def _scores(self, psi, bonus):
        """:func:`joint_scores` into ``_mu`` and ``_score``."""
        joint_scores(self.theta, self.P, psi, self._X, bonus, self._mu, self._score)

    def _cost(self, mu):
        """A prediction of the target back in raw cost units (never below 0)."""
        if self.models_cost:
            return self.unit * np.maximum(mu, 0.0)
        return self.unit * (np.exp(mu) - _FLOOR)

    def select(self, context=None):
        """Return the index of the arm to play next (:meth:`Policy.select`)."""
        features = self.features
        fast = features._fast
        # (_one_call_range's conditions, written out: one Python call fewer in the round's
        # first steps after a solve)
        if (type(context) is float and fast is not None and fast[0] <= context <= fast[1]
                and self.t > 0 and self.exploration == "lcb" and self.one_call
                and self.auto_span is None and self.target != "cost"
                and (self.prior_curve is None or self.prior_used)):
            # the features, the scores and the leader in one compiled call
            self._key = context
            self.p = None
            sigma = math.sqrt((self.sq_err + 0.1) / (self.t - self.forgotten + 1))
            psi = np.empty(fast[5])  # new every round: a cached features array never changes
            k, lead = joint_decide(
                context, fast[2], fast[3], fast[4], fast[5], self.theta, self.P, self._X,
                self.beta * sigma, self._cap, self._near_mask, self._mu, self._score,
                self.converged_counts, self._gate_family, self._gate_allow, sigma,
                self._gate_pick, psi)
            self._mu_of = (context, self.t, lead)  # leader() of the same round reads these
            # the feature map's cache as its own call leaves it (every attribute of an MPI
            # rank's copy is rank 0's, caches included), made read-only when first handed out
            # (FeatureMap._cached: the round never reads it)
            features._key, features._last = context, psi
            return first_pick(self, k) if self._first_pick else k  # (_joint_first)
        k = int(self._select(self._context(context)))
        return first_pick(self, k) if self._first_pick else k  # (_joint_first)

    def update(self, arm, cost, context=None, censored=False, converged=None):
        """Report the cost of playing ``arm`` (:meth:`Policy.update`)."""
        features = self.features
        fast = features._fast
        # (_one_call_range's conditions written out, as in select)
        if (type(context) is float and fast is not None and fast[0] <= context <= fast[1]
                and self.one_call and self.auto_span is None
                and self.target != "cost"
                and type(arm) is int and 0 <= arm < self.n_arms
                and type(cost) is float and 0.0 <= cost < math.inf
                and type(censored) is bool and (converged is None or type(converged) is bool)
                and self._auto_kept is None
                and not (censored and converged)
                and not math.isnan(self.unit)):
            # a model of the log-cost (as in select) at a context that widens nothing, the
            # input as Policy.update's checks pass it: features, prediction, clip, rank-one
            # update, the change test's CUSUMs and the arm's counts in one compiled call
            self._key = context
            if features._key != context:  # (not drawn at this context: the cache as before)
                features(context)
            info = self._info
            if info is None:
                info = self._info = np.zeros(2)
            scale = math.sqrt((self.sq_err + 0.1) / (self.t - self.forgotten + 1))
            detect = self.detect_changes
            e, up, down = joint_tell(
                context, fast[2], fast[3], fast[4], fast[5], self.P, self.theta, self._X, arm,
                math.log(cost / self.unit + _FLOOR), censored, _CLIP * scale, info, scale,
                detect, self.cusum_up, self.cusum_down, self.CHANGE_CAP, self.CHANGE_DRIFT,
                self.counts, self.converged_counts, self.cost_sums, cost,
                not censored if converged is None else converged)
            self.sq_err += e
            self.p = None
            if self.prior_dir is not None:
                self._refresh_prior()
            if detect:
                self.cusum_up, self.cusum_down = up, down
                if up > self.CHANGE_LIMIT or down > self.CHANGE_LIMIT:
                    self.changes += 1
                    self._forget(self.CHANGE_KEEP)
            self.t += 1
            return
        super().update(arm, cost, context, censored, converged)

    def _update(self, arm, cost, psi, censored):
        if self._auto_kept is not None:  # target="auto", the context not varied yet
            self._auto_kept.append((arm, cost, float(censored), *self._auto_x))
        first = math.isnan(self.unit)
        if first:
            if cost <= 0:
                return  # nothing to scale by yet: a cost of 0 everywhere teaches nothing
            self.unit = cost
        if self.models_cost:
            z = self._update_cost(arm, cost, psi, censored, first)
        else:
            # features, prediction, censoring, the clip and the rank-one update in one
            # compiled call (a round follows a solve that has pushed Python's layers out of
            # the caches); _info receives the error before the clip and its spread
            scale = self._scale()
            info = self._info
            if info is None:
                info = self._info = np.zeros(2)
            y = math.log(cost / self.unit + _FLOOR)
            e = joint_observe(self.P, self.theta, psi, self._X, arm, y, censored,
                              _CLIP * scale, info)
            self.sq_err += e
            self.p = None
            # as Python floats, so that the change test's few operations are not NumPy
            # scalars' (the same IEEE operations, the same numbers)
            err, spread2 = info.tolist()
            z = err / (scale * math.sqrt(spread2))
        if self.prior_dir is not None:
            self._refresh_prior()
        if self.detect_changes and not first:
            self._change_test(z)

    def _log_scale(self):
        """A model of the cost: the noise scale of ``log(cost/unit + 0.01)`` around the
        prediction, ``sqrt((Σ fed squared log-ratios + 0.1)/(t + 1))``."""
        return math.sqrt((self.log_sq_err + 0.1) / (self.t - self.forgotten + 1))

    def _update_cost(self, arm, cost, psi, censored, first=False):
        """Feed a cost to a model of the cost itself, with the Huber clip on the log scale.

        A hard system costs many times a typical one, and without a context it is not a bad
        reading but part of the total; a slow clock reading looks the same in size.  What
        tells them apart is how the costs usually spread *relative* to the prediction: the
        log-ratio ``r = log(y + 0.01) − log(μ + 0.01)`` of the reading to the prediction is
        fed as at most three predictive standard deviations of the log-ratios seen so far
        (the clip of the log-cost model, on the same scale).  Where systems differ a lot the
        bound is wide and hard systems enter whole; on a steady sequence one wild reading
        moves the mean no more than a large honest one.  The first cost, which sets the unit,
        has no prediction to be compared with: it is fed whole and not counted.  Returns the
        log-ratio in predictive standard deviations (before the clip; NaN for the first cost),
        what :meth:`_change_test` reads.
        """
        if first:
            e = joint_observe(self.P, self.theta, psi, self._X, arm, cost / self.unit,
                              censored, math.inf)
            self.sq_err += e
            self.p = None
            return math.nan
        # θᵀφ and φᵀPφ as NumPy computes them, in one compiled call
        pred, quad = joint_predict(self.theta, self.P, psi, self._X, arm)
        spread = math.sqrt(1.0 + max(quad, 0.0))
        y = cost / self.unit
        base = math.log(max(pred, 0.0) + _FLOOR)
        r = math.log(y + _FLOOR) - base
        if censored and r < 0.0:
            r = 0.0  # a lower bound under the prediction: the fit takes the prediction
        scale = self._log_scale()
        z = r / (scale * spread)  # the change test's standardised error (before the clip)
        bound = _CLIP * scale * spread
        if abs(r) > bound:
            r = math.copysign(bound, r)
            y = math.exp(base + r) - _FLOOR
        self.log_sq_err += r * r
        self.sq_err += joint_observe(self.P, self.theta, psi, self._X, arm, y, censored, math.inf)
        self.p = None
        return z
