"""bandit.Tuner with backend="petsc": ω arms, PETSc option-dict arms, PETSc Mat input."""
import numpy as np
import pytest

import bandit
import solvers
from solvers import gallery, petsc as sp_petsc

pytestmark = pytest.mark.petsc

PCS = [{"pc_type": "none"}, {"pc_type": "sor", "pc_sor_omega": 1.4}, {"pc_type": "gamg"},
       {"pc_type": "icc"}]


def heat_sequence(T, nx=20, seed=0):
    rng = np.random.default_rng(seed)
    for t in range(T):
        A = gallery.crank_nicolson_2d(nx, kappa_dt=10 ** rng.uniform(-3, -1.5))
        yield A, rng.standard_normal(A.shape[0])


@pytest.mark.parametrize("arm", range(len(PCS)))
def test_fixed_option_dict_arm_is_passed_as_options(arm):
    tuner = bandit.Tuner(bandit.FixedArm(PCS, arm=arm), solver="cg", backend="petsc")
    for A, b in heat_sequence(3):
        res = tuner.solve(A, b)
        assert res.converged and res.relative_residual <= 1e-8
        assert res.info["pc_type"] == PCS[arm]["pc_type"] and res.settings == PCS[arm]
        assert res.backend == "petsc"


def test_tuner_learns_which_preconditioner_to_use():
    tuner = bandit.Tuner(bandit.TsallisINF(PCS, seed=1), solver="cg", backend="petsc")
    for A, b in heat_sequence(60):
        assert tuner.solve(A, b).converged
    h = tuner.history
    assert np.all(h["converged"])
    late = np.bincount(np.asarray(h["arm"][30:], int), minlength=len(PCS))
    assert late[0] == late.min()  # unpreconditioned CG is played least once learned
    arms, its = np.asarray(h["arm"]), np.asarray(h["iterations"])
    assert its[arms == 0].mean() > max(its[arms == a].mean() for a in set(arms) - {0})


def test_cost_time_with_option_dict_arms():
    """cost="time": the policy is fed wall-clock seconds (which favour cheap set-ups at small n)."""
    tuner = bandit.Tuner(bandit.TsallisINF(PCS, seed=1), solver="cg", backend="petsc",
                         cost="time")
    for A, b in heat_sequence(12):
        assert tuner.solve(A, b).converged
    h = tuner.history
    ok = ~np.asarray(h["censored"], bool)
    np.testing.assert_allclose(np.asarray(h["cost"])[ok], np.asarray(h["seconds"])[ok])


def test_tuner_omega_arms_on_a_petsc_mat_reuse_one_ksp():
    M = sp_petsc.to_petsc_mat(gallery.laplacian_2d(15))
    tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.5, 1.8, 1.95], seed=0), solver="ssor_pcg",
                         backend="petsc")
    rng = np.random.default_rng(0)
    for _ in range(12):
        b = M.createVecLeft()
        b.array[:] = rng.standard_normal(225)
        res = tuner.solve(M, b)
        assert res.converged and res.x.getSize() == 225
    assert len(sp_petsc.prepare(M).solvers) == 1  # every ω through one KSP
    assert len(set(tuner.history["arm"].tolist())) > 1


def test_tuner_petsc_counts_equal_numba_textbook(tmp_path):
    """Same policy, same seed: the PETSc and Numba (textbook order) runs choose alike."""
    runs = {}
    for backend in ("numba", "petsc"):
        tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.4, 1.8], seed=3), backend=backend,
                             solver=lambda A, b, omega, backend, **kw: solvers.ssor_pcg(
                                 A, b, omega, order="textbook", backend=backend, **kw))
        for A, b in heat_sequence(10, nx=12):
            tuner.solve(A, b)
        runs[backend] = tuner.history
    its_n, its_p = runs["numba"]["iterations"], runs["petsc"]["iterations"]
    assert np.abs(np.asarray(its_n) - np.asarray(its_p)).max() <= 1


def test_save_load_petsc_tuner(tmp_path):
    tuner = bandit.Tuner(bandit.TsallisINF(PCS, seed=0), solver="cg", backend="petsc")
    for A, b in heat_sequence(4):
        tuner.solve(A, b)
    tuner.save(tmp_path / "t.json")
    again = bandit.Tuner.load(tmp_path / "t.json")
    assert again.backend == "petsc"
    np.testing.assert_array_equal(again.history["arm"], tuner.history["arm"])
