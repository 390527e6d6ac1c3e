"""The rules that decide what :class:`bandit.JointCB` fits besides the measured rounds: the
theory prior's pseudo-observations with their shared error (``prior="theory"``,
``prior_shift``), and ``target="auto"``'s switch from a model of the cost to one of the
log-cost once the context varies: the prior taken from the first system
(:meth:`~bandit.JointCB.prime`) and the rounds kept while the context has not varied
(:attr:`~bandit.JointCB.auto_rounds`).

Both are mixins of :class:`~bandit.JointCB`, each with its documented constants
(``PRIOR_ROWS``, ``PRIOR_SPAN``; ``AUTO_VARIED``, ``AUTO_WINDOW``: moved from
:mod:`bandit.joint`, documented on the class's page; its saved state and settings are
:mod:`bandit._joint_state`'s); their methods read and write the learner's own attributes.
"""
from __future__ import annotations

import collections
import math

import numpy as np

from ._base import arm_omega
from ._kernels import rls_update

# Gauss–Hermite nodes and weights (probabilists', weights summing to 1) over which the prior's
# shared error (its best ω moved by s ~ N(0, prior_shift²)) is averaged
_HERMITE = (lambda x, w: (x, w / w.sum()))(*np.polynomial.hermite_e.hermegauss(9))


#: Above this many arms the shared error's covariance is decomposed through the quadrature's
#: few nodes (:func:`_shared_error_eigen`).
_EIGEN_DENSE_ARMS = 64


def _shared_error_eigen(E0, wq):
    """Eigenvalues and eigenvectors of ``Σ_e = E0ᵀ diag(wq) E0`` (``E0``: nodes × K).

    Up to :data:`_EIGEN_DENSE_ARMS` arms the K × K matrix is decomposed as it is (the
    numbers every learner of the paper's grids has used); beyond, through the singular
    values of the nodes × K matrix ``diag(√wq) E0`` — the same eigenpairs of a matrix of
    rank at most ``nodes``, in O(nodes² K) instead of O(K³): a grid of 2,000 ω had spent
    10–40 s in the K × K decomposition of its first solve."""
    if E0.shape[1] <= _EIGEN_DENSE_ARMS:
        return np.linalg.eigh((E0.T * wq) @ E0)
    _, sv, vt = np.linalg.svd(np.sqrt(wq)[:, None] * E0, full_matrices=False)
    return sv * sv, vt.T


class PriorRules:
    """The theory prior in :class:`~bandit.JointCB`'s model: its pseudo-observations at the
    first context, the shared error of the curve's place (``prior_shift``) kept at its size
    relative to the noise scale, and the undoing of the draw that took them; the prior taken
    from the first system (:meth:`prime`)."""

    #: The most pseudo-observations' worth the prior's curve is (:meth:`_prior_w`): the
    #: paper's grid of 20 ω gives 19, and a denser grid the same in total.
    PRIOR_ROWS = 20
    #: A model of the cost takes the prior's pseudo-observations with relative errors when
    #: the curve rises more than this many times its best below its best ω
    #: (:meth:`_prior_row_scale`; every sequence of the documentation rises at most 23-fold
    #: there on the paper's grid).
    PRIOR_SPAN = 50.0

    def prime(self, A, solver):
        """Take the prior from a system of the sequence (a :class:`~bandit.Tuner` calls this
        once, with the first matrix, before the first draw); a no-op without ``prior`` or
        once costs have been seen.

        ``prior="theory"``: :func:`bandit.theory_costs` predicts every arm's iterations
        from ``A``'s spectrum; their logarithms relative to the cheapest arm become
        :attr:`prior_curve`.  The first draw plays the curve's minimum, and the curve enters the
        model as ``prior_weight`` pseudo-observations of each difference
        ``y_k − y_best`` at the first context: they fix the shape in ω, not the level, and
        the measured costs outweigh them as they accumulate.
        """
        if self.prior is None or self.t > 0 or self.prior_used:
            return
        from .prior import theory_costs

        shifts = [0.0] if self.prior_shift is None else [0.0, *self.prior_shift * _HERMITE[0]]
        c = theory_costs(A, self.arms, solver, shift=shifts)  # one spectrum estimate
        self.prior_curve = self.prior_moved = None
        if c is not None:
            self.prior_curve = np.log(c[0] / c[0].min())
            if self.prior_shift is not None:  # relative to the same cheapest cost
                self.prior_moved = np.log(c[1:] / c[0].min())

    def _draw_state(self):
        # the draw that takes the prior (the first) also enters its pseudo-observations: an
        # undone draw (a round the Tuner does not tell) takes them back with it
        pending = self.prior_curve is not None and not self.prior_used
        if not pending and self.exploration == "lcb":
            # the common round (a deterministic draw) in one step: Policy._draw_state's
            # state without its layer and the property behind it (the first call on the
            # learner after a solve, ~8 µs cache-cold)
            return (None, self.p), False
        model = (None if self.P is None else (self.P.copy(), self.theta.copy())) if pending \
            else False
        return super()._draw_state(), model

    def _undo_draw(self, state) -> None:
        base, model = state
        super()._undo_draw(base)
        if model is not False:
            self.prior_used = False
            self.P, self.theta = (None, None) if model is None else model
            if model is None and self.features.context_dim is not None:
                # the draw fixed the context length: the model without the prior, as the
                # next draw (and a policy built from the saved settings) allocates it — left
                # None, a tuner whose first solves were all already solved (b = 0, or a
                # steady start) could not be saved ('P' must be an array, got None)
                self._allocate()
            self.prior_dir = self.prior_proj = self.prior_usq = self.prior_c = None
            self.prior_s2 = None
            self._mu_of = None

    def _use_prior(self, psi):
        """Pseudo-observations of the prior's differences at the first context (once)."""
        self.prior_used = True
        # the curve is log(cost / cheapest cost) on the first system; a model of the cost
        # itself takes it as cost ratios (the unit will be the first cost, at the curve's best)
        g = np.exp(self.prior_curve) if self.models_cost else self.prior_curve
        best = int(np.argmin(g))
        self.prior_w = self._prior_w()
        w = math.sqrt(self.prior_w)
        a = self._prior_row_scale(g, best)
        for k in range(self.n_arms):
            if k != best:
                phi = np.outer(psi, self._X[k] - self._X[best]).ravel()
                wk = w if a is None else w * a[k]
                rls_update(self.P, self.theta, wk * phi, wk * (g[k] - g[best]))
        if self.prior_moved is not None:
            self._use_prior_shift(psi, g, best, a)

    def _prior_w(self):
        """The weight of each of the prior's pseudo-observations: :attr:`prior_weight`, less
        on a grid of more than :attr:`PRIOR_ROWS` + 1 arms, so that the curve is worth at
        most ``PRIOR_ROWS · prior_weight`` observations however densely the user lists ω
        (on a grid of 2,000 ω it had been worth 1,999, which 40 measurements could not
        correct where the model's fit of it was off)."""
        rows = self.n_arms - 1
        if rows <= self.PRIOR_ROWS:
            return self.prior_weight
        return self.prior_weight * self.PRIOR_ROWS / rows

    def _prior_row_scale(self, g, best):
        """Per arm, the factor on a pseudo-observation's row in a model of the cost (None:
        1 for every arm, the pseudo-observations' errors of one size).

        The theory's errors are relative (a factor, −21 % / +25 % on the offset Laplacians),
        so a predicted ratio ``g_k`` is known to within a multiple of ``g_k``, not to ``σ̂``.
        Taking them of one size is harmless where the curve spans a few tens of times its
        best, but below its best SOR's cost grows without bound (like ``1/ω`` as ω → 0): on
        a grid reaching far below the best (0.01 to 1.99) the least squares of a few
        polynomials in ω followed the hundred- to thousandfold arms and put the model's best
        at ω = 1.3 where the curve's was 1.69.  When the curve rises more than
        :attr:`PRIOR_SPAN` times its best below its best ω, each row is weighted by
        ``g_best / g_k`` (its error taken relative)."""
        if not self.models_cost:
            return None
        om = np.array([arm_omega(a) for a in self.arms], dtype=float)
        low = om < om[best]
        if not low.any() or float(g[low].max()) <= self.PRIOR_SPAN * g[best]:
            return None
        return g[best] / g

    def _use_prior_shift(self, psi, g, best, a=None):
        """The prior's shared error (``prior_shift``): its components and their first
        downdates (:meth:`_refresh_prior`)."""
        # e(s) = how the pseudo-observations move when the curve's best ω moves by s,
        # s ~ N(0, prior_shift²): for the log-cost the moved log-curve less the curve (both
        # relative to the curve's best arm); for the cost, whose pseudo-observations are
        # the ratios g_k = exp(Δ_k), to first order g_k times that (the exact ratios of a
        # curve moved up multiply the far arms' costs many times over, and a Gaussian error
        # that size let one early measurement send the model's best to ω = 1.0).  Its
        # covariance by Gauss–Hermite quadrature, of rank at most nodes − 1, as orthogonal
        # components u_j
        curve = self.prior_curve
        d = g - g[best]
        E = self.prior_moved - self.prior_moved[:, [best]] - (curve - curve[best])
        if self.models_cost:
            E = E * g
        if a is not None:
            E, d = E * a, d * a
        wq = _HERMITE[1]
        E0 = E - wq @ E
        lam, V = _shared_error_eigen(E0, wq)
        keep = lam > 1e-9 * max(float(lam.max()), 1e-300)
        U = V[:, keep] * np.sqrt(lam[keep])  # K × r, Σ_e = U Uᵀ
        # rows φ_k = ψ ⊗ χ_k are ravelled context-major: Φu_j = Σ_k u_jk (φ_k − φ_best)
        rows = self._X - self._X[best]
        if a is not None:
            rows = rows * a[:, None]
        self.prior_dir = np.array([np.outer(psi, row).ravel() for row in U.T @ rows])
        self.prior_proj = U.T @ d
        self.prior_usq = lam[keep]
        self.prior_c = np.zeros(int(keep.sum()))
        self.prior_s2 = None
        self._refresh_prior()

    def _refresh_prior(self):
        """Keep the prior's shared error at its size relative to the current noise scale.

        The pseudo-observations ``d_k = g_k − g_best`` carry an error ``e_k + ε_k``: ``ε_k``
        independent, of variance ``σ̂²/w`` (``w`` = :attr:`prior_weight`), and ``e`` shared
        by all, the change of ``d`` when the curve's best ω moves by ``s ~ N(0, τ²)``
        (``τ`` = :attr:`prior_shift`), of covariance ``Σ_e = Σ_j u_j u_jᵀ`` (orthogonal
        ``u_j``).  In units of ``σ̂²`` the covariance ``I/w + Σ_e/σ̂²`` has the inverse
        ``w I − Σ_j c_j u_j u_jᵀ``, ``c_j = w²/(σ̂² + w |u_j|²)`` (Woodbury), so the rows
        enter as ``w`` pseudo-observations each (done once) and one downdate of weight
        ``c_j`` along ``Φu_j`` with target ``u_jᵀd`` per component: a measurement that
        contradicts the curve's place moves it as a whole, and counts against it once, not
        once per arm.  ``σ̂`` changes as costs come, so the ``c_j`` follow it (rank-one
        corrections once ``σ̂²`` has moved by more than 10 % since they were last set).
        """
        s2 = (self.sq_err + 0.1) / (self.t - self.forgotten + 1)  # σ̂² (_scale), every round
        if self.prior_s2 is not None and abs(s2 - self.prior_s2) <= 0.1 * self.prior_s2:
            return  # every c_j within 10 % of its weight in P
        w = self.prior_weight if self.prior_w is None else self.prior_w
        # (after a detected change the prior's information is scaled by prior_scale, and
        # with it the weights of its shared error's downdates)
        c = self.prior_scale * w * w / (s2 + w * self.prior_usq)
        old = self.prior_c
        for j in range(c.size):
            # information − (c_j − old_j) x xᵀ, Σ φ y − (c_j − old_j) x z (Sherman–Morrison)
            alpha = old[j] - c[j]
            x, z = self.prior_dir[j], self.prior_proj[j]
            Px = self.P @ x
            denom = 1.0 + alpha * float(x @ Px)
            if not denom > 1e-12:  # rounding: keep the weight this component has
                c[j] = old[j]
                continue
            self.theta += (alpha / denom) * Px * (z - float(x @ self.theta))
            self.P -= (alpha / denom) * np.outer(Px, Px)
        self.P = 0.5 * (self.P + self.P.T)
        self.prior_c = c
        self.prior_s2 = s2
        self._mu_of = None


class AutoTargetRules:
    """``target="auto"`` with a context: a model of the cost until the context varies, then
    the kept rounds learnt again by a model of the log-cost, which takes over."""

    #: ``target="auto"``: a context coordinate has varied once its range over the contexts seen
    #: exceeds this fraction of its magnitude (the automatic context, an estimate of the best
    #: ω from 10 Lanczos steps, is good to about 1 %)
    AUTO_VARIED = 0.02
    #: ``target="auto"``: at most this many of the latest rounds are kept to be learnt again
    #: by the model of the log-cost when the context comes to vary
    AUTO_WINDOW = 1000

    @property
    def auto_rounds(self):
        """``target="auto"`` while the context has not varied: the kept rounds, one row
        ``(arm, cost, censored, context...)`` each (None otherwise; part of the saved state)."""
        kept = self._auto_kept
        if kept is None:
            return None
        return np.array(kept, dtype=float).reshape(len(kept), 3 + self.auto_span.shape[1])

    @auto_rounds.setter
    def auto_rounds(self, rows):
        self._auto_kept = None if rows is None else collections.deque(
            (tuple(r) for r in np.asarray(rows, dtype=float).tolist()), maxlen=self.AUTO_WINDOW)

    def _auto_target(self, context):
        """``target="auto"`` with a context: model the log-cost only once the context varies.

        A context that has stayed within :attr:`AUTO_VARIED` of its magnitude in every
        coordinate (a constant one, or the automatic context of a sequence whose matrices
        barely change, such as a Newton loop's Jacobians) cannot explain why one system costs
        more than another, so it is no context for the choice of target: the model fits the
        cost itself, as without a context, and converges to the arm of least total rather
        than least geometric mean.  The rounds are kept (the latest :attr:`AUTO_WINDOW`);
        when a coordinate first leaves that band, a model of the log-cost learns them again
        from the prior on, in their order, and takes over (once: the target stays the
        log-cost).  Called by :meth:`_context` once the features have taken ``context``;
        returns whether the model of the log-cost has taken over.
        """
        span = self.auto_span
        if span is None:
            if self.t > 0:  # decided (or saved before the rule): the log-cost
                return False
            x = self.features.range.parse(context)
            self.auto_span = np.array([x, x], dtype=float)
            self._auto_kept = collections.deque(maxlen=self.AUTO_WINDOW)
            self._auto_x = tuple(x.tolist())
            return False
        if isinstance(context, float) and span.shape[1] == 1:  # a number: no arrays
            self._auto_x = (context,)
            lo, hi = float(span[0, 0]), float(span[1, 0])
            if lo <= context <= hi:
                return False
            lo, hi = min(lo, context), max(hi, context)
            span[0, 0], span[1, 0] = lo, hi
            if hi - lo > self.AUTO_VARIED * max(abs(lo), abs(hi)):
                self._auto_relearn()
                return True
            return False
        x = self.features.range.parse(context)
        self._auto_x = tuple(x.tolist())
        lo, hi = np.minimum(span[0], x), np.maximum(span[1], x)
        self.auto_span = np.array([lo, hi])
        # halves: hi − lo of contexts near ±1.7e308 overflowed (a RuntimeWarning, an error
        # under ``-W error``)
        if np.any(0.5 * hi - 0.5 * lo > 0.5 * self.AUTO_VARIED * np.maximum(np.abs(lo),
                                                                          np.abs(hi))):
            self._auto_relearn()
            return True
        return False

    def _auto_relearn(self):
        """Learn the kept rounds again with a model of the log-cost and take its state."""
        rows = self.auto_rounds
        fresh = type(self)(self.arms, seed=self.seed, **{**self._config(), "target": "log"})
        fresh.prior_curve, fresh.prior_moved = self.prior_curve, self.prior_moved
        for i, (arm, cost, censored, *c) in enumerate(rows):
            c = c[0] if len(c) == 1 else np.array(c)
            if i == 0:  # the prior enters at the first context, as in a run
                fresh.select(c)
            fresh.update(int(arm), float(cost), c, bool(censored))
        for key in self._state_keys:
            if key not in ("context_range", "auto_span", "auto_rounds"):
                setattr(self, key, getattr(fresh, key))
        self.features = fresh.features
        # σ̂ counts the rounds the model learnt: the ones before the window are forgotten
        self.forgotten = self.t - len(rows) + fresh.forgotten
        self.auto_span = self._auto_kept = None
        self._info, self._mu_of, self.p = fresh._info, None, None
