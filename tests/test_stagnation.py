"""A tolerance the system cannot reach in double precision: the solvers stop as "stagnated"
and return their best iterate; the Tuner's guard stops after a bounded number of runs.

The system: the 20 x 20 model Laplacian shifted so that its smallest eigenvalue is 2e-9
(condition 4e9), with rtol 1e-12.  Its residual cannot get below about
``u·‖|b| + |A| |x|‖`` (a relative 2e-8 here, u = 2⁻⁵³), so every solver used to run to its cap.
"""
import math

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit import Tuner
from bandit._tuner_guard import STAGNATION_FALLBACKS
from solvers import REASONS, cg, gallery, pcg, sor, ssor_pcg
from solvers import _kernels as K

M = 20
MAXITER = 3000


def unattainable_system(m=M, lam_min=2e-9):
    """The shifted Laplacian of smallest eigenvalue ``lam_min`` (analytic: the model
    Laplacian's is 8 sin²(πh/2)) and a fixed right-hand side."""
    h = 1.0 / (m + 1)
    A = gallery.shifted_laplacian_2d(m, -8.0 * math.sin(math.pi * h / 2) ** 2 + lam_min)
    b = np.random.default_rng(0).standard_normal(m * m)
    return A, b


def rel_res(A, b, x):
    return np.linalg.norm(b - A @ x) / np.linalg.norm(b)


def assert_reports_its_residual(A, b, r):
    """The reported residual is the true one of the returned x, up to the rounding of
    ``b − A x`` itself — the whole residual, at this floor (docs/solvers.md)."""
    slack = 8 * 2.0 ** -52 * np.linalg.norm(np.abs(b) + abs(A) @ np.abs(r.x))
    assert r.residual_norm == pytest.approx(np.linalg.norm(b - A @ r.x), abs=slack)


SOLVES = {
    "ssor_pcg(1.0)": lambda A, b, **kw: ssor_pcg(A, b, 1.0, **kw),
    "ssor_pcg(1.7)": lambda A, b, **kw: ssor_pcg(A, b, 1.7, **kw),
    "ssor_pcg(0.4)": lambda A, b, **kw: ssor_pcg(A, b, 0.4, **kw),  # the plain (non-Eisenstat) form
    "ssor_pcg textbook": lambda A, b, **kw: ssor_pcg(A, b, 1.3, order="textbook", **kw),
    "cg": lambda A, b, **kw: cg(A, b, **kw),
    "pcg jacobi": lambda A, b, **kw: pcg(A, b, "jacobi", **kw),
    "pcg ic0": lambda A, b, **kw: pcg(A, b, "ic0", **kw),
    "pcg amg": lambda A, b, **kw: pcg(A, b, "amg", **kw),
}


def test_the_system_is_as_conditioned_as_stated():
    A, _ = unattainable_system()
    ev = np.linalg.eigvalsh(A.toarray())
    assert ev[0] == pytest.approx(2e-9, rel=1e-3) and ev[-1] / ev[0] == pytest.approx(4e9, rel=0.02)


@pytest.mark.parametrize("name", SOLVES)
def test_unattainable_tolerance_stops_early_as_stagnated_with_the_true_residual(name):
    A, b = unattainable_system()
    r = SOLVES[name](A, b, rtol=1e-12, maxiter=MAXITER)
    assert r.reason == "stagnated" and not r.converged
    # before: every one ran to maxiter = 3000; the floor is reached in 40 to 300 iterations
    assert r.iterations < 600, r
    true = rel_res(A, b, r.x)
    assert_reports_its_residual(A, b, r)
    assert 1e-9 < true < 2e-7  # at the rounding level of the system, far above 1e-12
    assert 0 <= r.info["best_iteration"] <= r.iterations
    with pytest.raises(Exception, match="stagnated"):
        r.raise_if_not_converged()


@pytest.mark.parametrize("name", ["ssor_pcg(1.0)", "ssor_pcg(0.4)", "cg", "pcg jacobi"])
def test_the_returned_iterate_is_the_best_one_of_the_run(name):
    """Replaying the same solve capped at every iteration count gives each iterate: the
    returned x is the one at ``best_iteration``, and its true residual is not above the
    last iterate's nor (beyond the rounding floor) above any earlier one's."""
    A, b = unattainable_system()
    r = SOLVES[name](A, b, rtol=1e-12, maxiter=MAXITER)
    k = r.info["best_iteration"]
    if k == 0:
        np.testing.assert_array_equal(r.x, 0.0)
    else:
        # capped at k, the solve runs the same k iterations; its own best is then returned,
        # so compare against the capped run's last iterate through a tolerance no run meets
        # before k: the iterate after exactly k iterations
        at_k = SOLVES[name](A, b, rtol=1e-12, maxiter=k)
        if at_k.info.get("best_iteration", k) == k:
            np.testing.assert_array_equal(r.x, at_k.x)
    last = SOLVES[name](A, b, rtol=1e-300, atol=1e-300, maxiter=r.iterations)
    # (with an unreachable tolerance the recursion never claims convergence: no check, no
    # stagnation; the last iterate of as many iterations is at the same floor)
    assert rel_res(A, b, r.x) <= 10 * rel_res(A, b, last.x)


def test_ssor_pcg_omega_04_returns_an_iterate_near_the_best_of_its_trajectory():
    """The stagnated SSOR-PCG(0.4) solve returns an iterate whose true residual is within a
    factor 2 of the smallest true residual of the iterates it passed (each capped run below
    returns the best of its first k iterates, so the minimum over k is the best of all)."""
    A, b = unattainable_system()
    r = ssor_pcg(A, b, 0.4, rtol=1e-12, maxiter=MAXITER)
    trajectory = [rel_res(A, b, ssor_pcg(A, b, 0.4, rtol=1e-300, atol=1e-300, maxiter=k).x)
                  for k in range(10, r.iterations + 1, 10)]
    assert rel_res(A, b, r.x) <= 2.0 * min(trajectory)


def test_a_diverged_solve_returns_the_start_when_nothing_was_better():
    A = np.array([[1.0, 3.0], [3.0, 1.0]])  # SOR (Gauss-Seidel) diverges from the first sweep
    b = np.array([1.0, 2.0])
    x0 = np.array([0.1, 0.2])
    r = sor(A, b, 1.0, x0=x0, dtol=1e3)
    assert r.reason == "diverged" and r.iterations > 1
    assert r.info["best_iteration"] == 0
    np.testing.assert_array_equal(r.x, x0)
    assert r.residual_norm == pytest.approx(np.linalg.norm(b - A @ x0), rel=1e-12)


def test_sor_below_rounding_level_stagnates():
    """SOR's residual is exact: it stagnates only once its best residual is at rounding
    level (within FLOOR_FACTOR of u·‖|b| + |A| |x|‖) and has not halved for a window."""
    A = gallery.laplacian_2d(12)
    b = np.random.default_rng(7).standard_normal(144)
    for omega in (1.0, 1.5, 1.9):
        r = sor(A, b, omega, rtol=1e-17, maxiter=10_000)
        assert r.reason == "stagnated" and r.iterations < 2000, r
        scale = np.linalg.norm(np.abs(b) + abs(A) @ np.abs(r.x))
        assert r.residual_norm <= K.FLOOR_FACTOR * 2.0 ** -53 * scale
        assert_reports_its_residual(A, b, r)


def test_slow_sor_far_above_rounding_level_is_not_stopped():
    """Gauss-Seidel on the nearly singular system converges at a rate 1 − 1e-9: no progress
    for thousands of sweeps, but far above rounding level: it runs to its cap."""
    A, b = unattainable_system()
    r = sor(A, b, 1.0, rtol=1e-12, maxiter=MAXITER)
    assert r.reason == "maxiter" and r.iterations == MAXITER


@pytest.mark.parametrize("name", SOLVES)
def test_converged_solves_are_unchanged(name):
    """The bookkeeping costs no iteration: converged solves give the counts the solvers
    gave before (taken from the main branch), and an attainable tight tolerance converges."""
    A = gallery.laplacian_2d(30)
    b = np.ones(900)
    r = SOLVES[name](A, b, rtol=1e-8)
    assert r.converged and r.reason == "converged" and "best_iteration" not in r.info
    tight = SOLVES[name](A, b, rtol=1e-13)
    assert tight.converged, tight


# counted by the solvers before best iterates and stagnation (main branch, same system)
EXPECTED_COUNTS = {"ssor_pcg(1.0)": 32, "ssor_pcg(1.7)": 21, "ssor_pcg(0.4)": 52,
                   "ssor_pcg textbook": 25, "cg": 55}


@pytest.mark.parametrize("name", EXPECTED_COUNTS)
def test_converged_counts_equal_the_counts_before_the_change(name):
    A = gallery.laplacian_2d(30)
    assert SOLVES[name](A, np.ones(900), rtol=1e-8).iterations == EXPECTED_COUNTS[name]


def test_reason_is_documented():
    assert "stagnated" in REASONS


# -- the Tuner's guard -------------------------------------------------------------------------

def test_guard_stops_after_the_safest_arm_when_the_tolerance_is_unattainable():
    """Before: every one of the 20 arms ran to the cap on every solve (60,000 iterations
    per solve at maxiter 3000).  Now: the attempt stagnates, the most conservative arm runs
    once, and the solve returns not converged, saying why."""
    A, b = unattainable_system()
    tuner = Tuner(solver="ssor_pcg", rtol=1e-12, maxiter=MAXITER)
    rng = np.random.default_rng(1)
    counts = []
    for t in range(4):
        b = rng.standard_normal(M * M)
        r = tuner.solve(A, b)
        counts.append(r.iterations)
        assert not r.converged and r.reason == "stagnated"
        runs = r.info["attempts"]
        assert len(runs) == 1 + STAGNATION_FALLBACKS
        # the most conservative arm (ω closest to 1), or the next one if it was the attempt
        safe = [k for k in np.argsort(np.abs(np.asarray(tuner.policy.arms) - 1.0), kind="stable")
                if k != runs[0]["arm"]]
        assert runs[1]["arm"] == safe[0]
        # the bound: every run stops a few hundred iterations after reaching the floor
        assert r.iterations == sum(a["iterations"] for a in runs) <= 2 * 600
        assert r.info["unattainable"] and "all_arms_failed" not in r.info
        assert "looks unattainable" in r.info["failure"] and "rtol 1e-12" in r.info["failure"]
        assert_reports_its_residual(A, b, r)
        # the best of the runs is returned
        assert r.residual_norm == min(
            (ssor_pcg(A, b, tuner.policy.arms[a["arm"]], rtol=1e-12, maxiter=MAXITER,
                      dtol=1e6).residual_norm for a in runs))
    h = tuner.history
    assert len(h["arm"]) == 4 and not h["converged"].any() and h["censored"].all()
    # failed rounds are told the failure cost (maxiter iterations) and counted as paid
    assert (h["cost"] == MAXITER).all()
    assert list(h["iterations"]) == counts
    assert tuner.policy.converged_counts.sum() == 0
    assert tuner.summary()["rounds"] == 4


def test_guard_still_falls_back_through_every_arm_when_arms_fail_otherwise():
    """A run that hit its cap (not stagnated) keeps the whole chain: the guarantee that the
    solve converges whenever some arm converges is unchanged."""
    A = gallery.laplacian_2d(12)
    b = np.ones(144)
    tuner = Tuner(bandit.FixedArm([1.0, 1.3, 1.9, 1.6], arm=2), solver="sor", maxiter=100)
    r = tuner.solve(A, b)  # 311, 163, 188 and 57 sweeps: only ω = 1.6 converges
    assert r.converged and r.omega == 1.6 and "unattainable" not in r.info
    assert [a["arm"] for a in r.info["attempts"]] == [2, 0, 1, 3]


def test_guard_converges_when_the_safest_arm_reaches_the_tolerance():
    """A tolerance between the floors of two arms: the stagnated attempt is followed by the
    conservative arm, which converges — a converged result."""

    class Scripted:
        def __init__(self):
            self.calls = []

        def __call__(self, A, b, omega=None, *, x0=None, rtol, atol, maxiter, backend,
                     dtol=1e12):
            from solvers import SolveResult
            self.calls.append(omega)
            ok = omega == 1.0
            return SolveResult(x=np.zeros(2), iterations=5 if ok else 40, converged=ok,
                               residual_norm=0.0 if ok else 1e-3, omega=omega,
                               solver="scripted", reason="converged" if ok else "stagnated",
                               b_norm=1.0)

    fake = Scripted()
    tuner = Tuner(bandit.FixedArm([1.0, 1.5, 1.9], arm=2), solver=fake, maxiter=100)
    r = tuner.solve(sp.eye(2, format="csr"), np.ones(2))
    assert r.converged and r.iterations == 45 and fake.calls == [1.9, 1.0]


@pytest.mark.petsc
def test_petsc_guard_is_bounded_too():
    A, b = unattainable_system()
    tuner = Tuner(solver="ssor_pcg", rtol=1e-12, maxiter=MAXITER, backend="petsc")
    r = tuner.solve(A, b)
    assert not r.converged and r.reason == "stagnated" and r.info["unattainable"]
    assert len(r.info["attempts"]) == 1 + STAGNATION_FALLBACKS and r.iterations <= 2 * 600
    assert_reports_its_residual(A, b, r)


@pytest.mark.petsc
@pytest.mark.parametrize("kind", ["ssor_pcg", "cg"])
def test_petsc_cg_stagnates_and_keeps_its_best_checked_iterate(kind):
    A, b = unattainable_system()
    kw = {"omega": 1.2} if kind == "ssor_pcg" else {}
    solve = ssor_pcg if kind == "ssor_pcg" else cg
    r = solve(A, b, rtol=1e-12, maxiter=MAXITER, backend="petsc", **kw)
    assert r.reason == "stagnated" and r.iterations < 600
    assert r.info["petsc_reason"] == "RELAXTUNE_STAGNATED"
    assert_reports_its_residual(A, b, r)
    assert r.relative_residual < 2e-7


@pytest.mark.petsc
def test_petsc_sor_stagnates_below_rounding_level():
    A = gallery.laplacian_2d(12)
    b = np.random.default_rng(7).standard_normal(144)
    r = sor(A, b, 1.5, rtol=1e-17, maxiter=10_000, backend="petsc")
    assert r.reason == "stagnated" and r.iterations < 2000
    assert_reports_its_residual(A, b, r)
    ok = sor(A, b, 1.5, rtol=1e-8, backend="petsc")
    assert ok.converged and ok.iterations == sor(A, b, 1.5, rtol=1e-8).iterations
