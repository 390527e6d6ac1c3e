"""Two Tuners made with one policy object: the later one holds the learner, and the earlier
one refuses to solve, before anything changes.  They had shared it without a word: one
learner told both sequences' costs (each tuner's choices following the other's systems) and
a state that matched neither history."""
import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery

A1 = gallery.laplacian_2d(10).tocsr()
A2 = (A1 + 4 * sp.eye(100)).tocsr()
B = np.ones(100)


def test_the_earlier_tuner_refuses_and_nothing_changes():
    p = bandit.default_policy("sor", seed=0)
    t1 = bandit.Tuner(p, solver="sor")
    assert t1.solve(A1, B).converged
    t2 = bandit.Tuner(p, solver="sor")
    state = pickle.dumps(p.state_dict())
    with pytest.raises(RuntimeError, match=r"^this Tuner's policy \(the JointCB object it was "
                                           r"made with\) has since been given to another "
                                           r"Tuner, which holds it now"):
        t1.solve(A1, B)
    assert pickle.dumps(p.state_dict()) == state and len(t1.history["arm"]) == 1
    # the later tuner solves, and its learner was told its own rounds only (and t1's one)
    for _ in range(3):
        assert t2.solve(A2, B).converged
    assert p.t == 1 + 3 and len(t2.history["arm"]) == 3


def test_a_learner_of_its_own_each_is_independent():
    p = bandit.default_policy("sor", seed=0)
    t1 = bandit.Tuner(p, solver="sor")
    t2 = bandit.Tuner(copy.deepcopy(p), solver="sor")
    for _ in range(3):
        t1.solve(A1, B)
        t2.solve(A2, B)
    assert t1.policy.t == t2.policy.t == 3
    # the same learner alone on A2 makes t2's choices: nothing of A1 reached it
    alone = bandit.Tuner(bandit.default_policy("sor", seed=0), solver="sor")
    for _ in range(3):
        alone.solve(A2, B)
    assert list(alone.history["arm"]) == list(t2.history["arm"])


def test_continuing_a_loaded_learner_with_other_settings_still_works(tmp_path):
    t = bandit.Tuner(solver="sor", seed=0)
    t.solve(A1, B)
    t.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    again = bandit.Tuner(loaded.policy, solver="sor", rtol=1e-6)  # the documented way
    assert again.solve(A1, B).converged and again.policy.t == 2


def test_copies_and_pickles_hold_their_own_policy():
    t = bandit.Tuner(solver="sor", seed=0)
    t.solve(A1, B)
    for other in (copy.deepcopy(t), copy.copy(t), pickle.loads(pickle.dumps(t))):
        assert other.policy is not t.policy
        assert other.solve(A1, B).converged
    assert t.solve(A1, B).converged  # the original keeps its own


def test_a_learner_that_replaces_its_attributes_stays_its_tuners():
    # JointCB.retell and every MPI rank's copy of rank 0's learner replace the policy's
    # attributes wholesale: the tuner holding it still solves
    t = bandit.Tuner(solver="sor", seed=0)
    t.solve(A1, B)
    state = copy.deepcopy(vars(t.policy))
    vars(t.policy).clear()
    vars(t.policy).update(state)
    assert t.solve(A1, B).converged and t.policy.t == 2
