"""Tuner files with an entry of the wrong JSON type where Python would take it as a number:
``0.5`` or ``true`` in a random generator's state (numpy truncates them: the tuner had loaded
with another generator, so other choices than the run saved), ``true`` for a learner's numeric
setting (``beta``, ``context_dim``: taken as 1) or for the policy state's version.  Each is a
``TunerFileError`` naming the entry; the file as saved loads and draws the same numbers."""
import json

import numpy as np
import pytest

import bandit
from solvers import gallery

OMEGAS = [1.0, 1.3, 1.5, 1.7, 1.9]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A ChebCB tuner with audits after 8 solves (its file's payload), and its next choices."""
    rng = np.random.default_rng(0)
    tuner = bandit.Tuner(bandit.ChebCB(OMEGAS, context_bounds=(0.0, 0.4), seed=1),
                         solver="sor", audit_budget=1.0, audit_seed=0)
    for c in rng.uniform(0.0, 0.4, 8):
        tuner.solve(gallery.shifted_laplacian_2d(6, c), np.ones(36), context=c)
    path = tmp_path_factory.mktemp("saved") / "tuner.json"
    tuner.save(path)
    return json.loads(path.read_text())


def _write(tmp_path, payload, where, value):
    data = json.loads(json.dumps(payload))
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("part", ["policy", "audits"])
@pytest.mark.parametrize("where, value, message", [
    (("state", "state"), 0.5, ".state.state must be an integer, got float 0.5"),
    (("state", "inc"), True, ".state.inc must be an integer, got bool True"),
    (("has_uint32",), True, ".has_uint32 must be an integer, got bool True"),
    (("has_uint32",), 7, "has_uint32 must be 0 or 1, got 7"),
    (("has_uint32",), -1, "has_uint32 must be 0 or 1, got -1"),
    (("uinteger",), 0.5, ".uinteger must be an integer, got float 0.5"),
])
def test_a_generator_state_of_the_wrong_type_is_refused(saved, tmp_path, part, where, value,
                                                         message):
    path = _write(tmp_path, saved, (part, "rng", *where), value)
    with pytest.raises(bandit.TunerFileError) as err:
        bandit.Tuner.load(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text
    assert ("policy rng" if part == "policy" else "audits.rng") in text


def test_numpy_truncates_what_the_file_had_loaded():
    """Why the check: numpy itself takes these states and reads back other numbers."""
    bg = np.random.PCG64(1)
    state = bg.state
    state["state"]["state"] = 0.5
    bg.state = state
    assert bg.state["state"]["state"] == 0


@pytest.mark.parametrize("key, value, message", [
    # (the constructors refuse a bool where a number is meant, before the file's own check)
    ("beta", True, "policy config of ChebCB: beta must be a number, got True"),
    ("gamma_exponent", False, "gamma_exponent must be a number, got False"),
    ("context_dim", True, "context_dim must be a non-negative integer, got True"),
])
def test_a_flag_where_a_setting_is_a_number_is_refused(saved, tmp_path, key, value, message):
    path = _write(tmp_path, saved, ("policy", "config", key), value)
    with pytest.raises(bandit.TunerFileError) as err:
        bandit.Tuner.load(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_a_flag_for_the_state_version_is_refused(saved, tmp_path):
    path = _write(tmp_path, saved, ("policy", "version"), True)
    with pytest.raises(bandit.TunerFileError, match="policy state version True is not"):
        bandit.Tuner.load(path)


def test_the_file_as_saved_loads_with_the_same_generators(saved, tmp_path):
    path = _write(tmp_path, saved, ("format",), saved["format"])
    tuner = bandit.Tuner.load(path)
    for part, gen in (("policy", tuner.policy.rng), ("audits", tuner._auditor.rng)):
        state = saved[part]["rng"]
        fresh = np.random.Generator(np.random.PCG64())
        fresh.bit_generator.state = state
        np.testing.assert_array_equal(gen.bit_generator.state["state"]["state"],
                                      state["state"]["state"])
        assert gen.random() == fresh.random()
