"""Two runs of a Tuner with fixed seeds on the same systems write tuner files that differ only
in the fields that read a clock (``bandit._tuner_persist.CLOCK_FIELDS``): with a counted cost
(iterations, work) everything else is bit-identical; under the same clock readings every
cost, time costs included, writes the same bytes.  ``relaxtune tune`` run twice writes the
same folder apart from those fields, the summary's ``tuned.seconds`` and the history's
``seconds`` column."""
import csv
import json
import time

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit._tuner_persist import CLOCK_FIELDS, clock_free
from tests.test_tune_exit_status import _laplacians


def _systems(count=40, n=30):
    for k in range(count):
        c = 0.05 * np.sin(k / 5)
        A = sp.diags([-1.0, 2.0 + c, -1.0], [-1, 0, 1], shape=(n, n), format="csr")
        yield A, np.ones(n), c


def _run(path, cost="iterations", arms="omega", audit_budget=0.05):
    if arms == "omega":
        tuner = bandit.Tuner(bandit.default_policy("ssor_pcg", seed=0), solver="ssor_pcg",
                             cost=cost, audit_budget=audit_budget, audit_seed=1)
    else:  # configuration arms of two families
        grid = bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"])
        tuner = bandit.Tuner(bandit.default_policy(None, grid, seed=0), cost=cost,
                             audit_budget=audit_budget, audit_seed=1)
    for A, b, c in _systems():
        tuner.solve(A, b, context=c)
    tuner.save(path)
    return path.read_bytes()


@pytest.mark.parametrize("cost, arms", [("iterations", "omega"), ("work", "config")])
def test_counted_costs_differ_only_in_the_clock_fields(tmp_path, cost, arms):
    one = json.loads(_run(tmp_path / "a.json", cost, arms))
    two = json.loads(_run(tmp_path / "b.json", cost, arms))
    assert clock_free(one) == clock_free(two)
    # the clock fields are what they say: measured seconds, not copies of the counts
    assert all(s > 0 for s in one["rows"]["seconds"]) and one["work"][0] > 0
    assert one["work"][1] == sum(one["rows"]["iterations"]) or cost != "iterations"
    assert len(one["audits"]["records"]["round"]) > 0  # the audits ran, and agree


def test_clock_free_blanks_exactly_the_listed_fields(tmp_path):
    payload = json.loads(_run(tmp_path / "a.json"))
    blank = clock_free(payload)
    for path in CLOCK_FIELDS:
        node = blank
        for key in path:
            node = node[key]
        assert node is None, path
    blank_keys = {k for k in payload if payload[k] != blank[k]}
    assert blank_keys == {p[0] for p in CLOCK_FIELDS}
    assert payload["rows"]["arm"] == blank["rows"]["arm"]


class _Clock:
    """A clock that advances 12.5 µs a reading: the same readings on every run."""

    def __init__(self):
        self.t = 100.0

    def __call__(self):
        self.t += 1.25e-5
        return self.t


@pytest.mark.parametrize("cost, arms", [("iterations", "omega"), ("time", "omega"),
                                        ("timed_work", "config")])
def test_the_same_clock_readings_give_the_same_bytes(tmp_path, monkeypatch, cost, arms):
    _run(tmp_path / "warm.json", cost, arms)  # compiled kernels and per-process caches
    files = []
    for name in ("a.json", "b.json"):
        monkeypatch.setattr(time, "perf_counter", _Clock())
        monkeypatch.setattr(time, "process_time", _Clock())
        files.append(_run(tmp_path / name, cost, arms))
        monkeypatch.undo()
    assert files[0] == files[1]


def test_tune_twice_writes_the_same_folder_but_for_the_clock(tmp_path):
    from experiments.cli import main

    mats = _laplacians(tmp_path, count=4)
    for out in ("one", "two"):
        assert main(["tune", *mats, "--no-plots", "--quiet", "--out",
                     str(tmp_path / out)]) == 0
    one, two = tmp_path / "one", tmp_path / "two"
    assert (clock_free(json.loads((one / "tuner.json").read_text()))
            == clock_free(json.loads((two / "tuner.json").read_text())))
    s1, s2 = (json.loads((f / "summary.json").read_text()) for f in (one, two))
    assert s1["tuned"].pop("seconds") > 0 and s2["tuned"].pop("seconds") > 0
    for s in (s1, s2):  # the Tuner's own time: a clock's, as the seconds
        assert s.pop("own_time")["median_us"] > 0
    assert s1.pop("files")["matrices"] == s2.pop("files")["matrices"] == mats
    assert s1 == s2

    def rows(folder):
        with open(folder / "history.csv", newline="") as f:
            table = list(csv.DictReader(f))
        for row in table:
            assert float(row.pop("seconds")) > 0
            assert float(row.pop("tuner_seconds")) >= 0  # (the tuner's own time: a clock's)
        return table

    assert rows(one) == rows(two) and len(rows(one)) == 4
