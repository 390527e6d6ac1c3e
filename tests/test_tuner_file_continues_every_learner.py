"""Save a seeded Tuner in the middle of its run, load it, and continue: the continued run is the
uninterrupted one — the same arms, the same file (every entry but the clock's readings and the
rounds at which a process started), the same regret estimates and intervals — for every
learner of ``bandit.POLICIES`` over ω, the default learners of ``sor`` and ``ssor_pcg``, and
JointCB and the default learner over ``config_grid()``; the file is saved twice before the
load, and a loaded tuner saved again writes what it read."""
import json

import numpy as np
import pytest

import bandit
from bandit._tuner_persist import clock_free
from bandit.report import paid_per_solve
from experiments.learners import make_learner, uses_vector_context
from solvers import gallery

OMEGAS = [1.0, 1.3, 1.5, 1.7, 1.9]
ROUNDS, CUT = 16, 7
_OWN = ("jointcb_grid", "default_grid", "default_sor", "default_pcg")


def _systems():
    rng = np.random.default_rng(4)
    return [(gallery.shifted_laplacian_2d(6, c), rng.standard_normal(36), c)
            for c in rng.uniform(0.0, 0.4, ROUNDS)]


SYSTEMS = _systems()


def _tuner(name):
    if name == "jointcb_grid":
        return bandit.Tuner(bandit.JointCB(bandit.config_grid(), seed=3), cost="work",
                            audit_budget=0.3, audit_seed=2)
    if name == "default_grid":
        return bandit.Tuner(bandit.default_policy(None, bandit.config_grid(), seed=3),
                            cost="work", audit_budget=0.3, audit_seed=2)
    if name in ("default_sor", "default_pcg"):
        return bandit.Tuner(solver=name[8:].replace("pcg", "ssor_pcg"), audit_budget=0.3,
                            audit_seed=2, seed=1)
    policy = make_learner(name, OMEGAS, seed=5, context_bounds=(0.0, 0.4), bins=3,
                          vector_bounds=[(0.0, 0.4)])
    return bandit.Tuner(policy, solver="sor", audit_budget=0.5, audit_seed=2)


def _run(tuner, name, start, stop):
    vector = name not in _OWN and uses_vector_context(name)
    for A, b, c in SYSTEMS[start:stop]:
        tuner.solve(A, b, context=[c] if vector else c)


def _file(tuner, path):
    tuner.save(path)
    payload = clock_free(json.loads(path.read_text()))
    payload.pop("process_starts")  # the continued run started a second process (its load)
    return payload


@pytest.mark.parametrize("name", [*bandit.POLICIES, *_OWN])
def test_a_continued_run_is_the_uninterrupted_run(name, tmp_path):
    whole = _tuner(name)
    _run(whole, name, 0, ROUNDS)
    part = _tuner(name)
    _run(part, name, 0, CUT)
    path = tmp_path / "t.json"
    part.save(path)
    part.save(path)  # saving twice writes the same file
    loaded = bandit.Tuner.load(path)
    assert _file(loaded, tmp_path / "again.json") == _file(part, tmp_path / "part.json")
    _run(loaded, name, CUT, ROUNDS)
    np.testing.assert_array_equal(loaded.history["arm"], whole.history["arm"])
    np.testing.assert_array_equal(loaded.history["iterations"], whole.history["iterations"])
    assert _file(loaded, tmp_path / "c.json") == _file(whole, tmp_path / "w.json")
    one, two = loaded.regret(), whole.regret()
    for a, b in ((one.best_fixed, two.best_fixed), (one.instance_optimal, two.instance_optimal)):
        np.testing.assert_array_equal([a.estimate, a.low, a.high], [b.estimate, b.low, b.high])
        np.testing.assert_array_equal(a.curve, b.curve)
    assert one.paid == two.paid
    assert one.paid == pytest.approx(float(np.sum(paid_per_solve(whole))), rel=1e-12)
