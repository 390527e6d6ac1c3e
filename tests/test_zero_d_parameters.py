"""Inputs a new user passes: ω and ``dtol`` as 0-d NumPy arrays (``np.array(1.5)``, what
``np.linspace(...)[k]`` arithmetic or ``np.clip`` of a scalar array gives) are the numbers
they hold, as ``rtol`` and ``maxiter`` already were; they had been refused ("omega must be a
real number in (0, 2), got array(1.2)").  Checked against the same solve with a float."""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import gallery


def system():
    A = sp.csr_matrix(gallery.laplacian_2d(10))
    return A, np.random.default_rng(0).standard_normal(A.shape[0])


@pytest.mark.parametrize("solve", [solvers.sor, solvers.ssor_pcg])
def test_a_0d_array_omega_is_its_number(solve):
    A, b = system()
    ref = solve(A, b, 1.3)
    r = solve(A, b, np.array(1.3))
    assert r.converged and r.iterations == ref.iterations and r.omega == 1.3
    np.testing.assert_array_equal(r.x, ref.x)
    r32 = solve(A, b, np.array(1.25, dtype=np.float32))
    assert r32.iterations == solve(A, b, 1.25).iterations


def test_a_0d_array_dtol_is_its_number():
    A, b = system()
    K = sp.csr_matrix(A - 2.0 * sp.identity(A.shape[0]))  # SOR diverges
    ref = solvers.sor(K, b, 1.5, dtol=1e3)
    r = solvers.sor(K, b, 1.5, dtol=np.array(1e3))
    assert r.reason == ref.reason == "diverged" and r.iterations == ref.iterations


def test_the_ssor_preconditioner_takes_a_0d_omega():
    A, b = system()
    ref = solvers.pcg(A, b, solvers.SSOR(1.4))
    assert solvers.pcg(A, b, solvers.SSOR(np.array(1.4))).iterations == ref.iterations


@pytest.mark.parametrize("omega, match", [
    (np.array([1.2]), "omega must be a real number"),      # a 1-d array is not a number
    (np.array(True), "omega must be a real number"),
    (np.array(2.0), "open interval"),
    (np.array("1.2"), "omega must be a real number"),
])
def test_what_is_not_a_number_in_range_is_still_refused(omega, match):
    A, b = system()
    with pytest.raises(ValueError, match=match):
        solvers.sor(A, b, omega)
