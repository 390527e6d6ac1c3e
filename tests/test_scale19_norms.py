"""Residual norms of extremely scaled but representable systems.

A system ``D K D`` (``K`` the 8×8-grid Laplacian, ``D`` alternating 1e100 and 1e-100, b = 1)
has a representable solution near 1e200, and the residuals of its iterates have entries near
1e200: their squares overflow double precision although every entry is finite.  The solvers
used to refuse such a solve with ``IterateOverflowError`` blaming ``x0`` (SOR, SSOR-PCG,
Jacobi- and IC(0)-PCG) or report an infinite residual (SOR with ``dtol=inf``); the norms now
fall back to a scaled sum (LAPACK ``dnrm2``'s idea) when the plain sum of squares leaves the
range where it is correct.  References: numpy on the residual divided by its largest entry
(exact scaling by hand), scipy's ``spsolve``, and the unscaled system's own solve.
"""
import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl

import solvers
from solvers import _kernels as K
from solvers import gallery
from solvers._result import IterateOverflowError

LAP = sp.csr_matrix(gallery.laplacian_2d(8))
N = LAP.shape[0]
ONES = np.ones(N)

METHODS = {
    "sor": lambda A, b, **kw: solvers.sor(A, b, 1.5, **kw),
    "ssor_pcg": lambda A, b, **kw: solvers.ssor_pcg(A, b, 1.5, **kw),
    "cg": lambda A, b, **kw: solvers.cg(A, b, **kw),
    "jacobi": lambda A, b, **kw: solvers.pcg(A, b, "jacobi", **kw),
    "ic0": lambda A, b, **kw: solvers.pcg(A, b, "ic0", **kw),
}


def _dkd(d_big):
    d = np.where(np.arange(N) % 2 == 0, d_big, 1.0 / d_big)
    D = sp.diags(d)
    return (D @ LAP @ D).tocsr(), d


def _norm(v):
    """‖v‖ by hand: v divided by its largest |entry| (numpy's norm of v itself overflows)."""
    m = float(np.abs(v).max())
    return 0.0 if m == 0.0 else m * float(np.linalg.norm(v / m))


def _residual(A, x, b):
    """b − A x row by row in Python floats (the products are finite; only squares are not)."""
    return b - A @ x


def test_residual_norms_of_huge_and_tiny_residuals():
    """The kernels' residual norms against the scaled reference, for residual entries near
    1e200 (squares overflow: was inf) and near 1e-200 (squares underflow: was 0)."""
    A, d = _dkd(1e100)
    op = solvers.prepare(A)
    # an iterate near the solution (1e200), off it by 1e-3 relative: residual entries near
    # 1e197, far above their rounding errors (the solution's own residual is rounding noise)
    x = spl.spsolve(A.tocsc(), ONES) * (1.0 + 1e-3 * np.random.default_rng(5).random(N))
    for scale in (1.0, 1e-300):
        x_s, b_s = x * scale, ONES * scale
        want = _norm(_residual(A, x_s, b_s))
        assert want > 0.0 and math.isfinite(want)
        got = K.residual_norm(op.indptr, op.indices, op.data, x_s, b_s)
        r = np.empty(N)
        got_r = K.residual(op.indptr, op.indices, op.data, x_s, b_s, r)
        assert got == pytest.approx(want, rel=1e-12)
        assert got_r == pytest.approx(want, rel=1e-12)
        np.testing.assert_allclose(r, _residual(A, x_s, b_s), rtol=1e-12,
                                   atol=1e-12 * float(np.abs(r).max()))
    # |b| + |A| |x| (the rounding level of b − A x, SOR's stagnation test): near 1e205
    want = _norm(ONES + abs(A) @ abs(x))
    got = K.rounding_scale(op.indptr, op.indices, op.data, x, ONES)
    assert got == pytest.approx(want, rel=1e-12)


def test_plain_sum_kept_for_ordinary_residuals():
    """An ordinary residual's norm is the plain sum of squares, bit for bit."""
    op = solvers.prepare(LAP)
    rng = np.random.default_rng(3)
    x, b = rng.standard_normal(N), rng.standard_normal(N)
    r = b - LAP @ x
    acc = 0.0
    for i in range(N):  # the kernel's order of summation (row by row)
        acc += r[i] * r[i]
    assert K.residual_norm(op.indptr, op.indices, op.data, x, b) == math.sqrt(acc)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_dkd_reports_divergence_not_overflow(method):
    """D K D with b = 1: no double-precision vector meets rtol 1e-8 (the dense solution's own
    residual is near 3e188, |A| |x| near 6e204); the first steps' residuals reach 1e200, far
    beyond dtol = 1e12 times the start's.  The solve stops as diverged and returns its best
    iterate, the start, with the residual computed — no ``IterateOverflowError``."""
    A, _ = _dkd(1e100)
    x_dense = spl.spsolve(A.tocsc(), ONES)
    assert _norm(_residual(A, x_dense, ONES)) > 1e180  # the tolerance is out of reach
    res = METHODS[method](A, ONES)
    assert not res.converged and res.reason == "diverged"
    assert math.isfinite(res.residual_norm)
    assert res.residual_norm == pytest.approx(_norm(_residual(A, res.x, ONES)), rel=1e-12)
    assert res.info["best_iteration"] == 0 and not res.x.any()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_dkd_without_divergence_limit_reports_finite_residual(method):
    """With ``dtol=inf`` the solve goes on; whatever stops it, the reported residual is the
    true one of the returned x (was: inf from SOR after 10000 sweeps, an IterateOverflowError
    from the preconditioned solvers)."""
    A, _ = _dkd(1e100)
    res = METHODS[method](A, ONES, dtol=np.inf, maxiter=400)
    assert not res.converged
    assert math.isfinite(res.residual_norm) and np.all(np.isfinite(res.x))
    assert res.residual_norm == pytest.approx(_norm(_residual(A, res.x, ONES)), rel=1e-12)
    if method == "sor":  # SOR's stagnation test sees the rounding level near 1e189 (was inf)
        assert res.reason == "stagnated"


def test_truly_overflowing_iterate_still_refused():
    """An iterate that itself overflows keeps its refusal, and the message says so: SOR with
    ω = 1.9 on a non-symmetric tridiagonal matrix (3000 rows) whose sweeps grow x past 1e308
    within one sweep."""
    n = 3000
    A = sp.diags([-1.5 * np.ones(n - 1), 2.0 * np.ones(n), -0.5 * np.ones(n - 1)],
                 [-1, 0, 1]).tocsr()
    with pytest.raises(IterateOverflowError, match="itself beyond double precision"):
        solvers.sor(A, np.ones(n), 1.9)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("scale", [2.0 ** 300, 2.0 ** -300, 1e150, 1e-150])
def test_uniformly_scaled_systems(method, scale):
    """s·K with b = 1 (solution near 1/s) and s·K with b = s (the same solution): converged in
    the unscaled system's iteration count (exactly for a power of two, within one sweep for
    1e±150), the solution within the tolerance of scipy's."""
    base = METHODS[method](LAP, ONES)
    for b, x_scale in ((ONES, 1.0 / scale), (ONES * scale, 1.0)):
        A = (LAP * scale).tocsr()
        res = METHODS[method](A, b)
        ref = spl.spsolve(A.tocsc(), b)
        assert res.converged
        if math.frexp(scale)[0] == 0.5:
            assert res.iterations == base.iterations
            np.testing.assert_array_equal(res.x, base.x * x_scale)  # exact scaling
        else:
            assert abs(res.iterations - base.iterations) <= 1
        assert _norm(res.x - ref) <= 1e-6 * _norm(ref)
        tol = 1e-8 * _norm(b)
        assert res.residual_norm <= tol
        assert _norm(_residual(A, res.x, b)) <= 1.01 * tol


@pytest.mark.parametrize("method", sorted(METHODS))
def test_dkd_consistent_rhs(method):
    """D K D with b = D K 1 (solution D⁻¹ 1, entries 1e±100): converged, the residual meets
    the tolerance by the scaled reference, and D x solves K y = D⁻¹ b to the accuracy the
    residual norm weighs (the rows where D = 1e100)."""
    A, d = _dkd(1e100)
    b = A @ (1.0 / d)
    res = METHODS[method](A, b)
    assert res.converged
    assert _norm(_residual(A, res.x, b)) <= 1e-8 * _norm(b) * (1 + 1e-12)
