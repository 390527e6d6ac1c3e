"""``relaxtune tune``: a user's own systems from files, tuned and compared with every fixed ω
on exact costs (experiments/user_files.py)."""
import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import solvers
from experiments import user_files as uf
from experiments.cli import main
from solvers import gallery

L = gallery.laplacian_2d(10)
N = L.shape[0]
ARMS = [1.0, 1.2, 1.4, 1.6, 1.8]


def _sequence(count=6):
    return [((sp.eye(N) + (0.3 + t) * L).tocsr(), np.cos(np.arange(N) * (t + 1) * 0.1))
            for t in range(count)]


@pytest.fixture
def files(tmp_path):
    mats, rhs = [], []
    for t, (A, b) in enumerate(_sequence()):
        if t % 2:
            m = tmp_path / f"A{t}.mtx"
            scipy.io.mmwrite(m, A)
        else:
            m = tmp_path / f"A{t}.npz"
            sp.save_npz(m, A)
        r = tmp_path / f"b{t}.npy"
        np.save(r, b)
        mats.append(m)
        rhs.append(r)
    ctx = tmp_path / "ctx.txt"
    np.savetxt(ctx, 0.3 + np.arange(6.0))
    return mats, rhs, ctx


def test_exact_costs_match_the_solvers_and_the_summary_adds_up():
    systems = _sequence()
    res = uf.run(systems, solver="sor", arms=ARMS, policy="tsallis_inf", audit_budget=None)
    C = res["C"]
    for t, (A, b) in enumerate(systems):  # independent reference: the solver itself
        for k, w in enumerate(ARMS):
            assert C[t, k] == solvers.sor(A, b, w, rtol=1e-8).iterations
    s = uf.summarize(res)
    k = int(np.argmin(C.sum(0)))
    assert s["best_fixed"] == {"omega": ARMS[k], "iterations": int(C[:, k].sum()),
                               "all_converged": True}
    assert s["omega_one"]["iterations"] == int(C[:, 0].sum())
    assert s["instance_optimal"]["iterations"] == int(C.min(1).sum())
    tuned = int(res["tuner"].history["iterations"].sum())
    assert s["tuned"]["iterations"] == tuned
    assert s["exact_regret"]["best_fixed"] == tuned - int(C[:, k].sum())
    assert s["exact_regret"]["instance_optimal"] >= 0
    # the figures' exact curves end at the exact totals
    d = uf.figure_data(res)
    assert d["regret"]["best_fixed"]["exact"][-1] == s["exact_regret"]["best_fixed"]
    assert d["regret"]["instance_optimal"]["exact_comparator"][-1] == int(C.min(1).sum())


def test_warm_starts_from_the_previous_solution_for_every_arm():
    systems = _sequence(3)
    res = uf.run(systems, solver="ssor_pcg", arms=ARMS, warm=True, audit_budget=None)
    x_prev = res["tuner"].history  # the tuned x is not kept: recompute the chain
    x0 = None
    for t, (A, b) in enumerate(systems):
        tuned = solvers.ssor_pcg(A, b, ARMS[int(x_prev["arm"][t])], x0=x0, rtol=1e-8)
        for k, w in enumerate(ARMS):
            assert res["C"][t, k] == solvers.ssor_pcg(A, b, w, x0=x0, rtol=1e-8).iterations
        x0 = tuned.x


def test_cli_writes_results_and_prints_the_table(files, tmp_path, capsys):
    mats, rhs, ctx = files
    out = tmp_path / "out"
    code = main(["tune", *map(str, mats), "--rhs", *map(str, rhs), "--contexts", str(ctx),
                 "--solver", "sor", "--out", str(out), "--learner", "chebcb",
                 "--omegas", *map(str, ARMS)])
    assert code == 0
    text = capsys.readouterr().out
    assert "best fixed ω" in text and "instance-optimal" in text and "exact" in text
    s = json.loads((out / "summary.json").read_text())
    assert s["systems"] == 6 and s["tuned"]["all_converged"]
    assert s["best_fixed"]["iterations"] <= s["omega_one"]["iterations"]
    assert sorted(map(float, s["fixed"])) == ARMS  # the grid given
    systems = _sequence()
    best = min(ARMS, key=lambda w: sum(solvers.sor(A, b, w).iterations for A, b in systems))
    assert s["best_fixed"]["omega"] == best
    assert (out / "tuner.json").is_file() and (out / "history.csv").is_file()
    for name in ("cost", "regret", "arms"):
        assert (out / "figures" / f"{name}.png").is_file()
    import bandit

    t = bandit.Tuner.load(out / "tuner.json")
    assert int(t.history["iterations"].sum()) == s["tuned"]["iterations"]


def test_one_matrix_many_right_hand_sides(tmp_path):
    m = tmp_path / "A.mtx"
    scipy.io.mmwrite(m, sp.csr_matrix(L))
    rhs = []
    for t in range(3):
        r = tmp_path / f"b{t}.txt"
        np.savetxt(r, np.sin(np.arange(N) * (t + 1)))
        rhs.append(r)
    systems = uf.load_systems([m], rhs)
    assert len(systems) == 3 and all((A != systems[0][0]).nnz == 0 for A, _ in systems)
    assert np.allclose(systems[2][1], np.sin(np.arange(N) * 3))


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file"),
    ("suffix", "unknown file type"),
    ("square", "must be square"),
    ("count", "right-hand sides for"),
    ("length", "a vector of 100 entries was expected"),
    ("contexts", "contexts for 6 systems"),
    ("damaged", "cannot read it"),
    ("learner", "needs a context for every system: give --contexts FILE or --auto-context"),
])
def test_bad_input_is_one_line_naming_the_file(files, tmp_path, capsys, case, message):
    mats, rhs, ctx = files
    args = ["tune", *map(str, mats), "--rhs", *map(str, rhs), "--out", str(tmp_path / "o")]
    if case == "missing":
        args[1] = str(tmp_path / "nope.mtx")
    elif case == "suffix":
        (tmp_path / "A.csv").write_text("1")
        args[1] = str(tmp_path / "A.csv")
    elif case == "square":
        scipy.io.mmwrite(tmp_path / "R.mtx", sp.random(4, 5, density=0.5, format="csr"))
        args[1] = str(tmp_path / "R.mtx")
    elif case == "count":
        args.remove(str(rhs[-1]))
    elif case == "length":
        np.save(rhs[0], np.ones(7))
    elif case == "contexts":
        np.savetxt(ctx, np.ones(4))
        args += ["--contexts", str(ctx)]
    elif case == "learner":
        args += ["--learner", "chebcb"]
    elif case == "damaged":
        (tmp_path / "bad.mtx").write_text("%%MatrixMarket matrix coordinate real general\n3 3\n")
        args[1] = str(tmp_path / "bad.mtx")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # refused before anything was written


def _interrupt_after(monkeypatch, calls):
    """Ctrl-C in the middle of the exact solves of a system (the solver's ``calls``-th call)."""
    real = solvers.SOLVERS["sor"]
    count = [0]

    def sor(*args, **kwargs):
        count[0] += 1
        if count[0] == calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setitem(solvers.SOLVERS, "sor", sor)


def test_ctrl_c_keeps_the_systems_finished(monkeypatch, files, tmp_path, capsys):
    _interrupt_after(monkeypatch, 3 * len(ARMS) + 2)  # during system 3's exact solves
    res = uf.run(_sequence(), solver="sor", arms=ARMS, audit_budget=None, interruptible=True)
    assert res["interrupted"] == 3 and res["C"].shape == (3, len(ARMS))
    assert len(res["tuner"].history["arm"]) == 4  # system 3 was tuned, not compared
    s = uf.summarize(res)
    assert s["interrupted"] and s["systems"] == 3
    assert s["tuned"]["iterations"] == int(res["tuner"].history["iterations"][:3].sum())
    # the command line: exit status 130, the finished systems saved and reported
    mats, rhs, _ = files
    _interrupt_after(monkeypatch, 2 * 20 + 5)  # the default grid has 20 arms
    out = tmp_path / "stopped"
    code = main(["tune", *map(str, mats), "--rhs", *map(str, rhs), "--solver", "sor",
                 "--out", str(out), "--no-plots", "--quiet"])
    assert code == 130
    assert "2 of 6 systems finished and saved" in capsys.readouterr().err
    saved = json.loads((out / "summary.json").read_text())
    assert saved["interrupted"] and saved["systems"] == 2
    assert (out / "tuner.json").is_file()


def test_ctrl_c_during_the_exact_solves_still_draws_the_figures(monkeypatch, files, tmp_path,
                                                                capsys):
    # the tuner then holds one round more than the exact costs: the figures compare the
    # rounds both cover instead of failing with an IndexError after the work was saved
    mats, rhs, _ = files
    _interrupt_after(monkeypatch, 5 * 20 + 3)  # system 5's exact solves (20 default arms)
    out = tmp_path / "stopped"
    code = main(["tune", *map(str, mats), "--rhs", *map(str, rhs), "--solver", "sor",
                 "--audit-budget", "0", "--out", str(out), "--quiet"])
    assert code == 130, capsys.readouterr().err
    assert "5 of 6 systems finished and saved" in capsys.readouterr().err
    assert any((out / "figures").glob("*.png"))
    res = uf.run(_sequence(), solver="sor", arms=ARMS, audit_budget=None)
    res["C"], res["converged"] = res["C"][:5], res["converged"][:5]  # as after Ctrl-C
    d = uf.figure_data(res)
    r = d["regret"]["best_fixed"]
    exact = np.asarray(r["exact"])
    rounds = np.asarray(r["rounds"])
    assert np.all(np.isnan(exact[rounds > 5])) and np.all(np.isfinite(exact[rounds <= 5]))
    k = int(np.argmin(res["C"].sum(axis=0)))
    last = int(np.flatnonzero(rounds <= 5)[-1])
    assert exact[last] == (d["cumulative"][rounds[last] - 1]
                           - res["C"][:rounds[last], k].sum())
