"""A bad value in the middle of a long history is found and named (column and row).

The loader tests whole columns at once and looks for the first bad row only when a column
fails; these tests put one bad value at row 3 of 50 (every history column, the audit records,
``paid``) and check that the message names that row, that column and the value.
"""
import json
import math
import re

import numpy as np
import pytest

import bandit
from bandit import Tuner, TunerFileError
from bandit._base import from_jsonable, to_jsonable
from solvers import gallery

N, ROW, K, MAXITER = 50, 3, 3, 200
NAN = {"__float__": "nan"}  # how a tuner file writes NaN


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    # three arms, contexts, audits and the work cost: every column and record is written
    t = Tuner(bandit.ChebCB([1.0, 1.3, 1.6], seed=0), solver="sor", maxiter=MAXITER,
              cost="work", audit_budget=0.5, audit_seed=1)
    A = gallery.laplacian_2d(4)
    for k in range(N):
        t.solve(A * (1 + k % 5), np.ones(16), context=float(k % 3))
    path = tmp_path_factory.mktemp("f") / "t.json"
    t.save(path)
    payload = json.loads(path.read_text())
    assert len(payload["rows"]["arm"]) == N and len(payload["paid"]) == N
    assert len(payload["audits"]["records"]["round"]) > ROW + 1  # (audits took place)
    return payload


def _refused(tmp_path, payload):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(TunerFileError) as info:
        Tuner.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


# (column, bad value as written in the file): NaN, a wrong type, out of range
BAD_ROWS = [
    ("arm", NAN), ("arm", "1"), ("arm", K), ("arm", -1), ("arm", 1.0), ("arm", True),
    ("omega", "1.3"), ("omega", None), ("omega", [1.3]),
    ("iterations", NAN), ("iterations", "3"), ("iterations", -1), ("iterations", 2 ** 63),
    ("iterations", 3.0),
    ("seconds", NAN), ("seconds", {"__float__": "inf"}), ("seconds", "0.1"),
    ("seconds", -1e-9),
    ("context", "x"), ("context", []), ("context", [1.0, NAN]), ("context", [1.0, "2"]),
    ("context", None),
    ("converged", 1), ("converged", "true"), ("converged", None), ("converged", NAN),
    ("cost", NAN), ("cost", -1.0), ("cost", "5"), ("cost", {"__float__": "-inf"}),
    ("censored", 0), ("censored", "false"),
    ("fallback_arm", -2), ("fallback_arm", K), ("fallback_arm", NAN), ("fallback_arm", 0.0),
    ("p", 1.5), ("p", -0.1), ("p", "0.5"), ("p", {"__float__": "inf"}),
    ("leader", -2), ("leader", K), ("leader", NAN), ("leader", False),
    ("budget", MAXITER + 1), ("budget", -1), ("budget", NAN), ("budget", "10"),
]


@pytest.mark.parametrize("column, value", BAD_ROWS)
def test_a_bad_history_value_at_row_3_of_50_is_named(tmp_path, saved, column, value):
    bad = json.loads(json.dumps(saved))
    bad["rows"][column][ROW] = value
    message = _refused(tmp_path, bad)
    got = repr(from_jsonable(value))
    assert re.fullmatch(rf"rows\.{column}\[{ROW}\] must be .+, got {re.escape(got)}", message), \
        message


def test_an_omega_that_is_not_its_arms_at_row_3_is_named(tmp_path, saved):
    bad = json.loads(json.dumps(saved))
    arm = bad["rows"]["arm"][ROW]
    bad["rows"]["omega"][ROW] = 9.0
    omega = [1.0, 1.3, 1.6][arm]
    assert _refused(tmp_path, bad) == \
        f"rows.omega[{ROW}] = 9.0 is not the ω of arm {arm} ({omega!r})"


def test_the_first_of_two_bad_rows_is_named(tmp_path, saved):
    bad = json.loads(json.dumps(saved))
    bad["rows"]["cost"][40] = -2.0
    bad["rows"]["cost"][ROW] = -1.0
    assert _refused(tmp_path, bad) == f"rows.cost[{ROW}] must be a finite number >= 0, got -1.0"


def test_a_column_one_row_short_is_named(tmp_path, saved):
    bad = json.loads(json.dumps(saved))
    del bad["rows"]["leader"][ROW]
    assert _refused(tmp_path, bad) == (f"rows columns have unequal lengths: 'arm' has {N}, "
                                       f"'leader' has {N - 1}")


@pytest.mark.parametrize("value", [NAN, -1.0, "1.0", None])
def test_a_bad_paid_value_at_row_3_is_named(tmp_path, saved, value):
    bad = json.loads(json.dumps(saved))
    bad["paid"][ROW] = value
    assert _refused(tmp_path, bad) == (f"paid[{ROW}] must be a finite number >= 0, got "
                                       f"{from_jsonable(value)!r}")


BAD_RECORDS = [
    ("round", N), ("round", -1), ("round", 1.0), ("arm", K), ("arm", NAN), ("row", 1),
    ("value", NAN), ("value", -1.0), ("iterations", 2 ** 63), ("iterations", "1"),
    ("seconds", {"__float__": "inf"}), ("converged", None), ("budget", -1), ("cap", 2.5),
    ("p", 1.01), ("p", "nan"),
]


@pytest.mark.parametrize("column, value", BAD_RECORDS)
def test_a_bad_audit_record_at_row_3_is_named(tmp_path, saved, column, value):
    bad = json.loads(json.dumps(saved))
    bad["audits"]["records"][column][ROW] = value
    message = _refused(tmp_path, bad)
    got = repr(from_jsonable(value))
    assert re.fullmatch(rf"audits\.records\.{column}\[{ROW}\] must be .+, got "
                        rf"{re.escape(got)}", message), message


def test_the_unchanged_file_loads_with_its_history(tmp_path, saved):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(saved))
    t = Tuner.load(path)
    h = t.history
    assert h["arm"].tolist() == saved["rows"]["arm"]
    assert h["iterations"].tolist() == saved["rows"]["iterations"]


@pytest.mark.parametrize("values", [
    [1.0, 2, math.nan, 3.5, math.inf, -math.inf, 0],
    [True, None, "a", 1, 2.0],
    [10 ** 400, 1.0, math.nan],  # an integer beyond the float range, kept as it is
    [np.float64(math.nan), 1.0],  # a numpy scalar
    (1.0, math.nan),
    [],
])
def test_to_jsonable_tags_each_non_finite_float_of_a_list(values):
    expect = [{"__float__": repr(float(v))} if isinstance(v, float) and not math.isfinite(v)
              else v.item() if isinstance(v, np.generic) else v for v in values]
    out = to_jsonable(values)
    assert out == expect and type(out) is list
    back = from_jsonable(json.loads(json.dumps(out)))
    assert [repr(v) for v in back] == [repr(float(v)) if isinstance(v, np.generic) else repr(v)
                                       for v in values]
