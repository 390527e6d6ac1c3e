"""JointCB's ``family_gap`` on the ``"omega"`` line: a family of several ω set apart from the
next family by its own span (``"span"``) or one grid step (``"step"``, the layout of learners
saved before the option), and what the gap changes in the learner's choice."""
import json
import pickle

import numpy as np
import pytest
from numpy.polynomial import chebyshev as C

import bandit
from bandit import JointCB, Policy, Tuner, default_policy
from solvers import gallery

SSOR = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]


def _grid():
    from experiments.precond_study import default_grid

    return default_grid()  # SSOR-PCG at SSOR, plain / Jacobi / IC(0) / AMG / AMG-reuse CG


def _expected_basis(positions, mw):
    """Chebyshev T_0 … T_{mw-1} of the positions mapped to [-1, 1], by numpy."""
    x = np.asarray(positions, dtype=float)
    return C.chebvander(2.0 * x / x.max() - 1.0, mw - 1)


@pytest.mark.parametrize("gap, cg_at", [("step", 10.0), ("span", 18.0)])
def test_the_family_of_several_omega_is_followed_by_a_step_or_by_its_own_span(gap, cg_at):
    grid = _grid()
    assert [a.get("omega") for a in grid[:8]] == SSOR and grid[8] == {"method": "cg", "pc": "none"}
    p = default_policy(None, grid, seed=0, family_gap=gap)
    # SSOR-PCG's ω in its grid steps of 0.1 from 1.0 (1.1 and 1.3 absent: 0, 2, 4, 5, …, 9),
    # then plain CG, Jacobi-CG, IC(0)-CG, AMG-CG, AMG-CG reusing its set-up one apart
    pos = [0, 2, 4, 5, 6, 7, 8, 9] + [cg_at + i for i in range(5)]
    np.testing.assert_allclose(p._X, _expected_basis(pos, 12), rtol=0, atol=1e-12)
    assert p.family_gap == gap and p._config()["family_gap"] == gap


def test_a_family_of_one_arm_and_the_other_layouts_are_unchanged_by_the_gap():
    grid = _grid()
    for basis in ("line", "family"):
        a = JointCB(grid, arm_basis=basis, family_gap="step")
        b = JointCB(grid, arm_basis=basis, family_gap="span")
        np.testing.assert_array_equal(a._X, b._X)
    # plain ω arms: one family, nothing after it; the default learner's config keeps "step"
    assert default_policy("ssor_pcg", SSOR).family_gap == "step"
    np.testing.assert_array_equal(JointCB(SSOR, arm_basis="omega", family_gap="span")._X,
                                  JointCB(SSOR, arm_basis="omega")._X)
    with pytest.raises(ValueError, match="family_gap"):
        JointCB(grid, arm_basis="omega", family_gap="wide")
    with pytest.raises(ValueError, match="family_gap"):
        default_policy(None, grid, family_gap=1.0)


def _taught(gap):
    """The default learner told, four times over, every arm's cost: SSOR-PCG cheapest at the
    largest ω (61 at ω = 1.9, 69 at 1.8), plain CG ten times dearer, the other CGs 110–300."""
    grid = _grid()
    p = default_policy(None, grid, seed=0, family_gap=gap)
    other = {8: 600.0, 9: 300.0, 10: 120.0, 11: 150.0, 12: 110.0}
    truth = np.array([60 + 400 * (w - 1.95) ** 2 for w in SSOR] + list(other.values()))
    for _ in range(4):
        for k in range(len(grid)):
            p.update(k, float(truth[k]), None)
    return p, truth


def test_plain_cg_dear_does_not_pull_up_the_largest_omega_when_set_apart():
    p, truth = _taught("span")
    pred = p.predict(None)
    # the SSOR-PCG curve is fitted where it was read, its best ω included
    np.testing.assert_allclose(pred[:8], truth[:8], rtol=0.15)
    assert p.leader(None)[0] == 7 and p.select(None) == 7
    # one step after ω = 1.9, plain CG's 600 bends the curve up there: 1.9 is read at 61
    # four times and predicted at more than twice that, and the learner keeps to ω = 1.8
    old, _ = _taught("step")
    assert old.predict(None)[7] > 2 * truth[7]
    assert old.leader(None)[0] != 7 and old.select(None) != 7


def test_compiled_round_is_the_general_path_bit_for_bit_with_the_families_set_apart():
    from test_onecall import _lockstep, _uniform

    new, old = _lockstep(lambda: default_policy(None, _grid(), seed=0, family_gap="span"),
                         _uniform(0.2, 3.0), steps=150)
    assert new.family_gap == old.family_gap == "span"


def _run(p, rounds=30, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        c = float(rng.uniform(0.2, 1.0))
        k = p.select(c)
        w = bandit.arm_omega(p.arms[k])
        p.update(k, (50 + 300 * ((1.5 if w is None else w) - 1.6) ** 2 + 5 * k) * (1 + c), c)


def test_a_learner_saved_or_pickled_before_the_option_reads_back_one_step_apart(tmp_path):
    old = default_policy(None, _grid(), seed=0, family_gap="step")
    _run(old)
    # a pickle from before the option: no family_gap among its attributes
    del old.__dict__["family_gap"]
    back = pickle.loads(pickle.dumps(old))
    assert back.family_gap == "step"
    np.testing.assert_array_equal(back._X, default_policy(None, _grid(), family_gap="step")._X)
    # a saved state from before the option: no such key in its config
    state = json.loads(json.dumps(old.state_dict()))
    assert state["config"].pop("family_gap") == "step"
    again = Policy.from_state_dict(state)
    assert again.family_gap == "step"
    np.testing.assert_array_equal(again._X, back._X)
    assert [again.select(c) for c in (0.3, 0.7)] == [back.select(c) for c in (0.3, 0.7)]


def test_a_learner_set_apart_reads_back_set_apart(tmp_path):
    p = default_policy(None, _grid(), seed=0, family_gap="span")
    _run(p)
    for back in (pickle.loads(pickle.dumps(p)),
                 Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))):
        assert back.family_gap == "span"
        np.testing.assert_array_equal(back._X, p._X)
        assert back.predict(0.5).tobytes() == p.predict(0.5).tobytes()
    # through a Tuner file
    t = Tuner(default_policy(None, _grid(), seed=0, family_gap="span"), maxiter=500)
    A = gallery.laplacian_2d(6)
    for k in range(3):
        t.solve(A * (1 + k), np.ones(36), context=float(k))
    t.save(tmp_path / "t.json")
    loaded = Tuner.load(tmp_path / "t.json")
    assert loaded.policy.family_gap == "span"
    np.testing.assert_array_equal(loaded.policy._X, t.policy._X)
