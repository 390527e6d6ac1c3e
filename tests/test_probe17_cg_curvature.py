"""Plain CG on matrices that are not positive definite, on both backends, against a dense
textbook CG's curvatures ``pᵀAp``: the Numba kernel stops at the first curvature ≤ 0;
PETSc's KSPCG stops one step after the curvature first has another sign than the first
one's — so on a negative definite matrix (a Laplacian assembled with the other sign) it
converges, to the dense solution, where the Numba kernel reports a breakdown at once, and on
an indefinite matrix whose first curvature is negative it runs on. The PETSc page had said
that KSPCG counts a breakdown "one step later ... and names the same best iterate", which
holds only when the first curvature is positive."""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import gallery


def curvature_signs(A, b, steps):
    """Signs of ``pᵀAp`` of dense textbook CG from ``x0 = 0``, steps 0 … steps − 1."""
    A = A.toarray()
    r = np.array(b, dtype=float)
    p = r.copy()
    out = []
    for _ in range(steps):
        q = A @ p
        d = p @ q
        out.append(np.sign(d))
        alpha = (r @ r) / d
        r_new = r - alpha * q
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    return np.array(out)


L = gallery.laplacian_2d(10)  # SPD, 100 unknowns, eigenvalues in (0, 8)
B_ONES = np.ones(100)
B_RAND = np.random.default_rng(0).standard_normal(100)


@pytest.mark.parametrize("shift", [0.5, 1.0, 3.0, 6.0])
@pytest.mark.parametrize("which", ["ones", "random"])
def test_where_each_backend_reports_the_breakdown(shift, which):
    A = (L - shift * sp.identity(100)).tocsr()  # indefinite
    b = B_ONES if which == "ones" else B_RAND
    signs = curvature_signs(A, b, 40)
    first_nonpositive = int(np.argmax(signs <= 0))
    first_change = int(np.argmax(signs != signs[0]))
    assert signs[first_nonpositive] <= 0 and signs[first_change] != signs[0]  # both occur
    numba = solvers.cg(A, b)
    petsc = solvers.cg(A, b, backend="petsc")
    assert (numba.reason, petsc.reason) == ("breakdown", "breakdown")
    assert petsc.info["petsc_reason"] == "DIVERGED_INDEFINITE_MAT"
    assert numba.iterations == first_nonpositive
    assert petsc.iterations == first_change + 1
    if signs[0] > 0:  # the case the page described: one step later, the same best iterate
        assert petsc.iterations == numba.iterations + 1
        assert petsc.info["best_iteration"] == numba.info["best_iteration"]
        np.testing.assert_allclose(petsc.x, numba.x, rtol=1e-10, atol=1e-12)
    # either way the returned x is the best iterate: no worse than the start
    for res in (numba, petsc):
        assert np.linalg.norm(b - A @ res.x) <= np.linalg.norm(b) * (1 + 1e-12)


def test_negative_definite_converges_on_petsc_and_breaks_down_on_numba():
    A = (-L).tocsr()
    assert (curvature_signs(A, B_ONES, 10) < 0).all()  # every curvature negative
    exact = np.linalg.solve(A.toarray(), B_ONES)
    petsc = solvers.cg(A, B_ONES, backend="petsc")
    assert petsc.converged and petsc.reason == "converged"
    assert np.linalg.norm(B_ONES - A @ petsc.x) <= 1e-8 * np.linalg.norm(B_ONES)
    np.testing.assert_allclose(petsc.x, exact, rtol=1e-6)
    # its count is CG's on (−A) x = −b, the SPD system it is the same iteration for
    assert petsc.iterations == solvers.cg(L, -B_ONES, backend="petsc").iterations
    numba = solvers.cg(A, B_ONES)
    assert (numba.reason, numba.iterations) == ("breakdown", 0)
    assert not numba.x.any()  # the start, its best iterate
