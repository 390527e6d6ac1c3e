"""A user's PETSc Mat whose values are changed in place into a non-symmetric matrix after a
CG-type solve: the next ``ssor_pcg``/``cg`` solve that fails says so with a ``ValueError``.

Symmetry is checked once per Mat (a simulation changes values, not the symmetry of its
operator): such a Mat had run CG to ``maxiter`` on every solve, and a Tuner every arm (170,070
iterations a solve on the 10 × 10 grid below), each solve reported only as ``"maxiter"``.
"""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import cg, gallery, ssor_pcg

PETSc = pytest.importorskip("petsc4py.PETSc")

A = sp.csr_array(gallery.laplacian_2d(10))
N_ROWS = A.shape[0]
B = np.random.default_rng(0).standard_normal(N_ROWS)


def petsc_mat(M):
    it = PETSc.IntType
    mat = PETSc.Mat().createAIJ(size=M.shape, csr=(M.indptr.astype(it), M.indices.astype(it),
                                                   M.data), comm=PETSc.COMM_SELF)
    mat.assemble()
    return mat


def make_nonsymmetric(mat):
    """Same pattern, values of convection far beyond diffusion: −1.9 above the diagonal,
    −0.1 below (CG does not converge on it in 10,000 iterations)."""
    for i in range(N_ROWS):
        for k in range(A.indptr[i], A.indptr[i + 1]):
            j = int(A.indices[k])
            mat.setValue(i, j, A.data[k] if j == i else (-1.9 if j > i else -0.1))
    mat.assemble()


@pytest.mark.parametrize("solve", [lambda M, **k: ssor_pcg(M, B, 1.5, backend="petsc", **k),
                                   lambda M, **k: cg(M, B, backend="petsc", **k)],
                         ids=["ssor_pcg", "cg"])
def test_direct_solve_names_the_lost_symmetry(solve):
    mat = petsc_mat(A)
    res = solve(mat)
    assert res.converged
    exact = np.linalg.solve(A.toarray(), B)
    assert np.linalg.norm(res.x - exact) <= 1e-6 * np.linalg.norm(exact)
    make_nonsymmetric(mat)
    with pytest.raises(ValueError, match="A is no longer symmetric"):
        solve(mat, maxiter=500)
    with pytest.raises(ValueError, match="A is not symmetric"):  # refused before running now
        solve(mat, maxiter=500)


def test_values_changed_symmetric_pays_nothing_and_converges():
    mat = petsc_mat(A)
    assert ssor_pcg(mat, B, 1.5, backend="petsc").converged
    shifted = A + 3.0 * sp.identity(N_ROWS, format="csr")  # new values, still symmetric
    for i in range(N_ROWS):
        mat.setValue(i, i, shifted[i, i])
    mat.assemble()
    res = ssor_pcg(mat, B, 1.5, backend="petsc")
    assert res.converged
    exact = np.linalg.solve(shifted.toarray(), B)
    assert np.linalg.norm(res.x - exact) <= 1e-6 * np.linalg.norm(exact)
    # a symmetric Mat that merely fails (cap too low) is not called non-symmetric
    res = ssor_pcg(mat, B, 1.5, backend="petsc", maxiter=2)
    assert res.reason == "maxiter"


def test_tuner_names_it_and_goes_on():
    tuner = bandit.Tuner(solver="ssor_pcg", backend="petsc", maxiter=500)
    mat = petsc_mat(A)
    assert tuner.solve(mat, B).converged
    make_nonsymmetric(mat)
    with pytest.raises(ValueError, match="A is no longer symmetric"):
        tuner.solve(mat, B)
    with pytest.raises(ValueError, match="A is not symmetric"):
        tuner.solve(mat, B)
    res = tuner.solve(petsc_mat(A), B)  # the tuner goes on with a symmetric Mat
    assert res.converged
    assert len(tuner.history["iterations"]) == 2
