"""Feature maps for regression-oracle learners: polynomial, Chebyshev and hat (linear spline).

A feature map turns a context into a vector ``φ`` and supplies the ridge penalty matrix ``Λ``
of the regression ``min_θ Σ (y − φᵀθ)² + θᵀ λΛ θ``; the penalty expresses how smooth we expect
the cost to be in the context (higher-order terms cost more).
"""
from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from ._base import check_bounds, scalar_context

__all__ = ["Polynomial", "Chebyshev", "Hat", "make_features"]


@njit(cache=True)
def _chebyshev(u, m):
    phi = np.empty(m)
    phi[0] = 1.0
    if m > 1:
        phi[1] = u
    for j in range(2, m):  # T_j = 2u T_{j-1} − T_{j-2}
        phi[j] = 2.0 * u * phi[j - 1] - phi[j - 2]
    return phi


@njit(cache=True)
def _hat(u, m):
    phi = np.zeros(m)
    s = (u + 1.0) * 0.5 * (m - 1)
    i = min(int(s), m - 2)
    w = s - i
    phi[i] = 1.0 - w
    phi[i + 1] = w
    return phi


@njit(cache=True)
def _monomials(x, exps):
    out = np.ones(exps.shape[0])
    for r in range(exps.shape[0]):
        for i in range(exps.shape[1]):
            for _ in range(exps[r, i]):
                out[r] *= x[i]
    return out


class _Scalar:
    """Scalar context in ``[a, b]`` (clipped), mapped to ``u = 2(c − a)/(b − a) − 1``."""

    def __init__(self, context_bounds, m):
        self.context_bounds = check_bounds(context_bounds)
        if int(m) != m or m < self._min_m:
            raise ValueError(f"{type(self).__name__} needs an integer m >= {self._min_m}, got {m!r}")
        self.m = self.n_features = int(m)
        self._key, self._last = None, None  # the last float context and its (read-only) features

    def __call__(self, context):
        # a Tuner round passes one context to select, leader and update: map a float once
        if isinstance(context, float) and context == self._key:
            return self._last
        phi = self._map(self.u(context), self.m)
        if isinstance(context, float):
            phi.flags.writeable = False
            self._key, self._last = context, phi
        return phi

    def u(self, context):
        a, b = self.context_bounds
        return 2.0 * (scalar_context(context, self.context_bounds) - a) / (b - a) - 1.0

    def config(self):
        return {"kind": type(self).__name__, "context_bounds": list(self.context_bounds), "m": self.m}


class Chebyshev(_Scalar):
    """``φ = (T_0(u), …, T_{m−1}(u))`` with penalty ``diag((j + 1)²)`` (ChebCB's features).

    The growing penalty plays the role of the reference's coefficient bound shrinking like 1/j.

    Examples
    --------
    >>> Chebyshev((-1.0, 1.0), 4)(0.5).tolist()     # T_j(0.5) = cos(j·π/3)
    [1.0, 0.5, -0.5, -1.0]
    """

    _min_m = 1
    _map = staticmethod(_chebyshev)

    @property
    def penalty(self):
        return np.diag((np.arange(self.m) + 1.0) ** 2)


class Hat(_Scalar):
    """Piecewise-linear "hat" basis on ``m`` equally spaced knots, second-difference penalty.

    The fit is a linear spline whose curvature is penalised (plus 1e-3 of plain ridge so the
    penalty is invertible); every coefficient is local, so a kink in the cost (SOR's rate
    changes slope at Young's ω*) does not bias the fit far away from it.

    Examples
    --------
    >>> Hat((0.0, 1.0), 3)(0.75).tolist()
    [0.0, 0.5, 0.5]
    """

    _min_m = 2
    _map = staticmethod(_hat)

    @property
    def penalty(self):
        D = np.diff(np.eye(self.m), n=2, axis=0) * (self.m - 1) ** 2 / 4.0  # curvature in u
        return D.T @ D / (self.m - 1) + 1e-3 * np.eye(self.m)


class Polynomial:
    """All monomials of total degree ≤ ``degree`` in a ``context_dim``-vector context.

    With ``context_bounds`` (one ``(a, b)`` per dimension, or one pair for all) each coordinate
    is clipped and mapped to [−1, 1] first; without, the raw values are used.  The penalty is
    ``diag((deg + 1)²)`` per monomial.

    Examples
    --------
    >>> Polynomial(2, degree=2)([2.0, 3.0]).tolist()   # 1, x, y, x², xy, y²
    [1.0, 2.0, 3.0, 4.0, 6.0, 9.0]
    """

    def __init__(self, context_dim, degree=2, context_bounds=None):
        if int(context_dim) != context_dim or context_dim < 1:
            raise ValueError(f"context_dim must be a positive integer, got {context_dim!r}")
        if int(degree) != degree or degree < 0:
            raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
        self.context_dim, self.degree = int(context_dim), int(degree)
        if context_bounds is not None:
            cb = np.asarray(context_bounds, dtype=float)
            cb = np.broadcast_to(cb, (self.context_dim, 2)) if cb.shape == (2,) else cb
            if cb.shape != (self.context_dim, 2):
                raise ValueError(f"context_bounds must be (a, b) or {self.context_dim} pairs")
            for row in cb:
                check_bounds(row)
            context_bounds = cb.copy()
        self.context_bounds = context_bounds
        exps = [e for deg in range(self.degree + 1)
                for e in itertools.combinations_with_replacement(range(self.context_dim), deg)]
        self._exps = np.zeros((len(exps), self.context_dim), dtype=np.int64)
        for row, e in enumerate(exps):
            for i in e:
                self._exps[row, i] += 1
        self.n_features = len(exps)

    def __call__(self, context):
        x = np.array(context, dtype=np.float64).reshape(-1)
        if x.size != self.context_dim:
            raise ValueError(f"context must have {self.context_dim} entries, got {x.size}")
        if not np.isfinite(x).all():
            raise ValueError(f"context must be finite, got {context!r}")
        if self.context_bounds is not None:
            a, b = self.context_bounds[:, 0], self.context_bounds[:, 1]
            x = 2.0 * (np.minimum(np.maximum(x, a), b) - a) / (b - a) - 1.0
        return _monomials(x, self._exps)

    @property
    def penalty(self):
        return np.diag((self._exps.sum(axis=1) + 1.0) ** 2)

    def config(self):
        cb = None if self.context_bounds is None else self.context_bounds.tolist()
        return {"kind": "Polynomial", "context_dim": self.context_dim, "degree": self.degree,
                "context_bounds": cb}


def make_features(config):
    """Rebuild a feature map from its ``config()``."""
    config = dict(config)
    kind = config.pop("kind")
    klass = {"Polynomial": Polynomial, "Chebyshev": Chebyshev, "Hat": Hat}.get(kind)
    if klass is None:
        raise ValueError(f"unknown feature map {kind!r}")
    return klass(**config)
