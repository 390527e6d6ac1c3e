"""A round of the default learner without a context (``target="auto"``: a model of the cost
itself) takes no path of a context's: the features of no context are the constant 1 without
parsing, range tests or an empty basis, and the prediction and spread the cost model reads
before its update come from one compiled call — the numbers NumPy's ``θ @ φ`` and
``φ @ P @ φ`` give, bit for bit, so the learner's choices and state are what they were."""
import math

import numpy as np
import pytest

import bandit
from bandit import features as features_mod
from bandit import joint as joint_mod
from bandit._kernels import joint_predict

ARMS = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]


def _numpy_predict(theta, P, psi, X, arm):
    """The cost model's reads as NumPy computes them (the formulas the kernel replaces)."""
    phi = np.outer(psi, X[arm]).ravel()
    return float(theta @ phi), float(phi @ P @ phi)


@pytest.mark.parametrize("mc,mw,K", [(1, 8, 8), (1, 1, 1), (1, 12, 20), (10, 8, 8),
                                     (10, 12, 13), (4, 3, 5)])
def test_joint_predict_is_numpys_dot_products_bit_for_bit(mc, mw, K):
    rng = np.random.default_rng(mc * 100 + mw)
    d = mc * mw
    for _ in range(50):
        B = rng.standard_normal((d, d)) * np.exp(rng.uniform(-6, 6, (d, d)))
        P = B @ B.T  # mixed scales: a reordered sum shows in the bits
        theta = rng.standard_normal(d) * np.exp(rng.uniform(-6, 6, d))
        psi, X = rng.standard_normal(mc), rng.standard_normal((K, mw))
        arm = int(rng.integers(K))
        assert joint_predict(theta, P, psi, X, arm) == _numpy_predict(theta, P, psi, X, arm)
    # and against a plain dense reference, to rounding
    phi = np.kron(psi, X[arm])
    pred, quad = joint_predict(theta, P, psi, X, arm)
    assert pred == pytest.approx(sum(float(a) * float(b) for a, b in zip(theta, phi)),
                                 rel=1e-9, abs=1e-9 * np.abs(theta).max())
    assert quad == pytest.approx(float(phi @ (P @ phi)), rel=1e-9)


def _costs(seed, n):
    rng = np.random.default_rng(seed)
    # SOR-like: dear below the best ω, with a heavy tail of hard systems (the clip engages)
    hard = rng.random(n) < 0.1
    noise = 1.0 + 0.2 * rng.random(n)
    return [(lambda w, i=i: (40.0 + 400.0 * (w - 1.65) ** 2) * noise[i] * (8.0 if hard[i] else 1.0))
            for i in range(n)]


def _run(policy, costs):
    arms = []
    for cost in costs:
        k = policy.select(None)
        best, pred = policy.leader(None)
        policy.update(k, float(cost(policy.arms[k])), None)
        arms.append((k, best, pred))
    return arms


@pytest.mark.parametrize("solver", ["ssor_pcg", "sor"])
def test_no_context_learner_is_the_numpy_formulas_bit_for_bit(solver, monkeypatch):
    A = None
    costs = _costs(3, 300)
    fast = bandit.default_policy(solver, ARMS, seed=0)
    if solver == "sor":  # the theory prior: its pseudo-observations and shared error too
        import scipy.sparse as sp
        n = 12
        T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
        A = sp.csr_matrix(sp.kronsum(T, T))
        fast.prime(A, "sor")
    got = _run(fast, costs)
    monkeypatch.setattr(joint_mod, "joint_predict", _numpy_predict)
    ref = bandit.default_policy(solver, ARMS, seed=0)
    if A is not None:
        ref.prime(A, "sor")
    want = _run(ref, costs)
    assert fast.models_cost and ref.models_cost
    assert got == want
    assert np.array_equal(fast.P, ref.P) and np.array_equal(fast.theta, ref.theta)
    assert (fast.sq_err, fast.log_sq_err, fast.cusum_up, fast.cusum_down) == (
        ref.sq_err, ref.log_sq_err, ref.cusum_up, ref.cusum_down)
    assert len(set(k for k, _, _ in got)) > 1  # it explored: the test saw several arms


def test_no_context_round_parses_nothing(monkeypatch):
    """After its first round, a learner without a context never parses a context or tests
    its range (what had cost a round ~30 µs of its ~50)."""
    p = bandit.default_policy("ssor_pcg", ARMS, seed=0)
    p.update(p.select(None), 10.0)  # the first round fixes the context length (none)

    def refuse(*args, **kwargs):
        raise AssertionError("a no-context round parsed a context")

    monkeypatch.setattr(features_mod.ContextRange, "parse", refuse)
    monkeypatch.setattr(features_mod.ContextRange, "observe", refuse)
    monkeypatch.setattr(features_mod.ContextRange, "unit", refuse)
    for i in range(5):
        k = p.select(None)
        p.leader(None)
        p.update(k, 10.0 + i)
        assert np.isfinite(p.predict(None)).all()


def test_no_context_features_are_the_constant_one():
    f = features_mod.Chebyshev()
    phi, S = f.observe(None)
    assert phi.tolist() == [1.0] and S is None and f.context_dim == 0
    phi2, S2 = f.observe(None)
    assert phi2.tolist() == [1.0] and S2 is None
    assert f(None).tolist() == [1.0]
    assert not f(None).flags.writeable  # shared: no caller may change it
    with pytest.raises(ValueError, match="without a context"):
        f.observe(1.0)  # a context after none is still refused
    assert f.basis(np.zeros(0)).tolist() == f(None).tolist()
    assert math.isfinite(f(None)[0])
