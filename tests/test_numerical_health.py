"""Numerical health of the learners' models on long and ill-conditioned runs.

The contextual learners keep ridge fits by rank-one (Sherman–Morrison) updates and re-express
them when the context range widens; these tests check them against an independent batch ridge
solve (``numpy.linalg.solve`` on all rows so far) under conditions no ordinary run meets.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import bandit
from bandit.features import Chebyshev, Hat, Polynomial


def _batch_ridge(rows, targets, penalty):
    X = np.asarray(rows, dtype=float)
    A = penalty + X.T @ X
    return np.linalg.inv(A), np.linalg.solve(A, X.T @ np.asarray(targets, dtype=float))


@pytest.mark.parametrize("make", [lambda: Chebyshev(m=5), lambda: Polynomial(1, degree=3),
                                  lambda: Chebyshev(m=3, context_dim=2)])
@pytest.mark.parametrize("seq", [[1e308, 1.5e308, 1.7e308], [-1e308, -1.5e308, -1.7e308],
                                 [0.0, 1e308, -1.7e308, 1.79e308]])
def test_reexpression_of_a_range_near_the_largest_float_is_exact(make, seq):
    """``φ_new(x) = S φ_old(x)`` on the old range (exact for polynomial bases) also when the
    range's ends are near the largest float: its middle and half width are formed from halves,
    as the range itself forms them, never from ``lo + hi`` or ``hi − lo``, which overflow."""
    f = make()
    vec = f.context_dim == 2
    ctx = (lambda c: [c, 0.5]) if vec else (lambda c: c)
    for c in seq[:-1]:
        f.observe(ctx(c))
    lo, hi = f.range.lo.copy(), f.range.hi.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow is the defect
        _, S = f.observe(ctx(seq[-1]))
    assert S is not None and np.all(np.isfinite(S))
    mid, half = 0.25 * lo + 0.25 * hi, 0.25 * hi - 0.25 * lo  # at half scale: no overflow
    for s in np.linspace(-0.999, 0.999, 7):
        x = 2.0 * (mid + half * s)
        old = f.basis(f.range.unit(x, lo, hi))
        new = f.basis(f.range.unit(x))
        np.testing.assert_allclose(S @ old, new, rtol=0, atol=1e-12)


def test_chebcb_widened_to_the_largest_float_equals_the_batch_ridge_fit():
    arms = [1.0, 1.4, 1.8]
    p = bandit.ChebCB(arms, m=4, seed=0)
    rows = {k: ([], []) for k in range(len(arms))}
    seq = [1e308, 1.5e308, 1.2e308, 1.7e308, 1.1e308, 1.3e308]
    for t in range(60):
        c = seq[t % len(seq)] if t < 30 or t % 7 else 1.79e308
        k = p.select(c)
        cost = 10.0 + 5.0 * k + 1e-308 * c
        p.update(k, cost, context=c)
        rows[k][0].append(c)
        rows[k][1].append(p._y(cost))
    pen = p.ridge * p.features.penalty
    for k, (cs, ys) in rows.items():
        if not cs:
            continue
        Pb, tb = _batch_ridge([p.features(c) for c in cs], ys, pen)
        np.testing.assert_allclose(p.theta[k], tb, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(p.P[k], Pb, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("cls", [bandit.ChebCB, bandit.JointCB])
def test_contexts_of_a_tiny_spread_keep_the_batch_ridge_fit(cls):
    """Contexts ``1 + 1e-12·u``: a range a few thousand ulps wide, widened a few times; the
    re-expressed model stays the batch ridge fit of all rows (the fitting points of the
    re-expression had strayed an ulp out of the old range: relative errors of 1e-4–2e-3)."""
    for seed in range(4):
        rng = np.random.default_rng(seed)
        p = cls([1.0, 1.5], seed=0)
        rows, ys = [], []
        for t in range(150):
            c = 1.0 + 1e-12 * rng.uniform()
            k = p.select(c)
            cost = 10.0 + 5.0 * k + rng.uniform()
            p.update(k, cost, context=c)
            rows.append((c, k))
            ys.append(np.log(cost / p.unit + 0.01))
        if cls is bandit.JointCB:
            X = [np.outer(p.features(c), p._X[k]).ravel() for c, k in rows]
            Pb, tb = _batch_ridge(X, ys, np.diag(p._penalty_diag()))
            P, theta = p.P, p.theta
        else:
            k = int(np.argmax(p.counts))
            X = [p.features(c) for c, a in rows if a == k]
            Pb, tb = _batch_ridge(X, [y for (c, a), y in zip(rows, ys) if a == k],
                                  p.ridge * p.features.penalty)
            P, theta = p.P[k], p.theta[k]
        np.testing.assert_allclose(theta, tb, rtol=0, atol=1e-9 * np.abs(tb).max())
        np.testing.assert_allclose(P, Pb, rtol=0, atol=1e-9 * np.abs(Pb).max())


def test_splinecb_prior_is_exactly_symmetric_so_rank_one_updates_keep_the_widths():
    """A Sherman–Morrison update subtracts a symmetric matrix, so it never removes an
    antisymmetric part of ``P``: the hat penalty's inverse (entries ~1e4) had one of 1.2e-8,
    which stayed while ``P`` shrank like 1/n along the data, and the widths drifted from the
    batch ridge solve like n² (2.5e-9 relative after 1e5 rows, 2.5e-7 after 1e6)."""
    from bandit._kernels import rls_update

    for ctx in (0.5, [0.5, 0.25]):
        p = bandit.SplineCB([1.0, 1.5], m=6 if isinstance(ctx, list) else None, seed=0)
        p.update(p.select(ctx), 10.0, context=ctx)
        assert np.array_equal(p.P, p.P.transpose(0, 2, 1))
    p = bandit.SplineCB([1.0, 1.5], context_bounds=(0, 1), seed=0)
    p.select(0.5)
    P, theta = p.P[0].copy(), np.zeros(p.P.shape[1])
    phis = [p.features(c) for c in (0.0, 0.3, 0.62)]
    counts = np.zeros(3)
    for i in range(300_000):  # 90 % of the rows at one knot
        j = 0 if i % 10 else 1 + (i // 10) % 2
        rls_update(P, theta, phis[j], 1.0 + j)
        counts[j] += 1
    Pb = np.linalg.inv(p.ridge * p.features.penalty
                       + sum(c * np.outer(f, f) for c, f in zip(counts, phis)))
    for f in phis:
        assert abs(f @ P @ f - f @ Pb @ f) <= 1e-10 * (f @ Pb @ f)
