"""A badly scaled SPD system (``D A D``, ``D`` over 12 decades) whose tolerance lies below its
rounding level: the Tuner says so after one more arm, instead of running every arm twice and
reporting "every arm failed"."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit

U = 2.0 ** -53


def _scaled_laplacian(n=30, decades=6):
    A = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    D = sp.diags(10.0 ** np.linspace(-decades, decades, n))
    return (D @ A @ D).tocsr(), np.ones(n)


def test_the_tolerance_is_below_the_rounding_level_of_the_solution():
    # the reference for the tests below: the rounding level u‖|b| + |A| |x*|‖ of the dense
    # solution is about 1e-5 relative to ‖b‖, three decades above rtol = 1e-8
    A, b = _scaled_laplacian()
    xs = np.linalg.solve(A.toarray(), b)
    level = U * np.linalg.norm(np.abs(b) + abs(A) @ np.abs(xs))
    assert level > 100 * 1e-8 * np.linalg.norm(b)


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
def test_a_tuner_calls_the_tolerance_unattainable_after_one_more_arm(solver):
    # every guarded attempt stops as "diverged" (the residual grows 10⁶-fold before it falls:
    # the guard's divergence limit); the last resort's plain run of ω = 1 then stagnates at
    # the rounding level.  The last resort had gone on through all 20 arms (40 runs, 30 433
    # SOR sweeps) and said "every arm failed"; it now stops there and says why
    A, b = _scaled_laplacian()
    t = bandit.Tuner(solver=solver, maxiter=20_000)
    r = t.solve(A, b)
    assert not r.converged
    assert r.info.get("unattainable") is True and "all_arms_failed" not in r.info
    assert "looks unattainable" in r.info["failure"]
    # every arm was tried once, under the guard: no "the other arms were not tried"
    assert "not tried" not in r.info["failure"]
    runs = r.info["attempts"]
    assert len(runs) <= t.policy.n_arms + 2
    assert sum(a["reason"] == "stagnated" for a in runs) >= 1
    # the returned x is the best of the runs, and its residual is what the result says
    assert r.residual_norm == pytest.approx(np.linalg.norm(b - A @ r.x), rel=1e-9)
    assert r.iterations == sum(a["iterations"] for a in runs)
    s = t.summary()
    assert not s["all_converged"] and s["total_iterations"] == r.iterations


def _helmholtz(m=10):
    """The 2-D Laplacian shifted between its 4th and 5th eigenvalues: symmetric, positive
    diagonal, four negative eigenvalues (a Helmholtz-like operator)."""
    from solvers import gallery

    L = gallery.laplacian_2d(m)
    ev = np.linalg.eigvalsh(L.toarray())
    return (L - 0.5 * (ev[3] + ev[4]) * sp.eye(m * m)).tocsr()


@pytest.mark.parametrize("solver", ["ssor_pcg", "cg"])
def test_a_tuner_on_a_symmetric_indefinite_system_says_it_is_not_positive_definite(solver):
    # every run breaks down; the failure had said only "(arm 0, breakdown)"
    A = _helmholtz()
    assert (np.linalg.eigvalsh(A.toarray()) < 0).sum() == 4  # the reference: indefinite
    assert A.diagonal().min() > 0  # so no input check refuses it
    b = np.ones(A.shape[0])
    t = bandit.Tuner(solver=solver, maxiter=300)
    r = t.solve(A, b)
    assert not r.converged and r.reason == "breakdown" and r.info["all_arms_failed"]
    assert r.info["failure"].endswith(
        "; every run broke down (pᵀAp <= 0 or rᵀz <= 0): the matrix, or its preconditioner, "
        "is not positive definite")
    assert r.residual_norm == pytest.approx(np.linalg.norm(b - A @ r.x), rel=1e-12)
    assert not t.summary()["all_converged"]
    runs = len(r.info["attempts"])
    assert f", {runs} run{'' if runs == 1 else 's'}, " in r.info["failure"]  # (cg: "1 run")


def test_sor_on_the_same_system_is_not_said_to_break_down():
    # SOR diverges there (no breakdown): its failure keeps the plain wording
    r = bandit.Tuner(solver="sor", maxiter=300).solve(_helmholtz(), np.ones(100))
    assert not r.converged and "broke down" not in r.info["failure"]


def test_the_regret_report_does_not_say_every_run_failed_when_fallbacks_solved_the_rounds():
    # D over 8 decades: every SOR attempt the learner picks stops as "diverged" under the
    # guard's limit, and the fallback chain solves both systems.  The regret is undefined
    # (no observation of an arm's cost), but its reason had read "no arm converged in any
    # of the 2 rounds (every run failed)" while both results were converged
    A, b = _scaled_laplacian(decades=4)
    t = bandit.Tuner(solver="sor", maxiter=20_000)
    for k in range(2):
        r = t.solve(A, (1 + k) * b)
        assert r.converged
        assert r.info["attempts"][0]["reason"] != "converged"  # the learner's pick failed
        assert r.info["attempts"][-1]["reason"] == "converged"  # a fallback solved it
        # the reference: the returned x meets the rule by an independent evaluation
        xs = np.linalg.solve(A.toarray(), (1 + k) * b)
        assert np.linalg.norm((1 + k) * b - A @ r.x) <= 1.05e-8 * np.linalg.norm((1 + k) * b)
        assert np.linalg.norm(r.x - xs) <= 1e-2 * np.linalg.norm(xs)
    assert t.history["converged"].all()
    for e in (t.regret().best_fixed, t.regret().instance_optimal):
        assert e.method.startswith("undefined: neither the arm the learner chose nor an audit "
                                   "converged in any of the 2 rounds; the 2 rounds that "
                                   "converged did so through the fallback chain")
        assert "every run failed" not in e.method


def test_a_divergence_stop_is_not_called_an_unstable_iteration_on_an_spd_system():
    # D A D with D over 16 decades is SPD (a congruence of the SPD Laplacian), so SOR with
    # ω in (0, 2) converges in the energy norm; its residual still grows 10¹² times within
    # 11 sweeps (dense sweeps below, the reference) and the run stops as "diverged", whose
    # description had said "(iteration is unstable)"
    import solvers
    from dense_gold import sor_sweeps

    A, b = _scaled_laplacian(decades=8)
    n = b.size
    lap = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).toarray()
    assert np.linalg.eigvalsh(lap).min() > 0  # A = D lap D, D > 0: SPD
    x = sor_sweeps(A, b, 1.45, np.zeros(n), 11)
    assert np.linalg.norm(b - A @ x) > 1e12 * np.linalg.norm(b)
    r = solvers.sor(A, b, 1.45)
    assert r.reason == "diverged" and r.iterations <= 11
    said = solvers.REASONS["diverged"]
    assert "unstable iteration, or the transient growth of a convergent one" in said
