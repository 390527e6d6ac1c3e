"""The guard's test for an inconsistent system (no ``x`` meets the stopping rule) runs when a
run has failed on its own, not when the guard's budget cut an exploration short: two passes
over ``A`` (0.2 ms at n = 10⁴, more than an SSOR-PCG solve's Tuner overhead) had been paid by
every such exploration — 24–48 of a configuration learner's 1000 heat2d solves.  An
inconsistent system whose first attempt the budget stopped is still refused, after the
chain's next run, and nothing is told or recorded."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
import solvers.spectral
from solvers import gallery


class Script(bandit.Policy):
    """Plays a fixed list of arms; its leader is arm 0 (predicted 10 iterations) once arm 0
    has data, so any other arm is explored under a budget of ``guard × 10`` iterations."""

    def __init__(self, arms, plan):
        super().__init__(arms)
        self.plan = list(plan)

    def _select(self, context):
        return self.plan[self.t]

    def leader(self, context=None):
        return (0, 10.0) if self.counts[0] else (None, float("nan"))

    def _update(self, arm, cost, context, censored):
        pass


def neumann_2d(m):
    """5-point Laplacian with zero-flux boundaries (columns sum to zero; null space 1)."""
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1]).tolil()
    T[0, 0] = T[-1, -1] = 1
    identity = sp.identity(m)
    return sp.csr_matrix(sp.kron(T, identity) + sp.kron(identity, T))


@pytest.fixture
def floor_calls(monkeypatch):
    calls = []
    real = solvers.spectral.null_floor  # (residual_floor's, with the kind of null vector)

    def spy(A, b):
        calls.append(1)
        return real(A, b)

    monkeypatch.setattr(solvers.spectral, "null_floor", spy)
    return calls


def _runs(tuner):
    """Record the arm of every run of ``tuner`` (attempt, chain, last resort)."""
    ran = []
    real = tuner._run

    def run(op, b, arm, *args, **kwargs):
        ran.append(arm)
        return real(op, b, arm, *args, **kwargs)

    tuner._run = run
    return ran


def test_an_exploration_the_budget_stopped_does_not_test_the_system(floor_calls):
    A = gallery.laplacian_2d(16)
    b = np.ones(A.shape[0])
    t = bandit.Tuner(Script([1.0, 1.9], [0, 1]), solver="sor", guard=3.0)
    ran = _runs(t)
    assert t.solve(A, b).converged and t.history["arm"].tolist() == [0]
    r = t.solve(A, b)
    explored = r.info["explored"]
    assert explored["arm"] == 1 and explored["reason"] == "maxiter"
    assert explored["budget"] == 30 and explored["iterations"] == 30  # guard × 10 iterations
    assert r.converged and r.arm == 0 and ran == [0, 1, 0]  # the chain's leader finished it
    assert np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * 1.0001
    assert floor_calls == []  # before: one residual_floor (two passes over A) for nothing


def test_a_failed_first_attempt_still_tests_the_system(floor_calls):
    # no leader, no budget: the attempt failed on its own (maxiter), so the test runs at once
    A = gallery.laplacian_2d(16)
    b = np.ones(A.shape[0])
    t = bandit.Tuner(Script([1.0, 1.9], [1]), solver="sor", guard=3.0, maxiter=5)
    r = t.solve(A, b)
    assert not r.converged and floor_calls == [1]


def test_an_inconsistent_system_behind_a_budget_stop_is_still_refused(floor_calls):
    A = neumann_2d(10)
    n = A.shape[0]
    rng = np.random.default_rng(0)
    c = rng.standard_normal(n)
    c -= c.mean()  # consistent: b ⟂ 1
    b = rng.standard_normal(n)  # not ⟂ 1: ‖b − A x‖ >= |Σ b| / √n for every x
    floor = abs(b.sum()) / np.sqrt(n)
    lsq = np.linalg.lstsq(A.toarray(), b, rcond=None)[0]
    assert np.linalg.norm(b - A @ lsq) == pytest.approx(floor, rel=1e-9)  # the reference
    t = bandit.Tuner(Script([1.0, 1.9], [0, 1, 1]), solver="sor", guard=3.0, maxiter=3000)
    assert t.solve(A, c).converged
    ran = _runs(t)
    with pytest.raises(ValueError, match=r"inconsistent.*columns of A sum to zero") as err:
        t.solve(A, b)
    assert f"{floor:.3e}" in str(err.value)
    # the budget-stopped attempt (arm 1), then the chain's run of the leader, which failed on
    # its own: tested then, refused before any other run
    assert ran == [1, 0] and floor_calls == [1]
    assert t.history["arm"].tolist() == [0] and t.policy.t == 1  # nothing told or recorded
    r = t.solve(A, c)  # the next consistent system: the round that was abandoned, replayed
    assert r.converged and r.info["explored"]["arm"] == 1


def test_the_solvers_diagnosis_can_be_turned_off(floor_calls):
    A = neumann_2d(10)
    b = np.random.default_rng(1).standard_normal(A.shape[0])  # not ⟂ 1: inconsistent
    floor = abs(b.sum()) / np.sqrt(A.shape[0])  # the least-squares residual's norm
    for call in (lambda **kw: solvers.sor(A, b, 1.5, maxiter=300, **kw),
                 lambda **kw: solvers.cg(A, b, maxiter=300, **kw),
                 lambda **kw: solvers.ssor_pcg(A, b, 1.5, maxiter=300, **kw)):
        told = call()
        assert not told.converged and f"{floor:.3e}" in told.info["cause"]
        n = len(floor_calls)
        quiet = call(diagnose=False)
        assert not quiet.converged and len(floor_calls) == n
        assert "inconsistent" not in quiet.info.get("cause", "")
        assert quiet.iterations == told.iterations
        with pytest.raises(TypeError, match="diagnose must be True or False"):
            call(diagnose="no")
