"""Feature maps for regression-oracle learners, and the online context range they share.

A feature map turns a context (a number or a vector) into a vector ``φ`` and supplies the ridge
penalty matrix ``Λ`` of the regression ``min_θ Σ (y − φᵀθ)² + θᵀ λΛ θ``; the penalty expresses
how smooth we expect the cost to be in the context (higher-order terms cost more).

Every map first sends each context coordinate ``x_d`` to ``u_d = (x_d − m_d)/h_d`` in [−1, 1],
with ``[m_d − h_d, m_d + h_d]`` the coordinate's range in a :class:`ContextRange`.  The range is
learnt from the contexts seen: it starts at the first context (or at the user's
``context_bounds``, which are only a hint) and widens when a context falls outside, with a
margin of a quarter of the new width so that a slowly drifting context widens it only
geometrically often.  A learner whose range widens re-expresses its model in the new
coordinates (:func:`rescale_ridge`): for polynomial features the model then equals the ridge fit
of all data so far with the new range's features, as if that range had been given from the
start.  No context is ever clipped to a range it has not widened first; a *query* (``predict``)
outside the range seen so far is evaluated at its nearest edge.
"""
from __future__ import annotations

import itertools
import math
import numbers

import numpy as np
from numba import njit

__all__ = ["ContextRange", "FeatureMap", "Polynomial", "Chebyshev", "Hat", "make_features",
           "rescale_ridge"]

_BIG = 1.7976931348623157e308  # largest float: widened ranges are clamped to it
# the features of no context (a map of context length 0): the single feature 1, read-only
_NO_CONTEXT = np.ones(1)
_NO_CONTEXT.flags.writeable = False

#: Most work of a learner's refit, ``n · d³`` for ``n`` ridge matrices of ``d`` features
#: (about 10 s in the compiled refit; a single matrix of 2048 features, 32 MB): the model is
#: re-expressed whenever the context range widens (:func:`rescale_ridge`).  A tensor-product
#: basis grows like ``m^D`` (hats) or ``C(m − 1 + D, D)`` with the context length ``D``;
#: past this a context is refused by name, before anything is built or drawn, rather than
#: left to enumerate or refit for hours or to exhaust the memory.
MAX_MODEL_WORK = 1 << 33


def check_model_size(n, d, D, who, hint):
    """Refuse ``n`` ridge matrices of ``d`` features for a context of length ``D`` when their
    refit exceeds :data:`MAX_MODEL_WORK` (``ValueError`` naming the context length, the
    features and what to do)."""
    if n * d ** 3 > MAX_MODEL_WORK:
        size = (f"{d:,}" if d < 10 ** 12 else "more than 10^19" if d == math.inf
                else f"about 10^{len(str(d)) - 1}")
        what = f"{size} × {size} matrix" if n == 1 else f"{n} matrices of {size} × {size}"
        raise ValueError(
            f"{who}: a context of {D} numbers needs {size} features, a model ({what}) too "
            f"large to refit whenever the context range widens; pass fewer context numbers "
            f"(those that predict the best arm){hint}")


def _exponents(D, m, kind):
    """Per feature the degree (or knot) of each of the ``D`` coordinates: every combination
    (hats), or those of total degree ``< m``, lowest total degree first — enumerated in
    O(features), never by filtering all ``m^D`` combinations."""
    if kind == "hat":
        return list(itertools.product(range(m), repeat=D))
    out = []

    def rec(prefix, left):
        if len(prefix) == D:
            out.append(tuple(prefix))
            return
        for e in range(left):
            prefix.append(e)
            rec(prefix, left - e)
            prefix.pop()

    rec([], m)  # degrees e_1 + … + e_D < m
    out.sort(key=lambda e: (sum(e), tuple(-v for v in e)))
    return out


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
    i = min(max(int(s), 0), m - 2)
    w = s - i
    phi[i] = 1.0 - w
    phi[i + 1] = w
    return phi


@njit(cache=True)
def _tensor(u, exps, kind, m):
    """Products ``Π_d b_{e_d}(u_d)`` over the rows ``e`` of ``exps`` for a 1-D basis ``b``
    (kind 0: Chebyshev ``T_j``, 1: monomials ``u^j``, 2: hats on ``m`` knots)."""
    D = u.size
    B = np.empty((D, m))
    for d in range(D):
        if kind == 0:
            B[d] = _chebyshev(u[d], m)
        elif kind == 2:
            B[d] = _hat(u[d], m)
        else:
            B[d, 0] = 1.0
            for j in range(1, m):
                B[d, j] = B[d, j - 1] * u[d]
    out = np.ones(exps.shape[0])
    for r in range(exps.shape[0]):
        for d in range(D):
            out[r] *= B[d, exps[r, d]]
    return out


@njit(cache=True)
def _basis1(u, kind, m):
    """The 1-D basis of a scalar context (``_tensor`` for one coordinate, without the table)."""
    if kind == 0:
        return _chebyshev(u, m)
    if kind == 2:
        return _hat(u, m)
    out = np.empty(m)
    out[0] = 1.0
    for j in range(1, m):
        out[j] = out[j - 1] * u
    return out


def _check_pairs(bounds, dim=None):
    """``bounds`` as a ``(D, 2)`` float array: one ``(a, b)`` or one per dimension, ``a < b``."""
    try:
        arr = np.array(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"context_bounds must be (a, b) or a sequence of (a, b), "
                         f"got {bounds!r}") from None
    if arr.shape == (2,):
        arr = np.tile(arr, (dim or 1, 1))
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"context_bounds must be (a, b) or a sequence of (a, b), got {bounds!r}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"context_bounds has {arr.shape[0]} pairs for a {dim}-dimensional context")
    if not (np.all(np.isfinite(arr)) and np.all(arr[:, 0] < arr[:, 1])):
        raise ValueError(f"context_bounds must be finite with a < b, got {bounds!r}")
    return arr


class ContextRange:
    """Per-coordinate interval of the contexts, learnt online (a user's bounds are a hint).

    Parameters
    ----------
    bounds : (a, b) or sequence of (a, b), optional
        Starting interval of each coordinate (a hint: contexts outside widen it).
    dim : int, optional
        Context length; ``None``: from ``bounds`` or from the first context (a number has
        length 1, ``None`` length 0: no context at all).
    margin : float, default 0.25
        A widened interval reaches ``margin`` × its width beyond the context that widened it.

    Examples
    --------
    >>> r = ContextRange()
    >>> r.observe(2.0), r.unit(2.0).tolist()          # first context: a point
    (True, [0.0])
    >>> r.observe(4.0), r.lo.tolist(), r.hi.tolist()  # widened around both, with margins
    (True, [1.5], [4.5])
    >>> r.observe(3.0), r.unit(4.5).tolist()
    (False, [1.0])
    """

    def __init__(self, bounds=None, dim=None, margin=0.25):
        if dim is not None and not (isinstance(dim, numbers.Integral) and not isinstance(dim, bool)
                                    and dim >= 0):
            raise ValueError(f"context_dim must be a non-negative integer, got {dim!r}")
        if not (isinstance(margin, numbers.Real) and 0 <= margin <= 10):
            raise ValueError(f"margin must be a number in [0, 10], got {margin!r}")
        self.margin = float(margin)
        self.hint = None if bounds is None else _check_pairs(bounds, dim)
        self.dim = int(dim) if dim is not None else (None if bounds is None else len(self.hint))
        if self.hint is not None:
            self.lo, self.hi = self.hint[:, 0].copy(), self.hint[:, 1].copy()
        else:
            self.lo = self.hi = None  # nothing seen yet

    # --- parsing ------------------------------------------------------------------------------
    def parse(self, context) -> np.ndarray:
        """The context as a float vector of the range's length (fixing the length at first)."""
        if context is None:
            arr = np.empty(0)
        elif isinstance(context, float):
            arr = np.array([context])
        else:
            try:
                arr = np.array(context, dtype=float).reshape(-1)
            except (TypeError, ValueError):
                raise ValueError(f"context must be a number or a vector of numbers, "
                                 f"got {context!r}") from None
        if self.dim is None:
            self.dim = arr.size
        if arr.size != self.dim:
            if self.dim == 0:
                raise ValueError(f"this policy was started without a context (its first "
                                 f"round had none) and works without one throughout: leave "
                                 f"context out on every solve, got {context!r}; to use a "
                                 f"context, start a new learner that has one from its first "
                                 f"round")
            if arr.size == 0:
                raise ValueError(f"a contextual policy needs context=... "
                                 f"({self.dim} number{'s' if self.dim > 1 else ''})")
            raise ValueError(f"context must have {self.dim} entr{'ies' if self.dim > 1 else 'y'}, "
                             f"got {arr.size}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"context must be finite, got {context!r}")
        return arr

    # --- the interval ----------------------------------------------------------------------------
    def covers(self, x) -> bool:
        return self.lo is not None and bool(np.all((x >= self.lo) & (x <= self.hi)))

    def observe(self, x) -> bool:
        """Widen the range to contain the context ``x``; return whether it changed."""
        if not isinstance(x, np.ndarray):
            x = self.parse(x)
        if self.lo is None:
            self.lo, self.hi = x.astype(float).copy(), x.astype(float).copy()
            return True
        if self.covers(x):
            return False
        lo, hi = self.lo.copy(), self.hi.copy()
        for d in range(x.size):
            if lo[d] <= x[d] <= hi[d]:
                continue
            point = lo[d] == hi[d]
            a, b = float(min(lo[d], x[d])), float(max(hi[d], x[d]))
            pad = self.margin * (0.5 * b - 0.5 * a)  # half the pad: no overflow
            if x[d] < lo[d] or point:
                a = a - pad - pad if a > pad + pad - _BIG else -_BIG
            if x[d] > hi[d] or point:
                b = b + pad + pad if b < _BIG - pad - pad else _BIG
            lo[d], hi[d] = a, b
        self.lo, self.hi = lo, hi
        return True

    def unit(self, x, lo=None, hi=None, clip=True) -> np.ndarray:
        """``u = (x − m)/h`` in [−1, 1] for the range (or ``[lo, hi]``); 0 on a point range.

        ``clip=False`` keeps ``u`` affine in ``x`` beyond the ends: the rounded middle ``m``
        of a range a few thousand ulps wide puts an end at ``|u| = 1 + 2e-4``."""
        if not isinstance(x, np.ndarray):
            x = self.parse(x)
        lo = self.lo if lo is None else lo
        hi = self.hi if hi is None else hi
        half = 0.5 * hi - 0.5 * lo  # halves: no overflow for ranges near the largest float
        mid = 0.5 * lo + 0.5 * hi
        # the quarter width is tested, not the half: for a range a few subnormals wide
        # (contexts near 5e-324) the half is positive while its half underflows to 0, and
        # 0/0 had made NaN features, a NaN model and a tuner that could not be saved; such a
        # range is a point to the features (no context resolves it)
        scale = 0.5 * half
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(scale > 0, (0.5 * x - 0.5 * mid) / scale, 0.0)
        return np.clip(u, -1.0, 1.0) if clip else u

    # --- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"dim": self.dim, "lo": self.lo, "hi": self.hi}

    def load(self, state: dict) -> None:
        self.dim = None if state["dim"] is None else int(state["dim"])
        self.lo = None if state["lo"] is None else np.asarray(state["lo"], dtype=float)
        self.hi = None if state["hi"] is None else np.asarray(state["hi"], dtype=float)

    def config(self):
        return {"context_bounds": None if self.hint is None else self.hint.tolist(),
                "context_dim": self.dim}


class FeatureMap:
    """Context → features: a :class:`ContextRange` followed by a tensor-product basis.

    ``kind`` is ``"chebyshev"`` (products ``Π T_{e_d}(u_d)`` of total degree ``< m``, penalty
    ``Π (e_d + 1)²``), ``"polynomial"`` (monomials of total degree ``<= degree = m − 1``,
    penalty ``(deg + 1)²``) or ``"hat"`` (products of linear splines on ``m`` knots per
    coordinate, second-difference penalty).  A context of length 0 (none) has the single
    feature 1.  The number of features is known once the context length is.

    :meth:`observe` (used by ``select``/``update``) may widen the range and then reports it;
    ``map(context)`` (queries) never changes anything.
    """

    _kinds = {"chebyshev": 0, "polynomial": 1, "hat": 2}

    def __init__(self, kind, m, context_bounds=None, context_dim=None, margin=0.25, *,
                 vector_m=None):
        if kind not in self._kinds:
            raise ValueError(f"unknown feature kind {kind!r}")
        min_m = 2 if kind == "hat" else 1
        for v in (m, vector_m):
            if v is not None and (isinstance(v, bool) or not (
                    isinstance(v, numbers.Integral) or (isinstance(v, float) and v.is_integer()))
                    or v < min_m):
                raise ValueError(f"{type(self).__name__} needs an integer m >= {min_m}, "
                                 f"got {v!r}")
        self.kind, self.m = kind, int(m)
        # the m of a vector context (a learner's vector default), taken when the context
        # length is known, before the basis is built
        self.vector_m = None if vector_m is None else int(vector_m)
        self.range = ContextRange(context_bounds, context_dim, margin)
        self._exps = None
        self._key, self._last = None, None  # the last float context and its (read-only) features
        self._fast = None  # scalar range as floats (see _scalar_fast)
        self._m0, self._dim0 = self.m, self.range.dim  # as constructed (forget)
        if self.range.dim is not None:
            self._build()

    # --- the basis ------------------------------------------------------------------------------
    def _build(self):
        D = self.range.dim
        self.m = m = self.m_for(D)
        count = self.count(D)
        try:  # any learner keeps at least one features × features matrix
            check_model_size(1, count, D, f"{self.kind} features (m = {m})", ", or a smaller m")
        except ValueError:  # too large for this context length: as if none had been seen
            self.forget()
            raise
        exps = _exponents(D, m, self.kind)
        self._exps = np.array(exps, dtype=np.int64).reshape(len(exps), D)
        self._scalar_fast()

    def m_for(self, D) -> int:
        """The ``m`` of a context of length ``D`` (``vector_m`` for a vector, if set)."""
        return self.vector_m if D > 1 and self.vector_m is not None else self.m

    def count(self, D) -> int:
        """Number of features of a context of length ``D`` (1 for none)."""
        m = self.m_for(D)
        if self.kind == "hat" and m > 1 and D > 64:
            # m^D >= 2^65, beyond any model check_model_size takes: infinite rather than
            # computed (a context_dim of 2^70 had hung in the power)
            return math.inf
        return m ** D if self.kind == "hat" else math.comb(m - 1 + D, D)

    def forget(self) -> None:
        """Back to no context seen (a first context the learner refused must not fix the
        context length): the range at its hint, no basis."""
        rng = self.range
        rng.dim = self._dim0
        rng.lo, rng.hi = (None, None) if rng.hint is None else (rng.hint[:, 0].copy(),
                                                                rng.hint[:, 1].copy())
        self.m, self._exps, self._key, self._last, self._fast = self._m0, None, None, None, None

    @property
    def context_dim(self):
        return self.range.dim

    @property
    def context_bounds(self):
        """The current range as ``(lo, hi)`` (scalar) or a list of pairs; ``None`` before any."""
        if self.range.lo is None:
            return None
        pairs = list(zip(self.range.lo.tolist(), self.range.hi.tolist()))
        return pairs[0] if len(pairs) == 1 else pairs

    @property
    def n_features(self):
        if self._exps is None:
            raise ValueError("the context length is not known yet (no context seen)")
        return self._exps.shape[0]

    @property
    def exponents(self):
        """Per feature, the degree (or knot) in each coordinate."""
        return self._exps

    def basis(self, u):
        """Features of normalised coordinates ``u`` (rows of a 2-D array give rows)."""
        u = np.asarray(u, dtype=float)
        if u.ndim == 2:
            return np.array([self.basis(r) for r in u]).reshape(len(u), self.n_features)
        if u.size == 0:
            return np.ones(1)
        return _tensor(np.ascontiguousarray(u), self._exps, self._kinds[self.kind], self.m)

    @property
    def penalty(self):
        e = self._exps
        if self.kind == "chebyshev":
            return np.diag(np.prod((e + 1.0) ** 2, axis=1))
        if self.kind == "polynomial":
            return np.diag((e.sum(axis=1) + 1.0) ** 2)
        # hats: Σ_d (I ⊗ … ⊗ D2ᵀD2 ⊗ … ⊗ I) + 1e-3 I
        m = self.m
        D2 = np.diff(np.eye(m), n=2, axis=0) * (m - 1) ** 2 / 4.0  # curvature in u
        one = D2.T @ D2 / (m - 1)
        F = e.shape[0]
        out = np.zeros((F, F))
        for d in range(e.shape[1]):
            same = np.all(np.delete(e, d, axis=1)[:, None, :] == np.delete(e, d, axis=1)[None],
                          axis=2)
            out += np.where(same, one[e[:, d][:, None], e[:, d][None, :]], 0.0)
        return out + 1e-3 * np.eye(F)

    # --- contexts -> features ---------------------------------------------------------------------
    def _scalar_fast(self):
        """``(lo, hi, a, b, kind, m)`` for a scalar range, ``u = (x/2 − a)/b`` for ``x`` in
        ``[lo, hi]`` and the basis's kind number and size (what a compiled round needs to
        compute the features itself, :func:`bandit._kernels.joint_decide`), or None (no fast
        path)."""
        r = self.range
        if r.dim != 1 or r.lo is None or self._exps is None:
            self._fast = None
        else:
            lo, hi = float(r.lo[0]), float(r.hi[0])
            scale = 0.5 * (0.5 * hi - 0.5 * lo)
            # (a scale that underflowed to 0 — a range a few subnormals wide — takes the slow
            # path, where such a range is a point: :meth:`ContextRange.unit`)
            self._fast = ((lo, hi, 0.25 * lo + 0.25 * hi, scale, self._kinds[self.kind], self.m)
                          if scale > 0 else None)
        return self._fast

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.__dict__.get("_fast") is not None:  # pickled when it held the range alone
            self._scalar_fast()

    def __call__(self, context):
        """Features of ``context`` for a query (the range is not changed; outside: clipped)."""
        if context is None and self.range.dim == 0:
            return _NO_CONTEXT  # no context: the single feature 1, whatever the range
        if type(context) is float or isinstance(context, float):
            if context == self._key:
                return self._cached()
            fast = self._fast
            if fast is not None and fast[0] <= context <= fast[1]:
                # a scalar context inside the range: the common case of a Tuner round
                u = min(max((0.5 * context - fast[2]) / fast[3], -1.0), 1.0)
                phi = _basis1(u, fast[4], fast[5])
                phi.flags.writeable = False
                self._key, self._last = context, phi
                return phi
        x = self.range.parse(context)
        if self._exps is None:
            self._build()
        if self.range.lo is None:  # nothing seen: every context is "the first"
            phi = self.basis(np.zeros(x.size))
        else:
            phi = self.basis(self.range.unit(x))
        if isinstance(context, float) and self.range.covers(x):  # observe() may reuse it
            phi.flags.writeable = False
            self._key, self._last = context, phi
        return phi

    def _cached(self):
        """The cached features of ``_key``, read-only.

        The compiled draw (:meth:`bandit.JointCB.select`) leaves the features it filled
        writable: they are made read-only here, when first handed out, not in every round —
        the round itself never reads them, and setting the flag right after a solve cost
        several µs a round.  The array's own flag says which (no attribute of the map: an MPI
        rank's copy, which never drew, holds every attribute as rank 0's)."""
        phi = self._last
        if phi.flags.writeable:
            phi.flags.writeable = False
        return phi

    def observe(self, context):
        """``(φ, S)``: features after widening the range to ``context``; ``S`` maps the old
        features to the new ones (``φ_new ≈ S φ_old`` on the old range, exact for polynomial
        bases) when the range widened, else ``None``."""
        if context is None and self.range.lo is not None and self.range.dim == 0:
            # a learner without a context, after its first round: nothing to widen (the
            # range of no coordinates), the single feature 1 (the generic path's parse,
            # range test and empty basis had cost a context-free round ~30 µs)
            return _NO_CONTEXT, None
        if isinstance(context, float):
            if context == self._key:
                return self._cached(), None  # a cached float lies inside the range
            fast = self._fast
            if fast is not None and fast[0] <= context <= fast[1]:
                return self(context), None
        x = self.range.parse(context)
        if self._exps is None:
            self._build()
        old = None if self.range.lo is None else (self.range.lo.copy(), self.range.hi.copy())
        S = None
        if self.range.observe(x):
            self._key, self._last = None, None
            self._scalar_fast()
            if old is not None:
                S = self.transform(*old)
        return self(context), S

    def transform(self, lo, hi):
        """``S`` with ``φ_new(x) ≈ S φ_old(x)`` for ``x`` in the old range ``[lo, hi]``.

        Per coordinate, least squares over Chebyshev–Lobatto points of its old interval:
        exact for Chebyshev and polynomial bases (their span is invariant under the affine
        change of coordinates), a projection for hats; along a coordinate whose old range was
        a point, a map of the old features of that point to the new ones, which is all the
        data there can need.  ``S`` is the tensor product of these 1-D maps.
        """
        # The bases are tensor products of one 1-D basis per coordinate, and the change of
        # coordinates acts on each coordinate alone: S is the product of the 1-D transforms,
        # S[e, f] = Π_d s_d[e_d, f_d] — O(features² · D), where the least squares over the
        # grid of the whole box took (2m + 3)^D points (a hang for a 10-number context).  For
        # Chebyshev and polynomial bases each s_d is exact and lower triangular (degrees do
        # not rise), so the product stays within a total-degree set; for the full tensor set
        # of hats it is the grid's least-squares solution (the pseudo-inverse of a Kronecker
        # product is the Kronecker product of the pseudo-inverses).
        kind, m, D = self._kinds[self.kind], self.m, self.range.dim
        exps = self._exps
        S = np.ones((exps.shape[0], exps.shape[0]))
        for d in range(D):
            if hi[d] > lo[d]:
                k = 2 * m + 3
                c = np.cos(np.pi * np.arange(k) / (k - 1))
                if max(abs(lo[d]), abs(hi[d])) < 0.5 * _BIG:
                    z = 0.5 * (lo[d] + hi[d]) + 0.5 * (hi[d] - lo[d]) * c
                else:  # lo + hi or hi − lo would overflow: the points at half scale
                    # (doubling is exact)
                    mid, half = 0.25 * lo[d] + 0.25 * hi[d], 0.25 * hi[d] - 0.25 * lo[d]
                    z = 2.0 * np.clip(mid + half * c, 0.5 * lo[d], 0.5 * hi[d])
            else:
                z = np.array([lo[d]])
            pts = np.tile(lo, (z.size, 1))
            pts[:, d] = z
            # unclipped coordinates: the old and new ones are affine in each other, and
            # clipping one where the rounded middle of a range a few thousand ulps wide puts
            # a shared end at |u| = 1 + 2e-4 made a false pair that cost S up to 2e-3
            # (contexts 1 + 1e-12·u)
            old = np.array([_basis1(self.range.unit(p, lo, hi, False)[d], kind, m) for p in pts])
            new = np.array([_basis1(self.range.unit(p, clip=False)[d], kind, m) for p in pts])
            if z.size == 1 and kind != 2:
                # a point: the new features there from the constant old one (T_0 = 1),
                # exact at the point, and triangular like the others
                s_d = np.zeros((m, m))
                s_d[:, 0] = new[0] / old[0, 0]
            else:
                st, *_ = np.linalg.lstsq(old, new, rcond=1e-12)
                s_d = st.T
            S *= s_d[exps[:, d][:, None], exps[:, d][None, :]]
        return S

    # --- persistence --------------------------------------------------------------------------
    def config(self):
        return {"kind": self.kind, "m": self.m, **self.range.config(),
                "margin": self.range.margin}

    def state(self):
        return self.range.state()

    def load(self, state):
        self.range.load(state)
        self._key, self._last = None, None
        if self.range.dim is not None:
            self._build()
        self._scalar_fast()


def Chebyshev(context_bounds=None, m=6, context_dim=None, margin=0.25, *, vector_m=None):
    """Chebyshev features ``T_0(u) … T_{m−1}(u)`` (ChebCB's), penalty ``diag((j + 1)²)``;
    for a vector context the products of total degree ``< m``.

    The growing penalty plays the role of the paper's code's coefficient bound shrinking like 1/j.

    Examples
    --------
    >>> Chebyshev((-1.0, 1.0), 4)(0.5).tolist()     # T_j(0.5) = cos(j·π/3)
    [1.0, 0.5, -0.5, -1.0]
    >>> Chebyshev([(0, 1), (0, 1)], 2)([1.0, 0.5]).tolist()   # 1, u_1, u_2
    [1.0, 1.0, 0.0]
    """
    return FeatureMap("chebyshev", m, context_bounds, context_dim, margin, vector_m=vector_m)


def Hat(context_bounds=None, m=16, context_dim=None, margin=0.25, *, vector_m=None):
    """Piecewise-linear "hat" basis on ``m`` equally spaced knots, second-difference penalty.

    The fit is a linear spline whose curvature is penalised (plus 1e-3 of plain ridge so the
    penalty is invertible); every coefficient is local, so a kink in the cost (SOR's rate
    changes slope at Young's ω*) does not bias the fit far away from it.  Vector contexts use
    the tensor-product splines.

    Examples
    --------
    >>> Hat((0.0, 1.0), 3)(0.75).tolist()
    [0.0, 0.5, 0.5]
    """
    return FeatureMap("hat", m, context_bounds, context_dim, margin, vector_m=vector_m)


def Polynomial(context_dim=1, degree=2, context_bounds=None, margin=0.25):
    """All monomials of total degree ≤ ``degree`` in the normalised context coordinates.

    Penalty ``diag((deg + 1)²)`` per monomial.

    Examples
    --------
    >>> Polynomial(2, degree=2, context_bounds=[(0, 4), (0, 4)])([4.0, 3.0]).tolist()
    [1.0, 1.0, 0.5, 1.0, 0.5, 0.25]
    """
    if isinstance(degree, bool) or not (isinstance(degree, numbers.Integral) and degree >= 0):
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
    if context_dim is not None and not (isinstance(context_dim, numbers.Integral)
                                        and context_dim >= 1):
        raise ValueError(f"context_dim must be a positive integer, got {context_dim!r}")
    return FeatureMap("polynomial", int(degree) + 1, context_bounds, context_dim, margin)


def make_features(config):
    """Rebuild a feature map from its ``config()``."""
    config = dict(config)
    kind = config.pop("kind")
    if kind not in FeatureMap._kinds:
        raise ValueError(f"unknown feature map {kind!r}")
    return FeatureMap(kind, config["m"], config.get("context_bounds"), config.get("context_dim"),
                      config.get("margin", 0.25))


def rescale_ridge(P, theta, S, penalty):
    """Re-express a ridge fit in new feature coordinates ``φ_new = S φ_old``.

    With ``P = (Λ + G)⁻¹`` (``Λ`` the scaled penalty, ``G = Σ φφᵀ``) and ``θ = P Σ φ y``, the
    data statistics are ``G = P⁻¹ − Λ`` and ``Σ φ y = P⁻¹ θ``; in the new coordinates they are
    ``S G Sᵀ`` and ``S Σ φ y``, and the fit is redone with the same penalty ``Λ`` (now on the new
    coordinates): the batch ridge fit of the same data with the new features.  ``P`` may be a
    stack ``(K, d, d)`` of per-arm matrices (then ``theta`` is ``(K, d)``); both are returned
    new.  ``O(d³)`` per matrix, in compiled loops (:mod:`bandit._kernels_ridge`).
    """
    from ._kernels_ridge import refit

    S = np.ascontiguousarray(S, dtype=np.float64)
    penalty = np.ascontiguousarray(penalty, dtype=np.float64)
    if P.ndim == 3:
        out = [refit(np.ascontiguousarray(P[k]), np.ascontiguousarray(theta[k]), S, penalty)
               for k in range(P.shape[0])]
        return np.array([o[0] for o in out]), np.array([o[1] for o in out])
    return refit(np.ascontiguousarray(P), np.ascontiguousarray(theta, dtype=np.float64), S,
                 penalty)
