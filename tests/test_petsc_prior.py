"""The default learner's theory prior on the PETSc backend (one rank; two ranks in
tests/test_petsc_mpi.py): the spectral estimate of a PETSc Mat with PETSc's own products.

Before, the estimate refused a PETSc operator (TypeError, taken as "no theory applies"), so
the default learner on ``backend="petsc"`` started from ω = 1 and walked up the grid one arm
at a time: on 60 solves of a 3-D variable-coefficient diffusion sequence, 1753 SOR iterations
against 1437 on the Numba backend and 1364 for the best fixed ω."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit.prior import theory_costs
from solvers import gallery
from solvers.petsc import to_petsc_mat
from solvers.spectral import estimate_spectrum

A = gallery.laplacian_2d(12) + sp.diags(np.linspace(0.0, 0.5, 144))  # SPD, varying diagonal


def test_estimate_of_a_mat_is_the_serial_estimate():
    M = to_petsc_mat(sp.csr_matrix(A))
    for steps in (5, 40, 500):  # 500 > n: stops at an invariant subspace
        ref, got = estimate_spectrum(A, steps), estimate_spectrum(M, steps)
        assert got.steps == ref.steps and got.exact == ref.exact
        assert got.mu_min == pytest.approx(ref.mu_min, rel=1e-10)
        assert got.mu_max == pytest.approx(ref.mu_max, rel=1e-10)
    dense = np.linalg.eigvalsh(np.diag(A.diagonal() ** -0.5) @ A.toarray()
                               @ np.diag(A.diagonal() ** -0.5))
    exact = estimate_spectrum(M, 500)
    assert exact.mu_min == pytest.approx(dense[0], rel=1e-8)
    assert exact.mu_max == pytest.approx(dense[-1], rel=1e-8)


def test_estimate_refuses_what_the_serial_one_refuses():
    N = sp.csr_matrix(A, copy=True)
    N[0, 1] = -3.0  # not symmetric
    with pytest.raises(ValueError, match="not symmetric"):
        estimate_spectrum(to_petsc_mat(N))
    Z = sp.csr_matrix(A, copy=True)
    Z[3, 3] = 0.0
    with pytest.raises(ValueError, match="positive diagonal"):
        estimate_spectrum(to_petsc_mat(Z))


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
def test_default_learner_has_its_prior_on_petsc(solver):
    # the default learner takes the prior for SOR; for SSOR-PCG it is asked for
    b = np.ones(A.shape[0])
    firsts = []
    for backend in ("numba", "petsc"):
        policy = None if solver == "sor" else bandit.JointCB(
            [1.0, 1.2, 1.4, 1.6, 1.8, 1.9], prior="theory")
        t = bandit.Tuner(policy, solver=solver, backend=backend)
        M = to_petsc_mat(sp.csr_matrix(A)) if backend == "petsc" else A
        Mb = b
        if backend == "petsc":
            Mb = M.createVecLeft()
            Mb.set(1.0)
        r = t.solve(M, Mb, context=0.0)
        assert r.converged
        assert t.policy.prior_curve is not None
        firsts.append(r.arm)
    expected = theory_costs(A, t.policy.arms, solver)
    assert firsts[0] == firsts[1] == int(np.argmin(expected))


def test_no_prior_for_a_nonsymmetric_mat_and_the_loop_goes_on():
    N = sp.csr_matrix(A, copy=True)
    N[0, 1] = -1.5
    M = to_petsc_mat(N)
    b = M.createVecLeft()
    b.set(1.0)
    t = bandit.Tuner(solver="sor", backend="petsc")
    r = t.solve(M, b, context=0.0)
    assert r.converged and t.policy.prior_curve is None
