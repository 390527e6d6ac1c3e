"""``relaxtune tune --resume`` given the saved run's ω again, in another order or repeated:
the run continues with the file's arms, each saved arm index still naming the same ω, and
each new solve's cost checked against SOR solved here with scipy's triangular solves."""
import json

import numpy as np
import pytest
import scipy.io as sio
import scipy.sparse as sp

import bandit
from experiments.cli import main
from test_probe14_tune import laplacian, sor_reference

OMEGAS = [1.2, 1.5, 1.8]


@pytest.fixture
def saved(tmp_path):
    mats = [laplacian(6, s) for s in (0.1, 0.3, 0.5)]
    for k, A in enumerate(mats):
        sio.mmwrite(tmp_path / f"A{k}.mtx", sp.coo_matrix(A))
    out = tmp_path / "first"
    assert main(["tune", str(tmp_path / "A0.mtx"), str(tmp_path / "A1.mtx"), "--solver",
                 "sor", "--omegas", *map(str, OMEGAS), "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    return tmp_path, mats, out / "tuner.json"


@pytest.mark.parametrize("given", [["1.8", "1.5", "1.2"], ["1.5", "1.2", "1.5", "1.8", "1.2"],
                                   ["1.2", "1.2", "1.5", "1.8"]])
def test_resume_with_the_same_omegas_in_another_order(given, saved, capsys):
    # the reordered list had been refused as "saved with other settings" (status 2)
    tmp, mats, path = saved
    before = bandit.Tuner.load(path)
    out = tmp / "second"
    assert main(["tune", str(tmp / "A2.mtx"), "--resume", str(path), "--omegas", *given,
                 "--out", str(out), "--quiet", "--no-plots"]) == 0
    after = bandit.Tuner.load(out / "tuner.json")
    assert list(after.policy.arms) == OMEGAS  # the file's order, not the command line's
    h = after.history
    # every arm index still names its ω, and the saved rounds are unchanged
    assert np.array_equal(h["omega"], np.asarray(OMEGAS)[h["arm"]])
    assert np.array_equal(h["arm"][:2], before.history["arm"])
    # the new solve: the ω it recorded, at the cost SOR pays for that ω from zero
    b = np.ones(mats[2].shape[0])
    its, _ = sor_reference(mats[2], b, float(h["omega"][2]), np.zeros_like(b))
    assert int(h["iterations"][2]) == its
    # the exact table of the new system: every ω of the file, each at SOR's cost for it
    fixed = json.loads((out / "summary.json").read_text())["fixed"]
    assert list(fixed) == [str(w) for w in OMEGAS]
    assert [fixed[str(w)] for w in OMEGAS] == [
        sor_reference(mats[2], b, w, np.zeros_like(b))[0] for w in OMEGAS]


@pytest.mark.parametrize("given, named", [
    (["1.2", "1.5"], "(the file's: 1.2 1.5 1.8; missing: 1.8)"),
    (["1.2", "1.5", "1.8", "1.7"], "(the file's: 1.2 1.5 1.8; not in the file: 1.7)"),
    (["1.2", "1.5", "1.8000000001"], "(the file's: 1.2 1.5 1.8; not in the file: 1.8000000001; "
                                     "missing: 1.8)"),
])
def test_resume_with_other_omegas_names_the_difference(given, named, saved, capsys):
    tmp, _, path = saved
    capsys.readouterr()
    assert main(["tune", str(tmp / "A2.mtx"), "--resume", str(path), "--omegas", *given,
                 "--out", str(tmp / "x"), "--quiet", "--no-plots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0], err


def test_resume_file_that_cannot_be_replaced_is_refused_before_solving(saved, monkeypatch,
                                                                       capsys):
    # a read-only tuner file (or folder) had been found out only after every system and
    # the whole comparison had run: status 1, an empty results folder, the run lost
    tmp, _, path = saved
    monkeypatch.chdir(tmp)
    import experiments.cli_tune as ct
    import experiments.user_files as uf

    real = ct.os.access
    monkeypatch.setattr(ct.os, "access", lambda p, mode: False if str(p) == str(path)
                        else real(p, mode))
    monkeypatch.setattr(uf, "run", lambda *a, **k: pytest.fail("solved before the check"))
    capsys.readouterr()
    assert main(["tune", str(tmp / "A2.mtx"), "--resume", str(path), "--quiet",
                 "--no-plots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"relaxtune: error: --resume {path}: the continued tuner cannot replace it "
                   "(the file is read-only); give --out FOLDER to write it there and keep "
                   "the file"]
    assert not (tmp / "results").exists()


def test_resume_file_lost_at_the_end_keeps_the_run(saved, monkeypatch, capsys):
    # the file became unwritable during the run: the results folder holds the continued
    # tuner (saved before the file is replaced) and the error says where
    tmp, mats, path = saved
    monkeypatch.chdir(tmp)
    before = path.read_bytes()
    real = bandit.Tuner.save

    def save(self, p):
        if str(p) == str(path):
            raise PermissionError(f"cannot save to {p}: the file is read-only")
        return real(self, p)

    monkeypatch.setattr(bandit.Tuner, "save", save)
    capsys.readouterr()
    assert main(["tune", str(tmp / "A2.mtx"), "--resume", str(path), "--quiet",
                 "--no-plots"]) == 1
    err = capsys.readouterr().err
    (out,) = (tmp / "results").iterdir()
    assert f"the continued tuner is {out.relative_to(tmp)}/tuner.json (rerun" in err
    kept = bandit.Tuner.load(out / "tuner.json")
    assert len(kept.history["arm"]) == 3 and (out / "summary.json").is_file()
    b = np.ones(mats[2].shape[0])
    its, _ = sor_reference(mats[2], b, float(kept.history["omega"][2]), np.zeros_like(b))
    assert int(kept.history["iterations"][2]) == its
    assert path.read_bytes() == before
