"""The short-horizon learner benchmark: guarded replay semantics and cached cost matrices."""
import dataclasses
import re

import numpy as np
import pytest

import bandit
from experiments import bench_learners as bl
from experiments.cli import main


class Script(bandit.Policy):
    """Plays a fixed list of arms; its leader is arm 0 once arm 0 has data (cost 10)."""

    def __init__(self, arms, plan, round_cost=False):
        super().__init__(arms)
        self.plan, self.seen = list(plan), []
        self.report_round_cost = round_cost

    def _select(self, context):
        return self.plan[self.t]

    def leader(self, context=None):
        return (0, 10.0) if self.counts[0] else (None, float("nan"))

    def _update(self, arm, cost, context, censored):
        self.seen.append((arm, cost, censored))


def test_replay_follows_the_tuner_guard():
    C = np.array([[10, 40, 25], [10, 60, 25], [10, 60, 25]])
    ok = np.ones_like(C, bool)
    ok[2, 1] = False  # arm 1 does not converge within maxiter on system 2
    p = Script([1.0, 1.5, 1.8], [0, 1, 2])
    paid, arms = bl.replay(p, C, ok, guard=3.0, maxiter=60)
    # round 0: the leader itself, full cost; round 1: arm 1 needs 60 > 3 × 10, stopped at 30
    # and finished by arm 0 from half the work done (10 · (1 − 30/60) = 5); round 2: 25 ≤ 30
    assert paid.tolist() == [10, 35, 25] and arms.tolist() == [0, 1, 2]
    assert p.seen == [(0, 10.0, False), (1, 30.0, True), (2, 25.0, False)]
    # a round-cost policy is told the whole round, uncensored; no progress when not converged
    q = Script([1.0, 1.5, 1.8], [0, 2, 1], round_cost=True)
    paid, _ = bl.replay(q, C, ok, guard=3.0, maxiter=60)
    assert paid.tolist() == [10, 25, 40] and q.seen[2] == (1, 40.0, False)
    # no guard: every arm runs to its cost
    paid, _ = bl.replay(Script([1.0, 1.5, 1.8], [1, 1, 1]), C, ok, guard=None, maxiter=60)
    assert paid.tolist() == [40, 60, 60]


def test_cost_matrices_are_cached_extended_and_match_the_solvers(tmp_path):
    import solvers

    case = dataclasses.replace(bl.CASES["mc3d"], T=3, params={"m": 4}, seed_T={})
    C, ok, ctx = bl.cost_matrix(case, 5, cache=tmp_path, T=2, progress=False)
    assert C.shape == (2, 20) and ok.all() and bl.cached_rows(case, 5, tmp_path) == 2
    seq = case.build(5)
    A, b, sigma = seq[1]
    assert ctx[1] == sigma
    assert C[1, 7] == solvers.sor(A, b, bl.OMEGAS[7]).iterations
    C3, _, _ = bl.cost_matrix(case, 5, cache=tmp_path, T=3, progress=False)  # extended
    np.testing.assert_array_equal(C3[:2], C)
    A, b, _ = seq[2]
    assert C3[2, 15] == solvers.sor(A, b, bl.OMEGAS[15]).iterations
    loop = dataclasses.replace(bl.CASES["heat2d"], T=4, params={"nx": 6, "t_end": 0.02})
    C, ok, ctx = bl.cost_matrix(loop, 0, cache=tmp_path, progress=False)
    assert C.shape == (4, 20) and ok.all() and np.all(C >= 1)


def test_default_without_a_context_is_the_context_free_learner(tmp_path):
    case = dataclasses.replace(bl.CASES["offset_low"], T=15, horizons=(15,), seeds=(2,),
                               learner_seeds=1)
    res = bl.run_case(case, ["default@nocontext"], cache=tmp_path, progress=False)
    C, ok, _ = bl.cost_matrix(case, 2, cache=tmp_path, progress=False)
    p = bandit.default_policy("sor", list(bl.OMEGAS))
    p.prime(bl.first_matrix(case, 2), "sor")
    paid, _ = bl.replay(p, C, ok, None)
    np.testing.assert_array_equal(res["runs"]["default@nocontext"][0]["paid"], paid)
    assert p.features.context_dim == 0


def test_run_case_and_table(tmp_path):
    case = dataclasses.replace(bl.CASES["offset_low"], T=30, horizons=(10, 30), seeds=(1, 2),
                               learner_seeds=1)
    res = bl.run_case(case, ["default", "jointcb", "tsallis_inf"], cache=tmp_path,
                      progress=False)
    rows = bl.summarise(res)
    assert {(r["learner"], r["T"]) for r in rows} == {(n, T) for n in ("default", "jointcb",
                                                                       "tsallis_inf")
                                                      for T in (10, 30)}
    for r in rows:
        assert r["runs"] == 2 and r["total"] >= r["grid_min"] > 0
        assert r["best_fixed"] >= r["grid_min"]
    assert "offset_low" in bl.format_rows(rows) and bl.format_rows(rows, markdown=True)[0] == "|"


def test_run_case_in_several_orders(tmp_path):
    """Order 0 is the generated sequence (the same runs as without orders); the others are
    permutations of the same systems, so full-length comparators agree and the prior is taken
    from the permuted first system."""
    case = dataclasses.replace(bl.CASES["offset_low"], T=20, horizons=(8, 20), seeds=(3,),
                               learner_seeds=1)
    one = bl.run_case(case, ["default", "jointcb"], cache=tmp_path, progress=False)
    two = bl.run_case(case, ["default", "jointcb"], cache=tmp_path, progress=False, orders=3)
    for spec in ("default", "jointcb"):
        assert len(two["runs"][spec]) == 3
        np.testing.assert_array_equal(two["runs"][spec][0]["paid"], one["runs"][spec][0]["paid"])
    c = two["comparators"]
    assert c[0][20][:2] == c[1][20][:2] == c[2][20][:2] and c[1][8] != c[0][8]
    order = bl.sample_order(case, 3, 1, 20)
    assert sorted(order.tolist()) == list(range(20)) and order.tolist() != list(range(20))
    C, _, ctx = bl.cost_matrix(case, 3, cache=tmp_path, progress=False)
    assert two["comparators"][1][8][0] == C[order[:8]].sum(axis=0).min()
    A = bl.first_matrix(case, 3, order[0])
    assert A.diagonal()[0] == pytest.approx(4 + ctx[order[0]])
    with pytest.raises(ValueError, match="one order"):
        bl.sample_order(bl.CASES["heat2d"], 0, 1, 10)
    loop = bl.run_case(dataclasses.replace(bl.CASES["heat2d"], T=3, horizons=(3,),
                                           learner_seeds=1, params={"nx": 5, "t_end": 0.02}),
                       ["jointcb"], cache=tmp_path, progress=False, orders=2)
    assert len(loop["runs"]["jointcb"]) == 1  # a time loop has one order


def test_bench_learners_is_a_relaxtune_bench(tmp_path, capsys):
    assert main(["bench", "learners", "--cases", "offset_low", "--max-T", "12", "--learners",
                 "default", "--cache", str(tmp_path), "--quiet"]) == 0
    assert "offset_low" in capsys.readouterr().out
    assert main(["bench", "learners", "--cases", "offset_low", "--max-T", "12", "--learners",
                 "default", "--cache", str(tmp_path), "--quiet", "--orders", "2", "--seeds",
                 "12"]) == 0
    out = capsys.readouterr().out
    # one sequence seed × 2 learner seeds × 2 orders
    assert re.search(r"offset_low\s+12\s+default\s+4\s", out)
    assert main(["bench", "learners", "--orders", "0", "--cache", str(tmp_path)]) == 2
    assert "--orders must be >= 1" in capsys.readouterr().err


@pytest.mark.parametrize("spec, message", [
    ("default@bogus", "'default@bogus'"),       # an unknown mode ran the plain default, labelled so
    ("chebcb@typo", "'chebcb@typo'"),           # ... or the bounded learner
    ("chebcb@spectral", "'chebcb@spectral'"),   # failed after the cost matrices were computed
])
def test_bench_learners_refuses_an_unknown_mode_before_running(spec, message, tmp_path, capsys):
    assert main(["bench", "learners", "--cases", "offset_low", "--max-T", "4", "--learners",
                 spec, "--cache", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "default@nocontext" in err and "NAME@online" in err
    assert not any(tmp_path.iterdir())  # refused before any cost matrix was computed


def test_log_cost_floor_is_the_least_geometric_mean_against_the_least_total():
    rng = np.random.default_rng(1)
    C = rng.lognormal(mean=np.linspace(4, 5, 6), sigma=np.linspace(1.5, 0.1, 6), size=(400, 6))
    k, ratio = bl.log_cost_floor(C)
    geo = np.exp(np.log(C).mean(axis=0))  # written out: the geometric means
    assert k == int(np.argmin(geo))
    assert ratio == pytest.approx(C[:, k].sum() / C.sum(axis=0).min())
    assert ratio >= 1.0
    # one arm everywhere cheapest: the floor is that arm, at 1
    assert bl.log_cost_floor(np.array([[1.0, 2.0], [3.0, 4.0]])) == (0, 1.0)
    for bad in (np.array([1.0, 2.0]), np.array([[1.0, 0.0]]), np.array([[1.0, np.nan]])):
        with pytest.raises(ValueError, match="positive costs"):
            bl.log_cost_floor(bad)


def test_log_floor_option_prints_the_floor_per_horizon(tmp_path, capsys):
    case = dataclasses.replace(bl.CASES["offset_low"], T=12, horizons=(6, 12), seeds=(2,),
                               learner_seeds=1)
    res = bl.run_case(case, ["default@nocontext"], cache=tmp_path, progress=False)
    rows = bl.floors(res, case, cache=tmp_path)
    C, _, _ = bl.cost_matrix(case, 2, cache=tmp_path, progress=False)
    assert [r["T"] for r in rows] == [6, 12]
    assert rows[1]["log_cost_floor"] == pytest.approx(bl.log_cost_floor(C)[1])
    assert rows[0]["log_cost_floor"] == pytest.approx(bl.log_cost_floor(C[:6])[1])


def test_the_spectral_context_on_a_time_loop_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exc:
        bl.main(["--cases", "mc3d", "heat2d", "--learners", "default", "default@auto",
                 "--quiet"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "default@auto" in err and "heat2d" in err and "independent samples" in err
    with pytest.raises(ValueError, match="heat2d is a time loop"):
        bl.run_case(bl.CASES["heat2d"], ["default@spectral"], progress=False)
