"""The gallery and the problem generators refuse coefficients that make no sense, by name,
where they had built a matrix that is not what the name says (an indefinite "anisotropic
diffusion" for ε < 0, a heat step run backwards for κ dt < 0, an indefinite "shifted
Laplacian") or failed with NumPy's or scipy's own message ("cannot convert float NaN to
integer", "high - low < 0"). Each accepted boundary value still gives the formula's matrix
(checked against its dense eigenvalues)."""
import numpy as np
import pytest

from experiments._problems_unseen import AnisoSweep2D, GraphShifts
from solvers import gallery


@pytest.mark.parametrize("make, match", [
    (lambda: gallery.anisotropic_2d(4, -0.01), r"^epsilon must be >= 0 \(the diffusion"),
    (lambda: gallery.crank_nicolson_2d(5, -1e-3), r"^kappa_dt must be >= 0 \(a diffusivity"),
    (lambda: gallery.shifted_laplacian_2d(4, -1.0),
     r"^c must be > -0\.7639.*not be positive definite"),
    (lambda: gallery.shifted_laplacian_2d(1, -4.0), r"^c must be > -4, .*singular"),
    (lambda: gallery.random_spd(6, shift=-1.0), r"^shift must be >= 0"),
    (lambda: gallery.random_spd(6, shift="x"), r"^shift must be a finite real number"),
    (lambda: gallery.random_spd(6, shift=np.inf), r"^shift must be a finite real number"),
    (lambda: gallery.random_spd(6, density=np.nan), r"^density must be a finite real number"),
    (lambda: gallery.random_spd(6, density=1.5), r"^density must lie in \[0, 1\]"),
    (lambda: gallery.random_diagonally_dominant(6, density=-0.1), r"^density must lie in"),
    (lambda: gallery.random_spd(6, seed="x"), r"^seed must be None"),
    (lambda: AnisoSweep2D(4, sweeps=1, per_sweep=4, theta=np.nan), r"^theta must be a finite"),
    (lambda: AnisoSweep2D(4, sweeps=1, per_sweep=4, theta="a"), r"^theta must be a finite"),
    (lambda: GraphShifts(30, samples=3, s_range=(10.0, 1e-3)), r"^s_range must be \(low, high"),
])
def test_nonsense_is_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_boundary_values_give_the_formula():
    m = 4
    lam = 4 * (1 - np.cos(np.pi / (m + 1)))
    ev = np.linalg.eigvalsh(gallery.shifted_laplacian_2d(m, -0.99 * lam).toarray())
    assert np.isclose(ev[0], 0.01 * lam) and ev[0] > 0
    assert np.linalg.eigvalsh(gallery.anisotropic_2d(m, 0.0).toarray())[0] > 0
    np.testing.assert_array_equal(gallery.crank_nicolson_2d(5, 0.0).toarray(), np.eye(16))
    A = gallery.random_spd(8, density=0.0, seed=1, shift=0.0)
    assert np.count_nonzero(A.toarray() - np.diag(A.diagonal())) == 0
