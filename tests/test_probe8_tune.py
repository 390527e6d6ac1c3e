"""``relaxtune tune --resume`` with tuner files a scientist wrote in Python: what ``tune``
cannot continue is refused in one line (status 2), and what it continues is compared on the
tuner's own stopping rule."""
import json

import numpy as np
import pytest
import scipy.io

import bandit
from dense_gold import sor_sweeps
from experiments.cli import main
from solvers import gallery

A = gallery.laplacian_2d(5)
N = A.shape[0]


@pytest.fixture
def files(tmp_path):
    mats = []
    for k in range(2):
        m = tmp_path / f"A{k}.mtx"
        scipy.io.mmwrite(m, (A * (1 + 0.5 * k)).tocoo())
        mats.append(str(m))
    return mats


def _saved(tmp_path, name, policy=None, **kw):
    t = bandit.Tuner(policy, **kw)
    for _ in range(2):
        t.solve(A, np.ones(N))
    path = tmp_path / name
    t.save(path)
    return path


def _refused(files, path, tmp_path, capsys, said):
    out = tmp_path / "out"
    before = path.read_bytes()
    assert main(["tune", *files, "--resume", str(path), "--out", str(out), "--quiet",
                 "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"relaxtune: error: --resume {path}: ")
    assert said in err and "continue it in Python with Tuner.load" in err
    assert not out.exists() and path.read_bytes() == before  # nothing written, file kept


def test_resume_refuses_a_petsc_backend_tuner(files, tmp_path, capsys):
    pytest.importorskip("petsc4py")
    path = _saved(tmp_path, "petsc.json", solver="sor", backend="petsc")
    _refused(files, path, tmp_path, capsys, "a tuner of backend 'petsc'")


def test_resume_refuses_a_configuration_arm_tuner(files, tmp_path, capsys):
    # solver "ssor_pcg" with configuration arms: the check on the solver's name let it
    # through, and `tune` failed with "TypeError: unhashable type: 'dict'", status 1
    arms = bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"])
    path = _saved(tmp_path, "configs.json", bandit.default_policy("ssor_pcg", arms, seed=0))
    assert bandit.Tuner.load(path).solver == "ssor_pcg"
    _refused(files, path, tmp_path, capsys, "a tuner over solver configurations (4 "
             "configuration arms such as")


@pytest.mark.parametrize("cost", ["time", "work"])
def test_resume_refuses_a_tuner_whose_cost_is_not_iterations(files, tmp_path, capsys, cost):
    # had run, printing the tuner's regret estimate in seconds ("0") beside the exact regret
    # in iterations
    path = _saved(tmp_path, f"{cost}.json", solver="sor", cost=cost)
    _refused(files, path, tmp_path, capsys, f"a tuner whose cost is {cost!r}")


def _dense_sor_count(M, b, omega, tol, cap=10_000):
    """Sweeps until ‖b − M x‖ <= tol, by dense SOR sweeps (the reference)."""
    x = np.zeros(b.size)
    for k in range(1, cap + 1):
        x = sor_sweeps(M, b, omega, x, 1)
        if np.linalg.norm(b - M @ x) <= tol:
            return k
    return cap


def test_resume_compares_a_tuner_with_an_atol_on_its_own_stopping_rule(files, tmp_path,
                                                                        capsys):
    # the fixed ω of the comparison had run to rtol alone while the tuned solves stopped at
    # the tuner's atol: "tuned 36 iterations, 0.857 × best fixed", an exact regret of -6
    path = _saved(tmp_path, "atol.json", solver="sor", rtol=1e-8, atol=1e-3)
    out = tmp_path / "out"
    assert main(["tune", *files, "--resume", str(path), "--out", str(out), "--no-plots",
                 "--json", "-"]) == 0
    s = json.loads(capsys.readouterr().out)
    omegas = list(bandit.DEFAULT_ARMS)
    C = np.array([[_dense_sor_count(M, np.ones(N), w, max(1e-8 * np.sqrt(N), 1e-3))
                   for w in omegas] for M in (A, A * 1.5)])
    k = int(np.argmin(C.sum(axis=0)))
    assert s["best_fixed"]["iterations"] == C[:, k].sum()
    assert s["best_fixed"]["omega"] == pytest.approx(omegas[k])
    assert s["instance_optimal"]["iterations"] == C.min(axis=1).sum()
    assert s["tuned"]["iterations"] >= s["instance_optimal"]["iterations"]


def test_resume_takes_a_tuner_with_rtol_zero_and_an_atol(files, tmp_path, capsys):
    # Tuner(rtol=0, atol=...) is a valid tuner; `tune --resume` had refused it as
    # "--rtol must be a number in (0, 1), got 0.0", an option the user had not given
    path = _saved(tmp_path, "rtol0.json", solver="sor", rtol=0.0, atol=1e-6)
    out = tmp_path / "out"
    assert main(["tune", files[0], "--resume", str(path), "--out", str(out), "--no-plots"]) == 0
    text = capsys.readouterr().out
    # one system, two earlier rounds: counted in the singular where it is one
    assert text.startswith("1 system, sor (a continued tuner: the table covers this system, "
                           "not its 2 earlier rounds)")
    C = [_dense_sor_count(A, np.ones(N), w, 1e-6) for w in bandit.DEFAULT_ARMS]
    t = bandit.Tuner.load(out / "tuner.json")
    assert t.rtol == 0.0 and t.atol == 1e-6 and len(t.history["arm"]) == 3
    assert f"best fixed ω = {bandit.DEFAULT_ARMS[int(np.argmin(C))]:g} (hindsight)" in text


def test_a_stopped_run_says_where_to_resume_and_resuming_there_matches_one_run(
        monkeypatch, tmp_path, capsys):
    # the stop line said "3 of 6 systems finished and saved in OUT", while OUT/tuner.json
    # had solved system 4 too (the one being compared): a user resuming from system 4 fed
    # the learner that system twice.  It now names the system to continue from, and
    # resuming there gives the history of one uninterrupted run (same seed, no audits)
    import solvers

    mats = []
    for t in range(6):
        m = tmp_path / f"S{t}.mtx"
        scipy.io.mmwrite(m, (A * (1 + 0.3 * t)).tocoo())
        mats.append(str(m))
    opts = ["--solver", "sor", "--audit-budget", "0", "--no-plots", "--quiet"]
    assert main(["tune", *mats, *opts, "--no-exact", "--out", str(tmp_path / "one")]) == 0
    whole = bandit.Tuner.load(tmp_path / "one" / "tuner.json").history
    real, count = solvers.SOLVERS["sor"], [0]

    def sor(*args, **kwargs):  # Ctrl-C during system 4's exact solves (20 arms a system)
        count[0] += 1
        if count[0] == 3 * 20 + 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setitem(solvers.SOLVERS, "sor", sor)
    stopped = tmp_path / "stopped"
    assert main(["tune", *mats, *opts, "--out", str(stopped)]) == 130
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "3 of 6 systems finished and saved" in err
    assert f"{stopped}/tuner.json has also solved system 4 ({mats[3]})" in err
    assert f"continue with --resume {stopped}/tuner.json from system 5 ({mats[4]})" in err
    assert main(["tune", *mats[4:], "--resume", str(stopped / "tuner.json"), *opts,
                 "--out", str(tmp_path / "rest")]) == 0
    got = bandit.Tuner.load(tmp_path / "rest" / "tuner.json").history
    for key in ("arm", "iterations", "converged"):
        assert np.array_equal(got[key], whole[key]), key


@pytest.mark.parametrize("text, said", [
    ("0.5\n", "1 context for 2 systems; give one line per system"),
    ("# dt\n0.5\nnan\n", "contexts must be finite numbers; the context of system 2 is nan "
                         "(1 of 2 in all)"),
    ("0.5 1\n0.2 inf\n", "contexts must be finite numbers; the context of system 2 is "
                         "[0.2, inf] (1 of 2 in all)"),
])
def test_a_bad_contexts_file_names_the_system(files, tmp_path, capsys, text, said):
    # had said "1 contexts for 2 systems" and, for a NaN, only "contexts must be finite
    # numbers" without the line
    ctx = tmp_path / "ctx.txt"
    ctx.write_text(text)
    assert main(["tune", *files, "--contexts", str(ctx), "--learner", "chebcb", "--out",
                 str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{ctx}: {said}" in err
    assert not (tmp_path / "o").exists()
    ctx.write_text(text.replace("nan", "0.7").replace("inf", "0.7") + ("0.7\n" if text ==
                                                                        "0.5\n" else ""))
    assert main(["tune", *files, "--contexts", str(ctx), "--learner", "chebcb", "--out",
                 str(tmp_path / "o"), "--quiet", "--no-plots", "--no-exact"]) == 0
    got = bandit.Tuner.load(tmp_path / "o" / "tuner.json").history["context"]
    want = np.loadtxt(ctx, ndmin=2)
    assert np.allclose(np.asarray([np.atleast_1d(c) for c in got], dtype=float), want)


def test_plot_given_a_matrix_file_says_what_it_draws(files, capsys):
    # "relaxtune plot A0.mtx" had said only "corrupt or truncated file (not JSON ...)", as
    # if a tuner file were damaged
    assert main(["plot", files[0]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"relaxtune: error: {files[0]}: ")
    assert "not JSON" in err and err.rstrip().endswith(
        "relaxtune plot draws a results folder or a tuner file (Tuner.save, relaxtune tune's "
        "tuner.json)")
