"""``relaxtune tune --contexts FILE`` whose contexts the learner refuses — a vector too long
for its model, or of another length than the resumed tuner's — is refused naming the
contexts file, before anything is solved or written (the refusal had come from the first
solve and named the first matrix file: ``relaxtune: error: A0.mtx: context must have 1
entry, got 2``)."""
import functools

import numpy as np
import pytest

import test_probe19_cli
from test_probe19_cli import _in_tmp  # noqa: F401  (autouse: each test in its tmp_path)

# three Matrix Market files of shifted 2-D Laplacians, as the other tune tests write them
_systems = functools.partial(test_probe19_cli._systems, count=3)


def _tune(argv):
    from experiments.cli import main

    return main(["tune", *argv, "--omegas", "1.0", "1.3", "1.6", "--no-plots", "--quiet"])


def _contexts(path, width, count=3):
    np.savetxt(path, np.random.default_rng(0).random((count, width)))
    return str(path)


@pytest.mark.parametrize("learner, width, words", [
    ("default", 40, "a context of 40 numbers needs"),
    ("tsallis_inf_cb", 12, "a context of 12 numbers needs"),
])
def test_contexts_too_long_for_the_learner_name_the_contexts_file(tmp_path, capsys, learner,
                                                                  width, words):
    mats = _systems(tmp_path)
    ctx = _contexts(tmp_path / "ctx.txt", width)
    out = tmp_path / "run"
    assert _tune([*mats, "--contexts", ctx, "--learner", learner, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"relaxtune: error: {ctx}: ") and words in err
    assert "A0.mtx" not in err and not out.exists()


def test_contexts_of_another_length_than_the_resumed_tuners(tmp_path, capsys):
    mats = _systems(tmp_path)
    first = tmp_path / "first"
    assert _tune([*mats, "--contexts", _contexts(tmp_path / "one.txt", 1), "--learner",
                  "chebcb", "--out", str(first)]) == 0
    ctx = _contexts(tmp_path / "two.txt", 2)
    again = tmp_path / "again"
    assert _tune([*mats, "--contexts", ctx, "--resume", str(first / "tuner.json"), "--out",
                  str(again)]) == 2
    err = capsys.readouterr().err
    assert err.strip().startswith(f"relaxtune: error: {ctx}: context must have 1 entry, "
                                  f"got 2: the learner of --resume ")
    assert not again.exists()


def test_contexts_the_learner_takes_still_run(tmp_path, capsys):
    mats = _systems(tmp_path)
    out = tmp_path / "run"
    # with the automatic context the learner sees one number more than each line
    assert _tune([*mats, "--contexts", _contexts(tmp_path / "ctx.txt", 2), "--auto-context",
                  "--out", str(out)]) == 0
    import bandit

    tuner = bandit.Tuner.load(out / "tuner.json")
    assert tuner.history["context"].shape == (3, 3)
