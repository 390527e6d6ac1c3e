"""SOR on a symmetric indefinite matrix (a Helmholtz-like shifted Laplacian ``K − I``): every
arm diverges, and the Tuner's failure message had told the user to add ω below 1
(under-relaxation) — which diverges as well.  On a symmetric matrix with a positive diagonal
SOR converges, for any ω in (0, 2), exactly when the matrix is positive definite
(Ostrowski–Reich); the message now says the matrix is indefinite and that no ω can solve it.
The advice to under-relax stays where it helps: a nonsymmetric matrix (central differences of
convection at a cell Péclet number above 2) on which every ω >= 1 diverges and ω = 0.5
converges."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
import solvers
from solvers import gallery


def _shifted_laplacian(m=10, shift=1.0):
    return sp.csr_matrix(gallery.laplacian_2d(m) - shift * sp.eye(m * m))


def _central_convection(m=20, pe=150.0):
    h = 1.0 / (m + 1)
    e = np.ones(m)
    d2 = sp.diags([-e[:-1], 2 * e, -e[:-1]], [-1, 0, 1]) / h ** 2
    c = sp.diags([-e[:-1], e[:-1]], [-1, 1]) * pe / (2 * h)
    return sp.csr_matrix(sp.kron(sp.eye(m), d2 + c) + sp.kron(d2, sp.eye(m)))


@pytest.mark.parametrize("arms", [None, [0.3, 0.6, 0.9, 1.2]])
def test_every_sor_run_diverging_on_a_symmetric_indefinite_matrix_says_so(arms):
    A = _shifted_laplacian()
    assert np.linalg.eigvalsh(A.toarray())[0] < 0 < A.diagonal().min()  # indefinite
    b = np.ones(A.shape[0])
    # under-relaxation diverges too: the advice had been wrong
    assert solvers.sor(A, b, 0.5, maxiter=20_000).reason == "diverged"
    tuner = bandit.Tuner(arms, solver="sor", maxiter=3000)
    res = tuner.solve(A, b)
    assert not res.converged and res.reason == "diverged"
    failure = res.info["failure"]
    assert "symmetric with a positive diagonal" in failure
    assert "indefinite" in failure and "no ω can solve it" in failure
    assert "under-relaxation" not in failure


def test_nonsymmetric_divergence_keeps_the_under_relaxation_advice():
    A = _central_convection()
    b = np.ones(A.shape[0])
    x = spla.spsolve(A.tocsc(), b)
    low = solvers.sor(A, b, 0.5, maxiter=20_000)  # the advice is right here
    assert low.converged and np.abs(low.x - x).max() <= 1e-6 * np.abs(x).max()
    res = bandit.Tuner(solver="sor").solve(A, b)
    assert not res.converged
    assert "add ω below 1 (under-relaxation)" in res.info["failure"]
    assert "indefinite" not in res.info["failure"]
