"""The Tuner used the way a new user uses it: problems, inputs and call sequences outside the
gallery, each checked against what the documentation promises."""
import numpy as np
import pytest

import bandit
import solvers
from bandit import FixedArm, Tuner
from experiments.problems import DiffusionMC3D
from solvers import gallery


def mc_sequence(T, m=8, seed=0):
    """Matrices of one sparsity pattern whose values change (3-D random diffusion)."""
    seq = DiffusionMC3D(m, T, seed=seed)
    return [seq[t] for t in range(T)]


def test_a_reused_set_up_is_capped_in_the_fallback_chain_too():
    # the leader keeps an AMG hierarchy of the previous random-coefficient sample; when an
    # exploratory attempt is stopped by its budget the chain runs the leader, on that stale
    # hierarchy — which must be capped like any run on a reused set-up (4 × the iterations of
    # the solve that built it, at least 20), not left to run thousands of iterations
    systems = mc_sequence(2)
    stale = solvers.preconditioner("amg", reuse=20)
    solvers.pcg(*systems[0][:2], stale)
    assert solvers.pcg(*systems[1][:2], stale, maxiter=10_000).iterations > 1000
    arms = [{"method": "cg"}, {"method": "cg", "pc": "amg", "reuse": 20}]
    p = FixedArm(arms, arm=1)
    t = Tuner(p, cost="work")
    first = t.solve(*systems[0][:2])
    assert first.converged and first.info["setup"]
    p.arm = 0  # plain CG: stopped by its budget, then the leader's stale hierarchy
    res = t.solve(*systems[1][:2])
    cap = max(20, 4 * first.iterations)
    runs = res.info["attempts"]
    assert runs[0]["arm"] == 0 and runs[0]["reason"] == "maxiter"
    leader_runs = [r for r in runs if r["arm"] == 1]
    assert leader_runs[0]["budget"] == cap and leader_runs[0]["iterations"] <= cap
    # the arm rebuilt its hierarchy for the repeat: the solve converged, and cheaply
    assert res.converged and res.iterations < 1000
    A, b = systems[1][:2]
    assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)


def test_a_one_arm_tuner_with_an_audit_budget_saves_and_loads(tmp_path):
    # Tuner(solver="cg") has one arm, so there is nothing to audit (every cost is observed);
    # its file, with no auditor state, must load — before and after solves
    A = gallery.laplacian_2d(6)
    b = np.ones(A.shape[0])
    t = Tuner(solver="cg", audit_budget=0.1)
    t.save(tmp_path / "t.json")
    assert Tuner.load(tmp_path / "t.json").summary()["rounds"] == 0
    first = t.solve(A, b)
    t.save(tmp_path / "t.json")
    u = Tuner.load(tmp_path / "t.json")
    assert u.audit_budget == 0.1 and u.summary()["rounds"] == 1
    assert u.solve(A, b).iterations == first.iterations
    assert u.regret().rounds == 2


def test_a_matrix_refused_for_configuration_arms_names_the_arm_that_needs_it():
    # a nonsymmetric (convection–diffusion-like) matrix with SOR among configuration arms:
    # the refusal says which arm cannot run on it, in a sentence that reads
    arms = [{"method": "sor", "omega": 1.2}, {"method": "cg", "pc": "jacobi"},
            {"method": "ssor_pcg", "omega": 1.5}]
    t = Tuner(bandit.ChebCB(arms, seed=0))
    A = gallery.laplacian_2d(5).tolil()
    A[0, 1] = -3.0
    with pytest.raises(ValueError, match=r"A is not symmetric .*; arm 1 \(cg\+jacobi\), like 1 "
                                         r"other arm, needs a symmetric positive definite"):
        t.solve(A.tocsr(), np.ones(25), context=1.0)
    A = gallery.laplacian_2d(5).tolil()
    A[2, 2] = 0.0
    with pytest.raises(ValueError, match=r"zero or missing diagonal entry in row 2 .*; arm 1 "
                                         r"\(cg\+jacobi\), like 1 other arm, divides by a_ii"):
        t.solve(A.tocsr(), np.ones(25), context=1.0)
    sor_only = Tuner(bandit.ChebCB(arms[:1] + [{"method": "cg"}], seed=0))
    with pytest.raises(ValueError, match=r"; arm 0 \(sor ω=1.20\) divides by a_ii"):
        sor_only.solve(A.tocsr(), np.ones(25), context=1.0)
    assert t.policy.t == 0 and len(t.history["arm"]) == 0  # refused before the draw
