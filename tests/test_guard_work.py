"""A guarded solve's ``info["work"]`` covers every run, as its iterations and seconds do, and
each attempt lists its own work (checked against the work model of each run)."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers


def _laplacian_2d(m):
    T = sp.diags([-np.ones(m - 1), np.full(m, 2.0), -np.ones(m - 1)], [-1, 0, 1])
    return sp.csr_matrix(sp.kron(sp.identity(m), T) + sp.kron(T, sp.identity(m)))


@pytest.mark.parametrize("cost", ["work", "timed_work"])
def test_guarded_work_covers_every_run(cost):
    A = _laplacian_2d(29)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    grid = [{"method": "cg", "pc": "none"}, {"method": "ssor_pcg", "omega": 1.8}]
    # plain CG stops at maxiter = 40 (it needs about 90); the guard falls back to SSOR-PCG
    tu = bandit.Tuner(bandit.FixedArm(grid, arm=0), cost=cost, maxiter=40)
    r = tu.solve(A, b)
    assert r.converged and r.arm == 1
    assert np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b)
    att = r.info["attempts"]
    assert [a["arm"] for a in att] == [0, 1] and att[0]["reason"] == "maxiter"
    assert r.iterations == att[0]["iterations"] + att[1]["iterations"]
    ref = [solvers.work_model("cg", A).total(att[0]["iterations"]),
           solvers.work_model("ssor_pcg", A).total(att[1]["iterations"])]
    assert [a["work"] for a in att] == pytest.approx(ref, rel=1e-12)
    assert r.info["work"] == pytest.approx(sum(ref), rel=1e-12)


def test_unguarded_work_unchanged():
    A = _laplacian_2d(29)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    tu = bandit.Tuner(bandit.FixedArm([{"method": "ssor_pcg", "omega": 1.8}], arm=0),
                      cost="work")
    r = tu.solve(A, b)
    assert "attempts" not in r.info
    assert r.info["work"] == pytest.approx(
        solvers.work_model("ssor_pcg", A).total(r.iterations), rel=1e-12)


def test_guarded_timed_work_covers_every_run():
    # cost="timed_work": info["timed_work"] had been the returned run's alone while
    # info["work"] covered every run; each attempt now lists its own timed work too
    A = _laplacian_2d(29)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    grid = [{"method": "cg", "pc": "none"}, {"method": "ssor_pcg", "omega": 1.8}]
    tu = bandit.Tuner(bandit.FixedArm(grid, arm=0), cost="timed_work", maxiter=40)
    r = tu.solve(A, b)
    att = r.info["attempts"]
    assert r.converged and [a["arm"] for a in att] == [0, 1]
    assert all(a["timed_work"] > 0 for a in att)
    assert r.info["timed_work"] == pytest.approx(sum(a["timed_work"] for a in att), rel=1e-12)
    assert r.info["timed_work"] > att[1]["timed_work"]
