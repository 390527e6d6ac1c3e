"""An encoded array in a tuner file (or a policy state) whose entries are not of its dtype's
JSON type is refused naming the entry: ``true`` in a float array had loaded as 1.0, ``1.5``
in an integer array as 1, ``2`` in a boolean array as true, and ``"1.5"`` as 1.5."""
import json

import numpy as np
import pytest

import bandit
from bandit._jsonable import from_jsonable, to_jsonable
from solvers import gallery


@pytest.mark.parametrize("dtype, values, entry, bad", [
    ("float64", [1.0, True], [1], "True"),
    ("float64", [[1.0, 2.0], [3.0, "4.5"]], [1, 1], "'4.5'"),
    ("int64", [1, 1.5], [1], "1.5"),
    ("int64", [[0, False]], [0, 1], "False"),
    ("uint32", [None], [0], "None"),
    ("bool", [True, 2], [1], "2"),
])
def test_an_entry_of_another_type_is_refused_by_entry(dtype, values, entry, bad):
    kind = {"f": "a number", "i": "an integer", "u": "an integer", "b": "true or false"}
    encoded = {"__ndarray__": values, "dtype": dtype, "shape": list(np.shape(values))}
    with pytest.raises(ValueError) as err:
        from_jsonable(encoded)
    assert str(err.value) == (f"entry {entry} of a {dtype} array is {bad}, not "
                              f"{kind[np.dtype(dtype).kind]}")


def test_encoded_arrays_of_every_kind_still_round_trip():
    arrays = [np.array([1.0, np.nan, -np.inf, 2]), np.arange(6).reshape(2, 3),
              np.array([True, False]), np.zeros((0, 3)), np.array([2**63], dtype=np.uint64),
              np.array([[1.5, np.inf]], dtype=np.float32)]
    for a in arrays:
        back = from_jsonable(json.loads(json.dumps(to_jsonable(a))))
        assert back.dtype == a.dtype and back.shape == a.shape
        np.testing.assert_array_equal(back, a)


def test_a_tuner_file_with_true_in_a_float_array_is_refused(tmp_path):
    A = gallery.laplacian_2d(8)
    tuner = bandit.Tuner(solver="sor", seed=0)
    for i in range(3):
        tuner.solve(A, np.ones(64) + i)
    path = tmp_path / "t.json"
    tuner.save(path)
    data = json.loads(path.read_text())
    sums = data["policy"]["state"]["cost_sums"]
    assert sums["dtype"] == "float64"
    sums["__ndarray__"][0] = True
    path.write_text(json.dumps(data))
    with pytest.raises(bandit.TunerFileError) as err:
        bandit.Tuner.load(path)
    assert str(err.value) == (f"{path}: policy state 'cost_sums': malformed encoded value "
                              f"(entry [0] of a float64 array is True, not a number)")
