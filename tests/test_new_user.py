"""Interactions of the library's features found by using it as a new user would."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import gallery


def _shifted(k, nx=8):
    rng = np.random.default_rng(k)
    A = (gallery.laplacian_2d(nx) + rng.uniform(0.01, 1.0) * sp.identity(nx * nx)).tocsr()
    return A, rng.standard_normal(nx * nx)


def _config_run(cost, T=12, audit_budget=0.0, guard=3.0):
    arms = bandit.config_grid(omegas=[1.0, 1.6], pcs=["none", "jacobi", "ic0"])
    tuner = bandit.Tuner(bandit.default_policy(None, arms, seed=1), cost=cost,
                         audit_budget=audit_budget, audit_seed=3, guard=guard)
    for k in range(T):
        A, b = _shifted(k)
        assert tuner.solve(A, b, context=float(k)).converged
    return tuner


@pytest.mark.parametrize("cost", ["work", "timed_work"])
def test_regret_paid_is_in_the_cost_unit(cost):
    # the regret's `paid` and comparators must be in the unit the learner minimises: work
    # (matrix passes) or timed work (seconds), not iterations, which do not compare across
    # preconditioners
    # (unguarded: every round is one run, so what was paid is the sum of the costs told)
    tuner = _config_run(cost, guard=None if cost == "work" else 3.0)
    rep = tuner.regret()
    h = tuner.history
    first_try = (h["fallback_arm"] < 0) & ~h["censored"]
    assert rep.unit == ("work" if cost == "work" else "seconds")
    if cost == "work":  # deterministic: every round converged on its first attempt
        assert first_try.all()
        assert rep.paid == pytest.approx(float(h["cost"].sum()), rel=1e-12)
        assert rep.paid != pytest.approx(float(h["iterations"].sum()))
    else:  # priced in seconds: of the order of the measured seconds, not of the iterations
        assert float(h["cost"][first_try].sum()) <= rep.paid < 10 * float(h["seconds"].sum())


def test_regret_paid_survives_save_and_load(tmp_path):
    tuner = _config_run("work", T=6)
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    assert loaded.regret().paid == pytest.approx(tuner.regret().paid, rel=1e-12)
    A, b = _shifted(99)
    loaded.solve(A, b, context=99.0)
    tuner.solve(A, b, context=99.0)
    assert loaded.regret().paid == pytest.approx(tuner.regret().paid, rel=1e-12)


def test_regret_estimate_does_not_depend_on_the_cost_unit():
    # costs in seconds are ~1e-5 per solve: the estimator must scale with its input (it once
    # gave an arm that no draw varied a deviation of one unit, i.e. one whole second)
    import dataclasses

    from bandit.estimate import estimate_regret

    tuner = _config_run("work", T=16, audit_budget=0.1)
    data = tuner._run_data()
    s = 1e-6

    def scaled(d):
        aud = dict(d.audits, value=np.asarray(d.audits["value"]) * s)
        return dataclasses.replace(d, paid=d.paid * s, played=d.played * s, audits=aud,
                                   fail_cost=d.fail_cost * s)

    ref = estimate_regret(data)
    small = estimate_regret(scaled(data))
    for name in ("best_fixed", "instance_optimal"):
        a, b = getattr(ref, name), getattr(small, name)
        for f in ("estimate", "low", "high"):
            va, vb = getattr(a, f), getattr(b, f)
            if np.isnan(va):
                assert np.isnan(vb)
            else:
                assert vb == pytest.approx(va * s, rel=1e-6, abs=1e-9 * abs(ref.paid) * s)


def test_the_tuner_never_refreshes_an_operator_the_user_passed():
    # a loop that sometimes passes its own working copy (prepare(..., overwrite=True)) and
    # sometimes a matrix: the Tuner refreshes only a working copy it made itself
    import solvers

    A = gallery.laplacian_2d(8).tocsr()
    B = (A + sp.identity(64)).tocsr()
    b = np.ones(64)
    op = solvers.prepare(A, overwrite=True)
    tuner = bandit.Tuner(solver="sor")
    tuner.solve(op, b)
    kept, version = op.data.copy(), op.values_version
    r = tuner.solve(B, b)  # same pattern as op
    assert np.array_equal(op.data, kept) and op.values_version == version
    assert np.linalg.norm(b - A @ solvers.sor(op, b, 1.5).x) <= 1e-8 * np.linalg.norm(b)
    assert r.converged and np.linalg.norm(b - B @ r.x) <= 1.0001e-8 * np.linalg.norm(b)
    # after that the Tuner's own working copy is refreshed in place again
    C = (A + 2 * sp.identity(64)).tocsr()
    tuner.solve(C, b)
    own = tuner._last_op
    tuner.solve((A + 3 * sp.identity(64)).tocsr(), b)
    assert tuner._last_op is own and own is not op


def test_plot_data_of_a_work_run_is_in_work():
    from experiments.plots import run_data

    tuner = _config_run("work", T=6)
    d = run_data(tuner)
    assert d["unit"] == "work"
    assert d["cumulative"][-1] == pytest.approx(tuner.regret().paid, rel=1e-12)
    np.testing.assert_allclose(d["cost"], tuner.history["cost"], rtol=1e-12)  # first tries


@pytest.mark.parametrize("cost", ["work", "time"])
def test_regret_of_a_loaded_tuner_before_any_solve(tmp_path, cost):
    # `relaxtune plot tuner.json` reports a loaded tuner's regret before it solves anything:
    # it must be the saved tuner's (a loaded tuner could not price a failure yet, and every
    # observed cost counted as a failure: regret = everything paid)
    tuner = _config_run(cost, T=8, audit_budget=0.1)
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    a, b = tuner.regret().best_fixed, loaded.regret().best_fixed
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9)
    assert b.unbiased == a.unbiased


@pytest.mark.parametrize("cost", ["work", "time"])
def test_a_loaded_tuner_keeps_what_its_runs_measured(tmp_path, cost):
    # the guard's budgets and failure costs of configuration arms use the costs per
    # iteration measured so far; a loaded tuner must go on with the same ones
    import solvers

    tuner = _config_run(cost, T=8)
    tuner.save(tmp_path / "t.json")
    loaded = bandit.Tuner.load(tmp_path / "t.json")
    # a system the run did not solve: on one it did, an arm whose set-up was built for that
    # very matrix needs none (a loaded tuner, which keeps no set-ups, builds it): a budget
    # one iteration apart whenever a timed run's last Jacobi set-up was step 3's
    op = solvers.prepare(_shifted(50)[0])
    for k in range(tuner.policy.n_arms):
        assert loaded._arms.rate(k, op) == tuner._arms.rate(k, op)
        assert loaded._arms.budget(k, 3.0, 50.0 if cost == "work" else 1e-4, op, 10_000) == \
            tuner._arms.budget(k, 3.0, 50.0 if cost == "work" else 1e-4, op, 10_000)
    tuner._last_op = loaded._last_op = op
    assert loaded._failure_cost(0.0) == tuner._failure_cost(0.0) > 0


def test_a_tuner_file_with_foreign_measurements_is_refused(tmp_path):
    import json

    tuner = _config_run("work", T=3)
    tuner.save(tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    data["measured"]["rate"].append([1.0, 2])
    data["measured"]["fit"].append([0, 0.0, 0.0, 0.0, 0.0])
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(bandit.TunerFileError, match="measured.rate"):
        bandit.Tuner.load(tmp_path / "bad.json")
    data["measured"] = {"rate": "x"}
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(bandit.TunerFileError, match="measured"):
        bandit.Tuner.load(tmp_path / "bad.json")


def test_progress_bar_shows_a_timed_regret_in_seconds():
    # a regret in seconds (microsecond solves) is not rounded to "0"
    from bandit.report import Hook

    tuner = _config_run("time", T=6)
    text = Hook(tuner, False, None).postfix()
    reg = tuner.regret().best_fixed.estimate  # the bar shows the report's figure
    assert f"regret≈{reg:.3g}s (vs best fixed)" in text


@pytest.mark.parametrize("solver, kernel", [("sor", "solvers._kernels:sor_solve"),
                                            ("ssor_pcg", "solvers._kernels_ssor:ssor_pcg_solve"),
                                            ("cg", "solvers._kernels:cg_solve")])
def test_timed_tuner_loads_its_kernels_before_the_first_solve(solver, kernel):
    # with cost="time" the first solve's seconds are told to the learner: they must not include
    # loading (or compiling) the solver's kernel, ~10 ms against ~50 µs for the solve itself
    import subprocess
    import sys

    module, name = kernel.split(":")
    code = (f"import importlib, bandit\n"
            f"t = bandit.Tuner(bandit.FixedArm([1.5]), solver={solver!r}, cost='time')\n"
            f"print(len(getattr(importlib.import_module({module!r}), {name!r}).signatures))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert int(out.strip()) >= 1


@pytest.mark.parametrize("arms, solver, rows", [
    ([1.2, 1.5], "ssor_pcg", "ssor"), ([1.0], "cg", "cg"), ([1.2, 1.5], "sor", "sor"),
    ([{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg"}], None, "ssor")])
def test_a_new_patterns_scratch_space_is_touched_before_the_timed_solve(arms, solver, rows):
    # the kernels' scratch space (kept per sparsity pattern) was first touched, page by page,
    # inside the first solve on a pattern: 0.2 ms more, as much as the solve, at n = 10⁴, on
    # whichever arm came first — the Tuner touches it with the split triangles, off the clock
    from solvers import _kernels, _kernels_ssor, gallery

    # the rows each kernel takes (its docstring's contract), the most of the arms' kernels
    rows = {"ssor": _kernels_ssor.WORK_VECTORS, "cg": _kernels.CG_WORK_VECTORS,
            "sor": _kernels.SOR_WORK_VECTORS}[rows]
    A = gallery.laplacian_2d(12)
    kw = {"solver": solver} if solver else {}
    tuner = bandit.Tuner(bandit.FixedArm(arms), cost="time", **kw)
    op = tuner._validate(A, np.ones(144), None, None)[0]
    work = op._pattern.get("work")
    assert work.shape == (rows, 144) and not work.any()
    tuner.solve(A, np.ones(144))  # the solve uses that space, not a fresh one
    assert tuner._last_op._pattern.get("work") is work
