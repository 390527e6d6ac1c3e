"""``Tuner(arms, seed=...)``: the learner the Tuner builds is seeded, and only that one."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import bandit
from solvers.gallery import laplacian_2d


def _run(seed, arms=(0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 1.9)):
    A = laplacian_2d(12).tocsr()
    rng = np.random.default_rng(0)
    tuner = bandit.Tuner(list(arms), solver="sor", rtol=1e-6, maxiter=4000, seed=seed)
    xs = []
    for t in range(25):
        b = rng.standard_normal(A.shape[0])
        res = tuner.solve(A, b, context=float(t % 5))
        xs.append((res.x, b))
    return tuner, tuner.history["arm"].tolist(), xs, A


def test_same_seed_same_choices_and_correct_solutions():
    t1, c1, xs, A = _run(5)
    t2, c2, _, _ = _run(5)
    assert c1 == c2
    assert t1.history["iterations"].tolist() == t2.history["iterations"].tolist()
    for x, b in xs[:3]:
        ref = spla.spsolve(A.tocsc(), b)
        assert np.linalg.norm(x - ref) <= 1e-4 * np.linalg.norm(ref)


def test_the_built_learner_owns_the_seeded_generator():
    # the same generator as the learner bandit.default_policy builds with that seed, and
    # another than with another seed (a randomised learner's draws follow it)
    arms = [1.0, 1.2, 1.5, 1.8]
    for seed in (0, 7):
        tuner = bandit.Tuner(arms, solver="sor", seed=seed)
        same = bandit.default_policy("sor", arms, seed=seed)
        assert tuner.policy.rng.bit_generator.state == same.rng.bit_generator.state
        assert type(tuner.policy) is type(same)
    a = bandit.Tuner(arms, solver="sor", seed=0).policy.rng.random(3)
    b = bandit.Tuner(arms, solver="sor", seed=1).policy.rng.random(3)
    assert not np.array_equal(a, b)


def test_seed_with_a_policy_object_is_refused():
    pol = bandit.default_policy("sor", [1.0, 1.5], seed=1)
    with pytest.raises(ValueError, match="seed seeds the learner the Tuner builds"):
        bandit.Tuner(pol, solver="sor", seed=3)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_seed_is_named(bad):
    with pytest.raises(ValueError, match="seed must be"):
        bandit.Tuner([1.0, 1.5], solver="sor", seed=bad)


def test_seed_with_no_policy():
    a = bandit.Tuner(solver="sor", seed=2)
    assert (a.policy.rng.bit_generator.state
            == bandit.default_policy("sor", seed=2).rng.bit_generator.state)
