"""``bench_percall --parts``'s order of the Tuners in a step, and its check of the solver's
time an iteration against one pass over ``A``'s values."""
from collections import Counter

from experiments import bench_percall
from experiments.bench_percall import _FLOOR, step_order


def _predecessors(names, steps):
    before = {n: Counter() for n in names}
    for t in range(steps):
        order = step_order(names, t)
        for prev, n in zip(order, order[1:]):
            if n is not _FLOOR:
                before[n]["floor" if prev is _FLOOR else prev] += 1
    return before


def test_a_learner_and_its_baseline_follow_the_same_tuners_equally_often():
    names = ["fixed", "ω-only learner", "configuration learner", "ω-only learner (baseline)",
             "configuration learner (baseline)"]
    steps = 5 * 2 ** 5  # whole cycles of the rotation and of every unit's reversal
    for t in range(steps):  # every Tuner once a step, and the floor
        order = step_order(names, t)
        assert sorted(map(str, order)) == sorted(map(str, names + [_FLOOR]))
    before = _predecessors(names, steps)
    for learner in ("ω-only learner", "configuration learner"):
        mine, base = before[learner], before[learner + " (baseline)"]
        # each follows its counterpart as often as the counterpart follows it, and the
        # other Tuners (the unit before theirs) equally often
        assert mine[learner + " (baseline)"] == base[learner] > 0
        others = lambda c: {k: v for k, v in c.items() if learner not in k}  # noqa: E731
        assert others(mine) == others(base)


def test_solver_below_one_pass_an_iteration_is_flagged():
    def rec(solver, iterations):
        return {"validate": 5e-6, "floor": 2e-6, "whole": 1e-3, "solver": solver,
                "iterations": iterations}

    fine = {"fixed": [rec(5e-4, 100), rec(6e-4, 100)]}
    assert bench_percall._impossible_parts(fine) == []
    bad = {"fixed": [rec(1e-4, 100), rec(1e-4, 100)]}  # 1 µs an iteration, the pass 2 µs
    (msg,) = bench_percall._impossible_parts(bad)
    assert msg.startswith("IMPOSSIBLE: fixed: the solver's 1.0 µs an iteration is below")
