"""Tuner files with values that parse but that the policy could not run on are refused."""
import json
import re

import numpy as np
import pytest

import bandit
from bandit import Tuner, TunerFileError
from solvers import gallery


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    t = Tuner(bandit.ChebCB([1.0, 1.5], seed=0), solver="sor", maxiter=200)
    A = gallery.laplacian_2d(4)
    for k in range(4):
        t.solve(A * (1 + k), np.ones(16), context=float(k))
    path = tmp_path_factory.mktemp("f") / "t.json"
    t.save(path)
    return json.loads(path.read_text())


def _load(tmp_path, payload):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(TunerFileError) as info:
        Tuner.load(path)
    assert str(info.value).startswith(f"{path}: ")
    return str(info.value)


def test_an_integer_too_large_for_its_array_is_refused_by_name(tmp_path, saved):
    bad = json.loads(json.dumps(saved))
    bad["policy"]["state"]["counts"]["__ndarray__"][0] = 1e999  # JSON's 1e999 reads as inf
    text = json.dumps(bad).replace("Infinity", "1e999")
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(TunerFileError, match=re.escape(f"{path}: policy state 'counts': "
                                                       "malformed encoded value")):
        Tuner.load(path)


@pytest.mark.parametrize("value", [0.0, -2.0])
def test_a_cost_unit_that_is_not_positive_is_refused(tmp_path, saved, value):
    bad = json.loads(json.dumps(saved))
    bad["policy"]["state"]["unit"] = value
    assert "policy state 'unit' must be a cost > 0" in _load(tmp_path, bad)


def test_a_negative_sum_of_squared_errors_is_refused(tmp_path, saved):
    bad = json.loads(json.dumps(saved))
    bad["policy"]["state"]["sq_err"] = -1.0
    assert "policy state 'sq_err' must be >= 0 (a sum of squares)" in _load(tmp_path, bad)


def test_the_unchanged_file_loads_and_continues(tmp_path, saved):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(saved))
    t = Tuner.load(path)
    assert t.policy.unit > 0 and t.policy.sq_err >= 0
    t.solve(gallery.laplacian_2d(4), np.ones(16), context=1.0)


@pytest.mark.parametrize("change, message", [
    ({"dim": 2}, "policy state 'context_range' has dim 2, but the policy's config has "
                 "context_dim 1"),
    ({"dim": 1e300}, "policy state 'context_range' dim must be null or an integer >= 0"),
    ({"dim": -1}, "policy state 'context_range' dim must be null or an integer >= 0"),
    ({"lo": None}, "policy state 'context_range' lo and hi must be both null or both "
                   "arrays of 1 finite number(s) with lo <= hi"),
    ("swap", "policy state 'context_range' lo and hi must be both null or both arrays of 1 "
             "finite number(s) with lo <= hi"),
    ("drop", "policy state 'context_range' must hold exactly 'dim', 'lo' and 'hi'"),
])
def test_a_context_range_that_does_not_fit_the_policy_is_refused(tmp_path, saved, change,
                                                                  message):
    bad = json.loads(json.dumps(saved))
    cr = bad["policy"]["state"]["context_range"]
    if change == "swap":
        cr["lo"], cr["hi"] = cr["hi"], cr["lo"]
    elif change == "drop":
        del cr["hi"]
    else:
        cr.update(change)
    assert message in _load(tmp_path, bad)
