"""``bandit._kernels_ridge.refit`` (a ridge fit re-expressed when the context range widens):
``S G Sᵀ`` is summed over the non-zero entries of ``S``'s rows only, which must give the same
bits as the sum over every entry (the learner's plays depend on it): a skipped term
``S[j, k] = 0`` adds ±0 to a sum that starts at +0 and so is never −0."""
from __future__ import annotations

import numpy as np

import bandit
from bandit._kernels_ridge import refit
from experiments.bench_refit import refit_every_term


# the kernel before: every product of ``S G Sᵀ`` summed, zeros of ``S`` included (kept with
# the benchmark that times the two side by side, ``relaxtune bench refit``)
_every_term = refit_every_term


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint64)


def _check(P, theta, S, pen):
    got, want = refit(P, theta, S, pen), _every_term(P, theta, S, pen)
    for g, w in zip(got, want):
        assert np.array_equal(_bits(g), _bits(w))


def test_random_fits_and_kronecker_rescalings_match_bit_for_bit():
    rng = np.random.default_rng(3)
    for n in range(12):
        m, q = int(rng.integers(1, 7)), int(rng.integers(1, 21))
        d = m * q
        X = rng.standard_normal((d + 3, d))
        pen = np.diag(10.0 ** rng.uniform(-3, 1, d))
        P = np.linalg.inv(X.T @ X + pen)
        P = 0.5 * (P + P.T)
        theta = rng.standard_normal(d)
        Sc = np.triu(rng.standard_normal((m, m)))  # a basis change of the context features
        Sc[rng.random((m, m)) < 0.2] = 0.0
        Sc[np.diag_indices(m)] = rng.uniform(0.5, 2.0, m)
        if n % 3 == 0:
            Sc[0, :] = -Sc[0, :]  # negative entries: products of both signs and −0
        S = np.kron(Sc, np.eye(q))
        _check(P, theta, S, pen)
    # a dense S (no zero to skip) and a zero one
    d = 9
    X = rng.standard_normal((12, d))
    pen = np.eye(d)
    P = np.linalg.inv(X.T @ X + pen)
    _check(0.5 * (P + P.T), rng.standard_normal(d), rng.standard_normal((d, d)), pen)
    _check(0.5 * (P + P.T), rng.standard_normal(d), np.zeros((d, d)), pen)


def test_the_default_learners_widening_matches_bit_for_bit():
    # the default learner's own model after ten rounds of a drifting context, widened once
    p = bandit.default_policy(None, np.linspace(1.0, 1.9, 10), seed=0)
    for t in range(10):
        c = -3.0 + 0.05 * t
        p.update(p.select(context=c), 20.0 + t, context=c)
    P, theta = p.P.copy(), p.theta.copy()
    psi, S = p.features.observe(10.0)  # far beyond the range: it widens
    assert S is not None
    Sf = np.ascontiguousarray(np.kron(S, np.eye(p._X.shape[1])))
    pen = np.ascontiguousarray(np.diag(p._penalty_diag()))
    assert np.count_nonzero(Sf) < 0.2 * Sf.size  # few non-zeros a row to sum
    _check(P, theta, Sf, pen)
