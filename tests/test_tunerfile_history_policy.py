"""A tuner file whose history contradicts its policy state is refused, naming both fields.

Every round the Tuner records was told to its policy first (``counts[arm] += 1``), except a
round whose start already met the stopping rule (converged in 0 iterations: recorded, never
told), and a policy's counts only grow.  A file edited by hand so that the rows play an arm
more often than the policy's ``counts`` say (rows moved to another arm, ``counts`` and ``t``
lowered together) had loaded, and the Tuner continued with a learner that had not seen the
rounds its history and regret report.  Files the library writes — shared and pre-trained
policies, ``Tuner.tell``, rounds already solved, guarded failures, audits, contexts — all
load; the check is against counts computed here from the rows."""
import json
import warnings

import numpy as np
import pytest

import bandit
from bandit import FixedArm, Tuner, TunerFileError, UniformRandom
from solvers import gallery

A = gallery.laplacian_2d(8)
B = np.ones(64)


def _written(tmp_path, name, tuner):
    path = tmp_path / f"{name}.json"
    tuner.save(path)
    return path


def _library_files(tmp_path):
    """Files the current code writes, in the situations where counts and rows differ."""
    out = {}
    t = Tuner(solver="sor", seed=0)
    for _ in range(5):
        t.solve(A, B)
    out["default"] = t
    t = Tuner(UniformRandom([1.2, 1.5, 1.8], seed=0), solver="ssor_pcg")
    x = None
    for _ in range(5):  # from the second on, x0 already meets the rule: recorded, not told
        x = t.solve(A, B, x0=x).x
    out["already_solved"] = t
    first = Tuner(UniformRandom([1.2, 1.5], seed=1), solver="sor")
    for _ in range(3):
        first.solve(A, B)
    later = Tuner(first.policy, solver="sor")  # the policy handed on to a Tuner made later
    later.solve(A, B)
    out["policy_handed_on"] = later
    trained = UniformRandom([1.2, 1.5], seed=2)
    trained.update(0, 30.0)
    trained.update(1, 20.0)
    t = Tuner(trained, solver="sor")
    t.solve(A, B)
    t.tell(1, 25.0)  # told through the decision API, without a row
    out["trained_and_told"] = t
    t = Tuner(FixedArm([1.0, 1.99], arm=1), solver="sor", maxiter=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):  # the arm fails; the fallback's rows
            t.solve(A, B)
    out["guarded_failures"] = t
    t = Tuner(bandit.default_policy(None, bandit.config_grid([1.2, 1.5], ["jacobi"]), seed=0),
              cost="work", audit_budget=0.5)
    for k in range(8):
        t.solve(A * (1 + 0.1 * k), B, context=float(k))
    out["configs_audited_contexts"] = t
    return out


def _state(path):
    return json.loads(path.read_text())


def _counts(payload):
    return payload["policy"]["state"]["counts"]["__ndarray__"]


def test_every_file_the_library_writes_loads(tmp_path):
    for name, tuner in _library_files(tmp_path).items():
        path = _written(tmp_path, name, tuner)
        payload = _state(path)
        rows = payload["rows"]
        told = np.bincount([a for a, i, c in zip(rows["arm"], rows["iterations"],
                                                  rows["converged"]) if i or not c],
                           minlength=len(_counts(payload)))
        assert np.all(told <= np.array(_counts(payload))), name
        back = Tuner.load(path)
        assert len(back.history["arm"]) == len(tuner.history["arm"]), name
        back.solve(A, B, context=1.0 if "contexts" in name else None)


def _default_file(tmp_path):
    t = Tuner(UniformRandom([1.2, 1.5, 1.8], seed=0), solver="sor")
    for _ in range(9):
        t.solve(A, B)
    path = _written(tmp_path, "t", t)
    payload = _state(path)
    assert min(_counts(payload)) > 0  # every arm played
    return path, payload


def _edited(tmp_path, payload):
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(payload))
    return path


def test_rows_moved_to_another_arm_are_refused(tmp_path):
    path, payload = _default_file(tmp_path)
    rows = payload["rows"]
    arms = payload["policy"]["arms"]
    rows["arm"] = [0] * len(rows["arm"])  # every round on arm 0, its ω with it
    rows["omega"] = [arms[0]] * len(rows["omega"])
    with pytest.raises(TunerFileError, match=r"the history contradicts the policy state: "
                                             r"rows\.arm has arm 0 on 9 rounds .* 'counts' "
                                             r"gives arm 0 \d"):
        Tuner.load(_edited(tmp_path, payload))


def test_counts_and_t_lowered_together_are_refused(tmp_path):
    path, payload = _default_file(tmp_path)
    state = payload["policy"]["state"]
    _counts(payload)[2] -= 1
    state["converged_counts"]["__ndarray__"][2] -= 1
    state["t"] -= 1
    with pytest.raises(TunerFileError, match=r"rows\.arm has arm 2 on \d+ rounds .* 'counts' "
                                             r"gives arm 2 \d+ \(t = 8\)"):
        Tuner.load(_edited(tmp_path, payload))


def test_a_policy_reset_by_hand_is_refused(tmp_path):
    path, payload = _default_file(tmp_path)
    fresh = UniformRandom([1.2, 1.5, 1.8], seed=0).state_dict()
    payload["policy"]["state"] = json.loads(json.dumps(fresh["state"]))
    with pytest.raises(TunerFileError, match=r"'counts' gives arm \d 0 \(t = 0\)"):
        Tuner.load(_edited(tmp_path, payload))


def test_a_round_already_solved_edited_into_a_solve_is_refused(tmp_path):
    t = Tuner(FixedArm([1.2, 1.5], arm=1), solver="sor")
    x = t.solve(A, B).x
    t.solve(A, B, x0=x)  # recorded, not told: counts [0, 1]
    payload = _state(_written(tmp_path, "t", t))
    assert payload["rows"]["iterations"][1] == 0 and _counts(payload) == [0, 1]
    payload["rows"]["iterations"][1] = 7
    with pytest.raises(TunerFileError, match=r"arm 1 on 2 rounds .* gives arm 1 1 \(t = 1\)"):
        Tuner.load(_edited(tmp_path, payload))


def test_more_told_than_recorded_is_no_contradiction(tmp_path):
    # (a policy trained before, or told through Tuner.tell: counts above the rows)
    path, payload = _default_file(tmp_path)
    _counts(payload)[0] += 3
    payload["policy"]["state"]["t"] += 3  # (its costs are the policy's own business)
    assert Tuner.load(_edited(tmp_path, payload)).policy.t == 12
