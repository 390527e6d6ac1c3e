"""Edge cases of regret reporting: runs in which every arm fails, and contradictory updates."""
import math

import numpy as np
import pytest

import bandit
from bandit import Tuner
from experiments.bench_regret import ReplaySolver

GRID = list(np.linspace(1.0, 1.95, 6))

OMEGAS = [1.0, 1.2, 1.4, 1.6]


def make_policy(name, arms=GRID, seed=0):
    """Every registry policy, contexts in [0, 1]."""
    cls = bandit.POLICIES[name]
    if name == "fixed":
        return cls(arms, arm=0, seed=seed)
    if name == "squarecb":
        return cls(arms, context_dim=1, context_bounds=[(0.0, 1.0)], seed=seed)
    if cls.contextual:
        return cls(arms, context_bounds=(0.0, 1.0), seed=seed)
    return cls(arms, seed=seed)


# --- update(censored=True, converged=True) ---------------------------------------------------
@pytest.mark.parametrize("name", sorted(bandit.POLICIES))
def test_censored_and_converged_is_refused_and_changes_nothing(name):
    p = make_policy(name)
    k = p.select(0.5)
    p.update(k, 40.0, context=0.5)
    before = (p.t, p.counts.copy(), p.converged_counts.copy(), p.cost_sums.copy())
    lead = p.leader(0.5)
    k = p.select(0.5)
    with pytest.raises(ValueError, match="censored.*converged"):
        p.update(k, 1.0, context=0.5, censored=True, converged=True)
    assert p.t == before[0]
    np.testing.assert_array_equal(p.counts, before[1])
    np.testing.assert_array_equal(p.converged_counts, before[2])
    np.testing.assert_array_equal(p.cost_sums, before[3])
    assert p.leader(0.5)[0] == lead[0]
    # the consistent combinations are still accepted
    p.update(k, 1.0, context=0.5, censored=True, converged=False)
    p.update(k, 2.0, context=0.5, censored=False, converged=False)
    p.update(k, 3.0, context=0.5, censored=False, converged=True)
    assert p.t == before[0] + 3
