"""``relaxtune tune`` exits with status 3 when the tuned run left systems unsolved (it had
exited 0: a script took unconverged iterates for solutions), saying how many and which in one
line on standard error; the advice to add ω below 1 names ``--omegas`` there and the Tuner's ω
list in the library; ``relaxtune plot`` of a tune folder draws into its ``figures/`` (it had
drawn into the folder itself, beside the files, while ``tune`` and a study's folder use
``figures/``)."""
import json

import numpy as np
import scipy.io
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
from bandit._tuner_guard_diagnosis import UNDER_RELAX_CLI, UNDER_RELAX_HINT
from experiments.cli import EXIT_UNSOLVED, main


def _laplacians(folder, count=3, n=20):
    paths = []
    for k in range(count):
        A = sp.diags([-1.0, 2.0 + 0.01 * k, -1.0], [-1, 0, 1], shape=(n, n), format="csr")
        paths.append(folder / f"A{k}.mtx")
        scipy.io.mmwrite(paths[-1], A)
    return [str(p) for p in paths]


def _convection(m=24, peclet=100.0):
    """Central differences of −Δu + Pe·∇u: SOR diverges for every ω >= 1, converges at 0.5."""
    e, h = np.ones(m), 1.0 / (m + 1)
    T = sp.diags([-(1 + peclet * h / 2) * e[:-1], 2 * e, -(1 - peclet * h / 2) * e[:-1]],
                 [-1, 0, 1])
    identity = sp.identity(m)
    return sp.csr_matrix(sp.kron(identity, T) + sp.kron(T, identity))


def test_unsolved_systems_give_status_3_and_a_line_naming_them(tmp_path, capsys):
    mats = _laplacians(tmp_path)
    out = tmp_path / "out"
    # 2 iterations reach rtol 1e-8 on none of them (20 unknowns need ~10 of SSOR-PCG)
    status = main(["tune", *mats, "--maxiter", "2", "--no-plots", "--quiet", "--out",
                   str(out)])
    assert status == EXIT_UNSOLVED == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("relaxtune: unsolved: 3 of 3 systems not "
                                               "solved (not converged)")
    assert all(f"system {k + 1} ({m})" in err[0] for k, m in enumerate(mats))
    assert f"results saved in {out}" in err[0]
    # everything was saved, complete (not a half-written run)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tuned"]["not_converged"] == 3 and len(summary["failures"]) == 3
    assert bandit.Tuner.load(out / "tuner.json").summary()["all_converged"] is False


def test_a_run_that_solves_everything_exits_0_and_one_unsolved_system_exits_3(tmp_path,
                                                                              capsys):
    mats = _laplacians(tmp_path, count=2)
    assert main(["tune", *mats, "--no-plots", "--quiet", "--out", str(tmp_path / "a")]) == 0
    assert capsys.readouterr().err == ""
    bad = tmp_path / "conv.mtx"
    scipy.io.mmwrite(bad, _convection())
    status = main(["tune", mats[0], str(bad), "--solver", "sor", "--no-plots", "--quiet",
                   "--json", "-", "--out", str(tmp_path / "b")])
    assert status == 3
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # --json -: the summary alone on standard output
    assert captured.err.startswith(f"relaxtune: unsolved: 1 of 2 systems not solved (not "
                                   f"converged) by the tuned run: system 2 ({bad});")
    # the advice names the command line's option, in summary.json too
    why = summary["failures"][0]["why"]
    assert UNDER_RELAX_CLI in why and "--omegas" in why and "bandit.Tuner(" not in why
    saved = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert saved["failures"][0]["why"] == why


def test_the_library_names_the_tuners_omega_list():
    C = _convection()
    b = np.ones(C.shape[0])
    r = bandit.Tuner(solver="sor").solve(C, b)
    assert not r.converged and UNDER_RELAX_HINT in r.info["failure"]
    assert "--omegas" not in r.info["failure"]
    # the advice works as written: the hint's ω list solves it (scipy as the reference)
    t = bandit.Tuner([0.6, 0.8, 1.0, 1.2], solver="sor", maxiter=20_000)
    r = t.solve(C, b)
    x = spla.spsolve(C.tocsc(), b)
    assert r.converged and np.linalg.norm(r.x - x) <= 1e-6 * np.linalg.norm(x)


def test_plot_of_a_tune_folder_draws_into_its_figures_folder(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=2)
    out = tmp_path / "run"
    assert main(["tune", *mats, "--no-plots", "--quiet", "--no-exact", "--out",
                 str(out)]) == 0
    before = {p.name for p in out.iterdir()}
    for given in (out, out / "tuner.json"):
        assert main(["plot", str(given)]) == 0
        assert f"files written to {out / 'figures'}" in capsys.readouterr().out
        assert {p.name for p in out.iterdir()} == before | {"figures"}  # nothing in the root
        assert {"tuner_cost.png", "tuner_regret.pdf", "tuner_arms.png"} <= {
            p.name for p in (out / "figures").iterdir()}
    # a tuner file saved elsewhere: beside it, named after it, as before
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "t.json").write_bytes((out / "tuner.json").read_bytes())
    assert main(["plot", str(tmp_path / "mine" / "t.json")]) == 0
    assert (tmp_path / "mine" / "t_cost.png").is_file()


def test_a_stopped_run_with_unsolved_systems_says_it_was_stopped(tmp_path, capsys,
                                                                  monkeypatch):
    # Ctrl-C wins over status 3: the run is not complete, and its summary says so
    mats = _laplacians(tmp_path, count=3)
    real, calls = bandit.Tuner.solve, {"n": 0}

    def solve(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(bandit.Tuner, "solve", solve)
    out = tmp_path / "out"
    assert main(["tune", *mats, "--maxiter", "2", "--no-plots", "--quiet", "--out",
                 str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("relaxtune: interrupted: 2 of 3 systems "
                                               "finished and saved")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["systems"] == 2
    assert summary["tuned"]["not_converged"] == 2


def test_unsolved_line_counts_one_system_in_the_singular():
    from experiments.cli_tune import _unsolved_line

    one = {"tuned": {"not_converged": 1}, "systems": 1,
           "failures": [{"system": 0, "name": "A0.mtx"}]}
    assert _unsolved_line(one, "OUT").startswith(
        "1 of 1 system not solved (not converged) by the tuned run: system 0 (A0.mtx); ")
    two = {**one, "systems": 2}
    assert _unsolved_line(two, "OUT").startswith("1 of 2 systems not solved")
    assert _unsolved_line({"tuned": {}, "systems": 3}, "OUT") == ""
