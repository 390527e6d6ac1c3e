"""The preconditioner study at tiny sizes: sequences, scoring, figures' data, the command line."""
import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from experiments.cli import main
from experiments.plots import choices_data, cumulative_seconds_data, totals_data
from experiments.precond_study import (FAMILY_GAIN, HeatSequence, MCSequence, _targets,
                                       family, format_precond_table, rescore,
                                       run_precond_study, work_vs_time)
from experiments.problems import DiffusionMC3D, Heat2D

GRID = [{"method": "ssor_pcg", "omega": 1.2}, {"method": "ssor_pcg", "omega": 1.7},
        {"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "amg", "reuse": 3}]


def test_heat_sequence_builds_the_systems_of_heat2d():
    seq, sim = HeatSequence(9, 7, 0.7), Heat2D(9, 7, 0.7)
    u = np.random.default_rng(0).standard_normal(sim.n)
    for t in (0, 3, 6):
        A, b, x0, kap = seq.system(seq.shared(t), u)
        A2, b2, kap2 = sim.system(t, u)
        assert kap == kap2 and x0 is u
        np.testing.assert_allclose(b, b2, rtol=1e-14, atol=1e-14)
        assert abs(A - A2).max() == 0


def test_mc_sequence_is_the_monte_carlo_samples():
    seq, ref = MCSequence(5, 3, seed=4), DiffusionMC3D(5, 3, seed=4)
    for t in range(3):
        A, b, x0, sigma = seq.system(seq.shared(t), None)
        A2, b2, s2 = ref[t]
        assert x0 is None and sigma == s2 and abs(A - A2).max() == 0
        np.testing.assert_array_equal(b, b2)


@pytest.fixture(scope="module")
def tiny_study():
    return run_precond_study(sequences=[("heat2d", 7), ("mc3d", 4)], steps=12, samples=8,
                             seeds=2, grid=GRID, omegas=[1.2, 1.7], anchors=["splu", "pyamg"],
                             cap=1e9, progress=False)


def test_study_runs_every_method_and_scores_rounds(tiny_study):
    summary, arrays = tiny_study
    assert set(summary["sequences"]) == {"heat2d_nx7", "mc3d_m4"}
    for name, seq in summary["sequences"].items():
        m = seq["methods"]
        fixed = ["ssor_pcg ω=1.20", "ssor_pcg ω=1.70", "cg+jacobi", "cg+amg reuse=3"]
        assert set(m) == set(fixed) | {"learner", "learner_timed", "learner_work",
                                       "omega_learner", "splu", "pyamg"}
        assert all(v["all_converged"] for v in m.values())
        arr = arrays[name]
        for key, v in m.items():
            cpu = arr[f"cpu/{key}"]
            assert cpu.shape == (2, seq["T"])
            per_round = np.nansum(cpu, axis=1)
            ran = [x is not None for x in v["seconds_per_round"]]
            np.testing.assert_allclose(per_round[ran], [x for x in v["seconds_per_round"] if x])
            assert v["seconds"] == pytest.approx(per_round[ran].mean())
        # a learner's ratio in each round is against that round's best fixed total
        best = [min(m[f]["seconds_per_round"][r] for f in fixed
                    if m[f]["seconds_per_round"][r] is not None) for r in range(2)]
        want = [m["learner"]["seconds_per_round"][r] / best[r] for r in range(2)]
        np.testing.assert_allclose(m["learner"]["vs_best_fixed"], want)
        assert seq["best_fixed"] == min(fixed, key=lambda f: m[f]["seconds"])
        # anchors run in round 0 only; learners in every round
        assert m["splu"]["rounds"] == 1 and m["learner"]["rounds"] == 2
        # the learner's choices are arm indices of the grid
        arms = arr["arms/learner"]
        assert set(np.unique(arms)) <= set(range(len(GRID)))
        assert sum(m["learner"]["arm_counts"].values()) == 2 * seq["T"]
        # work of a fixed configuration: the sum of its solves' work in a round
        assert m["cg+jacobi"]["work"] == pytest.approx(np.nansum(arr["work/cg+jacobi"][0]))
        text = format_precond_table(seq)
        assert "vs best fixed" in text and m["learner"]["label"] in text
        assert format_precond_table(seq, markdown=True).count("\n") == len(m) + 1


def test_rescore_reproduces_the_scoring_from_the_saved_arrays(tiny_study, tmp_path):
    import copy

    from experiments.results import load, save, write_json

    summary, arrays = tiny_study
    for name, arr in arrays.items():
        save(tmp_path, None, arr, tag=f"rounds_{name}")
    write_json(tmp_path / "summary.json", summary)
    again, _ = load(tmp_path)
    loaded = {n: load(tmp_path, tag=f"rounds_{n}")[1] for n in summary["sequences"]}
    before = copy.deepcopy(again)
    rescore(again, loaded)
    for name in summary["sequences"]:
        for key in ("best_by_context", "targets", "work_vs_time"):
            assert again["sequences"][name][key] == before["sequences"][name][key]


def test_work_vs_time_against_scipy_spearman():
    rng = np.random.default_rng(1)
    fixed = {f"m{i}": {"work": float(w), "seconds": float(s), "lower_bound": False}
             for i, (w, s) in enumerate(zip(rng.permutation(8) + 1.0, rng.permutation(8) + 1.0))}
    fixed["stopped"] = {"work": None, "seconds": 0.1, "lower_bound": True}
    w = work_vs_time(fixed)
    names = [n for n in fixed if n != "stopped"]
    ref = spearmanr([fixed[n]["work"] for n in names], [fixed[n]["seconds"] for n in names])
    assert w["spearman"] == pytest.approx(ref.statistic)
    assert "stopped" not in w["ranking_by_time"]
    for d in w["disagreements"]:
        a, b = (fixed[n] for n in d["pair"])
        assert (a["work"] - b["work"]) * (a["seconds"] - b["seconds"]) < 0


def test_best_family_changes_only_when_switching_saves_enough():
    def choices(cg_first_bin):  # CG wins the first (cheap) bin by that much
        return [{"family": "cg", "family_seconds": {"ssor_pcg": 10.0, "cg": cg_first_bin}},
                {"family": "ssor_pcg", "family_seconds": {"ssor_pcg": 90.0, "cg": 300.0}}]
    methods = {"learner": {"kind": "learner", "seconds": 1.0, "vs_best_fixed_mean": 0.95,
                           "vs_omega_learner_mean": 1.01}}
    # saves 10 − 6 = 4 of 100: below the threshold
    t = _targets(methods, "ssor_pcg ω=1.70", choices(6.0), None)
    assert t["family_switch_gain"] == pytest.approx(0.04) and FAMILY_GAIN > 0.04
    assert not t["best_family_changes"] and t["target_vs_best_fixed"] == 1.05
    assert t["learner"]["meets_vs_best_fixed"] and t["learner"]["meets_vs_omega_learner"]
    t = _targets(methods, "ssor_pcg ω=1.70", choices(1.0), None)  # saves 9 of 100
    assert t["best_family_changes"] and t["target_vs_best_fixed"] == 0.9
    assert not t["learner"]["meets_vs_best_fixed"]
    assert family("cg+amg(cycle=W) reuse=20") == "cg+amg" and family("cg") == "cg"


def test_figure_data(tiny_study):
    summary, arrays = tiny_study
    seq, arr = summary["sequences"]["mc3d_m4"], arrays["mc3d_m4"]
    d = choices_data(arr, seq, "learner")
    assert d["x"].size == d["y"].size == 2 * seq["T"]
    np.testing.assert_array_equal(d["y"], arr["arms/learner"].ravel())
    np.testing.assert_array_equal(d["x"][:seq["T"]], arr["contexts"])
    assert d["labels"] == summary["params"]["labels"]
    t = totals_data(seq)
    assert list(t["seconds"]) == sorted(t["seconds"])
    c = cumulative_seconds_data(arr, ["learner"])
    assert c["learner"][-1] == pytest.approx(seq["methods"]["learner"]["seconds"])


def test_command_line(tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["precond", "--sequences", "mc3d", "--m", "4", "--samples", "6", "--seeds", "1",
               "--omegas", "1.3", "1.6", "--anchors", "splu", "--no-plots", "--out", str(out)])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["study"] == "precond" and "mc3d_m4" in s["sequences"]
    text = capsys.readouterr().out
    assert "mc3d_m4 (n = 64" in text and "best fixed:" in text
    assert main(["plot", str(out), "--markdown"]) == 0  # the figures, from the folder
    assert "| configuration learner (chebcb, time) | learner |" in capsys.readouterr().out
    assert (out / "figures" / "choices_mc3d_m4.png").stat().st_size > 1000
    assert (out / "figures" / "totals_mc3d_m4.pdf").is_file()


@pytest.mark.parametrize("args, fragment", [
    (["--omegas", "2.5"], "argument --omegas: must lie in the open interval (0, 2), got 2.5"),
    (["--nx", "1"], "argument --nx: must be an integer >= 2"),
    (["--learner", "chebcv"], "unknown learner 'chebcv'; did you mean 'chebcb'?"),
    (["--learner", "defualt"], "unknown learner 'defualt'; did you mean 'default'? known: chebcb"),
    (["--learner", "nope"], "known: chebcb, cheblcb, default, "),  # 'default' is accepted too
    (["--cap", "1"], "argument --cap: must be a finite number > 1, got 1"),
    (["--sequences", "heat4d"], "argument --sequences: invalid choice: 'heat4d'"),
    (["--anchors", "petsc"], "argument --anchors: invalid choice: 'petsc'"),
    (["--learner", "familycb", "--compare", "familycb"], "--compare familycb is the --learner"),
    (["--compare", "chebcb"], "--compare chebcb is the --learner itself"),
    (["--block", "0"], "argument --block: must be an integer >= 1"),
])
def test_command_line_refuses_bad_arguments_before_computing(args, fragment, tmp_path, capsys):
    rc = main(["precond", *args, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and fragment in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_default_learner_is_the_library_default_over_both_arm_kinds():
    import bandit
    from experiments.precond_study import _policy

    conf, omega = _policy("default", GRID, 3, (0.0, 1.0)), _policy("default", [1.2, 1.7], 3,
                                                                   (0.0, 1.0))
    for p, solver, arms in ((conf, None, GRID), (omega, "ssor_pcg", [1.2, 1.7])):
        want = bandit.default_policy(solver, arms, context_bounds=(0.0, 1.0), seed=3)
        assert type(p) is type(want) and p._config() == want._config()
        assert p.arms == want.arms
    # the radius in ω applies over the ω grid only: configuration arms have no common order
    assert omega._near is not None and conf._near is None


def test_command_line_runs_the_default_learner(tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["precond", "--sequences", "mc3d", "--m", "4", "--samples", "5", "--seeds", "1",
               "--omegas", "1.3", "1.6", "--anchors", "--no-work-learner", "--learner",
               "default", "--no-plots", "--quiet", "--out", str(out)])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["params"]["learner"] == "default"
    m = s["sequences"]["mc3d_m4"]["methods"]
    assert m["learner"]["label"].startswith("configuration learner (default")
    assert sum(m["omega_learner"]["arm_counts"].values()) == 5


def test_command_line_compares_familycb_with_chebcb_side_by_side(tmp_path):
    out = tmp_path / "r"
    rc = main(["precond", "--sequences", "mc3d", "--m", "4", "--samples", "6", "--seeds", "2",
               "--omegas", "1.3", "1.6", "--anchors", "--no-work-learner", "--learner",
               "familycb", "--compare", "chebcb", "--no-plots", "--quiet", "--out", str(out)])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["params"]["compare"] == "chebcb" and s["params"]["omega_learner"] == "chebcb"
    seq = s["sequences"]["mc3d_m4"]
    m = seq["methods"]
    assert m["learner"]["label"] == "configuration learner (familycb, timed work (default))"
    assert m["learner_compare"]["label"] == "configuration learner (chebcb, timed work (default))"
    assert m["omega_learner"]["label"] == "ω-only learner (chebcb, SSOR-PCG)"
    for key in ("learner", "learner_compare"):
        assert sum(m[key]["arm_counts"].values()) == 12 and len(m[key]["vs_best_fixed"]) == 2
        assert "vs_omega_learner" in seq["targets"][key]


def test_familycb_omega_learner_is_its_inner_learner():
    import bandit
    from experiments.precond_study import _policy, omega_learner_name

    assert omega_learner_name("familycb") == "chebcb" and omega_learner_name("jointcb") == "jointcb"
    p = _policy("familycb", GRID, 3, (0.0, 1.0))
    assert type(p) is bandit.FamilyCB and p.families == [[0, 1], [2], [3]]


def _recording_lockstep(seq, n_methods, **kwargs):
    """``_lockstep`` over ``n_methods`` dense solvers that record each call as ``(method,
    bᵀb, context)``; a method's iterations are a function of the context and its index."""
    from experiments.precond_study import _lockstep, _Run

    calls = []

    def method(name):
        def factory():
            def solve(A, b, x0, ctx):
                calls.append((name, float(b @ b), ctx))
                x = np.linalg.solve(A.toarray(), b)
                return x, int(round(1e3 * ctx)) + name, True, 0, 1.0
            return solve, None
        return factory

    runs = [_Run(f"learner/{i}", method(i), seq.T) for i in range(n_methods)]
    _lockstep(seq, runs, **kwargs)
    return calls, runs


def test_lockstep_draws_a_seeded_random_order_each_step():
    # a method's call pays for what the call before it left in the caches: the order is a
    # fresh permutation each step (reproducible from the seed), not a rotation in which each
    # method always follows the same one
    seq = MCSequence(4, 40, seed=0)

    def orders(seed):
        calls = [c[0] for c in _recording_lockstep(seq, 5, seed=seed)[0]]
        return [tuple(calls[5 * t:5 * t + 5]) for t in range(seq.T)]

    first = orders(3)
    assert first == orders(3) and first != orders(4)
    assert all(sorted(o) == list(range(5)) for o in first)
    followers = {(o[i], o[i + 1]) for o in first for i in range(4)}
    assert len(followers) == 20  # every method came right after every other one


def test_lockstep_in_blocks_runs_each_method_through_a_block_before_the_next():
    # block=B: one method calls B times in a row (as a loop that calls one Tuner), every
    # method solves the same systems of the block, in a seeded random order per block; the
    # methods' own records are those of block=1 (a deterministic solve: same iterations)
    seq = MCSequence(4, 10, seed=0)

    def run(block):
        return _recording_lockstep(seq, 3, seed=1, block=block)

    calls, runs = run(4)
    # blocks of 4, 4 and 2 steps: each method's calls of a block are consecutive
    sizes = [4, 4, 2]
    pos = 0
    for size in sizes:
        chunk = calls[pos:pos + 3 * size]
        pos += 3 * size
        names = [c[0] for c in chunk]
        assert sorted(set(names)) == [0, 1, 2]
        assert all(names[i] == names[i - i % size] for i in range(len(names)))
        # the same systems for every method of the block, in step order
        per = {n: [c[1:] for c in chunk if c[0] == n] for n in range(3)}
        assert per[0] == per[1] == per[2]
    ref_calls, ref = run(1)
    for r, r1 in zip(runs, ref):
        np.testing.assert_array_equal(r.its, r1.its)
        assert r.ok.all() and r.steps == seq.T
    assert sorted(calls, key=repr) == sorted(ref_calls, key=repr)


def test_warm_up_loads_the_kernel_the_change_test_runs_only_on_an_alarm():
    """The change test's discount (``JointCB._forget``) calls a kernel nothing else calls
    from Python; the warm-up raises no alarm, so unless it loads that kernel the first alarm
    of a timed run pays its loading (or, after a code change, its compilation: 0.5 s inside
    one timed call of heat2d).  A fresh process, so no other test has loaded it."""
    import subprocess
    import sys

    code = (
        "from experiments.precond_study import _warm_up, default_grid, make_sequence\n"
        "from bandit._kernels_ridge import spd_inverse\n"
        "seq = make_sequence('mc3d', 4, samples=3)\n"
        "_warm_up([seq], default_grid(), [1.2, 1.6], 'default', [], 50,\n"
        "         {'rtol': 1e-8, 'maxiter': 10_000})\n"
        "print(len(spd_inverse.signatures))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "1"
