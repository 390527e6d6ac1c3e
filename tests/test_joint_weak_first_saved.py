"""A saved and loaded Tuner whose JointCB has ``weak_first`` on continues exactly as the run
that was not interrupted: the option is part of the saved configuration, and the rule's own
record (whether a weaker family is left) follows from the rounds' counts, which are saved.

The sequence sweeps the shift of a 2-D Laplacian up and back down (the default learner over
``config_grid()`` with the Tuner's guard, so the try gate is on); the rule moves a round to a
weaker family than the leader's after the cut.  A file that did not keep the option loads a
learner that never tries plain CG there, and its arms differ from the cut on."""
import numpy as np

import bandit
import bandit._joint_weak as joint_weak
import bandit.joint as joint
from solvers import gallery

ROUNDS, CUT = 60, 2


def _systems():
    rng = np.random.default_rng(4)
    cs = np.concatenate([np.linspace(0.0, 3.0, ROUNDS // 2), np.linspace(3.0, 0.0, ROUNDS // 2)])
    return [(gallery.shifted_laplacian_2d(12, c), rng.standard_normal(144), float(c))
            for c in cs]


def _tuner():
    policy = bandit.default_policy(None, bandit.config_grid(), seed=3)
    policy.weak_first = True
    return bandit.Tuner(policy, cost="work")


def _run(tuner, systems):
    for A, b, c in systems:
        tuner.solve(A, b, context=c)


def test_loaded_learner_continues_as_the_whole_run(tmp_path, monkeypatch):
    moved = []

    def spy(policy, k, context):
        picked = joint_weak.weak_first(policy, k, context)
        if picked != k:
            moved.append(policy.t)
        return picked

    monkeypatch.setattr(joint, "weak_first", spy)
    systems = _systems()
    whole = _tuner()
    _run(whole, systems)
    assert moved and min(moved) >= CUT  # the rule acts after the cut: the case tests the state
    part = _tuner()
    _run(part, systems[:CUT])
    part.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    assert loaded.policy.weak_first is True
    _run(loaded, systems[CUT:])
    np.testing.assert_array_equal(loaded.history["arm"], whole.history["arm"])


def test_weak_first_refuses_a_non_bool_and_is_saved_only_when_on():
    grid = bandit.config_grid()
    try:
        bandit.JointCB(grid, weak_first="yes")
    except ValueError as e:
        assert "weak_first must be True or False" in str(e)
    else:
        raise AssertionError("weak_first='yes' was taken")
    assert "weak_first" not in bandit.JointCB(grid)._config()
    assert bandit.JointCB(grid, weak_first=True)._config()["weak_first"] is True
