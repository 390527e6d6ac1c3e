"""Saved tuner files edited by hand: what ``save`` writes, ``load`` reads, and what ``load``
refuses it refuses before the first solve."""
import json

import numpy as np
import pytest

import bandit
from bandit._persist import TunerFileError
from solvers import gallery

A = gallery.laplacian_2d(8)


def _saved_run(path, **kw):
    tuner = bandit.Tuner(solver="sor", audit_budget=0.05, audit_seed=0, **kw)
    rng = np.random.default_rng(0)
    for t in range(6):
        tuner.solve(A * (1 + 0.05 * t), rng.standard_normal(64))
    tuner.save(path)
    return json.loads(path.read_text())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow this is about
@pytest.mark.parametrize("key", ["theta", "P", "prior_proj"])
@pytest.mark.parametrize("value", [1e308, -1e308])
def test_save_never_writes_a_file_that_load_refuses(tmp_path, key, value):
    # A finite number near the float range in the default learner's model (a hand edit)
    # loads, and the run turns the model non-finite.  Before: save wrote it anyway and
    # Tuner.load then refused the file ("policy state 'theta' has a non-finite entry nan").
    # Now save runs the loader's checks on what it would write: a state load would refuse
    # is not written, and a file already there is kept
    raw = _saved_run(tmp_path / "run.json")
    entry = raw["policy"]["state"][key]
    entry["__ndarray__"] = np.full(entry["shape"], value).tolist()
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(raw))
    tuner = bandit.Tuner.load(edited)
    rng = np.random.default_rng(1)
    for t in range(4):
        res = tuner.solve(A * (1 + 0.03 * t), rng.standard_normal(64))
        assert res.converged  # the guard keeps the solves sound whatever the model says
    out = tmp_path / "continued.json"
    out.write_text("the previous file")
    try:
        tuner.save(out)
    except ValueError as exc:
        assert "Tuner.load would refuse" in str(exc) and "non-finite" in str(exc)
        assert out.read_text() == "the previous file"  # nothing was written
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    else:  # whatever save writes, load reads
        bandit.Tuner.load(out)


def test_a_sound_state_saves_exactly_as_before(tmp_path):
    # the check reads the bytes it writes; the file is the state's JSON, byte for byte
    from bandit._base import to_jsonable

    _saved_run(tmp_path / "run.json")
    tuner = bandit.Tuner.load(tmp_path / "run.json")
    tuner.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "run.json").read_bytes()
    payload = json.loads((tmp_path / "run.json").read_text())
    assert (json.dumps(to_jsonable(payload), allow_nan=False) + "\n").encode() == \
        (tmp_path / "run.json").read_bytes()


def test_auto_context_null_is_refused_at_load(tmp_path):
    # save writes the key only for a tuner with automatic contexts.  Before: a null (a hand
    # edit, meant to switch them off) loaded, and the first solve failed with "JointCB is
    # contextual since its first round ...: pass context=..."
    raw = _saved_run(tmp_path / "run.json", auto_context="spectral")
    assert raw["config"]["auto_context"] == "spectral"
    raw["config"]["auto_context"] = None
    (tmp_path / "edited.json").write_text(json.dumps(raw))
    with pytest.raises(TunerFileError, match=r"edited.json: config.auto_context must be a "
                                             r"string \('spectral'.*got NoneType None"):
        bandit.Tuner.load(tmp_path / "edited.json")
    # unedited, it loads and continues with its automatic contexts
    tuner = bandit.Tuner.load(tmp_path / "run.json")
    res = tuner.solve(A, np.ones(64))
    assert res.converged and 0 < res.info["auto_context"] < 2
