"""SOR's cheap residual bounds (``_kernels.sor_lower_bound``) and the solve that relies on them.

The solve skips the exact residual on a sweep whenever a lower bound already exceeds the
tolerance, so the bound must *never* exceed the residual: these tests compare it, sweep by
sweep, with the residual the exact in-sweep test computes and with an extended-precision
dense residual, on random matrices (symmetric and not, with a symmetric pattern), and check
that iteration counts and iterates equal those of the exact test on every sweep.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from solvers import _kernels as K
from solvers import gallery, prepare, sor


def random_symmetric_pattern(n, density, seed, symmetric_values):
    """Diagonally weighted random matrix whose pattern is symmetric; values symmetric or not."""
    rng = np.random.default_rng(seed)
    P = sp.random_array((n, n), density=density, rng=rng, format="csr")
    P = ((P + P.T) != 0).astype(float)
    P.setdiag(0)
    P.eliminate_zeros()
    rows, cols = P.nonzero()
    vals = rng.uniform(-1.0, 1.0, rows.size)
    A = sp.csr_array((vals, (rows, cols)), shape=(n, n))
    if symmetric_values:
        A = sp.csr_array((A + A.T) / 2)
    weight = rng.uniform(0.6, 1.5)  # below 1: not diagonally dominant, SOR may grow
    d = weight * np.asarray(abs(A).sum(axis=1)).ravel() + rng.uniform(0.1, 1.0, n)
    return sp.csr_array(A + sp.diags_array(d))


def sweeps_with_bounds(A, b, omega, sweeps, x0=None):
    """Run bound sweeps; per sweep yield (β, μ, in-sweep exact norm, dense residual, x)."""
    op = prepare(A)
    lower, upper = op.split_triangles()
    lmir = op.sor_mirror()
    assert lmir is not None
    nu = K.sor_bound_norm(lower[0], lmir, upper[0], upper[1], upper[2], upper[3],
                          op.inv_diagonal)
    terms = float(op.nnz + 2 * op.n)
    xa = np.zeros(op.n) if x0 is None else x0.copy()
    xb = xa.copy()
    ring_a = np.zeros(op.ring().size)
    ring_b = np.zeros(op.ring().size)
    Ad = A.toarray().astype(np.longdouble)
    bd = b.astype(np.longdouble)
    for _ in range(sweeps):
        exact = np.sqrt(K._sor_sweep(*lower, *upper, op.diagonal, op.inv_diagonal,
                                     op.sor_finish(), ring_a, xa, b, omega))
        ww, sd = K._sor_sweep_bound(lower[0], lower[1], lower[2], lmir, lower[3], *upper,
                                    op.diagonal, op.inv_diagonal, ring_b, xb, b, omega)
        np.testing.assert_array_equal(xa, xb)  # the same sweep, bit for bit
        beta, mu = K.sor_lower_bound(ww, sd, omega, nu, terms)
        dense = float(np.sqrt(np.sum((bd - Ad @ xb.astype(np.longdouble)) ** 2)))
        yield beta, mu, exact, dense, xb


@st.composite
def bound_cases(draw):
    n = draw(st.integers(2, 40))
    density = draw(st.floats(0.02, 0.5))
    seed = draw(st.integers(0, 2**31 - 1))
    sym = draw(st.booleans())
    omega = draw(st.floats(0.05, 1.95))
    A = random_symmetric_pattern(n, density, seed, sym)
    rng = np.random.default_rng(seed + 1)
    b = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3)
    x0 = rng.standard_normal(n) if draw(st.booleans()) else None
    return A, b, omega, x0


@settings(max_examples=120, deadline=None)
@given(bound_cases())
def test_lower_bound_never_exceeds_the_residual(case):
    A, b, omega, x0 = case
    for beta, mu, exact, dense, x in sweeps_with_bounds(A, b, omega, 12, x0):
        if not np.isfinite(exact):
            break
        assert beta <= exact, (beta, exact)  # the norm the exact test computes
        assert mu >= exact, (mu, exact)
        # and the true residual of the iterate, up to the rounding of x's own update
        slack = 1e-12 * (np.abs(A).toarray() @ np.abs(x) + np.abs(b)).max() * np.sqrt(b.size)
        assert beta <= dense + slack, (beta, dense)
        assert mu + slack >= dense, (mu, dense)


def test_lower_bound_is_tight_below_the_optimal_omega():
    """A bound of 0 would be valid and useless: below ω* the two residual directions agree."""
    A = gallery.laplacian_2d(20)
    b = np.ones(400)
    ratios = [beta / exact for beta, _, exact, _, _ in sweeps_with_bounds(A, b, 1.0, 200)]
    assert min(ratios[50:]) > 0.95
    assert max(ratios) <= 1.0


def test_bound_needs_a_stored_mirror_for_every_far_upper_entry():
    A = gallery.laplacian_2d(5).tolil()
    A[0, 10] = -0.5  # a far upper entry whose mirror (10, 0) is not stored
    op = prepare(sp.csr_array(A))
    assert op.sor_mirror() is None
    C = sp.coo_array(A)
    with_zero = sp.csr_array((np.append(C.data, 0.0), (np.append(C.row, 10),
                                                       np.append(C.col, 0))), shape=C.shape)
    op2 = prepare(with_zero)  # an explicitly stored zero is a mirror
    assert op2.nnz == op.nnz + 1 and op2.sor_mirror() is not None
    res = sor(op, np.ones(25), 1.3)  # without the bound every sweep is tested exactly
    assert res.converged and res.residual_norm <= 1e-8 * 5


def test_mirror_values_follow_new_values_on_the_same_pattern():
    A = gallery.crank_nicolson_2d(8, 0.01)
    op = prepare(A)
    m1 = op.sor_mirror().copy()
    op2 = op.with_values(gallery.crank_nicolson_2d(8, 0.05))
    m2 = op2.sor_mirror()
    assert not np.allclose(m1, m2)
    np.testing.assert_array_equal(m2, prepare(gallery.crank_nicolson_2d(8, 0.05)).sor_mirror())


def _solve(op, b, omega, tol, maxiter, use_bound, x0=None, dtol=1e12):
    lower, upper = op.split_triangles()
    lmir = op.sor_mirror()
    x = np.zeros(op.n) if x0 is None else x0.copy()
    it, rnorm, status, _ = K.sor_solve(op.indptr, op.indices, op.data, *lower, *upper,
                                       op.diagonal, op.inv_diagonal, op.sor_finish(),
                                       np.empty(op.ring().size), lmir, use_bound, x, b, omega,
                                       tol, maxiter, dtol, K.SOR_WINDOW,
                                       np.empty((2, op.n)))
    return it, rnorm, status, x


def _convection_diffusion(m, peclet):
    L = gallery.laplacian_2d(m).tolil()
    for i in range(m * m - 1):
        if (i + 1) % m:
            L[i, i + 1] += peclet
            L[i + 1, i] -= peclet
    return sp.csr_array(L)


CASES = {
    "laplacian": gallery.laplacian_2d(24),
    "heat": gallery.crank_nicolson_2d(30, 1e-2),
    "anisotropic": gallery.anisotropic_2d(20, 0.01),
    "convection": _convection_diffusion(16, 0.4),
    "random": random_symmetric_pattern(300, 0.02, 7, False),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("rtol", [1e-4, 1e-8, 1e-11])
def test_counts_and_iterates_equal_the_exact_test_on_every_sweep(name, rtol):
    op = prepare(CASES[name])
    rng = np.random.default_rng(3)
    b = rng.standard_normal(op.n)
    tol = rtol * np.linalg.norm(b)
    for omega in np.linspace(1.0, 1.95, 8):
        for x0 in (None, 0.1 * rng.standard_normal(op.n)):
            fast = _solve(op, b, omega, tol, 20_000, True, x0)
            slow = _solve(op, b, omega, tol, 20_000, False, x0)
            assert fast[0] == slow[0] and fast[2] == slow[2], (omega, fast[:3], slow[:3])
            if fast[2] == K.CONVERGED:
                np.testing.assert_array_equal(fast[3], slow[3])
            else:  # each returns its best iterate by the residual it monitors (the bound
                # sweeps: an upper bound), never one worse than the last
                last = np.zeros(op.n) if x0 is None else x0.copy()
                lower, upper = op.split_triangles()
                K.sor_sweeps(*lower, *upper, op.inv_diagonal, last, b, omega, fast[0])
                worst = np.linalg.norm(b - op.matrix @ last) * (1 + 1e-9)
                for x in (fast[3], slow[3]):
                    assert np.linalg.norm(b - op.matrix @ x) <= worst
            if fast[2] != K.DIVERGED:  # (a divergence proved by the bound returns the bound)
                assert fast[1] == pytest.approx(slow[1], rel=1e-6)


@pytest.mark.parametrize("maxiter", [1, 2, 7, 40])
def test_capped_solve_reports_the_exact_residual_of_its_last_iterate(maxiter):
    op = prepare(gallery.laplacian_2d(15))
    b = np.ones(op.n)
    res = sor(op, b, 1.5, maxiter=maxiter, rtol=1e-300, atol=1e-300)
    assert res.iterations == maxiter and res.reason == "maxiter"
    assert res.residual_norm == pytest.approx(np.linalg.norm(b - op.matrix @ res.x), rel=1e-12)


@pytest.mark.parametrize("dtol", [10.0, 1e4, 1e12])
def test_divergence_is_found_at_the_same_sweep(dtol):
    # SOR diverges on this structurally symmetric, non-definite matrix for ω = 1.8
    A = random_symmetric_pattern(60, 0.1, 11, True)
    A = sp.csr_array(A - 1.6 * sp.diags_array(A.diagonal()) * 0.5)
    op = prepare(A)
    b = np.random.default_rng(0).standard_normal(op.n)
    fast = _solve(op, b, 1.8, 1e-8, 5000, True, dtol=dtol)
    slow = _solve(op, b, 1.8, 1e-8, 5000, False, dtol=dtol)
    assert slow[2] == K.DIVERGED
    assert fast[0] == slow[0] and fast[2] == slow[2]


def test_bare_sweeps_match_the_sweeps_of_the_solver():
    op = prepare(gallery.anisotropic_2d(9))
    lower, upper = op.split_triangles()
    b = np.random.default_rng(1).standard_normal(op.n)
    x = np.zeros(op.n)
    K.sor_sweeps(*lower, *upper, op.inv_diagonal, x, b, 1.3, 6)
    np.testing.assert_array_equal(x, sor(op, b, 1.3, maxiter=6, rtol=1e-300, atol=1e-300).x)
