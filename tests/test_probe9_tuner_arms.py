"""``Tuner(arms)`` without a policy learns over those arms with the recommended learner,
``bandit.default_policy`` (docs/bandit.md section 8, docs/preconditioners.md): it had been
refused ("policy must be a bandit Policy, got list")."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
from solvers import gallery


def _systems(m=12, T=12):
    A = gallery.laplacian_2d(m)
    n = A.shape[0]
    rng = np.random.default_rng(0)
    return [((A + 0.05 * t * sp.eye(n)).tocsr(), rng.standard_normal(n)) for t in range(T)]


def _run(tuner, systems):
    xs = [tuner.solve(A, b).x for A, b in systems]
    return tuner, xs


def test_configuration_arms_without_a_policy_are_the_default_learner():
    arms = bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"])
    systems = _systems()
    mine, xs = _run(bandit.Tuner(arms, cost="work"), systems)
    ref, _ = _run(bandit.Tuner(bandit.default_policy(None, arms), cost="work"), systems)
    assert type(mine.policy) is type(ref.policy)
    assert mine.policy.state_dict()["config"] == ref.policy.state_dict()["config"]
    for key in ("arm", "iterations", "converged"):
        np.testing.assert_array_equal(mine.history[key], ref.history[key])
    for (A, b), x in zip(systems, xs):        # every solve met the stopping rule (scipy)
        x_ref = spla.spsolve(A.tocsc(), b)
        assert np.linalg.norm(b - A @ x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-9)
        assert np.linalg.norm(x - x_ref) <= 1e-5 * np.linalg.norm(x_ref)


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
def test_omega_arms_without_a_policy_take_the_solvers_default_learner(solver):
    omegas = [1.0, 1.3, 1.6, 1.9]
    systems = _systems(T=8)
    mine, _ = _run(bandit.Tuner(omegas, solver=solver), systems)
    ref, _ = _run(bandit.Tuner(bandit.default_policy(solver, omegas), solver=solver), systems)
    assert mine.policy.prior == ("theory" if solver == "sor" else None)
    np.testing.assert_array_equal(mine.policy.arms, omegas)
    for key in ("arm", "iterations"):
        np.testing.assert_array_equal(mine.history[key], ref.history[key])


@pytest.mark.parametrize("bad, match", [([], "arm"), ("tsallis", "policy must be a bandit Policy"),
                                        (3, "policy must be a bandit Policy, got int$")])
def test_what_is_neither_arms_nor_a_policy_is_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        bandit.Tuner(bad, solver="sor")
