"""``Tuner(auto_context="spectral")``: the relaxation parameter the theory gives each system,
from a few Lanczos steps, as the learner's context when the user has none (or beside theirs).

Without a context the default learner stays near the first system's prior on sequences of
very different systems (the offset Laplacians: 1.75 × the best fixed ω after 500 solves);
the automatic context brings it below the best fixed ω (bench learners, ``default@auto``)."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit.tuner import AUTO_CONTEXT_STEPS
from experiments.problems import OffsetLaplacianSequence
from solvers import gallery
from solvers.spectral import estimate_spectrum

A = gallery.laplacian_2d(12)
B = np.ones(A.shape[0])


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg"])
def test_the_context_is_the_theorys_omega_of_each_system(solver):
    t = bandit.Tuner(solver=solver, auto_context="spectral")
    for shift in (0.0, 0.5, 2.0):
        M = (A + shift * sp.eye(A.shape[0])).tocsr()
        r = t.solve(M, B)
        est = estimate_spectrum(M, AUTO_CONTEXT_STEPS)  # independent: the public estimate
        want = est.omega_sor if solver == "sor" else est.omega_ssor
        assert r.converged and r.info["auto_context"] == pytest.approx(want, rel=1e-12)
        assert t.history["context"][-1] == pytest.approx(want, rel=1e-12)
    # a shift makes the system better conditioned: a smaller ω
    assert t.history["context"][0] > t.history["context"][-1]
    assert t.summary()["auto_context"]["seconds"] > 0
    assert t.summary()["auto_context"]["products"] == 3 * AUTO_CONTEXT_STEPS
    tiny = bandit.Tuner(solver=solver, auto_context="spectral")
    tiny.solve(np.diag([2.0, 3.0, 4.0]), np.ones(3))  # Lanczos stops at n = 3 (or before)
    assert tiny.summary()["auto_context"]["products"] <= 3


def test_beside_the_users_context_and_saved_with_the_tuner(tmp_path):
    t = bandit.Tuner(solver="sor", auto_context="spectral")
    for c in (0.1, 0.2, 0.3):
        t.solve(A, B, context=c)
    ctx = t.history["context"]
    assert ctx.shape == (3, 2) and np.allclose(ctx[:, 0], [0.1, 0.2, 0.3])
    assert np.allclose(ctx[:, 1], estimate_spectrum(A, AUTO_CONTEXT_STEPS).omega_sor)
    path = tmp_path / "t.json"
    t.save(path)
    u = bandit.Tuner.load(path)
    assert u.auto_context == "spectral"
    # the loaded tuner goes on exactly as the original (same draws from here on)
    for c in (0.4, 0.5):
        assert u.solve(A, B, context=c).arm == t.solve(A, B, context=c).arm


def test_refusals_change_nothing():
    with pytest.raises(ValueError, match="auto_context must be None or one of"):
        bandit.Tuner(solver="sor", auto_context="eigen")
    with pytest.raises(ValueError, match="for ω arms of one solver"):
        bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc": "jacobi"},
                                      {"method": "cg", "pc": "none"}]),
                     auto_context="spectral")
    t = bandit.Tuner(solver="sor", auto_context="spectral")
    N = sp.csr_matrix(A, copy=True)
    N[0, 1] = -3.0  # not symmetric: no theory
    state = t.policy.state_dict()
    with pytest.raises(ValueError, match="auto_context='spectral'.*not symmetric") as err:
        t.solve(N, B)
    assert "use sor for others" not in str(err.value)  # (this tuner is SOR already)
    assert t.policy.state_dict() == state and len(t.history["arm"]) == 0


def test_without_a_context_the_automatic_one_learns_a_varied_sequence():
    """Offset Laplacians of high variance (the paper's SOR sequence): the default learner
    without a context against the same with the automatic context, the Lanczos steps
    charged as iterations, and the best fixed ω from every arm's exact cost."""
    seq = OffsetLaplacianSequence(150, "high", m=10, seed=11)
    totals = {}
    for auto in (None, "spectral"):
        t = bandit.Tuner(solver="sor", auto_context=auto)
        paid = sum(t.solve(*seq[i][:2]).iterations for i in range(len(seq)))
        totals[auto] = paid + (AUTO_CONTEXT_STEPS * len(seq) if auto else 0)
    import solvers

    fixed = [sum(solvers.sor(*seq[i][:2], w).iterations for i in range(len(seq)))
             for w in bandit.DEFAULT_ARMS]
    best = min(fixed)
    assert totals["spectral"] < best < totals[None]


def test_a_context_of_another_length_is_refused_in_the_users_terms():
    """With the automatic context appended, the policy counts one entry more than the user
    passed: the refusal speaks of the user's values, and changes nothing."""
    t = bandit.Tuner(solver="sor", auto_context="spectral")
    t.solve(A, B)  # no context of the user's: the policy's context is ω̂ alone
    state = t.policy.state_dict()
    with pytest.raises(ValueError, match=r"1 context value of yours.*none on the first solve"):
        t.solve(A, B, context=0.5)
    u = bandit.Tuner(solver="sor", auto_context="spectral")
    u.solve(A, B, context=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"3 context values of yours.*2 on the first solve"):
        u.solve(A, B, context=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"no context of yours.*2 on the first solve"):
        u.solve(A, B)
    assert t.policy.state_dict() == state and len(t.history["arm"]) == 1
    assert len(u.history["arm"]) == 1
