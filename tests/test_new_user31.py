"""A new user's scenarios (round 31): the defects they found, each checked against what the
docs promise (``docs/cli.rst``, ``docs/quickstart.md``, ``docs/guarantees.md``)."""
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import bandit
import solvers
from experiments import cli
from experiments import user_files as uf


def _neumann(n=40):
    """The 1-D Neumann Laplacian: its columns sum to zero (1ᵀL = 0)."""
    L = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n)).tolil()
    L[0, 0] = L[n - 1, n - 1] = 1.0
    return L.tocsr()


def _neumann_files(tmp_path):
    L = _neumann()
    for k in range(2):
        scipy.io.mmwrite(tmp_path / f"N{k}.mtx", L, symmetry="symmetric")
    good = np.sin(np.arange(L.shape[0]))
    good -= good.mean()
    np.save(tmp_path / "good.npy", good)
    np.save(tmp_path / "bad.npy", good + 1.0)  # sums to n: no x can meet the rule
    return [str(tmp_path / f"N{k}.mtx") for k in range(2)]


def test_tune_names_the_inconsistent_rhs_file_before_solving(tmp_path, capsys):
    mats = _neumann_files(tmp_path)
    out = tmp_path / "out"
    code = cli.main(["tune", *mats, "--rhs", str(tmp_path / "good.npy"),
                     str(tmp_path / "bad.npy"), "--solver", "sor", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    line = err[0]
    # the right-hand side's file is named first, with its matrix's, and why
    assert line.startswith(f"relaxtune: error: {tmp_path / 'bad.npy'} (the right-hand side "
                           f"of {mats[1]}): inconsistent with its matrix"), line
    assert "sums to zero" in line and "b.mean()" not in line  # file terms, not Python
    assert not out.exists()  # refused before anything was solved or written


def test_tune_without_rhs_on_a_neumann_matrix_says_b_is_ones(tmp_path, capsys):
    mats = _neumann_files(tmp_path)
    code = cli.main(["tune", mats[0], "--solver", "sor", "--out", str(tmp_path / "o")])
    line = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in line
    assert f"{mats[0]} (no --rhs: b = (1, ..., 1)): inconsistent with its matrix" in line


def test_run_names_the_inconsistent_rhs_of_a_list_by_its_system():
    L = _neumann()
    good = np.sin(np.arange(L.shape[0]))
    good -= good.mean()
    with pytest.raises(ValueError, match=r"^b\.mtx: inconsistent with its matrix"):
        uf.run([(L, good), (L, good + 1.0)], solver="sor", arms=[1.0, 1.5],
               names=["a.mtx", "b.mtx"])


@pytest.mark.parametrize("b, say", [
    ([10 ** 400] * 8, "beyond the double range"),
    ([2 ** 70] * 8, "beyond the int64 range"),
    ([1.0] * 7 + [-(10 ** 30)], "beyond the int64 range"),
])
def test_rhs_of_huge_python_ints_is_told_what_it_is(b, say):
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(8, 8)).tocsr()
    for call in (lambda: solvers.sor(A, b, 1.2),
                 lambda: bandit.Tuner(solver="sor").solve(A, b)):
        with pytest.raises(ValueError, match=say) as info:
            call()
        assert "mixing numbers with None" not in str(info.value)
    if "int64" in say:  # the advice given works
        assert solvers.sor(A, np.asarray(b, dtype=float), 1.2).converged


def test_object_rhs_of_other_objects_keeps_its_hint():
    A = sp.eye(3, format="csr")
    with pytest.raises(ValueError, match="mixing numbers with None"):
        solvers.sor(A, [1.0, None, 2.0], 1.0)


@pytest.mark.parametrize("context", [10 ** 400, [1.0, -(10 ** 400)]])
def test_context_of_an_integer_beyond_the_double_range_is_told_so(context):
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(8, 8)).tocsr()
    with pytest.raises(ValueError, match=r"integer of 401 digits .*beyond the double range"
                       ) as info:
        bandit.Tuner(solver="sor").solve(A, np.ones(8), context=context)
    assert "0" * 50 not in str(info.value)  # not its 401 digits


def test_context_that_is_nan_keeps_its_message():
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(8, 8)).tocsr()
    with pytest.raises(ValueError, match=r"^context must be finite, got \[1.0, nan\]$"):
        bandit.Tuner(solver="sor").solve(A, np.ones(8), context=[1.0, float("nan")])


def test_run_figures_count_whole_solves(tmp_path):
    """A run of 2 solves: the x axis of every figure ticks at whole solves (it had ticks at
    0.25, 0.5, ... solves)."""
    import matplotlib

    matplotlib.use("Agg")
    from experiments.plots import plot_run

    t = bandit.Tuner(solver="sor")
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(30, 30)).tocsr()
    for _ in range(2):
        t.solve(A, np.ones(30))
    axes = np.ravel(plot_run(t))
    for ax in axes:
        ax.figure.canvas.draw()
        ticks = [x for x in ax.get_xticks() if ax.get_xlim()[0] <= x <= ax.get_xlim()[1]]
        assert ticks and all(float(x).is_integer() for x in ticks), (ax.get_title(), ticks)


@pytest.mark.parametrize("method", ["save", "to_csv"])
def test_save_to_an_open_file_is_told_to_give_its_name(tmp_path, method):
    t = bandit.Tuner(solver="sor")
    t.solve(sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(8, 8)).tocsr(), np.ones(8))
    with open(tmp_path / "run.out", "w") as fh:
        with pytest.raises(TypeError, match=r"cannot save to a TextIOWrapper: give the file's "
                                            r"name .*'.*run\.out'"):
            getattr(t, method)(fh)
    assert (tmp_path / "run.out").read_text() == ""  # nothing written through it


def test_load_from_an_open_file_is_told_to_give_its_name(tmp_path):
    t = bandit.Tuner(solver="sor")
    t.save(tmp_path / "t.json")
    with open(tmp_path / "t.json") as fh:
        with pytest.raises(TypeError, match=r"cannot read from a TextIOWrapper: give the "
                                            r"file's name"):
            bandit.Tuner.load(fh)
    assert bandit.Tuner.load(tmp_path / "t.json").solver == "sor"


def _small_files(tmp_path, count=2):
    mats = []
    for k in range(count):
        A = sp.diags([-1.0, 2.0 + 0.1 * k, -1.0], [-1, 0, 1], shape=(20, 20)).tocsr()
        scipy.io.mmwrite(tmp_path / f"A{k}.mtx", A, symmetry="symmetric")
        mats.append(str(tmp_path / f"A{k}.mtx"))
    return mats


@pytest.mark.parametrize("first, then, say", [
    ([1.0, 2.0], np.ones((2, 3)), r"context must have 1 entry, got 3: the learner of --resume "
                                   r".*tuner\.json was given contexts of that length"),
    (None, [1.0, 2.0], r"^relaxtune: error: --contexts .*c2\.txt: the learner of --resume "
                       r".*tuner\.json was run without contexts.*leave --contexts out$"),
])
def test_resume_with_contexts_of_another_kind_names_the_resumed_learner(tmp_path, capsys,
                                                                        first, then, say):
    mats = _small_files(tmp_path)
    extra = []
    if first is not None:
        np.savetxt(tmp_path / "c1.txt", first)
        extra = ["--contexts", str(tmp_path / "c1.txt")]
    assert cli.main(["tune", *mats, "--solver", "sor", "--omegas", "1.2", "1.6", "--no-plots",
                     "--no-exact", "--quiet", "--out", str(tmp_path / "r1"), *extra]) == 0
    np.savetxt(tmp_path / "c2.txt", then)
    capsys.readouterr()
    code = cli.main(["tune", *mats, "--resume", str(tmp_path / "r1" / "tuner.json"),
                     "--contexts", str(tmp_path / "c2.txt"), "--out", str(tmp_path / "r2")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert __import__("re").search(say, err), err
    assert "pass none" not in err


def test_load_with_a_misspelt_keyword_is_told_so(tmp_path):
    bandit.Tuner(solver="sor").save(tmp_path / "t.json")
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'progres' \(did you "
                                        r"mean 'progress'\?\)"):
        bandit.Tuner.load(tmp_path / "t.json", progres=True)
    with pytest.raises(TypeError, match=r"takes only progress, callback and comm, got rtol: "
                                        r"a loaded tuner continues"):
        bandit.Tuner.load(tmp_path / "t.json", rtol=1e-3)


def _tune_error(argv, capsys):
    code = cli.main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err, err
    return err


def test_rhs_files_of_numbers_beyond_the_double_range_are_told_so(tmp_path, capsys):
    """The files of a right-hand side of huge integers: a .txt (read as Inf: the file holds
    no Inf), a .npy of Python objects (NumPy's words named allow_pickle), an 'integer'
    Matrix Market file (scipy's OverflowError)."""
    mats = _small_files(tmp_path, 1)
    big = "1" + "0" * 400
    (tmp_path / "b.txt").write_text("\n".join(["1"] * 5 + [big] + ["1"] * 14) + "\n")
    np.save(tmp_path / "b.npy", np.array([10 ** 400] * 20, dtype=object), allow_pickle=True)
    (tmp_path / "b.mtx").write_text("%%MatrixMarket matrix array integer general\n20 1\n"
                                    + "\n".join([big] + ["1"] * 19) + "\n")
    out = ["--out", str(tmp_path / "o")]
    err = _tune_error(["tune", *mats, "--rhs", str(tmp_path / "b.txt"), *out], capsys)
    assert err.endswith("b.txt: 1 entry is not finite (NaN or Inf), the first at entry 6; a "
                        "number beyond double precision's range (such as 1e400) reads as Inf")
    err = _tune_error(["tune", *mats, "--rhs", str(tmp_path / "b.npy"), *out], capsys)
    assert "an array of Python objects" in err and "allow_pickle" not in err
    assert "np.asarray(b, dtype=float)" in err
    err = _tune_error(["tune", *mats, "--rhs", str(tmp_path / "b.mtx"), *out], capsys)
    assert "Integer out of range — an 'integer' Matrix Market file holds 64-bit" in err
    assert not (tmp_path / "o").exists()


def test_context_after_a_first_solve_without_one_says_what_to_do():
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(8, 8)).tocsr()
    t = bandit.Tuner(solver="sor")
    t.solve(A, np.ones(8))
    with pytest.raises(ValueError, match=r"started without a context .*leave context out on "
                                         r"every solve, got 1\.5") as info:
        t.solve(A, np.ones(8), context=1.5)
    assert "pass none" not in str(info.value)
    assert len(t.history["arm"]) == 1  # nothing recorded


@pytest.mark.parametrize("changed", [2, 0])
def test_tune_keeps_the_finished_systems_when_a_file_changes_during_the_run(
        tmp_path, capsys, monkeypatch, changed):
    """A matrix file rewritten at another size after ``tune`` checked it: the systems
    finished before it are saved as after Ctrl-C, and the one line names the right-hand side
    that no longer fits and where to continue (every finished system had been lost, exit 2,
    the message naming the matrix's file before the rhs's)."""
    mats = _small_files(tmp_path, 4)
    rhs = []
    for k in range(4):
        np.save(tmp_path / f"b{k}.npy", np.ones(20))
        rhs.append(str(tmp_path / f"b{k}.npy"))
    reads = {}
    original = uf.SystemFiles.__getitem__

    def rewrite_on_second_read(self, t):
        reads[t] = reads.get(t, 0) + 1
        if t == changed and reads[t] == 2:  # the run's read, after check_systems'
            scipy.io.mmwrite(mats[t], sp.eye(12, format="csr") * 2.0, symmetry="symmetric")
        return original(self, t)

    monkeypatch.setattr(uf.SystemFiles, "__getitem__", rewrite_on_second_read)
    out = tmp_path / "out"
    code = cli.main(["tune", *mats, "--rhs", *rhs, "--solver", "sor", "--omegas", "1.2", "1.6",
                     "--no-plots", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    assert err.startswith(f"relaxtune: error: {rhs[changed]}: a vector of 12 entries was "
                          f"expected"), err
    assert "its files changed after the run had checked them" in err
    if changed:
        assert err.endswith(f"2 of 4 systems finished and saved in {out}; continue with "
                            f"--resume {out}/tuner.json from system 3 ({mats[2]})"), err
        assert bandit.Tuner.load(out / "tuner.json").history["arm"].size == 2
        assert (out / "summary.json").exists()
    else:
        assert err.endswith("nothing was saved") and not out.exists()


def test_a_matrix_file_given_as_rhs_is_said_to_be_one(tmp_path, capsys):
    mats = _small_files(tmp_path, 2)
    err = _tune_error(["tune", mats[0], "--rhs", mats[1], "--out", str(tmp_path / "o")], capsys)
    assert err == (f"relaxtune: error: {mats[1]}: a sparse 20 × 20 matrix (a Matrix Market "
                   f"coordinate file), not a right-hand side: a system's matrix goes in MATRIX, "
                   f"its right-hand side (a vector of 20 entries) in --rhs")
    scipy.io.mmwrite(tmp_path / "B.mtx", np.ones((20, 3)))  # dense columns: several rhs
    err = _tune_error(["tune", mats[0], "--rhs", str(tmp_path / "B.mtx"), "--out",
                       str(tmp_path / "o")], capsys)
    assert "3 right-hand sides of 20 entries in one file" in err


def test_run_of_solves_already_solved_draws_its_exact_zero_regret():
    """b = 0 on every solve: the report's regret is exact, 0 (every arm costs what the round
    paid); the run's figures and data had called it undefined and drawn nothing."""
    import matplotlib

    matplotlib.use("Agg")
    from experiments.plots import plot_run, run_data

    t = bandit.Tuner(solver="sor")
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(10, 10)).tocsr()
    for _ in range(2):
        t.solve(A, np.zeros(10))
    assert t.regret().best_fixed.estimate == 0.0
    d = run_data(t)
    for kind in ("best_fixed", "instance_optimal"):
        assert d["regret"][kind]["estimate"].tolist() == [0.0] * len(d["regret"][kind]["rounds"])
    axes = np.ravel(plot_run(t))
    assert not any("undefined" in ax.get_title() for ax in axes)


def test_a_solved_last_round_keeps_the_last_kept_rounds_checkpoint():
    """Rounds whose start already met the stopping rule are left out of the estimate; the
    curves hold across them.  A run ending in one such round had its last kept round's
    checkpoint moved to the run's end, so that round had no point on the curve: round 4 of
    5 here (rounds were [1, 2, 3, 5])."""
    A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(60, 60)).tocsr()
    t = bandit.Tuner(solver="sor")
    for k in range(4):
        t.solve(A * (1 + 0.1 * k), np.ones(60))
    before = t.regret()
    t.solve(A, np.zeros(60))  # already solved: adds nothing to either regret
    after = t.regret()
    for kind in ("best_fixed", "instance_optimal"):
        e, e4 = getattr(after, kind), getattr(before, kind)
        assert e.rounds.tolist() == [1, 2, 3, 4, 5]
        for key in ("curve", "curve_low", "curve_high"):
            c = getattr(e, key)
            assert c.size == 5
            np.testing.assert_array_equal(c[:4], getattr(e4, key))  # the same estimate
            np.testing.assert_array_equal(c[4:], c[3:4])  # held over the solved round
        assert e.estimate == e4.estimate


def test_a_progress_bar_in_a_log_ends_on_the_runs_final_totals(tmp_path):
    """``progress=True`` with standard error in a file: when the program ends with the bar
    still open, its last line holds the run's final totals, the regret estimate that
    ``tuner.regret()`` reports (the bar had ended on the estimate of its first solve, whose
    refresh interval a short run never reached, or on its first line alone)."""
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(
        "import numpy as np, scipy.sparse as sp, bandit\n"
        "A = sp.diags([-1, 2.0, -1], [-1, 0, 1], shape=(50, 50)).tocsr()\n"
        "t = bandit.Tuner(solver='sor', progress=True)\n"
        "for k in range(3):\n"
        "    t.solve(A * (1 + 0.1 * k), np.ones(50))\n"
        "print(repr(t.regret().best_fixed.estimate), sum(t.history['iterations']))\n"
        "cycle = [t]\n"
        "cycle.append(cycle)  # held to the end\n")
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    with open(tmp_path / "err.log", "w") as err:
        out = subprocess.run([sys.executable, str(script)], stdout=subprocess.PIPE,
                             stderr=err, text=True, cwd=root, check=True,
                             env={**__import__("os").environ, "PYTHONPATH": str(root)}).stdout
    est, iters = out.split()
    last = (tmp_path / "err.log").read_text().strip().splitlines()[-1]
    assert last.startswith("tuned solves: 3solve")
    assert f"iterations={int(iters):,}" in last
    assert f"regret≈{float(est):,.0f} (vs best fixed)" in last
