"""Tuner files written by the code before JointCB's off settings were removed
(``tests/data/jointcb_removed``, see its ``make_files.py``): a file of a default learner, whose
settings of every removed option were at their off values, loads and continues as it did
before the removals (the arms and the model the old code reached, ``expected.json``), bit for
bit as a tuner run from the start; a file saved with a removed option on is refused with an
error naming the option and saying it was removed (:mod:`bandit._joint_removed`)."""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

import bandit
from bandit import Tuner
from bandit._persist import TunerFileError
from solvers import gallery

DATA = Path(__file__).parent / "data" / "jointcb_removed"
EXPECTED = json.loads((DATA / "expected.json").read_text())
GRID = bandit.config_grid([1.0, 1.3, 1.6], ["none", "jacobi"])
A = gallery.laplacian_2d(6)
#: file stem -> the option named in the refusal
REMOVED_ON = {"smear_on": "smear", "family_gap_span_on": "family_gap",
              "noise_scale_standardised_on": "noise_scale", "noise_scale_family_on": "noise_scale",
              "lone_prior_work_on": "lone_prior", "lone_prior_range_on": "lone_prior",
              "lone_arms_offset_on": "lone_arms", "arm_basis_base_on": "arm_basis"}
MAKE = {"config_default": (lambda: bandit.default_policy(None, GRID, seed=0), {"cost": "work"}),
        "omega_default": (lambda: bandit.default_policy("ssor_pcg", [1.0, 1.3, 1.6], seed=0),
                          {"solver": "ssor_pcg"})}


def _run(t, start, n):  # (as make_files.py ran them)
    for k in range(start, start + n):
        t.solve(A, np.ones(36) * (1 + 0.1 * k), context=0.1 * (k % 7))


@pytest.mark.parametrize("name", sorted(MAKE))
def test_a_file_saved_with_the_removed_options_off_continues_as_before(name):
    loaded = Tuner.load(DATA / f"{name}.json")
    _run(loaded, 12, 15)
    want = EXPECTED[name]
    p = loaded.policy
    assert loaded.history["arm"].tolist() == want["arms"]
    assert p.counts.tolist() == want["counts"]
    np.testing.assert_allclose(p.theta, want["theta"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p.sq_err, want["sq_err"], rtol=1e-9)
    # and bit for bit as the same tuner run from the start by today's code
    make, kw = MAKE[name]
    fresh = Tuner(make(), **kw)
    _run(fresh, 0, 27)
    assert fresh.history["arm"].tolist() == want["arms"]
    q = fresh.policy
    assert np.array_equal(p.theta, q.theta) and np.array_equal(p.P, q.P)
    assert p.sq_err == q.sq_err and p.t == q.t
    # a pickle of the loaded learner continues as it does
    r = pickle.loads(pickle.dumps(p))
    assert vars(r).keys() == vars(p).keys()


@pytest.mark.parametrize("stem", sorted(REMOVED_ON))
def test_a_file_saved_with_a_removed_option_on_is_refused_naming_it(stem):
    option = REMOVED_ON[stem]
    with pytest.raises(TunerFileError, match=f"{stem}.json.*{option}=.*removed"):
        Tuner.load(DATA / f"{stem}.json")
    state = json.loads((DATA / f"{stem}.json").read_text())["policy"]
    with pytest.raises(ValueError, match=f"{option}=.*removed"):
        bandit.Policy.from_state_dict(state)


@pytest.mark.parametrize("option", sorted(set(REMOVED_ON.values()) - {"arm_basis"}))
def test_a_removed_setting_is_no_longer_taken(option):
    with pytest.raises(TypeError, match=option):
        bandit.JointCB([1.0, 1.5], **{option: None})


#: what a learner pickled by the code before the removals kept in its ``__dict__`` for each
#: removed setting, off ...
PICKLED_OFF = {"smear": False, "smear_rows": None, "family_gap": "step", "noise_scale": "raw",
               "_own_noise": False, "_arm_family": np.array([0, 0, 0, 1, 2]),
               "_family_sq_err": np.zeros((2, 3)), "lone_prior": "none", "lone_arms": "line"}
#: ... and on
PICKLED_ON = {"smear": {"smear": True, "smear_rows": np.zeros((2, 12))},
              "family_gap": {"family_gap": "span"},
              "noise_scale": {"noise_scale": "family", "_own_noise": True},
              "lone_prior": {"lone_prior": "work", "_work_ratio": np.zeros(5)},
              "lone_arms": {"lone_arms": "offset"}, "arm_basis": {"arm_basis": "base"}}


def _rounds(p, start, n):
    arms = []
    for t in range(start, start + n):
        x = (t * 0.618) % 1.0
        k = p.select(x)
        w = p.arms[k].get("omega", 1.0)
        p.update(k, float((1 + x) * np.exp(2 * (w - 1.3 - 0.2 * x) ** 2) * (1.3 if k >= 3 else 1)),
                 x)
        arms.append(k)
    return arms


def test_a_learner_pickled_with_the_removed_settings_off_continues_bit_for_bit():
    p = bandit.default_policy(None, GRID, context_bounds=(0, 1), seed=0)
    _rounds(p, 0, 30)
    old = pickle.loads(pickle.dumps(p))
    old.__dict__.update(PICKLED_OFF)
    q = pickle.loads(pickle.dumps(old))
    assert not set(PICKLED_OFF) & set(vars(q))
    assert _rounds(q, 30, 40) == _rounds(p, 30, 40)
    assert np.array_equal(q.theta, p.theta) and np.array_equal(q.P, p.P)
    assert q.sq_err == p.sq_err


@pytest.mark.parametrize("option", sorted(PICKLED_ON))
def test_a_learner_pickled_with_a_removed_setting_on_is_refused_naming_it(option):
    p = bandit.default_policy(None, GRID, context_bounds=(0, 1), seed=0)
    _rounds(p, 0, 10)
    p.__dict__.update(PICKLED_ON[option])
    data = pickle.dumps(p)
    with pytest.raises(ValueError, match=f"{option}=.*removed"):
        pickle.loads(data)


def test_a_removed_layout_is_no_longer_taken():
    with pytest.raises(ValueError, match="arm_basis"):
        bandit.JointCB(GRID, arm_basis="base")
