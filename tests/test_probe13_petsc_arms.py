"""Set-up reuse written into a PETSc option dict, as a user copies it from a Numba arm."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

pytest.importorskip("petsc4py")

import bandit  # noqa: E402
from solvers import gallery  # noqa: E402


@pytest.mark.parametrize("arm", [{"pc_type": "gamg", "reuse": 5},
                                 {"pc_type": "icc", "pc_factor_levels": 1, "reuse": 2}])
def test_reuse_in_a_petsc_option_dict_is_refused_as_reuse(arm):
    # it had gone to PETSc as an option and come back as "misspelt, or meant for another
    # KSP/PC type", while the configuration form of the same arm names the reason
    with pytest.raises(ValueError, match=r"arm 0 .*: reuse applies to the Numba backend's "
                                         r"preconditioners .* must be 0 with backend='petsc'"):
        bandit.Tuner([arm], solver="cg", backend="petsc")


def test_reuse_0_in_a_petsc_option_dict_is_the_arm_without_it():
    # the configuration form accepts reuse=0 (a default said explicitly); so does the plain
    # option dict now, as the same arm
    A = gallery.laplacian_2d(8).tocsr()
    b = np.linspace(1.0, 2.0, 64)
    t = bandit.Tuner([{"pc_type": "icc", "reuse": 0}, {"pc_type": "jacobi"}], solver="cg",
                     backend="petsc")
    assert t.arm_labels == ["cg+icc", "cg+jacobi"]
    r = t.solve(A, b)
    assert r.converged
    assert np.linalg.norm(r.x - spla.spsolve(A.tocsc(), b)) <= 1e-6 * np.linalg.norm(r.x)
