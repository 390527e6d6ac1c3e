"""The rank-one update of the joint (context, arm) ridge model: its matrix–vector product
``P φ`` runs over several rows of ``P`` at a time (independent sums the processor overlaps),
each row summed in the same order as one row alone, so the update is the row-by-row
Sherman–Morrison update bit for bit — and equal to the dense formula to rounding."""
import math

import numpy as np
import pytest

from bandit._kernels import joint_observe, matvec_rows, rls_update


def _rowwise(P, phi):
    """``P φ`` one row at a time, each summed left to right in Python floats (IEEE doubles,
    no fused multiply–add): the order the kernels promise."""
    out = np.empty(P.shape[0])
    for i in range(P.shape[0]):
        s = 0.0
        for j in range(phi.size):
            s += float(P[i, j]) * float(phi[j])
        out[i] = s
    return out


@pytest.mark.parametrize("d", [1, 3, 7, 8, 9, 15, 17, 80, 120])
def test_matvec_rows_sums_each_row_in_order_bit_for_bit(d):
    rng = np.random.default_rng(d)
    # not symmetric, entries of mixed scale: any reordering of a row's sum shows in the bits
    P = rng.standard_normal((d, d)) * np.exp(rng.uniform(-8, 8, (d, d)))
    phi = rng.standard_normal(d)
    out = np.full(d, np.nan)
    matvec_rows(P, phi, out)
    assert np.array_equal(out, _rowwise(P, phi))


def test_joint_observe_is_the_dense_sherman_morrison_update_on_the_default_layout():
    # 10 context features × 12 arm columns (13 configuration arms on the line): d = 120
    rng = np.random.default_rng(7)
    mc, K, mw = 10, 13, 12
    d = mc * mw
    A = rng.standard_normal((d, d))
    P0 = np.linalg.inv(A @ A.T / d + np.eye(d))
    theta0 = rng.standard_normal(d)
    X = rng.standard_normal((K, mw))
    P, theta = P0.copy(), theta0.copy()
    Pd, td = P0.copy(), theta0.copy()
    for t in range(40):
        psi, arm, y = rng.standard_normal(mc), int(rng.integers(K)), float(rng.standard_normal())
        joint_observe(P, theta, psi, X, arm, y, False, math.inf)
        phi = np.kron(psi, X[arm])
        Pphi = Pd @ phi
        denom = 1.0 + phi @ Pphi
        td = td + Pphi * (y - phi @ td) / denom
        Pd = Pd - np.outer(Pphi, Pphi) / denom
    scale = np.abs(P0).max()
    assert np.abs(P - Pd).max() <= 1e-12 * scale
    assert np.abs(theta - td).max() <= 1e-12 * max(1.0, np.abs(td).max())


def test_rls_update_is_the_row_by_row_update_bit_for_bit():
    rng = np.random.default_rng(3)
    for d in (5, 12, 41):
        P = rng.standard_normal((d, d))  # not symmetric: the update must not assume it
        theta, phi, y = rng.standard_normal(d), rng.standard_normal(d), 0.7
        Pphi = _rowwise(P, phi)
        denom, resid = 1.0, y
        for i in range(d):
            denom += phi[i] * Pphi[i]
            resid -= phi[i] * theta[i]
        want_P = P - (Pphi[:, None] * Pphi[None, :]) / denom
        want_t = theta + Pphi * resid / denom
        rls_update(P, theta, phi, y)
        assert np.array_equal(P, want_P) and np.array_equal(theta, want_t)


def test_joint_scores_sum_the_width_matrix_in_the_documented_order_bit_for_bit():
    from bandit._kernels import joint_scores
    rng = np.random.default_rng(5)
    mc, K, mw = 4, 6, 5
    d = mc * mw
    P = rng.standard_normal((d, d)) * np.exp(rng.uniform(-6, 6, (d, d)))
    theta, psi, X = rng.standard_normal(d), rng.standard_normal(mc), rng.standard_normal((K, mw))
    mu, score = np.empty(K), np.empty(K)
    joint_scores(theta, P, psi, X, 0.8, mu, score)
    # reference: M_jj' = Σ_i Σ_i2 ψ_i ψ_i2 P_(i,j),(i2,j') summed with i outer, i2 inner
    M = [[0.0] * mw for _ in range(mw)]
    for i in range(mc):
        for j in range(mw):
            for i2 in range(mc):
                s = float(psi[i]) * float(psi[i2])
                for j2 in range(mw):
                    M[j][j2] += s * float(P[i * mw + j, i2 * mw + j2])
    v = [0.0] * mw
    for i in range(mc):
        for j in range(mw):
            v[j] += float(psi[i]) * float(theta[i * mw + j])
    for k in range(K):
        m = w = 0.0
        for j in range(mw):
            m += float(X[k, j]) * v[j]
            s = 0.0
            for j2 in range(mw):
                s += M[j][j2] * float(X[k, j2])
            w += float(X[k, j]) * s
        assert mu[k] == m
        assert score[k] == m - 0.8 * math.sqrt(max(w, 0.0))
