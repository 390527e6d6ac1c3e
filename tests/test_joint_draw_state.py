"""JointCB's draw state in one step: the same state as the layered path it shortens
(``PriorRules._draw_state`` over ``Policy._draw_state``), and an undone draw restores it."""
from __future__ import annotations

import numpy as np
import pytest

import bandit
from bandit._joint_rules import PriorRules

OMEGAS = [1.0, 1.2, 1.4, 1.6, 1.8]


def _same(a, b):
    """Structural equality of two draw states (the model's copies compared by value)."""
    (base_a, model_a), (base_b, model_b) = a, b
    assert base_a[0] == base_b[0]  # the generator's state (None for a deterministic draw)
    assert base_a[1] is base_b[1] or np.array_equal(base_a[1], base_b[1])
    if model_a is False or model_a is None:
        assert model_b is model_a
    else:
        for x, y in zip(model_a, model_b):
            assert np.array_equal(x, y)


@pytest.mark.parametrize("exploration", ["lcb", "igw"])
@pytest.mark.parametrize("prior", [None, "theory"])
def test_draw_state_equals_the_layered_path(exploration, prior):
    pol = bandit.JointCB(OMEGAS, context_bounds=(0.0, 4.0), exploration=exploration,
                         prior=prior, seed=5)
    if prior is not None:  # a prior pending until the first draw takes it
        pol.prior_curve = np.log(np.array([3.0, 2.0, 1.5, 1.0, 1.2]))
    rng = np.random.default_rng(0)
    for t in range(12):
        _same(pol._draw_state(), PriorRules._draw_state(pol))
        c = float(rng.uniform(0.0, 4.0))
        k = pol.select(c)
        _same(pol._draw_state(), PriorRules._draw_state(pol))
        w = OMEGAS[k]
        pol.update(k, float(1.0 + (w - 1.5) ** 2 + 0.1 * c), c)


def test_an_undone_draw_restores_the_fast_state():
    """The one-step state of a deterministic learner undoes a draw: the same arm and the same
    model as a twin that never drew."""
    a = bandit.JointCB(OMEGAS, context_bounds=(0.0, 4.0), seed=1)
    b = bandit.JointCB(OMEGAS, context_bounds=(0.0, 4.0), seed=1)
    for t in range(8):
        c = 0.4 * t + 0.1
        for pol in (a, b):
            k = pol.select(c)
            pol.update(k, float(1.0 + (OMEGAS[k] - 1.4) ** 2), c)
    state = a._draw_state()
    assert state == ((None, a.p), False)  # the one-step path was taken
    a.select(2.5)
    a._undo_draw(state)
    assert a.select(1.7) == b.select(1.7)
    assert np.array_equal(a.P, b.P) and np.array_equal(a.theta, b.theta)
