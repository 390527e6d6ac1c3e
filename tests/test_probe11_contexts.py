"""Contexts at the ends of the float range: subnormal numbers and numbers near ±1.7e308.

Each test failed before its fix; numbers are checked against analytic values and scipy.
"""
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import bandit
from solvers import gallery

TINY = 5e-324  # the smallest subnormal
A = gallery.laplacian_2d(6).tocsr()
B = np.ones(36)
X = spla.spsolve(A.tocsc(), B)


def _finite_state(policy):
    """Every float array of the policy's saved state is finite."""
    return all(np.all(np.isfinite(v)) for v in policy.state_dict()["state"].values()
               if isinstance(v, np.ndarray) and v.dtype.kind == "f")


@pytest.mark.parametrize("make", [
    lambda: bandit.ChebCB(np.linspace(1.0, 1.9, 6), seed=0),
    lambda: bandit.TsallisINFCB(np.linspace(1.0, 1.9, 6), seed=0),
    lambda: bandit.default_policy("ssor_pcg"),
])
@pytest.mark.parametrize("context", [
    lambda k: TINY * (1 + k % 3),              # a few subnormals apart
    lambda k: [TINY * (k % 3), 1.0],           # a vector with a subnormal coordinate
])
def test_subnormal_contexts_neither_crash_nor_poison_the_learner(make, context, tmp_path):
    # before: ZeroDivisionError (the features' scale underflowed to 0), TypeError in
    # TsallisINFCB's bins (a width of 0), or — for a vector — NaN features, a NaN model and
    # "cannot save ...: Tuner.load would refuse the file"
    policy = make()
    tuner = bandit.Tuner(policy, solver="ssor_pcg")
    for k in range(12):
        r = tuner.solve(A, B, context=context(k))
        assert r.converged
        assert np.linalg.norm(r.x - X) <= 1e-6 * np.linalg.norm(X)
    assert _finite_state(tuner.policy)
    tuner.save(tmp_path / "t.json")
    again = bandit.Tuner.load(tmp_path / "t.json")
    assert again.solve(A, B, context=context(0)).converged


def test_a_range_one_subnormal_wide_is_a_point_to_the_features():
    # [5e-324, 1e-323]: its half width is one subnormal, whose half underflows to 0; the
    # features take such a range as a point, T_j(0) = cos(jπ/2) for every context in it
    f = bandit.features.Chebyshev(m=4)
    for c in (TINY, 2 * TINY):
        f.observe(c)
    assert f.context_bounds == (TINY, 2 * TINY)
    expect = [math.cos(j * math.pi / 2) for j in range(4)]
    for c in (TINY, 2 * TINY):
        assert np.allclose(f(c), expect, atol=1e-15)
    # a vector context with such a coordinate: that coordinate is 0 in the unit box
    g = bandit.features.Chebyshev(m=3)
    for c in ([TINY, 0.0], [2 * TINY, 1.0], [TINY, 2.0]):
        g.observe(c)
    lo, hi = g.range.lo[1], g.range.hi[1]
    u = (1.0 - 0.5 * (lo + hi)) / (0.5 * (hi - lo))
    phi = g([2 * TINY, 1.0])
    # features 1, u_1, u_2, T_2(u_1), u_1 u_2, T_2(u_2) with u_1 = 0
    assert np.allclose(sorted(phi), sorted([1.0, 0.0, u, -1.0, 0.0, 2 * u * u - 1]),
                       atol=1e-12)


def test_tsallis_bins_of_subnormal_contexts_have_a_usable_width():
    grid = bandit.tsallis._BinGrid(8, None, None)
    cells = [grid.locate(c)[0] for c in (TINY, 2 * TINY, TINY, 3 * TINY)]
    assert all(0 <= c[0] < 8 for c in cells)
    assert grid.width[0] >= 2.0 ** -1021 and 0.5 * grid.width[0] > 0.0


def _audited_run(scale, seed=3):
    """A uniform learner (it ignores the context, so the arms and costs do not depend on
    ``scale``) on systems that alternate with the sign of the context ``±scale``."""
    tuner = bandit.Tuner(bandit.UniformRandom(np.linspace(1.0, 1.9, 6), seed=seed),
                         solver="sor", audit_budget=0.3, audit_seed=1)
    for k in range(60):
        shift = 0.5 * (k % 2)
        tuner.solve((A + shift * sp.identity(36)).tocsr(), B, context=(-1) ** k * scale)
    return tuner


def test_regret_of_contexts_near_the_float_range_is_the_regret_of_small_ones():
    # before: the cost model's quantile knots overflowed (inf − inf), and the report said
    # "nothing observed yet" with a NaN interval, with a RuntimeWarning
    small, huge = _audited_run(1.0), _audited_run(1.7e308)
    assert huge.history["iterations"].tolist() == small.history["iterations"].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r_huge = huge.regret()
    r_small = small.regret()
    for a, b in ((r_huge.best_fixed, r_small.best_fixed),
                 (r_huge.instance_optimal, r_small.instance_optimal)):
        assert a.method == b.method
        assert a.estimate == pytest.approx(b.estimate, rel=1e-9, abs=1e-9)
        assert a.low == pytest.approx(b.low, rel=1e-9, abs=1e-9, nan_ok=True)
        assert a.high == pytest.approx(b.high, rel=1e-9, abs=1e-9, nan_ok=True)
    assert math.isfinite(r_huge.best_fixed.low) and math.isfinite(r_huge.best_fixed.high)


def test_vector_contexts_near_the_float_range_warn_nothing():
    # before: the default learner's test of whether the context varies subtracted the two
    # ends of its span, which overflowed (RuntimeWarning; an error under -W error)
    tuner = bandit.Tuner(solver="ssor_pcg")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for k in range(6):
            r = tuner.solve(A, B, context=[(-1) ** k * 1.7e308, 1.0])
            assert r.converged and np.linalg.norm(r.x - X) <= 1e-6 * np.linalg.norm(X)
