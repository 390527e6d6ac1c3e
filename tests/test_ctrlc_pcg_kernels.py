"""Ctrl-C stops a long run of Jacobi- and IC(0)-PCG within a few tens of milliseconds, and the
iterations are bit for bit those of the loops without a look for signals.

Jacobi-PCG looks every ``_kernels.SIGNAL_WORK`` entries at the end of its loop; IC(0)-PCG runs
its loop in chunks of about ``SIGNAL_WORK`` entries (``_kernels_pcg._ic0_steps``) and looks
between two.  Both had looked at none: Ctrl-C waited for the whole run.  The reference below
is the loop as it was before (the module's own steps, no look, no chunks); the large systems
cross dozens of chunk boundaries (2²⁴ entries: 28 iterations at n = 10⁵), with the stagnation
state carried across them.
"""
import os

import numba
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import _kernels as K
from solvers import _kernels_pcg as KP
from solvers import gallery
from solvers.precond import IC0, Jacobi

from ctrlc import interrupted_after, maxiter_for  # (tests/ctrlc.py, shared)

NOJIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"


# -- the loops without a look (as before the look was added) ---------------------------------

@numba.njit(cache=True)
def ref_ic0_run(indptr, indices, data, lp, li, ld, lnear, tp, ti, td, tnear, inv_ldiag, x, b, r,
                rnorm, tol, maxiter, dtol):
    n = b.size
    limit = dtol * rnorm
    z = np.empty(n)
    p = np.zeros(n)
    q = np.zeros(n)
    KP._ic0_forward_update(lp, li, ld, lnear, inv_ldiag, 0.0, x, p, r, q, z)
    rz = KP._ic0_backward_dot(tp, ti, td, tnear, inv_ldiag, r, z)
    if not rz > 0.0:
        return 0, rnorm, K.BREAKDOWN, 0, rnorm
    p[:] = z
    best, best_it = rnorm, 0
    ref, stalls, mark = np.inf, 0, 0
    it = 0
    while it < maxiter:
        pq = KP.spmv_dot(indptr, indices, data, p, q)
        if not pq > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        alpha = rz / pq
        acc = KP._ic0_forward_update(lp, li, ld, lnear, inv_ldiag, alpha, x, p, r, q, z)
        it += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol or it - mark >= K.STAGNATION_WINDOW:
            rnorm = K.residual(indptr, indices, data, x, b, r)
            if rnorm <= tol:
                return it, rnorm, K.CONVERGED, it, rnorm
            ref, stalls = K.gap_check(rnorm, ref, stalls)
            mark = it
            KP._ic0_forward_update(lp, li, ld, lnear, inv_ldiag, 0.0, x, p, r, q, z)
        elif not rnorm <= limit:
            return (it, K.diverged_norm(indptr, indices, data, x, b, rnorm), K.DIVERGED, best_it,
                    best)
        if rnorm < best:
            best, best_it = rnorm, it
        mark, stuck = K.stalled(rnorm, ref, stalls, it, mark)
        if stuck:
            return it, rnorm, K.STAGNATED, best_it, best
        rz_new = KP._ic0_backward_dot(tp, ti, td, tnear, inv_ldiag, r, z)
        if not rz_new > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        beta = rz_new / rz
        rz = rz_new
        KP.direction(p, z, beta)
    return it, rnorm, K.MAXITER, best_it, best


@numba.njit(cache=True)
def ref_jacobi_run(indptr, indices, data, inv_diag, x, b, r, rnorm, tol, maxiter, dtol):
    n = b.size
    limit = dtol * rnorm
    z = np.empty(n)
    p = np.zeros(n)
    q = np.zeros(n)
    _, rz = KP._jacobi_update(inv_diag, 0.0, x, p, r, q, z)
    if not rz > 0.0:
        return 0, rnorm, K.BREAKDOWN, 0, rnorm
    p[:] = z
    best, best_it = rnorm, 0
    ref, stalls, mark = np.inf, 0, 0
    it = 0
    while it < maxiter:
        pq = KP.spmv_dot(indptr, indices, data, p, q)
        if not pq > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        alpha = rz / pq
        acc, rz_new = KP._jacobi_update(inv_diag, alpha, x, p, r, q, z)
        it += 1
        rnorm = np.sqrt(acc)
        if rnorm <= tol or it - mark >= K.STAGNATION_WINDOW:
            rnorm = K.residual(indptr, indices, data, x, b, r)
            if rnorm <= tol:
                return it, rnorm, K.CONVERGED, it, rnorm
            ref, stalls = K.gap_check(rnorm, ref, stalls)
            mark = it
            _, rz_new = KP._jacobi_update(inv_diag, 0.0, x, p, r, q, z)
        elif not rnorm <= limit:
            return (it, K.diverged_norm(indptr, indices, data, x, b, rnorm), K.DIVERGED, best_it,
                    best)
        if rnorm < best:
            best, best_it = rnorm, it
        mark, stuck = K.stalled(rnorm, ref, stalls, it, mark)
        if stuck:
            return it, rnorm, K.STAGNATED, best_it, best
        if not rz_new > 0.0:
            return it, rnorm, K.BREAKDOWN, best_it, best
        beta = rz_new / rz
        rz = rz_new
        KP.direction(p, z, beta)
    return it, rnorm, K.MAXITER, best_it, best


def _scaled(A, seed):
    """``S A S`` with a random positive diagonal ``S`` (Jacobi is then not plain CG)."""
    s = np.random.default_rng(seed).uniform(0.5, 2.0, A.shape[0])
    return sp.csr_array(sp.diags_array(s) @ A @ sp.diags_array(s))


#: (matrix, rtol, maxiter): converged, maxiter-bound across chunk boundaries, stagnated
SYSTEMS = {
    "laplacian 316² maxiter": (lambda: gallery.laplacian_2d(316), 1e-300, 200),
    "scaled laplacian 200² converges": (lambda: _scaled(gallery.laplacian_2d(200), 1), 1e-10,
                                        5000),
    "anisotropic 150² rtol 1e-15": (lambda: gallery.anisotropic_2d(150, 1e-3), 1e-15, 3000),
    "random spd": (lambda: gallery.random_spd(3000, density=0.01, seed=2), 1e-12, 2000),
    "shifted laplacian 40² stagnates": (lambda: gallery.shifted_laplacian_2d(40, -0.0116),
                                        1e-16, 5000),
}


@pytest.mark.skipif(NOJIT, reason="systems of 10⁵ unknowns: hours of interpreted loops")
@pytest.mark.parametrize("kind", ["jacobi", "ic0"])
@pytest.mark.parametrize("name", list(SYSTEMS))
def test_iterations_bit_for_bit_as_without_the_look(kind, name):
    make, rtol, maxiter = SYSTEMS[name]
    A = make()
    op = solvers.prepare(A)
    b = np.random.default_rng(3).standard_normal(op.n)
    rnorm0 = float(np.linalg.norm(b))
    tol = rtol * rnorm0
    if kind == "jacobi":
        pre = (Jacobi().setup(A)._inv,)
        runs = (KP._jacobi_run, ref_jacobi_run)
    else:
        pre = IC0().setup(A)._solve_arrays
        runs = (KP._ic0_run, ref_ic0_run)
    outs = []
    for run in runs:
        x = np.zeros(op.n)
        r = b.copy()
        out = run(op.indptr, op.indices, op.data, *pre, x, b, r, rnorm0, tol, maxiter, 1e12)
        outs.append((out, x, r))
    (new, xn, rn), (old, xo, ro) = outs
    assert new[0] > 0
    assert tuple(new) == tuple(old)  # iterations, ‖r‖, status, best iteration, best norm
    assert np.array_equal(xn, xo) and np.array_equal(rn, ro)
    if name.endswith("maxiter"):
        assert new[2] == K.MAXITER and new[0] > 5 * K.SIGNAL_WORK // (A.nnz + op.n)
    if name.endswith("stagnates"):
        assert new[2] == K.STAGNATED


# -- Ctrl-C --------------------------------------------------------------------------------------

A = solvers.prepare(gallery.laplacian_2d(200))
B = np.ones(A.n)
TOL = {"rtol": 1e-300, "atol": 1e-300}  # never met: every run goes to its maxiter
RUN_SECONDS = 4.0
SIGNAL_AT = 0.2

CASES = {
    "pcg jacobi": lambda m: solvers.pcg(A, B, "jacobi", maxiter=m, **TOL),
    "pcg ic0": lambda m: solvers.pcg(A, B, "ic0", maxiter=m, **TOL),
}


def _interrupted_after(call):
    return interrupted_after(call, SIGNAL_AT)


def _maxiter(solve):
    return maxiter_for(solve, RUN_SECONDS)


@pytest.mark.skipif(NOJIT, reason="times compiled kernels")
@pytest.mark.parametrize("name", list(CASES))
def test_ctrl_c_stops_a_long_run(name):
    solve = CASES[name]
    m = _maxiter(solve)
    after = _interrupted_after(lambda: solve(m))
    assert after is not None, f"{name}: the run was not interrupted"
    assert after < SIGNAL_AT + RUN_SECONDS / 4, f"{name}: interrupted only after {after:.2f} s"
    # and the next solve runs to the same answer as before (nothing left half-done)
    r1 = solve(60)
    r2 = solve(60)
    assert r1.iterations == r2.iterations == 60 and np.array_equal(r1.x, r2.x)
