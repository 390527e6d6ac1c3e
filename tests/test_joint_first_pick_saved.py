"""A saved and loaded JointCB picks a rival's first try as the learner saved would have: the
range of contexts the first-pick rule reads the leader's regime over is part of the state.

The sequence sweeps the context up and back down (shifted 2-D Laplacians, the default learner
over ``config_grid()`` with the Tuner's guard, so the try gate is on); the rule moves a first
try to another family once, after the cut.  Before the range was saved, the loaded learner
read a range that started at the load and played another arm from that round on."""
import numpy as np

import bandit
import bandit._joint_first as joint_first
import bandit.joint as joint
from solvers import gallery

ROUNDS, CUT = 120, 40


def _systems():
    rng = np.random.default_rng(4)
    cs = np.concatenate([np.linspace(0.0, 3.0, ROUNDS // 2), np.linspace(3.0, 0.0, ROUNDS // 2)])
    return [(gallery.shifted_laplacian_2d(12, c), rng.standard_normal(144), float(c))
            for c in cs]


def _tuner():
    return bandit.Tuner(bandit.default_policy(None, bandit.config_grid(), seed=3), cost="work")


def _run(tuner, systems):
    for A, b, c in systems:
        tuner.solve(A, b, context=c)


def test_loaded_learner_picks_first_tries_as_saved(tmp_path, monkeypatch):
    moved = []

    def spy(policy, k):
        picked = joint_first.first_pick(policy, k)
        families = policy._gate_fams
        if picked != k and families[picked] != families[policy._mu_of[2]]:
            moved.append(policy.t)  # placed in another family (not kept to the leader's)
        return picked

    monkeypatch.setattr(joint, "first_pick", spy)
    systems = _systems()
    whole = _tuner()
    _run(whole, systems)
    assert moved and min(moved) > CUT  # the rule acts after the cut: the case tests the state
    part = _tuner()
    _run(part, systems[:CUT])
    seen = part.policy.first_seen
    np.testing.assert_array_equal(seen, [0.0, max(c for _, _, c in systems[:CUT])])
    part.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    np.testing.assert_array_equal(loaded.policy.first_seen, seen)
    _run(loaded, systems[CUT:])
    np.testing.assert_array_equal(loaded.history["arm"], whole.history["arm"])


def test_first_seen_refuses_a_wrong_range():
    policy = bandit.default_policy(None, bandit.config_grid(), seed=0)
    assert policy.first_seen is None
    for bad in ([1.0], [2.0, 1.0], [0.0, np.nan]):
        try:
            policy.first_seen = bad
        except ValueError as err:
            assert "first_seen" in str(err)
        else:
            raise AssertionError(f"first_seen accepted {bad!r}")
