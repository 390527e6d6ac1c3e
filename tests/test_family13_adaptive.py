"""heatadapt: the heat simulation with adaptive time steps, against an independent assembly
and the analytic spectrum, and its registration in the preconditioner study."""
import json

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from experiments._problems_adaptive import (HEATER_CENTRES, AdaptiveHeat2D,
                                            AdaptiveHeatSequence, step_schedule)
from experiments.cli import main
from experiments.precond_study import make_sequence


def _kron_laplacian(nx):
    """−h² Δ_h by Kronecker products of the 1-D second difference (not grid_laplacian)."""
    m = nx - 1
    T = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    I = sp.identity(m)
    return (sp.kron(I, T) + sp.kron(T, I)).tocsr()


def test_schedule_ramps_geometrically_from_each_restart_and_lands_on_the_moves():
    dt = step_schedule(0.1, 3, 1e-6, 1e-2, 1.2)
    per = dt.reshape(3, -1)
    assert np.all(per == per[0])  # restarted at every move
    np.testing.assert_allclose(per.sum(axis=1), 0.1, rtol=1e-12)
    one = per[0]
    K = int(np.ceil(np.log(1e4) / np.log(1.2)))  # steps from dt_min to the cap: 51
    np.testing.assert_allclose(one[:K], 1e-6 * 1.2 ** np.arange(K), rtol=1e-12)
    assert one[K] == 1e-2 and np.all(one[K:-1] == 1e-2) and 0 < one[-1] <= 1e-2
    # a last piece shorter than dt_min joins the step before
    assert step_schedule(1.0, 1, 0.3, 0.3, 1.0).round(12).tolist() == [0.3, 0.3, 0.4]


@pytest.mark.parametrize("args, fragment", [
    ((0.1, 1, 1e-6, 1e-2, 0.9), "growth must be >= 1"),
    ((0.1, 1, 1e-2, 1e-6, 1.2), "need dt_min <= dt_max <= period"),
    ((0.1, 0, 1e-6, 1e-2, 1.2), "periods"),
    ((-0.1, 1, 1e-6, 1e-2, 1.2), "period must be a finite number > 0"),
])
def test_schedule_refuses_bad_settings(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        step_schedule(*args)


def test_matrices_are_backward_euler_of_an_independent_assembly():
    nx, kappa = 9, 0.7
    sim = AdaptiveHeat2D(nx, periods=2, kappa=kappa)
    K = _kron_laplacian(nx) * nx**2  # −Δ_h
    for k in (0, 17, sim.steps - 1):
        want = sp.identity(sim.n) + kappa * sim.dt[k] * K
        assert abs(sim.matrix(k) - want).max() <= 1e-12 * abs(want).max()
        u = np.random.default_rng(k).standard_normal(sim.n)
        A, b, ctx = sim.system(k, u)
        assert ctx == pytest.approx(np.log10(kappa * sim.dt[k] * nx**2), rel=1e-14)
        np.testing.assert_allclose(b - u, sim.dt[k] * sim.forcing(k), rtol=0,
                                   atol=1e-14 * abs(b).max())


def test_spectrum_is_one_plus_the_ratio_times_the_laplacians():
    nx = 7
    sim = AdaptiveHeat2D(nx, periods=1)
    i = np.arange(1, nx)
    lam = (4 - 2 * np.cos(i[:, None] * np.pi / nx) - 2 * np.cos(i[None, :] * np.pi / nx)).ravel()
    for k in (0, 30, sim.steps - 2):
        r = sim.dt[k] / sim.dx**2
        ev = np.linalg.eigvalsh(sim.matrix(k).toarray())
        np.testing.assert_allclose(ev, np.sort(1 + r * lam), rtol=1e-12)
        assert 1 < ev[0] and ev[-1] < 1 + 8 * r
    # four decades of κΔt/dx² along a period: near the identity to stiff
    assert sim.context_bounds == pytest.approx((np.log10(1e-6 * 49), np.log10(1e-2 * 49)))


def test_heater_moves_every_period_and_the_solution_follows():
    sim = AdaptiveHeat2D(20, periods=5)
    per = sim.steps // 5
    u = sim.initial()
    for k in range(sim.steps):
        A, b, _ = sim.system(k, u)
        u = spla.spsolve(A.tocsc(), b)
        if (k + 1) % per == 0:  # end of a period: hottest point near that period's heater
            c = HEATER_CENTRES[(k // per) % 4]
            hot = np.argmax(u)
            assert abs(sim.X[hot] - c[0]) < 0.1 and abs(sim.Y[hot] - c[1]) < 0.1
        f = sim.forcing(k)
        c = HEATER_CENTRES[(k // per) % 4]
        assert sim.X[np.argmax(f)] == pytest.approx(c[0], abs=sim.dx)
        assert sim.Y[np.argmax(f)] == pytest.approx(c[1], abs=sim.dx)
    np.testing.assert_allclose(sim.times()[per - 1::per], 0.1 * np.arange(1, 6), rtol=1e-12)


def test_sequence_gives_each_method_the_simulation_system_from_its_own_state():
    seq = make_sequence("heatadapt", 8)
    assert isinstance(seq, AdaptiveHeatSequence) and seq.name == "heatadapt_nx8"
    sim = AdaptiveHeat2D(8)
    assert seq.T == sim.steps == 336 and seq.bounds == sim.context_bounds
    u = np.random.default_rng(1).standard_normal(seq.n)
    for t in (0, 100, seq.T - 1):
        A, b, x0, ctx = seq.system(seq.shared(t), u)
        A2, b2, ctx2 = sim.system(t, u)
        assert x0 is u and ctx == ctx2 and abs(A - A2).max() == 0
        np.testing.assert_array_equal(b, b2)
    assert seq.tiny().kind == "heatadapt" and seq.tiny().T == 56
    with pytest.raises(ValueError, match="'heatadapt', 'mc3d' or 'finadapt', got 'heat'"):
        make_sequence("heat", 8)


def test_command_line_runs_heatadapt_and_scores_it_by_its_context(tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["precond", "--sequences", "heatadapt", "--nx", "4", "--seeds", "1",
               "--omegas", "1.3", "--anchors", "--no-work-learner", "--no-plots", "--quiet",
               "--out", str(out)])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    q = s["sequences"]["heatadapt_nx4"]
    assert q["T"] == 336 and q["context"] == "log10 κΔt/dx²"
    arr = np.load(out / "rounds_heatadapt_nx4.npz")
    np.testing.assert_allclose(arr["contexts"], AdaptiveHeat2D(4).contexts())
    lo = [c["context"][0] for c in q["best_by_context"]]
    assert len(lo) == 8 and lo == sorted(lo)
