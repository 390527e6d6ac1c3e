"""Known small defects: settings the library had accepted and then ran on without a word
(a prior shift beyond the range of ω, a loop of no steps), and a contextual learner's bin
grid that overflowed on a context far from the ones it had seen."""
import math

import numpy as np
import pytest

import bandit
from experiments import user_loops


@pytest.mark.parametrize("shift", [1e308, 1e6, 2.5])
def test_a_prior_shift_beyond_the_range_of_omega_is_refused(shift):
    # prior_shift is the standard deviation, in ω, of the prior curve's best ω; ω lives in
    # (0, 2), so a shift beyond 2 says nothing a smaller one would not.  Before: 1e308 was
    # taken (an "overflow encountered in multiply" warning at the first solve, the shifted
    # curves all inf), 1e6 and 2.5 silently
    with pytest.raises(ValueError, match=r"prior_shift must be .*\(0, 2\].*got"):
        bandit.JointCB(bandit.DEFAULT_ARMS, prior="theory", prior_shift=shift)


def test_a_prior_shift_at_the_range_of_omega_is_still_taken():
    p = bandit.JointCB(bandit.DEFAULT_ARMS, prior="theory", prior_shift=2.0)
    assert p.prior_shift == 2.0


@pytest.mark.parametrize("loop, kw", [
    ("newton", {"steps": -1}), ("newton", {"steps": 0}), ("newton", {"steps": 2.5}),
    ("graph", {"steps": 0}), ("uq", {"samples": 0}), ("twophase", {"cn_steps": -3}),
    ("twophase", {"inverse_steps": True}), ("adaptive", {"t_end": -1.0}),
    ("adaptive", {"t_end": 0.0}), ("adaptive", {"t_end": math.inf})])
def test_a_loop_of_no_steps_is_refused_by_name(loop, kw):
    # before: steps=-1 or 0 (and samples=0, t_end=-1, ...) ran the loop's range() zero
    # times and returned a row of zeros, as if 0 iterations had been paid; 2.5 was a
    # TypeError from range()
    name = next(iter(kw))
    with pytest.raises(ValueError, match=rf"{name} must be .*got"):
        user_loops.run_loop(loop, size=4, **kw)


def test_an_unknown_loop_setting_is_named_with_the_loops_settings():
    # before: "newton_loop() got an unexpected keyword argument 'stepz'" (a TypeError)
    with pytest.raises(ValueError, match=r"'newton'.*'stepz'.*steps"):
        user_loops.run_loop("newton", size=4, stepz=3)


def test_a_loop_of_one_step_still_runs_and_is_counted():
    r = user_loops.run_loop("newton", size=4, steps=1)
    assert len(r["systems"]) >= 1
    # the tuned run's iterations are the sum over the systems it solved
    assert r["paid"] == int(r["tuner"].history["iterations"].sum()) > 0


@pytest.mark.parametrize("far", [1e10, -1e300, 1e300])
def test_a_context_far_beyond_a_narrow_bin_grid_merges_bins(far):
    # two contexts 1e-300 apart give bins of width 5e-301; a third context 1e10 away made
    # (x − origin)/width overflow to inf and the draw failed with "OverflowError: cannot
    # convert float infinity to integer".  The grid now merges bins until the context is
    # in reach, as it does for any context beyond the stored bins
    p = bandit.TsallisINFCB([1.0, 1.5], bins=5, seed=0)
    for c in (0.0, 1e-300, far):
        k = p.select(c)
        p.update(k, 5.0, context=c)
    grid = p._grid
    # every context seen is in a stored bin: origin + (j0 + cell) · width <= c < ... + width
    for c in (0.0, 1e-300, far):
        cell, moves = grid.locate(c)
        assert moves == ()  # nothing moves for a context already seen
        j = grid.j0[0] + cell[0]
        lo = grid.origin[0] + j * grid.width[0]
        assert lo <= c < lo + grid.width[0] or (c == lo + grid.width[0])
    # the first two contexts, now 1e-300 apart in one bin of a wide grid, share their cell
    assert grid.locate(0.0)[0] == grid.locate(1e-300)[0]
    assert p.counts.sum() == 3
