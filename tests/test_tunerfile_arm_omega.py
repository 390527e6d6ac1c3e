"""A tuner file whose arm's ω was edited into something that is not a number: ``Tuner.load``
and ``relaxtune plot`` refuse it in one line naming the file and the arm (it had been
float()'s bare TypeError or ValueError, status 1)."""
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
