"""SquareCB: inverse-gap weighting over per-arm ridge regressions of the cost on features.

:class:`SquareCB` takes vector contexts with polynomial features; :class:`ChebCB` (the paper's
learner) and :class:`SplineCB` are its scalar-context cases with Chebyshev and hat features.
"""
from __future__ import annotations

import math

import numpy as np

from ._base import Policy, check_choice, check_nonnegative, check_positive, memo_key
from ._checks import check_not_flag
from ._kernels import igw_probabilities, igw_select, lcb_scores, played_model_argmin, rls_observe
from .features import Chebyshev, Hat, Polynomial, check_model_size, rescale_ridge

__all__ = ["SquareCB", "ChebCB", "ChebLCB", "SplineCB"]

_FLOOR = 1e-2  # log target: log(cost/unit + 0.01) keeps a cost of 0 finite


class SquareCB(Policy):
    """Contextual learner: per-arm ridge regression + inverse-gap weighting (costs minimised).

    For each arm ``k`` the scaled cost ``y`` is regressed on the features ``φ(context)`` of
    the rounds in which ``k`` was played, ``θ_k = (λΛ + Σ φφᵀ)⁻¹ Σ φ y``, kept by rank-one
    (Sherman–Morrison) updates so a round costs ``O(K d + d²)`` at any ``t``; this equals the
    batch ridge fit on the same rows.  With predictions ``ŷ_k = φᵀθ_k`` and leader ``k*``, arm
    ``k ≠ k*`` is played with probability ``1/(K + γ_t (ŷ_k − ŷ_k*))`` and ``k*`` gets the rest,
    ``γ_t = gamma · t^gamma_exponent``.

    Cost scaling: ``unit`` is the first positive cost seen (frozen, so old targets stay valid).
    ``target="log"`` fits ``y = log(cost/unit + 0.01)``: gaps are relative (0.1 ≈ 10 % more
    iterations) whatever the unit, and the wide range of iteration counts (25 to 2500 on the
    offset Laplacian) becomes a smooth function of the context.  ``target="linear"`` fits
    ``y = cost/unit − 1`` and divides gaps by the running mean cost.  An arm never played
    predicts ``y = 0`` (the first cost).

    Censored costs (capped solves, true cost ≥ c): the target is ``max(y(c), ŷ_k)``, i.e. a cap
    below the current prediction teaches nothing and a cap above it raises the prediction.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid or setting dicts.
    context_dim : int, optional
        Length of the context vector (default: from ``context_bounds`` or the first context).
    degree : int, default 2
        Total degree of the polynomial features.
    context_bounds : (a, b) or sequence of (a, b), optional
        Starting range of each coordinate; without, it is learnt from the contexts seen
        (:mod:`bandit.features`).  Coordinates are mapped to [−1, 1] within the range.
    ridge : float, default 0.01
        ``λ``, the weight of the feature map's penalty ``Λ``.
    gamma, gamma_exponent : float
        Exploration schedule ``γ_t = gamma · t^gamma_exponent`` (larger = greedier).
    target : {"log", "linear"}
        Cost transform, see above.
    seed : int, optional
        Seed of the sampling generator.

    References
    ----------
    D. Foster, A. Rakhlin, "Beyond UCB: optimal and efficient contextual bandits with regression
    oracles", ICML 2020.

    Examples
    --------
    >>> p = SquareCB([1.0, 1.8], context_dim=2, degree=1, seed=0)
    >>> for i in range(300):
    ...     x = [i % 2, 1.0]                      # arm 0 best when x[0] = 0, arm 1 when 1
    ...     k = p.select(x)
    ...     p.update(k, 10 + 50 * (k != x[0]), context=x)
    >>> [int(np.argmin(p.predict([0, 1.0]))), int(np.argmin(p.predict([1, 1.0])))]
    [0, 1]
    """

    contextual = True
    _state_keys = ("P", "theta", "unit", "sq_err", "context_range")
    _m_arg = 0  # the feature size was given (ChebCB: None means its default, see _allocate)

    def __init__(self, arms, context_dim=None, *, degree=2, context_bounds=None, ridge=0.01,
                 gamma=50.0, gamma_exponent=0.5, target="log", exploration="igw", beta=0.5,
                 seed=None):
        super().__init__(arms, seed=seed)
        self._setup(Polynomial(context_dim, degree, context_bounds), ridge, gamma,
                    gamma_exponent, target, exploration, beta)

    def _setup(self, features, ridge, gamma, gamma_exponent, target, exploration, beta):
        check_positive(ridge=ridge, gamma=gamma)
        check_not_flag(gamma_exponent=gamma_exponent)
        if not 0 <= gamma_exponent <= 1:
            raise ValueError(f"gamma_exponent must lie in [0, 1], got {gamma_exponent!r}")
        check_choice("target", target, ("log", "linear"))
        check_choice("exploration", exploration, ("igw", "lcb"))
        check_nonnegative("beta", beta)
        self.exploration, self.beta = exploration, float(beta)
        self.features = features
        self.ridge, self.gamma, self.gamma_exponent = float(ridge), float(gamma), float(gamma_exponent)
        self.target = target
        self.P = self.theta = None  # allocated once the context length is known
        if features.context_dim is not None:
            self._allocate()
        self.unit = math.nan
        self.sq_err = 0.0  # accumulated squared prediction error (diagnostic)
        self._lead = None  # (memo_key(context), t, leader, its ŷ) found by the last draw
        self._key = None  # memo_key of the context of the last select/update

    def check_context_length(self, D):
        """Raise ``ValueError`` if a context of ``D`` numbers needs a model too large to keep
        and refit (:func:`bandit.features.check_model_size`); changes nothing."""
        d = self.features.count(D)
        check_model_size(1, d, D, f"{self.features.kind} features (m = "
                         f"{self.features.m_for(D)})", ", or a smaller m")
        check_model_size(self.n_arms, d, D, f"{type(self).__name__} over {self.n_arms} arms",
                         ", a smaller m, or fewer arms")

    def _allocate(self):
        d = self.features.n_features
        try:  # one d × d matrix per arm
            self.check_context_length(self.features.context_dim)
        except ValueError:
            self.features.forget()  # the context length is not fixed by a refused context
            raise
        P0 = np.linalg.inv(self.ridge * self.features.penalty)
        # exactly symmetric: a rank-one update never removes an antisymmetric part, which
        # then grows against P as P shrinks along the data (a diagonal penalty's is unchanged)
        P0 = 0.5 * (P0 + P0.T)
        self.P = np.repeat(P0[None], self.n_arms, axis=0)
        self.theta = np.zeros((self.n_arms, self.features.n_features))

    @property
    def context_range(self):
        """The learnt context range (part of the saved state)."""
        return self.features.state()

    @context_range.setter
    def context_range(self, state):
        self.features.load(state)
        self._lead = None

    def _config(self):
        cfg = self.features.config()
        return {"context_dim": cfg["context_dim"], "degree": self.features.m - 1,
                "context_bounds": cfg["context_bounds"], **self._learn_config()}

    def _learn_config(self):
        return {"ridge": self.ridge, "gamma": self.gamma, "gamma_exponent": self.gamma_exponent,
                "target": self.target, "exploration": self.exploration, "beta": self.beta}

    @property
    def randomised(self):
        """False for ``exploration="lcb"`` (the arm is a deterministic function of the data)."""
        return self.exploration == "igw"

    def _context(self, context):
        # overrides Policy._context (select/update): the range may widen, and the model is
        # then re-expressed in the new coordinates
        if context is None and self.features.context_dim != 0:
            raise ValueError(f"{type(self).__name__} is contextual: pass context=...")
        self._key = memo_key(context)
        phi, S = self.features.observe(context)
        if self.P is None:
            self._allocate()
            phi = self.features(context)
        if S is not None:
            self.P, self.theta = rescale_ridge(self.P, self.theta, S,
                                               self.ridge * self.features.penalty)
            self._lead = None
        return phi

    def _query(self, context):
        """Features for predict/leader: no widening (a context outside the range is taken at
        its nearest edge)."""
        if context is None and self.features.context_dim != 0:
            raise ValueError(f"{type(self).__name__} is contextual: pass context=...")
        phi = self.features(context)
        if self.P is None:
            self._allocate()  # may switch to the vector default of m
            phi = self.features(context)
        return phi

    # --- cost transform -----------------------------------------------------------------------
    def _y(self, cost):
        if self.target == "log":
            return math.log(cost / self.unit + _FLOOR)
        return cost / self.unit - 1.0

    def _cost(self, y):
        y = np.asarray(y, dtype=float)
        if self.target == "log":
            return self.unit * (np.exp(y) - _FLOOR)
        return self.unit * (y + 1.0)

    def gamma_t(self):
        """Current exploration parameter ``γ_t``."""
        return self.gamma * (self.t + 1) ** self.gamma_exponent

    def probabilities(self, context):
        """Inverse-gap-weighting distribution for ``context``."""
        return self._probabilities(self._query(context))

    def _probabilities(self, phi):
        yhat = self.theta @ phi
        if self.target == "linear" and self.t:
            yhat = yhat * (self.unit / self._mean_cost())
        return igw_probabilities(yhat, self.gamma_t())

    def _select(self, phi):
        if self.exploration == "lcb":
            self.p = None
            return int(np.argmin(lcb_scores(self.theta, self.P, phi, self._bonus())))
        # == self._sample(self._probabilities(phi)), in one compiled call
        scale = self.unit / self._mean_cost() if self.target == "linear" and self.t else 1.0
        k, self.p, lead, y = igw_select(self.theta, phi, scale, self.gamma_t(), self.rng.random(),
                                        self.counts)
        self._lead = (self._key, self.t, lead, y)  # leader() of the same round reuses it
        return k

    def _bonus(self):
        # residual scale of the fit so far (0.1 prior in y units before data), times beta
        return self.beta * math.sqrt((self.sq_err + 0.1) / (self.t + 1))

    def _update(self, arm, cost, phi, censored):
        if math.isnan(self.unit):
            if cost <= 0:
                return  # nothing to scale by yet: a cost of 0 everywhere teaches nothing
            self.unit = cost
        self.sq_err += rls_observe(self.P, self.theta, arm, phi, self._y(cost), censored)
        self.p = None

    def predict(self, context=None):
        """Predicted cost of every arm at ``context`` in raw units (NaN for unplayed arms)."""
        phi = self._query(context)
        if math.isnan(self.unit):
            return np.full(self.n_arms, np.nan)
        return np.where(self.counts > 0, self._cost(self.theta @ phi), np.nan)

    def leader(self, context=None):
        """Played arm with the lowest predicted cost at ``context`` and that cost (see
        :meth:`Policy.leader`); the cost transform is increasing, so the model's argmin is the
        leader and only its cost is converted."""
        phi = self._query(context)
        if math.isnan(self.unit):
            return None, math.nan
        lead = self._lead
        # the draw's leader (same context value, same round) is over played arms: when it has
        # converged it is also the leader over the arms with a converged observation (a
        # subset), else search those
        if (lead is not None and lead[1] == self.t and lead[0] is not None
                and lead[0] == memo_key(context) and lead[2] >= 0
                and self.converged_counts[lead[2]] > 0):
            k, y = lead[2:]
        else:
            k, y = played_model_argmin(self.theta, phi, self.converged_counts)
        if k < 0:
            return None, math.nan
        # _cost's numbers for one float (np.exp's, as there), without the array round trip
        c = self.unit * (np.exp(y) - _FLOOR) if self.target == "log" else self.unit * (y + 1.0)
        return int(k), float(c)


class ChebCB(SquareCB):
    """ChebCB (the paper's contextual learner): :class:`SquareCB` with Chebyshev features
    ``T_0(u) … T_{m−1}(u)``, ``u = (c − m)/h`` the context in its range ``[m − h, m + h]``,
    penalty ``diag((j + 1)²)``; a vector context gets the products ``Π_d T_{j_d}(u_d)`` of total
    degree ``< m``.

    Parameters
    ----------
    arms : sequence of float or dict
        ω grid or setting dicts.
    context_bounds : (float, float) or sequence of (float, float), optional
        Starting range of the context (one pair per coordinate); without, the range is learnt
        from the contexts seen.  Either way a context outside the range widens it and the model
        is re-expressed in the new coordinates (:mod:`bandit.features`).
    m : int, optional
        Number of Chebyshev polynomials per coordinate (the paper's m = 6 for a scalar
        context; default 6 for one coordinate, 3 for more).
    context_dim : int, optional
        Context length (default: from ``context_bounds`` or the first context).
    ridge, gamma, gamma_exponent, target, seed
        As for :class:`SquareCB`.

    Examples
    --------
    >>> p = ChebCB([1.0, 1.8], seed=0)                 # no bounds: the range is learnt
    >>> for i in range(300):
    ...     c = 5.0 * (i % 2)
    ...     k = p.select(c)
    ...     p.update(k, 10 + 50 * (k != i % 2), context=c)
    >>> [int(np.argmin(p.predict(0.0))), int(np.argmin(p.predict(5.0)))]
    [0, 1]
    """

    _feature_map = staticmethod(Chebyshev)
    _default_m = (6, 3)

    def __init__(self, arms, context_bounds=None, m=None, *, context_dim=None, ridge=0.01,
                 gamma=50.0, gamma_exponent=0.5, target="log", exploration="igw", beta=0.5,
                 seed=None):
        Policy.__init__(self, arms, seed=seed)
        self._m_arg = m
        if m is None:  # the scalar default; a vector context switches to the vector one
            m = self._default_m[0]
        vector_m = self._default_m[1] if self._m_arg is None else None  # for a vector context
        self._setup(self._feature_map(context_bounds, m, context_dim, vector_m=vector_m),
                    ridge, gamma, gamma_exponent, target, exploration, beta)

    def _config(self):
        cfg = self.features.config()
        # m left to its default is saved as such while the context length is unknown: the
        # default depends on it (a vector context's is smaller), so a reloaded learner given
        # a vector context must not take the scalar default as fixed
        m = None if self._m_arg is None and self.features.context_dim is None else cfg["m"]
        return {"context_bounds": cfg["context_bounds"], "m": m,
                "context_dim": cfg["context_dim"], **self._learn_config()}


class SplineCB(ChebCB):
    """:class:`SquareCB` with a penalised linear spline on ``m`` knots per context coordinate.

    Local features follow a cost whose slope in the context changes abruptly (SOR above and
    below Young's ω*) better than global polynomials; ``ridge`` sets the curvature penalty.
    A widening range moves the knots, so the model is carried over by least-squares projection
    (:func:`bandit.features.rescale_ridge`), not exactly.

    Examples
    --------
    >>> p = SplineCB([1.0, 1.8], context_bounds=(0, 1), m=4, seed=0)
    >>> for i in range(300):
    ...     c = i % 2
    ...     k = p.select(c)
    ...     p.update(k, 10 + 50 * (k != c), context=c)
    >>> [int(np.argmin(p.predict(0.0))), int(np.argmin(p.predict(1.0)))]
    [0, 1]
    """

    _feature_map = staticmethod(Hat)  # ChebCB's constructor, with these features and defaults
    _default_m = (16, 6)


class ChebLCB(ChebCB):
    """ChebCB's oracle with optimism instead of inverse-gap weighting (costs minimised).

    Plays ``argmin_k φᵀθ_k − β σ̂ sqrt(φᵀ P_k φ)`` with ``P_k`` the arm's ridge posterior
    covariance and ``σ̂² = (Σ squared prediction errors + 0.1)/(t + 1)``: an arm is explored only
    where its fit is still uncertain, which suits near-deterministic costs (iteration counts
    given the context).  Defaults (m = 10, ridge 0.01, β = 0.5) were tuned on the offset
    Laplacian sequences (docs/bandit.md).

    Examples
    --------
    >>> p = ChebLCB([1.0, 1.8], context_bounds=(0, 1))
    >>> for i in range(200):
    ...     c = i % 2
    ...     k = p.select(c)
    ...     p.update(k, 10 + 50 * (k != c), context=c)
    >>> [p.select(0.0), p.select(1.0)]
    [0, 1]
    """

    _default_m = (10, 4)

    def __init__(self, arms, context_bounds=None, m=None, *, context_dim=None, ridge=0.01,
                 gamma=50.0, gamma_exponent=0.5, target="log", exploration="lcb", beta=0.5,
                 seed=None):
        super().__init__(arms, context_bounds, m, context_dim=context_dim, ridge=ridge,
                         gamma=gamma, gamma_exponent=gamma_exponent, target=target,
                         exploration=exploration, beta=beta, seed=seed)
