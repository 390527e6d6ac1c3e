"""The PETSc backend's result contract against the Numba backend's on the same failing
systems: a failed solve returns its best iterate and says which (``info["best_iteration"]``)."""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import gallery

from dense_gold import pcg_iterates, sor_sweeps

pytestmark = pytest.mark.petsc

LAP = gallery.laplacian_2d(10)
INDEFINITE = (LAP - 1.0 * sp.identity(100)).tocsr()  # symmetric, diagonal 3, indefinite
B = np.random.default_rng(0).standard_normal(100)


def _true_residual(A, b, x):
    return np.linalg.norm(b - A @ x)


@pytest.mark.parametrize("kind, omega, kw", [
    ("cg", None, {"maxiter": 40}),  # breaks down at step 4; its best is step 1
    ("ssor_pcg", 1.5, {"maxiter": 40}),  # breaks down at once: its best is the start
    ("ssor_pcg", 1.5, {"maxiter": 40, "order": "paper"}),
    ("sor", 1.0, {"maxiter": 60}),  # Gauss-Seidel diverges slowly: its best is sweep 1
    ("sor", 1.9, {"maxiter": 60}),  # dtol: the residual grew from the first sweep on
])
def test_a_failed_petsc_solve_returns_and_names_the_best_iterate_as_numba(kind, omega, kw):
    # before: PETSc's KSPCG returned its last iterate (cg: residual 595 where its best was
    # 5.9; ssor_pcg: 11.4 where the start had 9.7) and neither PETSc solver said which
    # iterate it returned (no info["best_iteration"])
    args = (INDEFINITE, B) if omega is None else (INDEFINITE, B, omega)
    fn = solvers.SOLVERS[kind]
    num = fn(*args, **kw)
    pet = fn(*args, backend="petsc", **kw)
    assert not num.converged and not pet.converged
    assert pet.info["best_iteration"] == num.info["best_iteration"]
    k = pet.info["best_iteration"]
    assert 0 <= k < pet.iterations
    np.testing.assert_allclose(pet.x, num.x, rtol=1e-9, atol=1e-9)
    assert pet.residual_norm == pytest.approx(_true_residual(INDEFINITE, B, pet.x), rel=1e-12)
    # against a dense reference of the iterate it names
    if kind == "cg":
        ref = pcg_iterates(INDEFINITE, B, lambda r: r, steps=k)[-1] if k else np.zeros(100)
        np.testing.assert_allclose(pet.x, ref, rtol=1e-9, atol=1e-9)
    elif kind == "sor":
        ref = sor_sweeps(INDEFINITE, B, omega, np.zeros(100), k)
        np.testing.assert_allclose(pet.x, ref, rtol=1e-9, atol=1e-9)
    else:
        assert k == 0 and not pet.x.any()  # the start, x0 = 0


def test_a_capped_warm_started_cg_returns_its_best_iterate_on_both_backends():
    # CG's residual is not monotone: capped where it has just risen, both backends return
    # the iterate of the smallest residual they monitored, from the same x0
    A = gallery.laplacian_2d(12)
    b = np.random.default_rng(3).standard_normal(144)
    x0 = np.random.default_rng(4).standard_normal(144)
    dense = np.asarray(A.toarray())
    its = pcg_iterates(A, b, lambda r: r, x0=x0, steps=30)
    res = [np.linalg.norm(b - dense @ x) for x in its]
    cap = next(k for k in range(3, 30) if res[k - 1] > min(res[:k - 1]) * 1.05)  # a rise
    num = solvers.cg(A, b, x0=x0, maxiter=cap)
    pet = solvers.cg(A, b, x0=x0, maxiter=cap, backend="petsc")
    assert num.reason == pet.reason == "maxiter" and num.iterations == pet.iterations == cap
    assert pet.info["best_iteration"] == num.info["best_iteration"] < cap
    k = pet.info["best_iteration"]
    np.testing.assert_allclose(pet.x, its[k - 1], rtol=1e-9, atol=1e-9)
    assert pet.residual_norm < np.linalg.norm(b - dense @ its[cap - 1])


def test_a_converged_petsc_solve_has_no_best_iteration_and_counts_as_before():
    # (as Numba: only a failed solve says which iterate it returns)
    for kind, args in (("cg", (LAP, B)), ("ssor_pcg", (LAP, B, 1.5)), ("sor", (LAP, B, 1.7))):
        num = solvers.SOLVERS[kind](*args)
        pet = solvers.SOLVERS[kind](*args, backend="petsc")
        assert pet.converged and "best_iteration" not in pet.info
        assert abs(pet.iterations - num.iterations) <= (1 if kind == "ssor_pcg" else 0)
