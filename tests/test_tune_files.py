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
                               "all_converged": True, "not_converged": 0}
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


def test_files_are_read_one_system_at_a_time(files, monkeypatch):
    # thousands of large steps must not all be in memory: a system read from its files is
    # freed once the loop moves on, and the run's results equal those of the systems in a list
    import gc
    import weakref

    mats, rhs, _ = files
    systems = uf.load_systems(mats, rhs)
    assert len(systems) == 6
    A0, b0 = systems[0]
    ref = weakref.ref(A0)
    del A0, b0
    gc.collect()
    assert ref() is None
    reads = []
    real = uf.read_matrix
    monkeypatch.setattr(uf, "read_matrix", lambda p: reads.append(p) or real(p))
    res = uf.run(systems, solver="sor", arms=ARMS, policy="tsallis_inf", audit_budget=None)
    assert reads == mats  # each file read when its system is solved, in order
    ref_res = uf.run(_sequence(), solver="sor", arms=ARMS, policy="tsallis_inf",
                     audit_budget=None)
    assert np.array_equal(res["C"], ref_res["C"])
    assert np.array_equal(res["tuner"].history["arm"], ref_res["tuner"].history["arm"])


def test_a_damaged_file_is_named_before_anything_is_solved(files):
    mats, rhs, _ = files
    mats[3].write_text("%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 x\n2 2 1\n3 3 1\n")
    systems = uf.load_systems(mats, rhs)  # counts only
    with pytest.raises(ValueError, match=f"{mats[3]}: cannot read it"):
        uf.check_systems(systems, "sor", mats)
    np.save(rhs[4], np.ones(N + 1))
    with pytest.raises(ValueError, match="a vector of 100 entries was expected"):
        uf.check_systems(uf.load_systems(mats[:3] + mats[4:], rhs[:3] + rhs[4:]), "sor")


def test_a_negative_diagonal_for_ssor_pcg_is_named_before_anything_is_solved():
    # the Tuner refuses it for SSOR-PCG at its solve: the check before the run must too, or
    # the systems before it would be solved (and compared with every ω) for nothing
    good, b = _sequence(1)[0]
    with pytest.raises(ValueError, match="neg.mtx: A has a negative diagonal entry.*ssor_pcg"):
        uf.check_systems([(good, b), (-good, b)], "ssor_pcg", ["good.mtx", "neg.mtx"])
    uf.check_systems([(good, b), (-good, b)], "sor", ["good.mtx", "neg.mtx"])  # SOR takes −A
    from bandit import Tuner

    with pytest.raises(ValueError, match="A has a negative diagonal entry"):  # as the Tuner
        Tuner(solver="ssor_pcg").solve(-good, b)


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


def test_a_failed_solve_costs_the_cap_in_every_row():
    """An indefinite system: SOR's guard stops the tuned run early, while a fixed ω that
    does not converge counts maxiter — the tuned row must count it the same way, or a run
    that solved nothing looks 3 × cheaper than every fixed ω."""
    A = (L - 1.0 * sp.eye(N)).tocsr()
    res = uf.run([(A, np.ones(N))], solver="sor", arms=[1.0, 1.5], maxiter=300,
                 audit_budget=None)
    h = res["tuner"].history
    assert not h["converged"][0]
    assert not res["converged"].any()
    s = uf.summarize(res)
    assert s["tuned"]["iterations"] >= 300 and not s["tuned"]["all_converged"]
    assert s["exact_regret"]["best_fixed"] >= 0
    assert s["instance_optimal"]["all_converged"] is False
    text = uf.format_report(s)
    assert text.splitlines()[-2].endswith("(no solve converged)")  # instance row
    d = uf.figure_data(res)
    assert d["regret"]["best_fixed"]["exact"][-1] == s["exact_regret"]["best_fixed"]


@pytest.mark.parametrize("solver, extra, bad, message", [
    ("ssor_pcg", [], "nonsym", "is not symmetric"),
    ("sor", [], "zerodiag", "zero or missing diagonal entry in row 5"),
    ("sor", ["--auto-context"], "nonsym", "is not symmetric"),
])
def test_a_system_the_solver_refuses_is_named_before_anything_is_solved(
        files, tmp_path, capsys, monkeypatch, solver, extra, bad, message):
    """The third of six files is one the solver cannot take: refused up front, naming the
    file, rather than after two systems were solved and then lost."""
    mats, _, _ = files
    B = sp.lil_matrix(L)
    if bad == "nonsym":
        B[0, 1] = -3.0
    else:
        B[5, 5] = 0.0
    scipy.io.mmwrite(tmp_path / "bad.mtx", B.tocsr())
    mats[2] = tmp_path / "bad.mtx"
    calls = []
    real = solvers.SOLVERS[solver]
    monkeypatch.setitem(solvers.SOLVERS, solver, lambda *a, **k: calls.append(1) or real(*a, **k))
    out = tmp_path / "o"
    assert main(["tune", *map(str, mats), "--solver", solver, "--out", str(out),
                 "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bad.mtx'}: " in err and message in err
    assert len(err.strip().splitlines()) == 1 and not calls and not out.exists()


def test_output_paths_are_checked_before_the_run(files, tmp_path, capsys):
    mats, _, _ = files
    # another study's results folder: its summary.json is not overwritten
    other = tmp_path / "heat"
    other.mkdir()
    (other / "summary.json").write_text('{"study": "heat2d"}')
    assert main(["tune", *map(str, mats), "--out", str(other), "--quiet"]) == 2
    assert "already holds" in capsys.readouterr().err
    assert json.loads((other / "summary.json").read_text()) == {"study": "heat2d"}
    # --json into a folder that cannot be created: refused before solving
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = tmp_path / "o"
    assert main(["tune", *map(str, mats), "--out", str(out), "--quiet", "--json",
                 str(blocker / "s.json")]) == 2
    err = capsys.readouterr().err
    assert "--json" in err and len(err.strip().splitlines()) == 1 and not out.exists()


def test_a_folder_or_a_pattern_file_is_refused_with_what_to_give(tmp_path, capsys):
    folder = tmp_path / "mats"
    folder.mkdir()
    scipy.io.mmwrite(folder / "A.mtx", L)
    assert main(["tune", str(folder), "--out", str(tmp_path / "o")]) == 2
    assert f"{folder}: is a folder; give its files" in capsys.readouterr().err
    # a pattern-only file has no values: not a system (scipy would read ones)
    scipy.io.mmwrite(tmp_path / "P.mtx", L, field="pattern")
    with pytest.raises(ValueError, match="pattern only"):
        uf.read_matrix(tmp_path / "P.mtx")
    # integer values are numbers: read as float
    scipy.io.mmwrite(tmp_path / "I.mtx", sp.csr_matrix(L.astype(np.int64)), field="integer")
    assert (uf.read_matrix(tmp_path / "I.mtx") != L).nnz == 0


@pytest.mark.parametrize("calls", [3, 2 * len(ARMS) + 3])  # in system 0's / system 2's exact solves
def test_ctrl_c_during_the_exact_solves_still_draws_the_figures(monkeypatch, tmp_path, calls):
    """The tuner has one round more than the exact costs (the system being compared when
    Ctrl-C came): its figures draw the exact curves where they are known, not an IndexError."""
    _interrupt_after(monkeypatch, calls)
    res = uf.run(_sequence(), solver="sor", arms=ARMS, audit_budget=None, interruptible=True)
    done = res["interrupted"]
    assert len(res["tuner"].history["arm"]) == done + 1
    d = uf.figure_data(res)
    r = d["regret"]["best_fixed"]
    if done == 0:  # nothing compared: no exact curve
        assert "exact" not in r
    else:
        known = np.asarray(r["rounds"]) <= done
        assert np.all(np.isfinite(r["exact"][known])) and np.all(np.isnan(r["exact"][~known]))
    from experiments.plots import draw_run

    assert len(draw_run(d, tmp_path / "figures")) == 6


def test_inputs_read_wrong_are_named_in_one_line(tmp_path, capsys):
    m = tmp_path / "A.mtx"
    scipy.io.mmwrite(m, L)
    good, bad = tmp_path / "b0.npy", tmp_path / "b1.npy"
    np.save(good, np.ones(N))
    np.save(bad, np.r_[np.nan, np.ones(N - 1)])
    with pytest.raises(ValueError, match=f"{bad}: .*not finite"):
        uf.read_vector(bad, N)
    empty = tmp_path / "ctx.txt"
    empty.write_text("# no numbers\n")
    out = tmp_path / "o"
    assert main(["tune", str(m), str(m), "--rhs", str(good), str(good), "--contexts",
                 str(empty), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "0 contexts for 2 systems" in err and len(err.strip().splitlines()) == 1
    # a shell pattern that matched nothing reaches the program as written
    assert main(["tune", str(tmp_path / "step*.mtx"), "--out", str(out)]) == 2
    assert "no such file (a pattern that matched no file?)" in capsys.readouterr().err


def test_a_refusal_in_the_middle_of_the_run_names_the_file_and_leaves_no_folder(
        files, tmp_path, capsys, monkeypatch):
    """A solver refusing a system once it has run (checked up front: everything it can be)."""
    import bandit

    mats, _, _ = files
    real = bandit.Tuner.solve
    count = [0]

    def solve(self, *args, **kwargs):
        count[0] += 1
        if count[0] == 3:  # system 2's tuned solve
            raise ValueError("the solution underflows")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(bandit.Tuner, "solve", solve)
    out = tmp_path / "o"
    assert main(["tune", *map(str, mats), "--solver", "sor", "--out", str(out), "--quiet",
                 "--audit-budget", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{mats[2]}: the solution underflows" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_omega_whose_first_sweep_overflows_counts_as_a_failed_solve():
    """SOR at a large ω on a strongly non-symmetric matrix: the first sweep overflows and
    the solver refuses the iterate (a ValueError); ω = 1 solves it.  In the exact run that
    ω is a solve that did not converge (maxiter), not the end of the whole run."""
    n = 2000
    A = sp.diags([-1.8, 2.0, -0.1], [-1, 0, 1], shape=(n, n)).tocsr()
    b = np.ones(n)
    with pytest.raises(ValueError, match="cannot solve from this start"):
        solvers.sor(A, b, 1.95)
    ref = solvers.sor(A, b, 1.0)
    assert ref.converged
    res = uf.run([(A, b)], solver="sor", arms=[1.0, 1.95], policy=bandit_fixed(0),
                 audit_budget=None)
    assert res["C"].tolist() == [[ref.iterations, 10_000]]
    assert res["converged"].tolist() == [[True, False]]
    assert uf.summarize(res)["best_fixed"]["omega"] == 1.0


def bandit_fixed(k):
    import bandit

    return bandit.FixedArm([1.0, 1.95], arm=k)


def test_symmetric_storage_one_triangle_is_the_full_matrix_both_is_refused(tmp_path):
    """scipy.io.mmwrite(..., symmetry="symmetric") stores one triangle and mmread gives the
    full matrix back; a file in symmetric storage that lists both triangles (written by hand)
    would be read with every off-diagonal entry doubled, so it is refused."""
    one = tmp_path / "one.mtx"
    scipy.io.mmwrite(one, L, symmetry="symmetric")
    assert (uf.read_matrix(one) != L).nnz == 0
    both = tmp_path / "both.mtx"
    both.write_text("%%MatrixMarket matrix coordinate real symmetric\n2 2 4\n1 1 2\n2 2 2\n"
                    "2 1 -1\n1 2 -1\n")
    with pytest.raises(ValueError, match=f"{both}: .*both sides of the diagonal"):
        uf.read_matrix(both)


def test_sigterm_keeps_the_systems_finished_and_exits_143(files, tmp_path, capsys):
    """A batch system's time limit (SIGTERM) is handled as Ctrl-C is, with status 143."""
    import os
    import signal

    mats, rhs, _ = files
    real = solvers.SOLVERS["sor"]
    count = [0]

    def sor(*args, **kwargs):
        count[0] += 1
        if count[0] == 2 * 20 + 5:  # during system 2's exact solves
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    import pytest as _pytest

    with _pytest.MonkeyPatch.context() as mp:
        mp.setitem(solvers.SOLVERS, "sor", sor)
        out = tmp_path / "stopped"
        code = main(["tune", *map(str, mats), "--rhs", *map(str, rhs), "--solver", "sor",
                     "--out", str(out), "--no-plots", "--quiet"])
    assert code == 143
    err = capsys.readouterr().err
    assert "terminated: 2 of 6 systems finished and saved" in err
    assert json.loads((out / "summary.json").read_text())["systems"] == 2
    assert signal.getsignal(signal.SIGTERM) is not None  # the handler was put back


def test_after_ctrl_c_the_estimate_covers_the_systems_the_exact_regret_covers(monkeypatch):
    """The tuner holds one round more than the exact costs (the system being compared at
    the stop): the estimate beside the exact regret is over the finished systems only — the
    estimate of a run that solved just those (an independent reference: same seed, same
    arms) — so whether the exact regret lies in its interval is said."""
    _interrupt_after(monkeypatch, 2 * len(ARMS) + 3)
    res = uf.run(_sequence(), solver="sor", arms=ARMS, audit_budget=None, interruptible=True)
    done = res["interrupted"]
    assert done == 2 and len(res["tuner"].history["arm"]) == done + 1
    s = uf.summarize(res)
    monkeypatch.undo()
    short = uf.summarize(uf.run(_sequence()[:done], solver="sor", arms=ARMS,
                                audit_budget=None))
    e, e0 = s["estimate"], short["estimate"]
    assert e["method"] == e0["method"]
    keys = ("best_fixed", "low", "high")  # (no audits: no interval, NaN ends)
    assert [e[k] for k in keys] == pytest.approx([e0[k] for k in keys], nan_ok=True)
    assert s["exact_regret"] == short["exact_regret"] and s["systems"] == done
    assert s["covered"] == short["covered"]
    rep = res["tuner"].regret(rounds=done)
    assert rep.rounds == done and rep.paid == s["tuned"]["iterations"]
    assert "the estimate also counts" not in uf.format_report(s)


def test_ctrl_c_in_the_command_line_draws_the_figures_over_the_finished_systems(
        monkeypatch, files, tmp_path, capsys):
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


def test_the_table_says_how_many_solves_did_not_converge():
    """An unattainable tolerance (the shifted Laplacian of condition 4e9 at rtol 1e-12)
    beside a system that every ω solves: each row counts its failed solves, and a row that
    solved nothing says so (before: every such row read "some solves did not converge",
    also where none had converged)."""
    import math
    m = 8
    h = 1.0 / (m + 1)
    bad = gallery.shifted_laplacian_2d(m, -8.0 * math.sin(math.pi * h / 2) ** 2 + 2e-9)
    b = np.random.default_rng(0).standard_normal(m * m)
    good = gallery.laplacian_2d(m)
    res = uf.run([(bad, b), (good, b), (bad, -b)], solver="ssor_pcg", arms=[1.0, 1.5],
                 rtol=1e-12, maxiter=400, audit_budget=None)
    assert not res["converged"][0].any() and res["converged"][1].all()
    s = uf.summarize(res)
    assert s["tuned"]["not_converged"] == 2 and s["best_fixed"]["not_converged"] == 2
    assert s["instance_optimal"]["not_converged"] == 2
    rows = uf.format_report(s).splitlines()[2:-1]
    assert all(r.endswith("(2 of 3 solves did not converge)") for r in rows), rows
    # nothing solved: the rows say so
    res = uf.run([(bad, b)], solver="ssor_pcg", arms=[1.0, 1.5], rtol=1e-12, maxiter=400,
                 audit_budget=None)
    rows = uf.format_report(uf.summarize(res)).splitlines()[2:-1]
    assert all(r.endswith("(no solve converged)") for r in rows), rows
