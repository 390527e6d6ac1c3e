"""The default learner on ω grids spanning most of (0, 2), which a user who does not know where
ω should be gives.

Failed before the fix: over 40 solves of the 16 × 16 Laplacian on a grid of 100 ω from 0.01
to 1.99, the default SOR learner settled near ω = 1.35 at about 3.5 × the best ω's sweeps.
Its model of the cost (no context) took the theory prior's predicted cost ratios — up to
2,000-fold at ω = 0.01 — as pseudo-observations known to the noise of a measurement, and
the least squares of twelve polynomials in ω followed the dear arms and put the model's best
far below the curve's; on a grid of 2,000 ω the prior was, besides, worth 1,999
observations, and a radius of one grid step (0.001 in ω) walked SSOR-PCG towards its best by
a thousandth a round.

Every reference is the best ω of the cost matrix, found by running every arm of the grid on
the system the learner solves (the same right-hand side every solve: one row).
"""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import bandit.joint as joint
import solvers
from bandit.defaults import DEFAULT_ARMS, explore_radius
from solvers import gallery

SOLVES = 40


def _laplacian_3d(m):
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], (m, m))
    eye = sp.identity(m)
    return (sp.kron(sp.kron(T, eye), eye) + sp.kron(sp.kron(eye, T), eye)
            + sp.kron(sp.kron(eye, eye), T)).tocsr()


def _best(A, b, grid, solver):
    """The least iterations of any arm of ``grid`` on ``A x = b`` (every arm run)."""
    fn = {"sor": solvers.sor, "ssor_pcg": solvers.ssor_pcg}[solver]
    its = [fn(A, b, float(w), rtol=1e-8, maxiter=200_000) for w in grid]
    return min(r.iterations for r in its if r.converged)


def _tune(A, b, grid, solver, solves=SOLVES):
    t = bandit.Tuner(list(grid), solver=solver, rtol=1e-8)
    for _ in range(solves):
        r = t.solve(A, b)
        assert r.converged
    return t


@pytest.mark.parametrize("solver, A, grid", [
    # the probe's grid (3.7 × before)
    ("sor", gallery.laplacian_2d(16), np.linspace(0.01, 1.99, 100)),
    # a 3-D problem, 20 arms (2.1 × before)
    ("sor", _laplacian_3d(8), np.linspace(0.01, 1.99, 20)),
    # from ω = 0.2, a larger problem (1.2 × before)
    ("sor", gallery.laplacian_2d(24), np.linspace(0.2, 1.99, 100)),
    # SSOR-PCG over 2,000 ω: a radius of one step walked from 1.99 by a thousandth a
    # round (1.74 × before)
    ("ssor_pcg", gallery.laplacian_2d(24), np.linspace(0.01, 1.99, 2000)),
])
def test_the_default_learner_settles_near_the_best_omega_of_a_wide_grid(solver, A, grid):
    factor = 1.1
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    best = _best(A, b, grid, solver)
    t = _tune(A, b, grid, solver)
    last = t.history["iterations"][-10:].mean()
    assert last <= factor * best, (last, best, t.history["omega"][-10:])


def test_a_grid_of_2000_omega_in_0_2_settles_near_the_best():
    A = gallery.laplacian_2d(16)
    b = np.random.default_rng(1).standard_normal(256)
    grid = np.linspace(0.01, 1.99, 2000)
    # every arm from 0.5 up, every 20th below (the dear under-relaxed ones; none is near best)
    best = _best(A, b, [w for i, w in enumerate(grid) if w >= 0.5 or i % 20 == 0], "sor")
    t = _tune(A, b, grid, "sor")
    assert t.history["iterations"][-10:].mean() <= 1.2 * best  # 4.1 × before
    # a grid of 2,000 ω: the prior is worth 20 pseudo-observations, not 1,999
    assert t.policy.prior_w == pytest.approx(20 / 1999)


def test_the_paper_grid_is_learnt_exactly_as_without_the_wide_grid_measures(monkeypatch):
    """On grids of at most 21 ω of step ≥ 0.05 over [1, 1.95] neither the relative errors,
    the prior's cap nor the wider radius act: the same histories as with them switched off."""
    A = gallery.laplacian_2d(16)
    b = np.random.default_rng(2).standard_normal(256)

    def history(grid, solver):
        t = _tune(A, b, grid, solver, solves=25)
        return t.history["arm"].tolist(), t.history["iterations"].tolist()

    cases = [(DEFAULT_ARMS, "sor"), (np.linspace(1.0, 1.9, 10), "sor"),
             (DEFAULT_ARMS, "ssor_pcg")]
    now = [history(g, s) for g, s in cases]
    monkeypatch.setattr(joint.JointCB, "PRIOR_SPAN", np.inf)
    monkeypatch.setattr(joint.JointCB, "PRIOR_ROWS", 10 ** 9)
    monkeypatch.setattr(bandit.defaults, "EXPLORE_WIDTH", 0.0)
    assert [history(g, s) for g, s in cases] == now
    assert explore_radius(DEFAULT_ARMS) == 1.0


def test_relative_errors_only_where_the_curve_rises_steeply_below_its_best():
    """The switch reads the prior's curve: the 16 × 16 Laplacian's rises 10-fold below its
    best on the paper's grid (none), over 2,000-fold on a grid from 0.01 (relative); a model
    of the log-cost never switches (its errors are relative already)."""
    A = gallery.laplacian_2d(16)
    for grid, relative in ((DEFAULT_ARMS, False), (np.linspace(0.01, 1.99, 100), True)):
        p = bandit.default_policy("sor", grid)
        p.prime(A, "sor")
        g = np.exp(p.prior_curve)
        p.features.range.dim = 0  # no context: the model of the cost
        best = int(np.argmin(g))
        a = p._prior_row_scale(g, best)
        assert (a is not None) == relative
        if relative:
            np.testing.assert_allclose(a * g, 1.0)
    q = joint.JointCB(list(np.linspace(0.01, 1.99, 100)), prior="theory", target="log")
    q.prime(A, "sor")
    assert q._prior_row_scale(q.prior_curve, int(np.argmin(q.prior_curve))) is None


def test_a_wide_grid_learner_resumes_from_its_saved_state(tmp_path):
    A = gallery.laplacian_2d(12)
    b = np.random.default_rng(3).standard_normal(144)
    grid = np.linspace(0.01, 1.99, 300)
    t = _tune(A, b, grid, "sor", solves=6)
    path = tmp_path / "tuner.json"
    t.save(path)
    u = bandit.Tuner.load(path)
    assert u.policy.prior_w == t.policy.prior_w == pytest.approx(20 / 299)
    for _ in range(6):
        assert t.solve(A, b).iterations == u.solve(A, b).iterations
    assert t.history["arm"].tolist() == u.history["arm"].tolist()
