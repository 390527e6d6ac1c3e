"""Cost matrices, scoring, the offset studies and the figure data (tiny sizes)."""
import numpy as np
import pytest

import bandit
import solvers
from experiments.costs import OMEGA_GRID, heat_costs, offset_costs, young_omegas
from experiments.learners import derive_seed, label, make_learner
from experiments.offset_study import FIXED_OMEGAS, run_offset_study
from experiments.plots import (cumulative_data, omega_map_data, plot_cumulative, plot_omega_map,
                               plot_regret, plot_scaling, regret_data, rolling_median,
                               scaling_data)
from experiments.problems import Heat2D, OffsetLaplacianSequence
from experiments.results import format_table, regret_curves, score


def test_grid_is_the_papers():
    np.testing.assert_allclose(OMEGA_GRID, np.linspace(1.0, 1.95, 20))
    for w in FIXED_OMEGAS:  # every fixed baseline is a grid point
        assert np.min(abs(OMEGA_GRID - w)) < 1e-12


def test_offset_costs_match_direct_solves():
    seq = OffsetLaplacianSequence(3, "high", seed=5)
    out = offset_costs(seq, [1.0, 1.6])
    for t in range(3):
        A, b, _ = seq[t]
        assert out["C"][t, 1] == solvers.sor(A, b, 1.6).iterations
        assert out["young_iterations"][t] == solvers.sor(A, b, out["young_omega"][t]).iterations
    assert out["converged"].all() and np.all(out["S"] > 0)


def test_young_omegas_match_solvers_optimal_omega():
    seq = OffsetLaplacianSequence(4, "high", seed=2)
    w = young_omegas(seq)
    for t in range(4):
        assert w[t] == pytest.approx(solvers.optimal_omega(seq.matrix(t)), rel=1e-10)


def test_heat_costs_reference_trajectory():
    sim = Heat2D(nx=8, steps=5, t_end=0.05)
    out = heat_costs(sim, [1.0, 1.5], direct=True)
    # replay the reference by hand: advance with the cheapest ω's solution
    u = sim.initial()
    for t in range(sim.steps):
        A, b, kap = sim.system(t, u)
        assert out["contexts"][t] == kap
        rs = [solvers.ssor_pcg(A, b, w, x0=u) for w in (1.0, 1.5)]
        assert [r.iterations for r in rs] == out["C"][t].tolist()
        assert solvers.cg(A, b, x0=u).iterations == out["cg_iterations"][t]
        u = min(rs, key=lambda r: r.iterations).x
    np.testing.assert_allclose(out["u_final"], u)
    assert np.all(out["direct_seconds"] > 0)


def test_heat_costs_time_every_omega_on_a_fully_prepared_operator(monkeypatch):
    """The step's one-off operator work is timed apart (``setup_seconds``) and charged to
    every ω alike: no grid column may pay for a lazily built part of the operator (the
    first ω of every step used to build the SSOR triangles inside its timed solve)."""
    real = solvers.ssor_pcg
    unprepared = []

    def checked(A, b, omega, **kw):
        if isinstance(A, solvers.CSROperator) and (A._split is None or A._inv_diagonal is None
                                                   or A._pattern.get("work") is None):
            unprepared.append(omega)
        return real(A, b, omega, **kw)

    monkeypatch.setattr(solvers, "ssor_pcg", checked)
    out = heat_costs(Heat2D(nx=6, steps=3, t_end=0.75), [1.0, 1.5])
    assert out["C"].shape == (3, 2) and out["converged"].all()
    assert unprepared == []

    real_sor = solvers.sor

    def checked_sor(A, b, omega, **kw):
        if isinstance(A, solvers.CSROperator) and (A._split is None or A._sor_mirror is None):
            unprepared.append(omega)
        return real_sor(A, b, omega, **kw)

    monkeypatch.setattr(solvers, "sor", checked_sor)
    seq = OffsetLaplacianSequence(3, "low", m=6, seed=0)
    out = offset_costs(seq, [1.0, 1.5], young=False)
    assert out["C"].shape == (3, 2) and out["converged"].all()
    assert unprepared == []


def test_warm_up_compiles_every_kernel_a_study_times():
    """After ``warm_up`` no timed solve of a study (heat2d solves warm-start from the
    previous state; the offset study's from zero) compiles or loads a kernel."""
    import solvers._kernels as K
    import solvers._kernels_prep as KP
    import solvers._kernels_ssor as KS
    from experiments.costs import warm_up

    def signatures():
        return {(m.__name__, name): len(f.signatures) for m in (K, KP, KS)
                for name, f in vars(m).items() if hasattr(f, "signatures")}

    warm_up()
    before = signatures()
    sim = Heat2D(nx=6, steps=2, t_end=0.5)
    u = sim.initial()
    A, b, _ = sim.system(0, u)
    solvers.ssor_pcg(A, b, 1.3, x0=u)
    solvers.sor(A, b, 1.3, x0=u)
    solvers.cg(A, b, x0=u)
    compiled = {k: v for k, v in signatures().items() if v != before.get(k)}
    assert compiled == {}


def test_regret_curves_equal_bandit_regret():
    rng = np.random.default_rng(0)
    C = rng.integers(5, 50, size=(30, 4)).astype(float)
    arms = rng.integers(0, 4, size=30)
    rb, ri = regret_curves(C[np.arange(30), arms], C)
    ref = bandit.regret(C, arms)
    np.testing.assert_allclose(rb, ref.best_fixed)
    np.testing.assert_allclose(ri, ref.instance_optimal)


def test_score_totals_and_spread():
    C = np.array([[[3, 1], [1, 5]], [[2, 2], [2, 2]]], dtype=float)
    s = score({"fixed_1.5": C[:, :, 1]}, {"fixed_1.5": np.ones((2, 2))}, C, [1.0, 1.5])
    m = s["fixed_1.5"]
    assert m["iterations"] == 5.0 and m["iterations_per_trial"] == [6.0, 4.0]
    assert m["seconds"] == 2.0 and m["omega"] == 1.5
    assert m["regret_best_fixed"] == pytest.approx(1.0)  # (6 - 4 + 4 - 4) / 2


def test_format_table_ratio_and_reference():
    methods = {"cg": {"label": "plain CG", "iterations": 100.0, "seconds": 2.0},
               "x": {"label": "X", "iterations": 10.0, "seconds": 1.0,
                     "regret_best_fixed": 1.0, "regret_instance_optimal": 3.0}}
    text = format_table(methods, baseline="cg", reference={"x": 11.0})
    lines = text.splitlines()
    assert lines[1].startswith("X") and "0.50" in lines[1] and "11" in lines[1]
    assert lines[2].startswith("plain CG") and "1.00" in lines[2]


def test_direct_solve_has_no_iterations_in_the_tables():
    # a sparse direct solve iterates not at all: its cell says so ("-"), not a total of 0
    from experiments.results import format_markdown
    methods = {"cg": {"label": "plain CG", "iterations": 40.0, "seconds": 2.0},
               "direct": {"label": "direct (splu)", "iterations": 0.0, "seconds": 3.0}}
    row = format_table(methods, baseline="cg").splitlines()[2].split()
    assert row[:3] == ["direct", "(splu)", "-"] and row[3] == "3.000"
    md = format_markdown(methods, baseline="cg").splitlines()[3]
    assert md.startswith("| direct (splu) | - | 3.000 | 1.50 |")


def test_every_registered_learner_has_a_display_name():
    # tables and legends show names, not registry keys
    from experiments.learners import BASELINES, learner_names
    for name in learner_names():
        assert label(name) != name, name
    assert label("familycb") == "FamilyCB (ours)"
    assert set(BASELINES) <= set(bandit.POLICIES)


def test_labels_and_seeds():
    assert label("fixed_1.75") == "fixed ω=1.75" and label("chebcb") == "ChebCB"
    assert derive_seed(1, 2) != derive_seed(2, 1)


def test_make_learner_settings():
    p = make_learner("chebcb", OMEGA_GRID, seed=1, context_bounds=(0, 10), bins=6, cheb_m=6)
    assert p.contextual and p.features.config()["m"] == 6
    q = make_learner("tsallis_inf_cb", OMEGA_GRID, seed=1, context_bounds=(0, 10), bins=6)
    assert q.bins == 6 and q.context_bounds == (0.0, 10.0)
    with pytest.raises(ValueError, match="unknown learner"):
        make_learner("nope", OMEGA_GRID, seed=0)


@pytest.fixture(scope="module")
def tiny_contextual():
    return run_offset_study("contextual", T=40, trials=2, seed=3,
                            learners=["tsallis_inf", "chebcb"], progress=False)


def test_offset_study_consistency(tiny_contextual):
    summary, a = tiny_contextual
    C = a["C"]
    assert C.shape == (2, 40, 20)
    for w in FIXED_OMEGAS:
        k = int(np.argmin(abs(OMEGA_GRID - w)))
        np.testing.assert_array_equal(a[f"iter/fixed_{w:g}"], C[:, :, k])
    for name in ("tsallis_inf", "chebcb"):
        arms = a[f"arms/{name}"]
        np.testing.assert_array_equal(a[f"iter/{name}"], np.take_along_axis(C, arms[..., None], 2)[..., 0])
    m = summary["methods"]
    assert m["grid_min"]["iterations"] <= min(v["iterations"] for k, v in m.items()
                                              if k not in ("young", "grid_min"))
    assert m["best_fixed"]["regret_best_fixed"] == 0.0
    assert summary["params"]["T"] == 40 and summary["reference"] == {}


def test_offset_study_reproducible_and_parallel_equal(tiny_contextual):
    s1, _ = tiny_contextual
    s2, _ = run_offset_study("contextual", T=40, trials=2, seed=3, jobs=2,
                             learners=["tsallis_inf", "chebcb"], progress=False)
    for k in s1["methods"]:
        assert s1["methods"][k]["iterations_per_trial"] == s2["methods"][k]["iterations_per_trial"]
    s3, _ = run_offset_study("contextual", T=40, trials=2, seed=4,
                             learners=["tsallis_inf"], progress=False)
    assert s3["methods"]["fixed_1"]["iterations"] != s1["methods"]["fixed_1"]["iterations"]


def test_plot_data(tiny_contextual):
    _, a = tiny_contextual
    cum = cumulative_data(a)
    x, y = cum["fixed_1.6"]
    assert x[-1] == pytest.approx(a["iter/fixed_1.6"].sum(axis=1).mean())
    assert y[0] == 39 and y[-1] == 0 and np.all(np.diff(x) >= 0)
    rd = regret_data(a, ["chebcb"])
    mean, lo, hi = rd["chebcb"]["instance_optimal"]
    per_trial = [bandit.regret(a["C"][i], a["arms/chebcb"][i]).instance_optimal for i in range(2)]
    np.testing.assert_allclose(mean, np.mean(per_trial, axis=0))
    assert np.all(lo <= mean) and np.all(mean <= hi)
    om = omega_map_data(a, ["chebcb"], by="context")
    assert np.all(np.diff(om["x"]) >= 0) and om["Z"].shape == (40, 20)
    assert set(np.unique(om["chosen"]["chebcb"])) <= set(OMEGA_GRID)
    # drawing returns Axes and needs no display
    assert plot_cumulative(cum).get_xlabel().startswith("cumulative")
    plot_regret(rd)
    plot_omega_map(om)


def test_scaling_data():
    summary = {"params": {}, "methods": {}, "sizes": {
        "10": {"n": 81, "methods": {"cg": {"iterations": 100.0, "seconds": 2.0},
                                    "chebcb": {"iterations": 30.0, "seconds": 1.0}}},
        "20": {"n": 361, "methods": {"cg": {"iterations": 200.0, "seconds": 8.0},
                                     "chebcb": {"iterations": 45.0, "seconds": 2.0}}}}}
    d = scaling_data(summary)
    np.testing.assert_array_equal(d["n"], [81, 361])
    np.testing.assert_allclose(d["seconds_vs_cg"]["chebcb"], [0.5, 0.25])
    np.testing.assert_allclose(d["iterations"]["cg"], [100, 200])
    plot_scaling(d)


def test_rolling_median_keeps_length_and_removes_outliers():
    v = np.r_[np.full(50, 1.2), 1.9, np.full(49, 1.6)]
    m = rolling_median(v, 5)
    assert m.shape == v.shape and 1.9 not in m
    assert m[0] == 1.2 and m[-1] == 1.6
    np.testing.assert_array_equal(rolling_median(v, 1), v)


def test_results_folder_keeps_its_npz_names_and_reads_older_folders(tmp_path):
    from experiments.results import load, save

    arrays = {"C": np.ones((2, 3)), "iter/tsallis_inf": np.arange(3.0)[None],
              "sec/fixed_1.6": np.zeros((1, 3)), "iter/learner__x": np.ones((1, 3))}
    save(tmp_path, {"study": "offset", "params": {}, "methods": {}}, arrays)
    with np.load(tmp_path / "rounds.npz") as z:  # the on-disk names older readers expect
        assert sorted(z.files) == ["C", "iter__learner__x", "iter__tsallis_inf", "sec__fixed_1.6"]
    _, back = load(tmp_path)
    assert sorted(back) == sorted(arrays)  # a method name with "__" survives the round trip
    np.testing.assert_array_equal(back["iter/tsallis_inf"], arrays["iter/tsallis_inf"])
    # a folder written before the names were records: the same layout, read back alike
    np.savez_compressed(tmp_path / "rounds.npz", C=np.ones((2, 3)), iter__chebcb=np.ones((1, 3)))
    assert sorted(load(tmp_path)[1]) == ["C", "iter/chebcb"]


def test_regret_of_costs_on_a_stack_equals_each_run_alone():
    from bandit import regret as grid_regret, regret_of_costs

    rng = np.random.default_rng(3)
    C = rng.integers(1, 6, size=(4, 30, 5)).astype(float)  # small integers: ties in the sums
    arms = rng.integers(0, 5, size=(4, 30))
    paid = np.take_along_axis(C, arms[..., None], axis=-1)[..., 0]
    stacked = regret_of_costs(paid, C)
    for i in range(4):
        one = grid_regret(C[i], arms[i])
        best = int(np.argmin(C[i].sum(axis=0)))  # first on ties
        np.testing.assert_array_equal(one.best_fixed, np.cumsum(paid[i] - C[i][:, best]))
        np.testing.assert_array_equal(stacked.best_fixed[i], one.best_fixed)
        np.testing.assert_array_equal(stacked.instance_optimal[i], one.instance_optimal)


@pytest.mark.parametrize("kw, message", [
    ({"trials": 0}, "trials must be an integer >= 1, got 0"),
    ({"jobs": 0}, "jobs must be an integer >= 1, got 0"),
    ({"nx": []}, "nx must list at least one size"),
    ({"nx": [6, 1]}, "nx must be an integer >= 2, got 1"),
    ({"steps": 0}, "steps must be an integer >= 1, got 0"),
    ({"t_end": float("nan")}, "t_end must be a finite number > 0, got nan"),
])
def test_heat_study_arguments_are_checked_before_any_task(kw, message):
    """The API checks what the command line checks, before any task runs: zero trials would
    score learners over no runs, an empty size list would return an empty study."""
    from experiments.heat_study import run_heat_study

    args = dict(nx=[6], steps=4, t_end=0.004, trials=1, methods=["chebcb"], progress=False)
    with pytest.raises(ValueError, match=message):
        run_heat_study(**{**args, **kw})


@pytest.mark.parametrize("study", ["learning", "contextual"])
def test_a_one_instance_study_draws_its_figures(study, tmp_path):
    """T = 1 (or one time step) is an accepted size: its ω map is one column of the cost
    matrix, drawn as a band around that round, not a crash of the contour plot."""
    from experiments.plots import draw_all

    summary, arrays = run_offset_study(study, T=1, trials=1, learners=["tsallis_inf"],
                                       progress=False)
    paths = draw_all(summary, arrays, tmp_path)
    assert {p.name for p in paths} >= {"omega_map.png", "cumulative.png"}
    data = omega_map_data(arrays, ["tsallis_inf"],
                          by="context" if study == "contextual" else "round")
    ax = plot_omega_map(data)
    lo, hi = ax.get_xlim()
    assert lo < data["x"][0] < hi  # the band around the single round
    best = data["omegas"][np.argmin(arrays["C"][0, 0])]
    assert data["grid_min_smooth"].tolist() == [best]


def test_rolling_median_of_few_values_counts_instead_of_sorting_each_window(monkeypatch):
    # A long run's chosen arms take few values: the running median counts them per window
    # (linear in T) and gives numpy's medians exactly, odd and even windows, ties, edges.
    import experiments.plots as plots
    rng = np.random.default_rng(3)
    cases = [(rng.choice([1.0, 1.2, 1.45, 1.9], size=301), w) for w in (2, 5, 6, 50, 301)]
    cases += [(rng.integers(0, 3, size=40).astype(float), 7), (np.full(20, 1.3), 4)]
    reference = [np.median(np.lib.stride_tricks.sliding_window_view(v, w), axis=1)
                 for v, w in cases]

    def no_sort(*args, **kwargs):
        raise AssertionError("sorted every window")

    monkeypatch.setattr(np.lib.stride_tricks, "sliding_window_view", no_sort)
    for (v, w), ref in zip(cases, reference):
        m = plots.rolling_median(v, w)
        lead = (w - 1) // 2
        np.testing.assert_array_equal(m[lead:lead + ref.size], ref)
        assert m.size == v.size and (m[:lead] == ref[0]).all() and (m[lead + ref.size:] == ref[-1]).all()


def test_rolling_median_of_many_values_or_nan_matches_numpy():
    rng = np.random.default_rng(4)
    v = rng.standard_normal(200)
    v_nan = v.copy()
    v_nan[50] = np.nan
    for x in (v, v_nan):
        ref = np.median(np.lib.stride_tricks.sliding_window_view(x, 9), axis=1)
        np.testing.assert_array_equal(rolling_median(x, 9)[4:4 + ref.size], ref)
