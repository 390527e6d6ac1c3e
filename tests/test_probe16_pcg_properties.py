"""Jacobi- and IC(0)-preconditioned CG on random SPD matrices that are *not* diagonally
dominant (the property tests elsewhere draw diagonally dominant ones, on which IC(0) never
breaks down): the shift IC(0) settles on is the first of the documented sequence (the given
``shift``, then 10⁻³ doubling) at which a dense reference factorisation has positive pivots;
the iteration counts equal a dense textbook PCG's with the same preconditioner (±1); and the
solution agrees with scipy's sparse direct solve to what the stopping rule allows."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import HealthCheck, given, settings, strategies as st

import dense_gold as gold
from solvers import pcg

EXAMPLES = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _rotated(rng, n, spread):
    """``Q D Qᵀ``: eigenvalues ``10^U(−spread, 0)`` turned by ``n`` random plane rotations,
    each mixing two rows and columns — SPD, sparse while few rotations overlap, and far from
    an M-matrix (off-diagonal entries of both signs, as large as the diagonal)."""
    A = np.diag(10.0 ** rng.uniform(-spread, 0, n))
    for _ in range(n):
        i, j = rng.choice(n, 2, replace=False)
        c, s = np.cos(t := rng.uniform(0, 2 * np.pi)), np.sin(t)
        G = np.eye(n)
        G[i, i] = G[j, j] = c
        G[i, j], G[j, i] = s, -s
        A = G @ A @ G.T
    A[np.abs(A) < 1e-14] = 0.0  # rounding left where no rotation reached: not stored
    return (A + A.T) / 2


@st.composite
def spd_not_dominant(draw):
    """``(A, b, A_dense)`` with ``A`` of :func:`_rotated`, 8–30 unknowns."""
    n = draw(st.integers(8, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = _rotated(rng, n, draw(st.floats(2.0, 3.5)))
    return sp.csr_array(A), rng.standard_normal(n), A


def _reference_shift(A, start):
    """The documented search, on the dense reference factorisation: ``start``, then 10⁻³
    (or ``2·start``) doubling, until every pivot is positive."""
    alpha = start
    while True:
        try:
            return alpha, gold.ic0_dense(A, alpha)
        except ArithmeticError:
            alpha = 2 * alpha if alpha > 0 else 1e-3


def _meets_rule(A, b, x, rtol):
    return np.linalg.norm(b - A @ x) <= rtol * np.linalg.norm(b) * (1 + 1e-12)


@EXAMPLES
@given(spd_not_dominant(), st.sampled_from([0.0, 0.01]), st.sampled_from([1e-6, 1e-10]))
def test_ic0_shift_and_counts_match_the_dense_reference(system, start, rtol):
    A, b, A_dense = system
    res = pcg(A, b, {"pc": "ic0", "shift": start}, rtol=rtol, maxiter=2000)
    alpha, L = _reference_shift(A, start)
    assert res.info["ic0_shift"] == pytest.approx(alpha, rel=1e-12), (res.info, alpha)
    assert res.converged and _meets_rule(A, b, res.x, rtol)
    count, _ = gold.pcg_count(A_dense, b, lambda r: gold.ic0_apply(L, r), rtol=rtol,
                              maxiter=2000)
    assert abs(res.iterations - count) <= 1, (res.iterations, count)
    ref = spla.spsolve(sp.csc_matrix(A), b)
    # the error the residual rule allows: ‖x − x*‖ ≤ ‖A⁻¹‖·rtol·‖b‖ (λ_min from the matrix)
    lam = np.linalg.eigvalsh(A_dense)[0]
    assert np.linalg.norm(res.x - ref) <= 1.01 * rtol * np.linalg.norm(b) / lam + 1e-12


@EXAMPLES
@given(spd_not_dominant(), st.sampled_from([1e-6, 1e-10]))
def test_jacobi_pcg_counts_and_solution_match_the_references(system, rtol):
    A, b, A_dense = system
    res = pcg(A, b, "jacobi", rtol=rtol, maxiter=2000)
    assert res.converged and _meets_rule(A, b, res.x, rtol)
    d = np.diag(A_dense)
    count, _ = gold.pcg_count(A_dense, b, lambda r: r / d, rtol=rtol, maxiter=2000)
    assert abs(res.iterations - count) <= 1, (res.iterations, count)
    ref = spla.spsolve(sp.csc_matrix(A), b)
    lam = np.linalg.eigvalsh(A_dense)[0]
    assert np.linalg.norm(res.x - ref) <= 1.01 * rtol * np.linalg.norm(b) / lam + 1e-12


def test_the_drawn_matrices_do_break_plain_ic0():
    # the strategy is the point: many of its matrices meet a non-positive pivot unshifted
    broke = 0
    for seed in range(30):
        try:
            gold.ic0_dense(sp.csr_array(_rotated(np.random.default_rng(seed), 20, 3.0)))
        except ArithmeticError:
            broke += 1
    assert broke >= 8, broke
