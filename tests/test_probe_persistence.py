"""Tuner files edited by hand: every entry of the wrong kind is a ``TunerFileError`` naming
it, at ``load`` — not a TypeError or OverflowError there, nor a tuner that loads and then
fails at its first solve."""
import json

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery

A = sp.csr_matrix(gallery.laplacian_2d(6))
B = np.ones(A.shape[0])


def _saved(tmp_path, tuner, name):
    for k in range(8):
        tuner.solve(A * (1 + k / 10), B, context=float(k))
    path = tmp_path / f"{name}.json"
    tuner.save(path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tuners")
    return {
        "sor": _saved(tmp, bandit.Tuner(solver="sor", audit_budget=0.2), "sor"),
        "family": _saved(tmp, bandit.Tuner(bandit.FamilyCB(
            bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"]), seed=1),
            cost="work", audit_budget=0.2), "family"),
        "tsallis": _saved(tmp, bandit.Tuner(bandit.TsallisINFCB(np.linspace(1, 1.9, 5),
                                                                context_bounds=(0, 10), seed=1),
                                            solver="sor"), "tsallis"),
    }


def _edit(path, where, value, tmp_path):
    data = json.loads(path.read_text())
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    return edited


@pytest.mark.parametrize("name, where, value, message", [
    # had been TypeError at load
    ("sor", ("measured", "rate"), None,
     "measured.rate and measured.all must be [cost >= 0, iterations >= 0] pairs"),
    ("sor", ("audits", "epoch_start"), True,
     "audits.epoch_start, q, r and full must be lists of one length"),
    # had been OverflowError at load
    ("tsallis", ("policy", "state", "grid", "j0"), 1e308,
     "policy state 'grid': origin, width, j0, jlo and jhi must be all null or arrays of 1 "
     "numbers"),
    # had loaded, then failed at the first solve (TypeError, IndexError, ValueError)
    ("tsallis", ("policy", "state", "grid", "origin"), None,
     "policy state 'grid': origin, width, j0, jlo and jhi must be all null"),
    ("tsallis", ("policy", "state", "grid", "dim"), -1,
     "policy state 'grid' dim must be null or an integer >= 1, got -1"),
    ("sor", ("policy", "state", "prior_curve"), [1],
     "policy state 'prior_curve' must be null or 20 finite float64 numbers >= 0, got list [1]"),
    ("sor", ("policy", "state", "prior_curve"), 1.5,
     "policy state 'prior_curve' must be null or 20 finite float64 numbers >= 0, got float "
     "1.5"),
])
def test_hand_edited_entry_is_refused_at_load(files, tmp_path, name, where, value, message):
    edited = _edit(files[name], where, value, tmp_path)
    with pytest.raises(bandit.TunerFileError) as err:
        bandit.Tuner.load(edited)
    assert str(err.value).startswith(f"{edited}: ") and message in str(err.value)


@pytest.mark.parametrize("name", ["sor", "tsallis", "family"])
def test_unedited_files_load_and_continue(files, name):
    tuner = bandit.Tuner.load(files[name])
    res = tuner.solve(A, B, context=3.0)
    assert res.converged and np.linalg.norm(B - A @ res.x) <= 1e-8 * np.linalg.norm(B)


def test_save_to_a_bytes_path(files, tmp_path):
    # open() takes a bytes path, and so did load; save had failed with "TypeError:
    # startswith first arg must be bytes" (a str prefix compared with the bytes name)
    tuner = bandit.Tuner.load(files["sor"])
    path = tmp_path / "ü x" / "t.json"
    path.parent.mkdir()
    tuner.save(bytes(path))
    again = bandit.Tuner.load(bytes(path))
    assert list(again.history["arm"]) == list(tuner.history["arm"])


@pytest.mark.parametrize("value", [[], {}])
def test_policy_class_of_the_wrong_type_is_named(files, tmp_path, value):
    # had been "TypeError: unhashable type: 'list'" (looked up in the registry as it was)
    edited = _edit(files["sor"], ("policy", "class"), value, tmp_path)
    with pytest.raises(bandit.TunerFileError, match=r"policy class (\[\]|\{\}) is unknown"):
        bandit.Tuner.load(edited)


@pytest.mark.parametrize("where, value, message", [
    (("policy", "state", "family_state", "config"), {},
     "FamilyCB family_state has other settings than this FamilyCB's ChebCB (exploration, m: "
     "exploration='igw', m=6)"),
    (("policy", "state", "inner_states", 0, "config", "exploration"), "lcb",
     "FamilyCB inner_states[0] has other settings than this FamilyCB's ChebCB (exploration: "
     "exploration='lcb')"),
])
def test_family_learners_with_other_settings_are_refused(files, tmp_path, where, value,
                                                          message):
    # a nested learner's state was checked against its own (edited) settings only: it loaded,
    # and its compiled kernels then indexed arrays of one size with features of another (a
    # ValueError from matmul, and a segmentation fault at exit)
    edited = _edit(files["family"], where, value, tmp_path)
    with pytest.raises(bandit.TunerFileError) as err:
        bandit.Tuner.load(edited)
    assert message in str(err.value)


def test_iterations_beyond_64_bits_are_refused(files, tmp_path):
    # loaded, and the next solve's summary failed with "Python int too large to convert to C
    # long" (the history keeps iterations as int64)
    edited = _edit(files["tsallis"], ("rows", "iterations", 0), 2 ** 70, tmp_path)
    with pytest.raises(bandit.TunerFileError, match=r"rows.iterations\[0\] must be an integer "
                                                   r">= 0 \(within 64 bits\), got "
                                                   r"1180591620717411303424"):
        bandit.Tuner.load(edited)
