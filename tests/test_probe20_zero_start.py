"""A warm start out of proportion with the solution (a diverging Picard iteration's last
iterate, 3e5 where the solution is 1e-11) keeps every CG-type run at its rounding level
ε‖|A| |x0|‖, far above the tolerance: the Tuner had returned such rounds as "the tolerance
looks unattainable" (best relative residual ~1e4, worse than x = 0), although the system is
solved from x = 0 in a few iterations.  A round none of whose runs came closer to b than the
zero start is now finished by one run from x = 0 (``info["zero_start"]`` says why), checked
against a dense solve; a round whose runs did better than x = 0, and a zero x0, are not."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery


def _system():
    A = sp.csr_matrix(gallery.laplacian_2d(12) * 1e12)
    return A, np.ones(A.shape[0])


@pytest.mark.parametrize("backend", ["numba", "petsc"])
@pytest.mark.parametrize("solver", ["ssor_pcg", "cg"])
def test_a_start_out_of_proportion_is_dropped_for_the_zero_start(solver, backend):
    # (PETSc's CG-type solves return such a start as "diverged": every arm, then x = 0)
    if backend == "petsc":
        pytest.importorskip("petsc4py")
    A, b = _system()
    x0 = np.full(A.shape[0], 3e5)
    tuner = bandit.Tuner(solver=solver, backend=backend)
    res = tuner.solve(A, b, x0=x0, rtol=0.1)
    assert res.converged
    exact = np.linalg.solve(A.toarray(), b)
    assert np.linalg.norm(b - A @ res.x) <= 0.1 * np.linalg.norm(b) * (1 + 1e-12)
    # the rule's own bound: ‖x − x*‖ ≤ ‖A⁻¹‖ ‖b − A x‖ ≤ 0.1 ‖A⁻¹‖ ‖b‖
    lam_min = np.linalg.eigvalsh(A.toarray())[0]
    assert np.linalg.norm(res.x - exact) <= 0.1 * np.linalg.norm(b) / lam_min * (1 + 1e-9)
    starts = [a["start"] for a in res.info["attempts"]]
    assert starts[-1] == "zero" and starts.count("zero") == 1
    assert "out of proportion" in res.info["zero_start"]
    assert bool(tuner.history["converged"][-1]) and tuner.summary()["all_converged"]
    # the iterations of every run, the zero start's included, are what the round paid
    assert res.iterations == sum(a["iterations"] for a in res.info["attempts"])


def test_configuration_arms_drop_it_too():
    A, b = _system()
    tuner = bandit.Tuner(bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"]))
    res = tuner.solve(A, b, x0=np.full(A.shape[0], 3e5), rtol=0.1)
    assert res.converged and res.info["attempts"][-1]["start"] == "zero"
    assert np.linalg.norm(b - A @ res.x) <= 0.1 * np.linalg.norm(b) * (1 + 1e-12)


def test_an_unattainable_tolerance_from_a_good_start_costs_no_zero_run():
    A, b = _system()
    exact = np.linalg.solve(A.toarray(), b)
    tuner = bandit.Tuner(solver="ssor_pcg")
    res = tuner.solve(A, b, x0=exact * (1 + 1e-3), rtol=1e-18)
    assert not res.converged and res.info.get("unattainable")
    assert "zero_start" not in res.info
    assert all(a["start"] != "zero" for a in res.info["attempts"])
    # from a zero x0 the zero start has been run: no second run from it
    res = tuner.solve(A, b, x0=np.zeros_like(b), rtol=1e-18)
    assert not res.converged and "zero_start" not in res.info
