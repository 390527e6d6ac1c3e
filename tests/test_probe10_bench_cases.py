"""The learner benchmark's cases: every documented context interval is one the learners take.

Failed before its fix: ``elast``'s interval was (10, 10) — its context λ is constant — and
ChebCB, Tsallis-INF-CB and ``default@bounds`` refused it ("context_bounds must be finite
with a < b"), so ``relaxtune bench learners --cases elast --learners chebcb`` stopped.
"""
import numpy as np
import pytest

import bandit
from bandit._base import check_bounds
from experiments.bench_learners import CASES, OMEGAS
from experiments.learners import make_learner


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("learner", ["chebcb", "tsallis_inf_cb", "default@bounds"])
def test_every_case_interval_builds_the_learners_that_take_bounds(name, learner):
    case = CASES[name]
    lo, hi = check_bounds(case.hint)
    assert lo < hi
    if learner == "default@bounds":
        p = bandit.default_policy(case.solver, list(OMEGAS), context_bounds=case.hint)
    else:
        p = make_learner(learner, OMEGAS, seed=0, context_bounds=case.hint, bins=8,
                         vector_bounds=[case.hint])
    assert p.select(0.5 * (lo + hi)) in range(len(OMEGAS))


def test_elast_context_is_constant_and_inside_its_interval():
    case = CASES["elast"]
    seq = case.build(0, T=5)
    contexts = [seq[t][2] for t in range(5)]
    assert len(set(contexts)) == 1  # one matrix, a constant λ: the benchmark says so
    lo, hi = case.hint
    assert lo < contexts[0] < hi
    A = seq[0][0]
    assert all(seq[t][0] is A for t in range(5))
    assert not np.allclose(seq[0][1], seq[1][1])  # the right-hand sides do vary
