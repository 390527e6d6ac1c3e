"""bandit.Tuner with backend="petsc": ω arms, PETSc option-dict arms, PETSc Mat input."""
import time
import types

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


def test_tuner_learns_which_preconditioner_to_use(monkeypatch):
    """Arms with different preconditioners are compared by their timed seconds (their default
    cost): at n = 361 GAMG's set-up costs more than any other arm's whole solve, so once
    learned it is played least.  The solves are timed on this thread's CPU time: on the wall
    clock a core shared with busy processes read a sub-millisecond solve at many times its
    cost now and then, and the learner's leader after 60 rounds was GAMG."""
    import solvers.petsc

    monkeypatch.setattr(solvers.petsc, "time", types.SimpleNamespace(
        perf_counter=time.thread_time))
    tuner = bandit.Tuner(bandit.TsallisINF(PCS, seed=1), solver="cg", backend="petsc")
    assert tuner.cost == "time"
    for A, b in heat_sequence(60):
        assert tuner.solve(A, b).converged
    h = tuner.history
    assert np.all(h["converged"])
    arms, secs = np.asarray(h["arm"]), np.asarray(h["seconds"])
    # the premise, with a wide margin (about 15x on an idle machine): GAMG's set-up dominates
    med = [np.median(secs[arms == k]) for k in range(len(PCS)) if np.any(arms == k)]
    assert np.median(secs[arms == 2]) >= 3 * min(med)
    # learned: not the leader, and rarely played once learned (a randomised learner still
    # explores, and a loaded machine slows some rounds: no exact count)
    assert tuner.policy.leader()[0] != 2
    late = np.bincount(arms[30:], minlength=len(PCS))
    assert late[2] <= 5
    own = ~np.asarray(h["censored"])  # rounds the chosen arm finished by itself: cost = seconds
    np.testing.assert_array_equal(np.asarray(h["cost"])[own], secs[own])


def test_iteration_counts_across_preconditioners_are_refused():
    with pytest.raises(ValueError, match=r"cost='iterations' compares iteration counts.*"
                                         r"'cg\+none' and arm 1 'cg\+sor ω=1.40'"):
        bandit.Tuner(bandit.TsallisINF(PCS), solver="cg", backend="petsc", cost="iterations")
    # the refusal offers only what this backend accepts: cost='work' is Numba's
    with pytest.raises(ValueError) as info:
        bandit.Tuner(bandit.TsallisINF(PCS), solver="cg", backend="petsc", cost="iterations")
    assert "use cost='time'" in str(info.value) and "'work'" not in str(info.value)
    with pytest.raises(ValueError, match="cost='work' counts the Numba solvers"):
        bandit.Tuner(bandit.TsallisINF(PCS), solver="cg", backend="petsc", cost="work")
    # ω-only option dicts still compare iterations (the default)
    arms = [{"pc_type": "sor", "pc_sor_omega": w} for w in (1.2, 1.6)]
    assert bandit.Tuner(bandit.TsallisINF(arms), solver="ssor_pcg", backend="petsc").cost == \
        "iterations"


def test_cg_gets_a_symmetric_sor_sweep_or_a_clear_refusal():
    A = gallery.laplacian_2d(12)
    b = np.ones(144)
    tuner = bandit.Tuner(bandit.FixedArm([{"pc_type": "sor", "pc_sor_omega": 1.3}]), solver="cg",
                         backend="petsc")
    res = tuner.solve(A, b)
    assert res.converged and tuner.arm_labels == ["cg+sor ω=1.30"]
    # the symmetric sweep: the same iterations as PETSc's own SSOR-PCG with that ω
    assert res.iterations == solvers.ssor_pcg(A, b, 1.3, backend="petsc").iterations
    for opts, msg in [({"pc_type": "sor", "pc_sor_forward": "true"}, "non-symmetric SOR sweep"),
                      ({"pc_type": "sor", "pc_sor_local_backward": 1}, "non-symmetric SOR"),
                      ({"pc_type": "asm"}, "pc_asm_type: basic"),
                      ({"pc_type": "kaczmarz"}, "not known to be a symmetric preconditioner"),
                      ({"pc_type": "jacobi", "ksp_type": "gmres"}, "which the method decides")]:
        with pytest.raises(ValueError, match=msg):
            bandit.Tuner(bandit.FixedArm([opts]), solver="cg", backend="petsc")
    # solver="ssor_pcg" with a dict that is not SSOR: a clear error, not a TypeError inside
    with pytest.raises(ValueError, match=r"ssor_pcg runs PETSc's SOR.*'method': 'cg'"):
        bandit.Tuner(bandit.FixedArm([{"pc_type": "jacobi"}]), solver="ssor_pcg",
                     backend="petsc")
    with pytest.raises(ValueError, match=r"has no omega, which ssor_pcg needs"):
        bandit.Tuner(bandit.FixedArm([{"pc_type": "sor"}]), solver="ssor_pcg", backend="petsc")


def test_configuration_arms_on_petsc():
    """The configuration vocabulary maps to PETSc preconditioners; counts match the backend."""
    arms = [{"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "ic0"},
            {"method": "cg", "pc": "amg"}, {"method": "ssor_pcg", "omega": 1.5},
            {"method": "cg", "pc": "amg", "pc_gamg_threshold": 0.02}]
    A = gallery.laplacian_2d(15)
    b = np.ones(225)
    for k, (arm, pc_type) in enumerate(zip(arms, ["jacobi", "icc", "gamg", "sor", "gamg"])):
        tuner = bandit.Tuner(bandit.FixedArm(arms, arm=k), backend="petsc")
        assert tuner.cost == "time"
        res = tuner.solve(A, b)
        assert res.converged and res.info["pc_type"] == pc_type and res.settings == arm
    assert tuner.arm_labels == ["cg+jacobi", "cg+ic0", "cg+amg", "ssor_pcg ω=1.50",
                                "cg+amg(pc_gamg_threshold=0.02)"]
    with pytest.raises(ValueError, match="reuse applies to the Numba backend"):
        bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc": "amg", "reuse": 5}]),
                     backend="petsc")
    with pytest.raises(ValueError, match="cost='work' counts the Numba solvers"):
        bandit.Tuner(bandit.FixedArm(arms), backend="petsc", cost="work")


def test_a_cg_configuration_may_name_its_preconditioner_by_pc_type():
    # "other keys of a configuration are PETSc options": pc_type alone names the
    # preconditioner; given with pc as well it is refused (one name, not two)
    A = gallery.laplacian_2d(15)
    arms = [{"method": "cg", "pc_type": "jacobi"}, {"method": "cg", "pc_type": "gamg"}]
    tuner = bandit.Tuner(bandit.FixedArm(arms, arm=1), backend="petsc")
    res = tuner.solve(A, np.ones(225))
    assert res.converged and res.info["pc_type"] == "gamg" and res.settings == arms[1]
    assert tuner.arm_labels == ["cg+jacobi", "cg+gamg"]
    ref = bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc": "jacobi"}]), backend="petsc")
    assert bandit.Tuner(bandit.FixedArm(arms), backend="petsc").solve(
        A, np.ones(225)).iterations == ref.solve(A, np.ones(225)).iterations
    with pytest.raises(ValueError, match="give the preconditioner once"):
        bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc": "jacobi", "pc_type": "jacobi"}]),
                     backend="petsc")
    with pytest.raises(ValueError, match="CG needs|symmetric"):
        bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc_type": "kaczmarz"}]),
                     backend="petsc")


def test_a_cg_configuration_with_pc_type_sor_keeps_its_omega():
    # {"method": "cg", "pc_type": "sor", ...} is the arm {"pc_type": "sor", ...} of a Tuner
    # with solver="cg": its ω is checked, labelled and recorded (it had been passed to PETSc
    # unread by the parser: no ω in the label, none in the history, 2.5 left to PETSc)
    A = gallery.laplacian_2d(12)
    b = np.ones(144)
    arms = [{"method": "cg", "pc_type": "sor", "pc_sor_omega": 1.2},
            {"method": "cg", "pc_type": "sor", "omega": 1.6}]
    for arm, w in zip(arms, (1.2, 1.6)):
        assert bandit.parse_arm(arm, backend="petsc") == bandit.parse_arm(
            {"pc_type": "sor", "pc_sor_omega": w}, "cg", "petsc")
    tuner = bandit.Tuner(bandit.FixedArm(arms, arm=1), backend="petsc")
    assert tuner.arm_labels == ["cg+sor ω=1.20", "cg+sor ω=1.60"]
    res = tuner.solve(A, b)
    assert res.converged and tuner.history["omega"][0] == 1.6
    # CG with PETSc's symmetric SOR sweep is SSOR-PCG with that ω
    assert res.iterations == solvers.ssor_pcg(A, b, 1.6, backend="petsc").iterations
    assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)
    for arm, msg in [({"method": "cg", "pc_type": "sor", "pc_sor_omega": 2.5}, r"\(0, 2\)"),
                     ({"method": "cg", "pc_type": "gamg", "omega": 1.2},
                      "belongs to pc_type 'sor'"),
                     ({"method": "cg", "pc_type": "sor", "omega": 1.2, "pc_sor_omega": 1.3},
                      "disagree")]:
        with pytest.raises(ValueError, match=msg):
            bandit.parse_arm(arm, backend="petsc")


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


@pytest.mark.parametrize("arm", [{"pc_type": "jacobi"}, {"pc_type": "gamg"}, {"pc_type": "sor"},
                                 {"pc_type": "bjacobi"}])
def test_a_refused_ssor_arm_suggests_an_arm_that_works(arm):
    """A dict that is not SSOR(ω) under solver='ssor_pcg' is refused with the configuration
    to write instead; the configuration suggested is accepted and solves."""
    import ast
    import re

    with pytest.raises(ValueError) as info:
        bandit.Tuner(bandit.FixedArm([arm]), solver="ssor_pcg", backend="petsc")
    found = re.search(r"e\.g\. (\{.*?\})", str(info.value))
    if found:
        suggested = ast.literal_eval(found.group(1))
        tuner = bandit.Tuner(bandit.FixedArm([suggested]), backend="petsc")
    else:  # no method/pc name for it: the message says to use it as an arm of solver='cg'
        assert "solver='cg'" in str(info.value)
        tuner = bandit.Tuner(bandit.FixedArm([arm]), solver="cg", backend="petsc")
    A = gallery.laplacian_2d(8)
    assert tuner.solve(A, np.ones(64)).converged
