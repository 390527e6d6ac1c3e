"""JointCB options measured, left off and removed (``gate_losses``, ``first_try_run``,
``context_retries``, ``paired_first``, ``reread_reference``; :mod:`bandit._joint_removed`): a
learner saved with one of them off — a tuner file's policy config ``"gate_losses": false``, or
a pickle whose ``__dict__`` holds the attributes the old code kept (``_gate_losses``,
``_first_run``, ...) at off — loads and continues bit for bit as the learner saved without
them; one saved with it on is refused with a ``ValueError`` naming the option, and setting one
on a learner is refused the same way."""
import json
import pickle

import numpy as np
import pytest

import bandit
from bandit import Tuner
from bandit._persist import TunerFileError
from bandit._tunerfile import check_policy_state
from bandit.smooth import family_positions
from solvers import gallery

GRID = bandit.config_grid([1.0, 1.3, 1.6], ["jacobi"])
REMOVED = ("gate_losses", "first_try_run", "context_retries", "paired_first",
           "reread_reference")
# what the code before the removal left in a pickled learner's __dict__ with each option off
OLD_OFF = {"_gate_losses": False, "_first_run": False, "paired_first": False,
           "reread_reference": False}
# ... and with each on (with its scratch state)
OLD_ON = {"gate_losses": {"_gate_losses": True, "_lost_tries": np.zeros(4)},
          "first_try_run": {"_first_try_run": True, "_first_run": True},
          "context_retries": {"context_retries": True, "_retry_state": {"rounds": {}}},
          "paired_first": {"paired_first": True, "_paired_recent": [(0, 0.1)],
                           "_paired_fams": [0, 0, 0, 1], "_paired_played": {0},
                           "_paired_t": 9},
          "reread_reference": {"reread_reference": True, "_reread_state": {"alone": 3}}}


def _cost(k, x):
    arm = GRID[k]
    w = arm.get("omega", 1.0)
    return float((1.0 + x) * np.exp(2.0 * (w - 1.3 - 0.2 * x) ** 2) * (1.3 if k >= 3 else 1.0))


def _run(p, start, rounds):
    arms = []
    for t in range(start, start + rounds):
        x = (t * 0.618) % 1.0
        k = p.select(x)
        p.update(k, _cost(k, x), x, censored=t % 11 == 10)
        arms.append(k)
    return arms


def _gated(p):
    """``p`` with the try gate's families and allowances, as a guarded Tuner gives them."""
    p.gate_tries((family_positions(p.arms)[0], np.array([1.5, 1.0])))
    return p


def _learner():
    return _gated(bandit.default_policy(None, GRID, context_bounds=(0, 1), seed=0))


def _same(p, q):
    return (np.array_equal(p.theta, q.theta) and np.array_equal(p.P, q.P)
            and p.sq_err == q.sq_err and np.array_equal(p.counts, q.counts))


def test_a_state_saved_with_gate_losses_off_loads_and_continues_bit_for_bit():
    p = _learner()
    _run(p, 0, 30)
    state = p.state_dict()
    assert "gate_losses" not in state["config"]  # never written off
    state["config"]["gate_losses"] = False  # as a file written by hand, or kept off explicitly
    loaded = [_gated(load(state)) for load in (bandit.Policy.from_state_dict,
                                                check_policy_state)]
    arms = _run(p, 30, 40)
    for q in loaded:
        assert not q.gate_losses and "gate_losses" not in q._config()
        assert _run(q, 30, 40) == arms and _same(q, p)


def test_a_state_saved_with_gate_losses_on_is_refused_naming_it():
    p = _learner()
    _run(p, 0, 10)
    state = p.state_dict()
    state["config"]["gate_losses"] = True  # what the code before the removal wrote when on
    for load in (bandit.Policy.from_state_dict, check_policy_state):
        with pytest.raises(ValueError, match="gate_losses=True.*removed"):
            load(state)


def test_a_tuner_file_saved_with_gate_losses_on_is_refused_naming_it(tmp_path):
    A = gallery.laplacian_2d(6)
    t = Tuner(bandit.default_policy(None, GRID, seed=0), cost="work")
    for k in range(4):
        t.solve(A, np.ones(36), context=0.1 * k)
    t.save(tmp_path / "off.json")
    data = json.loads((tmp_path / "off.json").read_text())
    data["policy"]["config"]["gate_losses"] = False
    (tmp_path / "off.json").write_text(json.dumps(data))
    u = Tuner.load(tmp_path / "off.json")
    for tuner in (t, u):
        for k in range(4, 10):
            tuner.solve(A, np.ones(36), context=0.1 * k)
    assert t.history["arm"].tolist() == u.history["arm"].tolist()
    assert _same(t.policy, u.policy)
    data["policy"]["config"]["gate_losses"] = True
    (tmp_path / "on.json").write_text(json.dumps(data))
    with pytest.raises(TunerFileError, match="on.json.*gate_losses=True.*removed"):
        Tuner.load(tmp_path / "on.json")


def test_a_learner_pickled_with_the_options_off_loads_and_continues_bit_for_bit():
    p = _learner()
    _run(p, 0, 30)
    old = pickle.loads(pickle.dumps(p))
    old.__dict__.update(OLD_OFF)  # the attributes the code before the removal kept
    q = pickle.loads(pickle.dumps(old))
    assert not set(OLD_OFF) & set(vars(q))
    assert _run(q, 30, 40) == _run(p, 30, 40) and _same(q, p)


@pytest.mark.parametrize("option", REMOVED)
def test_a_learner_pickled_with_an_option_on_is_refused_naming_it(option):
    p = _learner()
    _run(p, 0, 10)
    p.__dict__.update(OLD_ON[option])
    data = pickle.dumps(p)
    with pytest.raises(ValueError, match=f"{option}=True.*removed"):
        pickle.loads(data)


@pytest.mark.parametrize("option", REMOVED)
def test_a_removed_option_reads_off_and_refuses_on(option):
    p = _learner()
    assert getattr(p, option) is False
    setattr(p, option, False)  # (a script that switched it off explicitly still runs)
    with pytest.raises(ValueError, match=f"JointCB.{option}.*removed"):
        setattr(p, option, True)
    assert getattr(p, option) is False
    with pytest.raises(TypeError, match="gate_losses"):
        bandit.JointCB([1.0, 1.5], gate_losses=False)
