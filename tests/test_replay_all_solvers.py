"""Every Numba solver returns the best iterate of a failed solve the same way, checked against
dense reference iterations (``tests/dense_gold.py``, nothing from ``solvers._kernels``).

The six solve kernels (SOR, CG, SSOR-PCG in its Eisenstat and its plain form, Jacobi- and
IC(0)-PCG) each carry their own copy of the loop that replays a failed solve to its best
iterate (``solvers/_kernels.py`` says why); this is the contract every copy must keep.  The system makes every residual history rise
after a minimum within a few iterations: the model Laplacian shifted down to a smallest
eigenvalue of about 0.011 (still SPD), under a random diagonal similarity so that Jacobi is not
plain CG.  One explicitly stored zero at (0, 2) has no mirror, so SOR tests the exact residual
on every sweep (its cheap bound needs every far upper entry's mirror) and its best iterate is
the one of smallest true residual, as for the CG solvers (whose recursive residual agrees with
the true one to rounding over these few iterations).
"""
import numpy as np
import pytest
import scipy.sparse as sp

import dense_gold as G
from solvers import cg, gallery, pcg, prepare, sor, ssor_pcg
from solvers import _kernels_ssor as KS

M = 8
STEPS = 30
#: how clearly the minimum must stand out (rounding moves these residuals by ~1e-15 relative)
MARGIN = 1.01


def failing_system():
    s = np.random.default_rng(7).uniform(0.5, 2.0, M * M)
    S = sp.diags_array(s)
    A = sp.coo_array(S @ gallery.shifted_laplacian_2d(M, -0.23) @ S)
    A = sp.csr_array((np.append(A.data, 0.0), (np.append(A.row, 0), np.append(A.col, 2))),
                     shape=A.shape)
    b = np.random.default_rng(0).standard_normal(M * M)
    return A, b


def dense_iterates(name, A, b):
    """The reference iterates ``x_0 = 0, x_1, …, x_STEPS`` of solver ``name``."""
    Ad = A.toarray()
    if name == "sor":
        xs = [np.zeros_like(b)]
        for _ in range(STEPS):
            xs.append(G.sor_sweeps(Ad, b, 1.9, xs[-1], 1))
        return xs
    D = np.diag(Ad)
    L = G.ic0_dense(A)
    apply = {"cg": lambda r: r,
             "ssor_pcg eisenstat": lambda r: G.ssor_apply(Ad, r, 1.3),
             "ssor_pcg plain": lambda r: G.ssor_apply(Ad, r, 0.3),
             "pcg jacobi": lambda r: r / D,
             "pcg ic0": lambda r: G.ic0_apply(L, r)}[name]
    return [np.zeros_like(b)] + G.pcg_iterates(Ad, b, apply, steps=STEPS)


SOLVES = {
    "sor": lambda A, b, **kw: sor(A, b, 1.9, **kw),
    "cg": lambda A, b, **kw: cg(A, b, **kw),
    "ssor_pcg eisenstat": lambda A, b, **kw: ssor_pcg(A, b, 1.3, **kw),
    "ssor_pcg plain": lambda A, b, **kw: ssor_pcg(A, b, 0.3, **kw),
    "pcg jacobi": lambda A, b, **kw: pcg(A, b, "jacobi", **kw),
    "pcg ic0": lambda A, b, **kw: pcg(A, b, "ic0", **kw),
}


def test_the_system_is_spd_and_sor_tests_exactly():
    A, _ = failing_system()
    assert (A.data == 0.0).sum() == 1  # the stored zero at (0, 2); (2, 0) is not stored
    assert np.linalg.eigvalsh(A.toarray())[0] > 0.0
    assert prepare(A).sor_mirror() is None
    assert 0.3 < KS.EISENSTAT_MIN_OMEGA <= 1.3  # the two SSOR-PCG forms are both run


@pytest.mark.parametrize("name", SOLVES)
def test_a_capped_solve_returns_the_dense_reference_best_iterate(name):
    """Capped just after its residual has risen from a minimum, each solver reports the cap
    as its count and ``maxiter``, and returns exactly the reference iterate of smallest
    residual (its replay of the run ends there) with that iterate's true residual."""
    A, b = failing_system()
    Ad = A.toarray()
    xs = dense_iterates(name, A, b)
    t = np.array([np.linalg.norm(b - Ad @ x) for x in xs])

    def clear_rise(c):  # x_c is worse than the best before it, which stands out clearly
        best = np.sort(t[:c + 1])
        return (np.argmin(t[:c + 1]) > 0 and t[c] > 1.05 * best[0]
                and best[1] > MARGIN * best[0])

    cap = next((c for c in range(2, STEPS + 1) if clear_rise(c)), None)
    assert cap is not None, f"{name}: no residual rise within {STEPS} iterations"
    k = int(np.argmin(t[:cap + 1]))
    res = SOLVES[name](A, b, rtol=1e-300, atol=1e-300, maxiter=cap)
    assert (res.iterations, res.reason, res.converged) == (cap, "maxiter", False)
    assert res.info["best_iteration"] == k < cap
    np.testing.assert_allclose(res.x, xs[k], rtol=0, atol=1e-12 * np.abs(xs[k]).max())
    assert res.residual_norm == pytest.approx(t[k], rel=1e-12)
    assert res.residual_norm < t[cap] / 1.05  # better than the last iterate it stopped at
    # the same solve with the cap at its best iterate stops there, on the same x
    at_k = SOLVES[name](A, b, rtol=1e-300, atol=1e-300, maxiter=k)
    assert at_k.iterations == k and at_k.info["best_iteration"] == k
    np.testing.assert_array_equal(res.x, at_k.x)
