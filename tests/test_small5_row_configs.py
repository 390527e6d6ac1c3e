"""What each solve ran is in every row of a saved run: the tuner file's ``row_configs`` (the
chosen arm's label, method and preconditioner, one string per row) and the history's and
CSV's ``method`` and ``pc`` columns, read back without the arm list; files written before
them (no ``row_configs``; a CSV without the two columns) still load, and a row whose saved
configuration is not its arm's is refused."""
import csv
import json

import numpy as np
import pytest

import bandit
from bandit import FixedArm, Tuner
from bandit._persist import TunerFileError
from bandit.arms import parse_arm
from bandit.report import read_csv
from solvers import gallery

ARMS = [{"method": "ssor_pcg", "omega": 1.4},
        {"method": "cg", "pc": "amg", "reuse": 3, "cycle": "W"},
        {"method": "cg", "pc": "jacobi"}, {"method": "sor", "omega": 1.5},
        {"method": "cg", "pc": "ic0"}]
# what each arm is, written from the arm dicts above (not from the library's labels)
METHOD = ["ssor_pcg", "cg", "cg", "sor", "cg"]
PC = ["ssor", "amg", "jacobi", "", "ic0"]


def _run(tmp_path, arms=ARMS, solver="ssor_pcg", T=8):
    t = Tuner(bandit.UniformRandom(arms, seed=3), solver=solver)
    A = gallery.laplacian_2d(8)
    for i in range(T):
        t.solve(A * (1.0 + 0.01 * i), np.ones(64))
    path = tmp_path / "t.json"
    t.save(path)
    return t, path


def test_a_saved_row_says_which_configuration_ran(tmp_path):
    t, path = _run(tmp_path)
    data = json.loads(path.read_text())
    played = data["rows"]["arm"]
    assert len(set(played)) >= 4  # most arms were played
    rc = data["row_configs"]
    assert rc["method"] == [METHOD[a] for a in played]
    assert rc["pc"] == [PC[a] for a in played]
    assert rc["label"] == [parse_arm(ARMS[a]).label for a in played]
    assert "cg+amg(cycle=W) reuse=3" in rc["label"]  # knobs and reuse in the label
    # the same in the history, its CSV, and a loaded tuner's history
    for h in (t.history, Tuner.load(path).history):
        assert h["method"].tolist() == rc["method"] and h["pc"].tolist() == rc["pc"]
        assert h["label"].tolist() == rc["label"]
    t.to_csv(tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["method"] for r in rows] == rc["method"] and [r["pc"] for r in rows] == rc["pc"]
    back = read_csv(tmp_path / "h.csv")
    assert back["method"].tolist() == rc["method"] and back["pc"].tolist() == rc["pc"]


def test_omega_arms_say_the_tuners_solver(tmp_path):
    t, path = _run(tmp_path, arms=[1.2, 1.5], solver="sor", T=3)
    rc = json.loads(path.read_text())["row_configs"]
    assert rc["method"] == ["sor"] * 3 and rc["pc"] == [""] * 3
    assert set(rc["label"]) <= {"1.2", "1.5"}


def test_files_written_before_the_fields_still_load(tmp_path):
    t, path = _run(tmp_path, T=4)
    data = json.loads(path.read_text())
    del data["row_configs"]  # a tuner file of an earlier version of the library
    path.write_text(json.dumps(data))
    h = Tuner.load(path).history
    assert h["method"].tolist() == [METHOD[a] for a in data["rows"]["arm"]]
    # a CSV written before the two columns: read with '' (unknown) there
    t.to_csv(tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    keep = [i for i, name in enumerate(rows[0]) if name not in ("method", "pc")]
    with open(tmp_path / "old.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([[r[i] for i in keep] for r in rows])
    old = read_csv(tmp_path / "old.csv")
    assert old["method"].tolist() == [""] * 4 and old["pc"].tolist() == [""] * 4
    assert old["arm"].tolist() == t.history["arm"].tolist()


@pytest.mark.parametrize("edit, match", [
    (lambda rc: rc["method"].__setitem__(1, "gmres"), r"row_configs\.method\[1\] = 'gmres', "
                                                      r"but row 1 ran arm \d, whose method is"),
    (lambda rc: rc["label"].pop(), r"row_configs\.label must be a list of one string per row"),
    (lambda rc: rc.pop("pc"), "row_configs must hold exactly 'label', 'method', 'pc'"),
    (lambda rc: rc["pc"].__setitem__(0, 7), r"row_configs\.pc must be a list of one string"),
])
def test_a_row_saying_another_configuration_is_refused(tmp_path, edit, match):
    t, path = _run(tmp_path, T=4)
    data = json.loads(path.read_text())
    edit(data["row_configs"])
    path.write_text(json.dumps(data))
    with pytest.raises(TunerFileError, match=match):
        Tuner.load(path)


def test_a_fixed_arm_tuner_file_round_trips(tmp_path):
    # every arm kind once, FixedArm cycling through them by hand
    p = FixedArm(ARMS, arm=0)
    t = Tuner(p)
    A = gallery.laplacian_2d(8)
    for k in range(len(ARMS)):
        p.arm = k
        t.solve(A * (1.0 + 0.01 * k), np.ones(64))
    t.save(tmp_path / "f.json")
    rc = json.loads((tmp_path / "f.json").read_text())["row_configs"]
    assert rc["method"] == METHOD and rc["pc"] == PC
    assert Tuner.load(tmp_path / "f.json").history["pc"].tolist() == PC
