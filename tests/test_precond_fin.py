"""finadapt: the cooling fin with adaptive time steps, against a cell-by-cell assembly and the
analytic spectrum, and its registration in the preconditioner study and the command line."""
import json

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from experiments._problems_adaptive import step_schedule
from experiments._problems_fin import (ASPECT, HEATER_X, AdaptiveFin2D, AdaptiveFinSequence,
                                       fin_laplacian)
from experiments.cli import main
from experiments.precond_study import make_sequence


def _cell_by_cell(ny):
    """h² × the finite-volume flux matrix, face by face: each interior face couples its two
    cells (1 each), the base's wall (x = 0, held at 0 half a cell away) adds 2 to its cell,
    insulated walls add nothing."""
    nx = ASPECT * ny
    n = nx * ny
    A = np.zeros((n, n))

    def cell(i, j):
        return j * nx + i

    for j in range(ny):
        for i in range(nx):
            c = cell(i, j)
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                ii, jj = i + di, j + dj
                if 0 <= ii < nx and 0 <= jj < ny:
                    A[c, c] += 1.0
                    A[c, cell(ii, jj)] -= 1.0
                elif ii < 0:  # the base
                    A[c, c] += 2.0
    return A


@pytest.mark.parametrize("ny", [1, 2])
def test_laplacian_matches_a_cell_by_cell_assembly(ny):
    L = fin_laplacian(ny)
    assert L.shape == (ASPECT * ny ** 2,) * 2 and L.has_sorted_indices
    np.testing.assert_array_equal(L.toarray(), _cell_by_cell(ny))


def test_matrices_have_the_analytic_spectrum_and_share_one_pattern():
    ny = 2
    sim = AdaptiveFin2D(ny, periods=1)
    nx = ASPECT * ny
    p = np.arange(1, nx + 1)
    q = np.arange(ny)
    lam = (4 * np.sin((2 * p - 1) * np.pi / (4 * nx)) ** 2)[None, :] + (
        4 * np.sin(q * np.pi / (2 * ny)) ** 2)[:, None]
    for k in (0, sim.steps // 2, sim.steps - 1):
        A = sim.matrix(k)
        assert np.array_equal(A.indices, sim.L.indices)
        r = sim.dt[k] / sim.h ** 2
        np.testing.assert_allclose(np.linalg.eigvalsh(A.toarray()),
                                   np.sort(1 + r * lam.ravel()), rtol=1e-10)


def test_steps_contexts_and_forcing():
    sim = AdaptiveFin2D(2, periods=3)
    np.testing.assert_array_equal(sim.dt, step_schedule(0.8, 3, 1e-8, 0.08, 1.2))
    np.testing.assert_allclose(sim.contexts(), np.log10(sim.dt * (ASPECT * 2) ** 2))
    # seven decades: near the identity after each move, stiff once settled
    c = sim.contexts()
    assert c.max() - c.min() == pytest.approx(np.log10(0.08 / 1e-8))
    per = sim.steps // 3
    for period in range(3):
        f = sim.forcing(period * per)
        hot = sim.X[np.argmax(f)]
        assert abs(hot - HEATER_X[period]) <= sim.h and f.max() == pytest.approx(32, rel=0.05)
    u = np.linspace(0, 1, sim.n)
    A, b, ctx = sim.system(5, u)
    np.testing.assert_allclose(b, u + sim.dt[5] * sim.forcing(5))
    assert ctx == sim.contexts()[5]
    with pytest.raises(IndexError, match="step -1 outside"):
        sim.system(-1, u)
    with pytest.raises(ValueError, match="ny must be an integer >= 1"):
        AdaptiveFin2D(0)


def test_heat_leaves_only_through_the_base():
    """A settled fin: the steady state of the last period's heater, ``L u = h² f/κ``, which
    the backward-Euler steps approach (insulated sides: the heat flows to the base)."""
    sim = AdaptiveFin2D(1, periods=1, period=8.0, dt_max=0.5)
    u = sim.initial()
    for k in range(sim.steps):
        A, b, _ = sim.system(k, u)
        u = spla.spsolve(A.tocsc(), b)
    steady = spla.spsolve(sim.L.tocsc(), sim.h ** 2 * sim.forcing(0))
    np.testing.assert_allclose(u, steady, rtol=1e-4)
    # beyond the heater the insulated tip is at the heater's temperature: no flux there
    tip = sim.X > HEATER_X[0] + 0.05
    np.testing.assert_allclose(steady[tip], steady[tip][0], rtol=1e-12)


def test_registered_in_the_study_with_a_tiny_warm_up_of_the_same_contexts():
    seq = make_sequence("finadapt", 2)
    assert isinstance(seq, AdaptiveFinSequence) and seq.name == "finadapt_ny2"
    assert seq.n == 256 and seq.T == 186 and seq.kind == "finadapt"
    tiny = seq.tiny()
    assert tiny.n == 64 and tiny.kind == "finadapt"
    np.testing.assert_allclose(tiny.sim.contexts(), seq.sim.contexts()[:tiny.T])
    u = np.ones(seq.n)
    A, b, x0, ctx = seq.system(seq.shared(3), u)
    np.testing.assert_allclose(b, u + seq.sim.dt[3] * seq.sim.forcing(3))
    assert x0 is u and ctx == seq.sim.contexts()[3]


def test_command_line_runs_finadapt_and_scores_it_by_its_context(tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["precond", "--sequences", "finadapt", "--ny", "1", "--seeds", "1",
               "--omegas", "1.3", "--anchors", "--no-work-learner", "--no-plots", "--quiet",
               "--out", str(out)])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    q = s["sequences"]["finadapt_ny1"]
    assert q["T"] == 186 and q["n"] == 64 and q["context"] == "log10 κΔt/h²"
    arr = np.load(out / "rounds_finadapt_ny1.npz")
    np.testing.assert_allclose(arr["contexts"], AdaptiveFin2D(1).contexts())
    lo = [c["context"][0] for c in q["best_by_context"]]
    assert len(lo) == 8 and lo == sorted(lo)
    assert main(["precond", "--sequences", "finadapt", "--ny", "0"]) != 0
    assert "--ny: must be an integer >= 1 (cells across the fin), got 0" in capsys.readouterr().err
