"""The gallery's real coefficients (``shifted_laplacian_2d``'s shift ``c``,
``anisotropic_2d``'s ``epsilon``, ``crank_nicolson_2d``'s ``kappa_dt``) are checked like its
sizes: a NaN or infinite one had made a matrix of NaN (refused only later, by a solver, as a
non-finite ``A``), a string NumPy's or scipy's own ``TypeError``; NumPy scalars and 0-d
arrays are numbers, and the matrices are the ones their formulas give."""
import numpy as np
import pytest

from solvers import gallery


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, "0.1", None, True, [0.1]])
@pytest.mark.parametrize("make, name", [
    (lambda v: gallery.shifted_laplacian_2d(3, v), "c"),
    (lambda v: gallery.anisotropic_2d(3, v), "epsilon"),
    (lambda v: gallery.crank_nicolson_2d(3, v), "kappa_dt"),
])
def test_a_coefficient_that_is_no_finite_number_is_named(make, name, bad):
    with pytest.raises(ValueError, match=rf"^{name} must be a finite real number, got "):
        make(bad)


@pytest.mark.parametrize("c", [0.5, np.float32(0.5), np.array(0.5), 1])
def test_numbers_of_every_kind_give_the_formula(c):
    m = 3
    T = 2 * np.eye(m) - np.eye(m, k=1) - np.eye(m, k=-1)
    K = np.kron(np.eye(m), T) + np.kron(T, np.eye(m))
    np.testing.assert_array_equal(gallery.shifted_laplacian_2d(m, c).toarray(),
                                  K + float(c) * np.eye(m * m))
    np.testing.assert_array_equal(gallery.anisotropic_2d(m, c).toarray(),
                                  np.kron(np.eye(m), T) + float(c) * np.kron(T, np.eye(m)))
    nx = m + 1
    np.testing.assert_allclose(gallery.crank_nicolson_2d(nx, c).toarray(),
                               np.eye(m * m) + 0.5 * float(c) * nx * nx * K, rtol=1e-15)
