"""A stopping rule per solve: ``Tuner.solve(A, b, rtol=..., atol=...)``.

An inexact Newton method solves each Newton step to its own forcing term η_k (Eisenstat and
Walker's choice 2).  Through one Tuner, on the Bratu problem ``−Δu = λ eᵘ`` (a continuation in
λ), every solve must meet its own tolerance — checked with numpy on the returned ``x`` — the
history must record it, the audit runs of a round must use the same tolerance as the played
solve (their iteration counts equal a direct solve's at that tolerance), and refused values
must change nothing.  Before the keyword existed every solve ran to the Tuner's ``rtol``.
"""
import copy
import json
import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from bandit.report import read_csv
from solvers import gallery

M = 10  # grid of M × M unknowns
LAMBDAS = (1.0, 3.0, 5.0)  # continuation of the Bratu parameter (below the fold, ~6.8)


def newton_bratu(solve, lam_list=LAMBDAS, tol=1e-9):
    """Inexact Newton on the Bratu problem; ``solve(J, rhs, eta)`` returns the step's result.
    Returns the rounds: ``(J, rhs, eta, result)`` per linear solve."""
    L = gallery.laplacian_2d(M).tocsr()
    h2 = 1.0 / (M + 1) ** 2
    u = np.zeros(M * M)
    rounds = []
    for lam in lam_list:
        F = L @ u - lam * h2 * np.exp(u)
        norms = [np.linalg.norm(F)]
        f0 = norms[0]
        eta_prev = None
        while norms[-1] > tol * f0:
            if eta_prev is None:
                eta = 0.5
            else:
                eta = 0.9 * (norms[-1] / norms[-2]) ** 2
                floor = 0.9 * eta_prev ** 2
                if floor > 0.1:
                    eta = max(eta, floor)
                eta = min(max(eta, 1e-10), 0.9)
            J = (L - sp.diags(lam * h2 * np.exp(u))).tocsr()
            res = solve(J, -F, eta)
            rounds.append((J, -F, eta, res))
            u = u + np.asarray(res.x)
            F = L @ u - lam * h2 * np.exp(u)
            norms.append(np.linalg.norm(F))
            eta_prev = eta
            assert len(norms) < 40, "Newton did not converge"
    return rounds


def _meets(J, rhs, x, rtol, atol):
    r = np.linalg.norm(rhs - J @ np.asarray(x))
    return r <= max(rtol * np.linalg.norm(rhs), atol)


def _check_rounds(tuner, rounds):
    etas = np.array([eta for _, _, eta, _ in rounds])
    assert len(set(np.round(np.log10(etas), 6))) >= 4  # the forcing terms really vary
    for J, rhs, eta, res in rounds:
        assert res.converged and res.rtol == eta and res.atol == 0.0
        assert _meets(J, rhs, res.x, eta, 0.0)
    h = tuner.history
    np.testing.assert_array_equal(h["rtol"], etas)
    np.testing.assert_array_equal(h["atol"], np.zeros(len(rounds)))
    # loose forcing terms: most solves stop far above the Tuner's own rtol (1e-8)
    rel = [np.linalg.norm(rhs - J @ np.asarray(res.x)) / np.linalg.norm(rhs)
           for J, rhs, _, res in rounds]
    assert sum(r > 1e-6 for r in rel) >= len(rounds) // 2


def _check_audits(tuner, rounds, direct):
    """Every audit run that converged took as many iterations as a direct solve of that
    round's system with that arm at the round's own tolerance."""
    aud = tuner.audits
    assert len(aud["round"]) >= 5
    checked = 0
    for t, k, its, ok in zip(aud["round"], aud["arm"], aud["iterations"], aud["converged"]):
        J, rhs, eta, _ = rounds[t]
        if not ok:
            continue
        ref = direct(J, rhs, tuner.policy.arms[k], eta)
        assert ref.converged and its == ref.iterations, (t, k, its, ref.iterations)
        checked += 1
    assert checked >= 5


def test_newton_numba_omega_arms_with_audits():
    tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.3, 1.6, 1.9], seed=1), solver="ssor_pcg",
                         audit_budget=1.0, audit_seed=0)
    rounds = newton_bratu(lambda J, rhs, eta: tuner.solve(J, rhs, rtol=eta))
    _check_rounds(tuner, rounds)
    _check_audits(tuner, rounds, lambda J, rhs, w, eta: solvers.ssor_pcg(J, rhs, w, rtol=eta))


def test_newton_configuration_arms_and_fallbacks():
    """Configuration arms (IC(0), Jacobi, SSOR; preconditioner objects, the public entry)
    and SOR arms whose guarded attempts are cut short: the fallbacks and the last resort
    run to the solve's own tolerance too."""
    arms = [{"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "ic0"},
            {"method": "ssor_pcg", "omega": 1.5}]
    tuner = bandit.Tuner(bandit.TsallisINF(arms, seed=2), cost="work")
    rounds = newton_bratu(lambda J, rhs, eta: tuner.solve(J, rhs, rtol=eta))
    _check_rounds(tuner, rounds)
    # SOR with a bad ω beside good ones, a tight guard: attempts stopped by their budget
    sor = bandit.Tuner(bandit.TsallisINF([1.0, 1.7, 1.95], seed=0), solver="sor", guard=1.0)
    rounds = newton_bratu(lambda J, rhs, eta: sor.solve(J, rhs, rtol=eta))
    _check_rounds(sor, rounds)
    assert (sor.history["fallback_arm"] >= 0).sum() >= 2  # fallbacks did produce x


def test_newton_petsc_with_audits():
    pytest.importorskip("petsc4py")
    tuner = bandit.Tuner(bandit.TsallisINF([1.0, 1.4, 1.8], seed=3), solver="ssor_pcg",
                         backend="petsc", audit_budget=1.0, audit_seed=1)
    rounds = newton_bratu(lambda J, rhs, eta: tuner.solve(J, rhs, rtol=eta))
    _check_rounds(tuner, rounds)
    _check_audits(tuner, rounds, lambda J, rhs, w, eta: solvers.ssor_pcg(
        J, rhs, w, rtol=eta, backend="petsc"))


def test_petsc_configuration_arms():
    pytest.importorskip("petsc4py")
    arms = [{"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "ic0"}]
    tuner = bandit.Tuner(bandit.TsallisINF(arms, seed=0), backend="petsc")
    rounds = newton_bratu(lambda J, rhs, eta: tuner.solve(J, rhs, rtol=eta), lam_list=(4.0,))
    for J, rhs, eta, res in rounds:
        assert res.converged and res.rtol == eta and _meets(J, rhs, res.x, eta, 0.0)
    np.testing.assert_array_equal(tuner.history["rtol"], [eta for *_, eta, _ in rounds])


def test_atol_alone_and_a_solver_function():
    """``atol`` alone (the Tuner's rtol kept) and a solver function of the user's, which is
    called with the solve's own tolerances."""
    seen = []

    def mine(A, b, omega=None, *, x0, rtol, atol, maxiter, backend):
        seen.append((rtol, atol))
        return solvers.ssor_pcg(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)

    tuner = bandit.Tuner(bandit.TsallisINF([1.2, 1.6], seed=0), solver=mine, rtol=1e-6)
    A = gallery.laplacian_2d(8)
    b = np.ones(64)
    r1 = tuner.solve(A, b, atol=1e-2)
    r2 = tuner.solve(A, b, rtol=1e-3, atol=0.0)
    r3 = tuner.solve(A, b)
    assert seen == [(1e-6, 1e-2), (1e-3, 0.0), (1e-6, 0.0)]
    assert _meets(A, b, r1.x, 1e-6, 1e-2) and _meets(A, b, r2.x, 1e-3, 0.0)
    assert r1.iterations < r3.iterations and r2.iterations < r3.iterations
    np.testing.assert_array_equal(tuner.history["rtol"], [1e-6, 1e-3, 1e-6])
    np.testing.assert_array_equal(tuner.history["atol"], [1e-2, 0.0, 0.0])


BAD = [({"rtol": 1.5}, "rtol"), ({"rtol": math.nan}, "rtol"), ({"rtol": -1e-3}, "rtol"),
       ({"atol": -1.0}, "atol"), ({"atol": math.inf}, "atol"), ({"rtol": "1e-3"}, "rtol"),
       ({"rtol": True}, "rtol"), ({"rtol": 0.0}, "rtol and atol"),
       ({"rtol": 0.0, "atol": 0.0}, "rtol and atol"), ({"atol": [1e-3]}, "atol")]


@pytest.mark.parametrize("bad, name", BAD, ids=[repr(b) for b, _ in BAD])
def test_bad_tolerances_are_refused_as_the_constructor_refuses_them(bad, name):
    A = gallery.laplacian_2d(6)
    b = np.ones(36)
    tuner = bandit.Tuner(bandit.TsallisINF([1.2, 1.6], seed=0), solver="ssor_pcg",
                         audit_budget=0.5, audit_seed=0)
    twin = copy.deepcopy(tuner)
    tuner.solve(A, b, rtol=1e-3)
    twin.solve(A, b, rtol=1e-3)
    before = (len(tuner.history["arm"]), tuner.policy.t, pickle.dumps(tuner.policy))
    with pytest.raises(ValueError) as made:
        bandit.Tuner(bandit.TsallisINF([1.2, 1.6], seed=0), solver="ssor_pcg",
                     **{"rtol": 1e-8, "atol": 0.0, **bad})
    with pytest.raises(ValueError) as solved:
        tuner.solve(A, b, **bad)
    assert str(solved.value) == str(made.value)
    assert str(solved.value).startswith(name)
    # nothing changed: the same history, policy and next draw as a tuner never refused
    assert (len(tuner.history["arm"]), tuner.policy.t, pickle.dumps(tuner.policy)) == before
    r, t = tuner.solve(A, b, rtol=1e-4), twin.solve(A, b, rtol=1e-4)
    assert r.arm == t.arm and r.iterations == t.iterations
    np.testing.assert_array_equal(tuner.history["rtol"], [1e-3, 1e-4])


def test_history_csv_and_tuner_file_keep_the_tolerances(tmp_path):
    A = gallery.laplacian_2d(8)
    b = np.ones(64)
    tuner = bandit.Tuner(bandit.TsallisINF([1.2, 1.6], seed=0), solver="ssor_pcg", rtol=1e-7)
    plain = copy.deepcopy(tuner)
    for eta in (1e-2, 1e-5, None, 3e-4):
        tuner.solve(A, b, rtol=eta)
        plain.solve(A, b)
    want = [1e-2, 1e-5, 1e-7, 3e-4]
    tuner.to_csv(tmp_path / "h.csv")
    np.testing.assert_array_equal(read_csv(tmp_path / "h.csv")["rtol"], want)
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    np.testing.assert_array_equal(loaded.history["rtol"], want)
    np.testing.assert_array_equal(loaded.history["atol"], [0.0] * 4)
    loaded.solve(A, b, rtol=2e-3)  # the run goes on
    np.testing.assert_array_equal(loaded.history["rtol"], want + [2e-3])
    # every solve at the Tuner's own rule: the file has no such columns (a library that
    # predates them reads it as before), and reads the config's values back
    plain.save(tmp_path / "plain.json")
    rows = json.loads((tmp_path / "plain.json").read_text())["rows"]
    assert "rtol" not in rows and "atol" not in rows
    np.testing.assert_array_equal(bandit.Tuner.load(tmp_path / "plain.json").history["rtol"],
                                  [1e-7] * 4)
    # a file edited to hold a tolerance no solve can have is refused by name
    data = json.loads((tmp_path / "t.json").read_text())
    data["rows"]["rtol"][1] = 1.5
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(bandit.TunerFileError, match=r"rows\.rtol\[1\] must be a finite number "
                                                    r"in \[0, 1\)"):
        bandit.Tuner.load(tmp_path / "bad.json")
    # a CSV written before the columns reads NaN for them
    text = (tmp_path / "h.csv").read_text().splitlines()
    head = text[0].split(",")
    keep = [i for i, n in enumerate(head) if n not in ("rtol", "atol")]
    old = "\n".join(",".join(line.split(",")[i] for i in keep) for line in text) + "\n"
    (tmp_path / "old.csv").write_text(old)
    assert np.isnan(read_csv(tmp_path / "old.csv")["rtol"]).all()


def test_a_copy_made_before_the_columns_reads_the_tuners_tolerance():
    A = gallery.laplacian_2d(6)
    tuner = bandit.Tuner(bandit.TsallisINF([1.2, 1.6], seed=0), solver="ssor_pcg", rtol=1e-6)
    tuner.solve(A, np.ones(36))
    old = copy.copy(tuner)
    old._log = [row[:-2] for row in tuner._log]  # the row of an earlier version
    back = pickle.loads(pickle.dumps(old))
    np.testing.assert_array_equal(back.history["rtol"], [1e-6])


def test_log_rtol_as_a_context():
    """The documented way to let a contextual learner see the tolerance: its log as the
    context (the costs then depend on it, as they do)."""
    tuner = bandit.Tuner(bandit.SmoothIGW([1.0, 1.4, 1.8], seed=0), solver="ssor_pcg")
    rounds = newton_bratu(lambda J, rhs, eta: tuner.solve(J, rhs, rtol=eta,
                                                           context=math.log10(eta)),
                          lam_list=(2.0, 5.0))
    np.testing.assert_allclose(tuner.history["context"],
                               [math.log10(eta) for *_, eta, _ in rounds])
    assert all(_meets(J, rhs, res.x, eta, 0.0) for J, rhs, eta, res in rounds)
