"""``estimate_spectrum`` on a symmetric *indefinite* matrix (positive diagonal, a negative
eigenvalue: a Helmholtz-like shifted Laplacian) had returned an estimate whose ω formulas
clip ``μ_min < 0`` to 0 and give ω ≈ 2, as if the matrix were merely singular: the automatic
context of a ``Tuner`` then told the learner "ω ≈ 2" about a system no ω can solve.  It now
raises ``NotPositiveDefiniteError`` (a ``ValueError``) with the negative Ritz value, which is
checked here against the dense spectrum (a Ritz value is a Rayleigh quotient: it lies inside
it); positive definite and singular positive semidefinite matrices are estimated as before."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery
from solvers.spectral import NotPositiveDefiniteError, estimate_spectrum


def scaled_spectrum(A):
    A = np.asarray(A.toarray() if sp.issparse(A) else A, dtype=float)
    s = 1.0 / np.sqrt(np.abs(np.diag(A)))
    return np.linalg.eigvalsh(s[:, None] * A * s[None, :])


INDEFINITE = {
    "2x2": sp.csr_array(np.array([[1.0, 2.0], [2.0, 1.0]])),          # eigenvalues −1, 3
    "helmholtz": sp.csr_array(gallery.laplacian_2d(10) - 1.0 * sp.eye_array(100)),
    "negated helmholtz": sp.csr_array(-(gallery.laplacian_2d(10) - 1.0 * sp.eye_array(100))),
}


@pytest.mark.parametrize("name", sorted(INDEFINITE))
def test_indefinite_matrix_is_named_not_given_an_omega(name):
    A = INDEFINITE[name]
    sign = -1.0 if A.diagonal().max() < 0 else 1.0
    lam = scaled_spectrum(sign * A)
    assert lam[0] < 0 < lam[-1]
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite") as err:
        estimate_spectrum(A)
    assert isinstance(err.value, ValueError)
    # the Ritz value reported is a Rayleigh quotient: inside the dense spectrum, and < 0
    assert lam[0] - 1e-12 <= err.value.mu_min < 0
    assert err.value.mu_max <= lam[-1] + 1e-12


@pytest.mark.parametrize("A", [gallery.laplacian_2d(10), -gallery.laplacian_2d(10),
                               gallery.shifted_laplacian_2d(10, 1e-12),
                               sp.csr_array(np.array([[1.0, -1.0], [-1.0, 1.0]]))])
def test_definite_and_semidefinite_matrices_are_still_estimated(A):
    est = estimate_spectrum(A)
    assert 0.0 <= est.mu_min and 0.0 < est.omega_sor < 2.0


def test_auto_context_refuses_an_indefinite_system_before_it_solves():
    A, b = INDEFINITE["helmholtz"], np.ones(100)
    tuner = bandit.Tuner(solver="sor", auto_context="spectral", maxiter=200)
    with pytest.raises(ValueError, match="auto_context='spectral'.*not positive definite"):
        tuner.solve(A, b)
    assert len(tuner.history["iterations"]) == 0  # nothing recorded, the tuner still usable
    res = tuner.solve(gallery.laplacian_2d(10), b)
    assert res.converged and len(tuner.history["iterations"]) == 1
