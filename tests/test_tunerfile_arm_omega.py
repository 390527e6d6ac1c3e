"""A tuner file whose arm's ω, or a learner entry a fresh learner has not set, was edited into
something that is not a number: ``Tuner.load`` and ``relaxtune plot`` refuse it in one line
naming the file and the entry (it had been float()'s bare TypeError or ValueError, status 1,
or a load that succeeded and a next solve that failed)."""
import json

import numpy as np
import pytest

import bandit
from experiments.cli import main
from solvers import gallery


@pytest.mark.parametrize("value", [None, "x", [1.2]])
def test_a_tuner_file_whose_arm_omega_is_not_a_number_is_refused(tmp_path, capsys, value):
    t = bandit.Tuner(bandit.UniformRandom([{"method": "cg", "pc": "jacobi"},
                                           {"method": "ssor_pcg", "omega": 1.3}], seed=0))
    for i in range(2):
        t.solve(gallery.shifted_laplacian_2d(4, 0.1 * (i + 1)), np.ones(16))
    path = tmp_path / "tuner.json"
    t.save(path)
    payload = json.loads(path.read_text())
    payload["policy"]["arms"][1]["omega"] = value
    path.write_text(json.dumps(payload))
    # had been float()'s bare TypeError or ValueError, naming neither the file nor the arm
    with pytest.raises(bandit.TunerFileError, match=r"tuner\.json: policy arm 1 .*its ω is "
                                                    r"not a number"):
        bandit.Tuner.load(path)
    assert main(["plot", str(path), "--out", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "policy arm 1" in err
    assert not (tmp_path / "figs").exists()


@pytest.mark.parametrize("value", ["x", {"a": 1}, [["x"]], True])
def test_a_learner_entry_not_set_at_construction_must_hold_numbers(tmp_path, value):
    """JointCB's prior entries are unset (None) in a fresh learner: whatever the file held
    there had loaded, and the next solve failed with a TypeError."""
    t = bandit.Tuner(solver="sor")  # the default learner, primed from the first matrix
    for i in range(3):
        t.solve(gallery.shifted_laplacian_2d(5, 0.1 * (i + 1)), np.ones(25), context=[i, 1.0])
    path = tmp_path / "tuner.json"
    t.save(path)
    payload = json.loads(path.read_text())
    assert "__ndarray__" in payload["policy"]["state"]["prior_proj"]  # (set: the prior)
    payload["policy"]["state"]["prior_proj"] = value
    path.write_text(json.dumps(payload))
    with pytest.raises(bandit.TunerFileError, match="policy state 'prior_proj' must be null, "
                                                    "a number or an array of numbers"):
        bandit.Tuner.load(path)
    t.save(path)  # the file as saved loads, and continues
    loaded = bandit.Tuner.load(path)
    loaded.solve(gallery.shifted_laplacian_2d(5, 0.4), np.ones(25), context=[3, 1.0])
    assert len(loaded.history["arm"]) == 4
