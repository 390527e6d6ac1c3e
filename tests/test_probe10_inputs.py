"""Inputs a demanding user gives: starts out of proportion, repeated ω arms, tiny systems.

Each test failed before its fix; numbers are checked against numpy/scipy references.
"""
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

import bandit
import solvers
from solvers import gallery


# --- x0 = 1e200: the start's residual is representable, its square is not ------------------
@pytest.mark.parametrize("solve", [
    lambda A, b, x0: solvers.cg(A, b, x0=x0),
    lambda A, b, x0: solvers.ssor_pcg(A, b, 1.5, x0=x0),
    lambda A, b, x0: solvers.pcg(A, b, "jacobi", x0=x0),
    lambda A, b, x0: bandit.Tuner(solver="ssor_pcg").solve(A, b, x0=x0),
])
def test_a_start_out_of_proportion_is_named_with_its_residual(solve):
    # before: "the residual ‖b − A x‖ = nan is out of double range" (its squares overflowed)
    A = gallery.laplacian_2d(10)
    b = np.ones(100)
    x0 = np.full(100, 1e200)
    r0 = scipy.linalg.norm(b - A @ x0)  # BLAS nrm2: scaled, no overflow
    assert np.isfinite(r0) and r0 > 1e200
    with pytest.raises(ValueError, match="x0 is out of proportion with b") as err:
        solve(A, b, x0)
    assert f"‖b − A x0‖ = {r0:.3e}" in str(err.value) and "nan" not in str(err.value)


def test_a_large_start_whose_squares_fit_still_runs():
    # x0 = 1e150: ‖b − A x0‖² ≈ 5e301 fits; CG runs and stops unconverged, as before
    A = gallery.laplacian_2d(10)
    b = np.ones(100)
    r = solvers.cg(A, b, x0=np.full(100, 1e150))
    assert not r.converged and np.isfinite(r.residual_norm)
    assert r.residual_norm == pytest.approx(scipy.linalg.norm(b - A @ r.x), rel=1e-6)
    # SOR's sweeps shrink x itself: it solves from 1e200 (unchanged)
    s = solvers.sor(A, b, 1.5, x0=np.full(100, 1e200))
    assert s.converged and np.linalg.norm(b - A @ s.x) <= 1e-8 * 10 * 1.0001


# --- an arm given twice: warned, for ω and configurations alike ------------------------------
@pytest.mark.parametrize("make", [
    lambda arms: bandit.ChebCB(arms, context_bounds=(0.0, 1.0)),
    lambda arms: bandit.TsallisINF(arms),
    lambda arms: bandit.default_policy("sor", arms),
    lambda arms: bandit.Tuner(arms, solver="sor"),
])
def test_a_repeated_omega_is_warned_at_the_users_line(make):
    # before: accepted without a word (a learner then gives that ω twice the exploration and
    # twice the weight), while config_grid refused repeats and relaxtune tune removed them
    with pytest.warns(bandit.RepeatedArmWarning,
                      match=r"arms 0 and 2 are the same \(ω = 1\.5\)") as rec:
        policy = make([1.5, 1.2, 1.5])
    assert rec[0].filename == __file__  # points at the caller, not the package
    assert getattr(policy, "policy", policy).n_arms == 3  # accepted: copies may be meant
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make([1.5, 1.2, 1.55])  # distinct values, however close: no warning


def test_a_repeated_configuration_is_warned_whatever_the_key_order_and_kept_apart(tmp_path):
    arms = [{"method": "cg", "pc": "jacobi"}, {"method": "cg"}, {"pc": "jacobi", "method": "cg"}]
    with pytest.warns(bandit.RepeatedArmWarning, match="arms 0 and 2 are the same"):
        t = bandit.Tuner(bandit.UniformRandom(arms, seed=0))
    assert t.arm_labels == ["cg+jacobi [0]", "cg", "cg+jacobi [2]"]
    A, b = gallery.laplacian_2d(6), np.ones(36)
    for _ in range(4):
        r = t.solve(A, b)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * 6 * 1.0001
    t.save(tmp_path / "t.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loading warns no more: it was said when made
        u = bandit.Tuner.load(tmp_path / "t.json")
    assert u.arm_labels == t.arm_labels
