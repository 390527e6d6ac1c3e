"""The heat study's sparse direct baseline timed on every K-th step (``--direct-every``), as
the ``demo`` runs it, and the demo's table notes."""
import json

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from experiments.cli import build_parser, main
from experiments.costs import OMEGA_GRID
from experiments.heat_study import HeatTask, heat_task, run_heat_study

_SPLU = spla.splu
TINY = dict(nx=[6], steps=12, t_end=0.012, trials=1, methods=["chebcb"], progress=False)


def _task(every):
    return HeatTask(kind="direct", nx=6, steps=12, t_end=0.012,
                    omegas=tuple(OMEGA_GRID.tolist()), seed=0, degree=6, backend="numba",
                    cg=True, golden=False, direct_every=every)


def _factored(monkeypatch, every):
    """The systems the direct task factors and solves: ``[(A, b)]``, in order."""
    seen, real = [], _SPLU

    def splu(A, *args, **kwargs):
        lu = real(A, *args, **kwargs)

        class Recorder:
            def solve(self, b):
                seen.append((A.toarray(), np.array(b)))
                return lu.solve(b)
        return Recorder()

    monkeypatch.setattr(spla, "splu", splu)
    out = heat_task(_task(every))
    return seen, out


def test_sampled_direct_task_factors_the_same_systems_as_every_step(monkeypatch):
    full, out_full = _factored(monkeypatch, 1)
    some, out = _factored(monkeypatch, 5)
    assert len(full) == 12 and len(some) == 3
    np.testing.assert_array_equal(out["direct_steps"], [0, 5, 10])
    assert out["direct_seconds"].shape == (3,) and np.all(out["direct_seconds"] > 0)
    assert out_full["direct_seconds"].shape == (12,)
    for (A, b), k in zip(some, (0, 5, 10)):
        # the same matrix (it depends on the step's time only); the right-hand side from a
        # state carried on by SSOR-PCG to rtol = 1e-8 instead of exactly
        np.testing.assert_array_equal(A, full[k][0])
        np.testing.assert_allclose(b, full[k][1], rtol=1e-6, atol=1e-9 * abs(full[k][1]).max())


def test_direct_row_is_the_timed_steps_mean_times_steps_and_says_so():
    s, arrays = run_heat_study(**TINY, grid=True, golden=False, direct=True, direct_every=5)
    a, m = arrays[6], s["methods"]
    assert s["params"]["direct_every"] == 5
    sec = a["direct_seconds"]
    np.testing.assert_array_equal(a["direct_steps"], [0, 5, 10])
    assert m["direct"]["seconds"] == pytest.approx(sec.mean() * 12)
    assert m["direct"]["label"] == "direct (splu), est. from 3 of 12 steps"
    assert m["direct"]["extrapolated"]["steps"] == 3
    assert m["direct"]["extrapolated"]["seconds_timed"] == pytest.approx(sec.sum())
    assert "iter/direct" not in a and "sec/direct" not in a  # no per-step row of zeros
    # the whole-run baselines are untouched: plain CG over all 12 steps
    assert a["iter/cg"].shape == (1, 12)


def test_direct_every_one_times_every_step_as_before():
    s, arrays = run_heat_study(**TINY, grid=False, direct=True)
    assert s["params"]["direct_every"] == 1
    assert arrays[6]["sec/direct"].shape == (1, 12)
    assert "extrapolated" not in s["methods"]["direct"]
    assert s["methods"]["direct"]["seconds"] == pytest.approx(arrays[6]["sec/direct"].sum())


def test_bad_direct_every_is_refused():
    with pytest.raises(ValueError, match="direct_every"):
        run_heat_study(**TINY, direct_every=0)
    assert main(["heat2d", "--direct-every", "0"]) == 2


def test_demo_times_direct_on_a_sample_and_heat2d_on_every_step():
    p = build_parser()
    assert p.parse_args(["demo"]).direct_every == 50
    assert p.parse_args(["heat2d"]).direct_every == 1


def test_cli_table_explains_columns_and_the_estimate(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["demo", "--nx", "6", "--steps", "12", "--t-end", "0.012", "--trials", "1",
                 "--jobs", "1", "--methods", "chebcb", "--no-golden", "--direct-every", "5",
                 "--no-plots", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "direct (splu), est. from 3 of 12 steps" in text
    assert "timed on steps 0, 5, 10 (3 of 12;" in " ".join(text.split())
    assert "columns: iterations = solver iterations" in text
    notes = text[text.index("columns:"):].splitlines()
    assert max(len(line) for line in notes) <= 100  # the notes are wrapped
    s = json.loads((out / "summary.json").read_text())
    assert s["methods"]["direct"]["extrapolated"]["every"] == 5
    # the folder redraws: the sampled row has no per-step arrays and is not asked for them
    assert main(["plot", str(out), "--out", str(tmp_path / "fig")]) == 0
