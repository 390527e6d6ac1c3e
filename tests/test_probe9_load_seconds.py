"""A tuner continued in another process (``Tuner.load``, ``relaxtune tune --resume``) loads
the compiled kernels again on its first solve there: the report's ``load_seconds`` counts
every process's first solve, not only the run's first, and ``fraction`` leaves them all out."""

import json

import numpy as np
import pytest

import bandit
from bandit._tunerfile import TunerFileError
from solvers import gallery


def _solve_some(tuner, n, shift0):
    A = gallery.laplacian_2d(8)
    for t in range(n):
        tuner.solve(A + (shift0 + 0.01 * t) * np.eye(64), np.ones(64))


def _expected_load(seconds, iterations, arm, starts):
    """Independent reference: each start row's seconds beyond its iterations at the median
    seconds per iteration of the other (non-start) solves of its arm."""
    s, its, arm = (np.asarray(v, float) for v in (seconds, iterations, arm))
    its = np.maximum(its, 1.0)
    other = np.ones(s.size, bool)
    other[list(starts)] = False
    total = 0.0
    for r in starts:
        same = other & (arm == arm[r])
        per = (s / its)[same if same.any() else other]
        total += max(0.0, s[r] - its[r] * float(np.median(per)))
    return total


def test_each_process_first_solve_counts_as_loading(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    tuner = bandit.Tuner(solver="sor", audit_budget=0.05, audit_seed=0)
    _solve_some(tuner, 25, 0.0)
    tuner.save(first)
    again = bandit.Tuner.load(first)          # as a new process would, on its first solve
    _solve_some(again, 25, 0.3)
    again.save(second)
    # the kernels' loading, as a fresh process reads it: 50 ms and 40 ms on each process's
    # first solve (rows 0 and 25), against ~0.1 ms for the others
    data = json.loads(second.read_text())
    data["rows"]["seconds"][0] += 0.05
    data["rows"]["seconds"][25] += 0.04
    second.write_text(json.dumps(data))
    loaded = bandit.Tuner.load(second)
    h = loaded.history
    c = loaded.regret().cost
    want = _expected_load(h["seconds"], h["iterations"], h["arm"], (0, 25))
    assert want > 0.089
    assert c["load_seconds"] == pytest.approx(want, rel=1e-9)
    assert c["solve_seconds"] == pytest.approx(float(np.sum(h["seconds"])), rel=1e-12)
    spent = c["audit_seconds"] + c["planning_seconds"]
    assert c["fraction"] == pytest.approx(spent / (c["solve_seconds"] - want), rel=1e-9)


def test_a_fresh_tuner_still_counts_its_first_solve_only(tmp_path):
    tuner = bandit.Tuner(solver="sor", audit_budget=0.0)
    _solve_some(tuner, 10, 0.0)
    h = tuner.history
    want = _expected_load(h["seconds"], h["iterations"], h["arm"], (0,))
    assert tuner.regret().cost["load_seconds"] == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("bad", [[3, 1], [0, 99], [-1], "0", [0.5]])
def test_a_damaged_list_of_process_starts_is_refused_by_name(tmp_path, bad):
    path = tmp_path / "t.json"
    tuner = bandit.Tuner(solver="sor", audit_budget=0.0)
    _solve_some(tuner, 4, 0.0)
    tuner.save(path)
    data = json.loads(path.read_text())
    data["process_starts"] = bad
    path.write_text(json.dumps(data))
    with pytest.raises(TunerFileError, match="process_starts"):
        bandit.Tuner.load(path)
