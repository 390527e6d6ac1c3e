"""``experiments.user_loops.replay_run`` and ``sensitivity``: a run's systems replayed with
another learner, checked against the Tuner's own run of the same systems (its arms, what it
told the learner, its iterations) and against learners built here by hand."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
from experiments.user_loops import PERTURBATIONS, main, replay, replay_run, sensitivity
from solvers import gallery


def _run(solved_at=3, contexts=False):
    """A Tuner over eight shifted Laplacians (shift falling, so the best ω moves), the system
    ``solved_at`` started at its direct solution (its start meets the stopping rule), and the
    cost matrix of every ω on every system: the fields of a ``run_loop`` result that a replay
    reads."""
    L = gallery.laplacian_2d(10)
    rng = np.random.default_rng(5)
    tuner = bandit.Tuner(solver="sor", rtol=1e-8, audit_budget=0.05, audit_seed=0)
    systems = []
    for t, s in enumerate(np.geomspace(2.0, 0.02, 8)):
        A = (L + s * sp.identity(L.shape[0])).tocsr()
        b = rng.standard_normal(L.shape[0])
        x0 = spla.spsolve(A.tocsc(), b) if t == solved_at else None
        systems.append((A, b, x0))
        tuner.solve(A, b, x0=x0, **({"context": float(np.log10(s))} if contexts else {}))
    C = replay(systems, "sor")
    return dict(tuner=tuner, solver="sor", systems=systems, C=C, best=int(C.sum(0).min()))


@pytest.mark.parametrize("contexts", [False, True])
def test_the_default_learner_replayed_plays_the_runs_arms_and_skips_a_solved_start(contexts):
    r = _run(contexts=contexts)
    h = r["tuner"].history
    assert h["iterations"][3] == 0 and (r["C"][3] == 0).all()  # the solved start
    policy = bandit.default_policy("sor")
    out = replay_run(r, policy)
    told = h["iterations"] > 0
    np.testing.assert_array_equal(out["told"], told)
    # the Tuner tells its learner nothing of the solved start: seven rounds, as the replay's
    assert r["tuner"].policy.t == policy.t == 7
    np.testing.assert_array_equal(out["arms"], h["arm"][told])
    C, arms = r["C"][told], h["arm"][told]
    stopped = h["fallback_arm"][told] >= 0
    # a solve the guard did not stop costs its own iterations, in the run and the replay
    np.testing.assert_array_equal(out["costs"][~stopped], h["iterations"][told][~stopped])
    np.testing.assert_array_equal(out["costs"][~stopped], C[~stopped, arms[~stopped]])
    # one the guard stopped: its budget, then the fallback's share of its own cost left by
    # linear convergence
    budget, lead = h["budget"][told][stopped], h["fallback_arm"][told][stopped]
    k = arms[stopped]
    rows = np.flatnonzero(stopped)
    expected = budget + np.ceil(C[rows, lead] * (1 - budget / C[rows, k]))
    np.testing.assert_array_equal(out["costs"][stopped], expected)
    assert out["paid"] == out["costs"].sum()
    assert out["ratio"] == pytest.approx(out["paid"] / r["C"].sum(0).min())


def test_a_changed_setting_replays_the_learner_built_with_it_by_hand():
    r = _run()
    by_hand = bandit.JointCB(list(bandit.DEFAULT_ARMS), explore_radius=1.0, prior="theory",
                             target="auto", ridge=0.011, beta=0.95)
    mine = replay_run(r, by_hand)
    theirs = replay_run(r, ridge=0.011, beta=0.95)
    np.testing.assert_array_equal(mine["arms"], theirs["arms"])
    assert mine["paid"] == theirs["paid"]


def test_sensitivity_is_one_replay_per_perturbation_the_default_among_them():
    r = _run()
    ratios = sensitivity(r)
    assert len(ratios) == len(PERTURBATIONS) == 9
    middle = PERTURBATIONS.index({"ridge": 0.01, "beta": 1.0})
    assert ratios[middle] == replay_run(r)["ratio"]
    assert list(ratios) == [replay_run(r, **p)["ratio"] for p in PERTURBATIONS]
    cfg = bandit.default_policy("sor")._config()  # the middle is the default learner itself
    assert (cfg["ridge"], cfg["beta"]) == (0.01, 1.0)


def test_a_replay_refuses_settings_it_cannot_apply():
    r = _run()
    with pytest.raises(ValueError, match="'ridgee'"):
        replay_run(r, ridgee=0.01)
    with pytest.raises(ValueError, match="either a policy or settings"):
        replay_run(r, bandit.default_policy("sor"), ridge=0.02)


def test_the_command_line_passes_sensitivity(monkeypatch):
    seen = {}
    monkeypatch.setattr("experiments.user_loops.print_rows",
                        lambda rows, perturbed=False: seen.update(rows=rows, perturbed=perturbed))
    main(["--loop", "rgg", "--context", "none", "--sensitivity"])
    assert seen == {"rows": [("rgg", "none")], "perturbed": True}
    main(["--loop", "rgg", "--context", "shift"])
    assert seen == {"rows": [("rgg", "shift")], "perturbed": False}
