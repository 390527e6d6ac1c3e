"""The check of a CG-type solve's start in one compiled pass (``_kernels_prep.beyond``), and a
start vector checked without its norm (a zero start took the scaled norm's second pass)."""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from solvers import _checks
from solvers import _kernels_prep as prep
from solvers._result import IterateOverflowError

HI = 2.0 ** 400


def _reference(v, bound):
    """The test the two numpy passes made: not (max <= bound and min >= -bound)."""
    return bool(v.size) and not (v.max() <= bound and v.min() >= -bound)


@pytest.mark.parametrize("n", [0, 1, 7, 64, 1001])
def test_beyond_agrees_with_max_and_min(n):
    rng = np.random.default_rng(n)
    for scale in (1.0, 1e100, 2.0 ** 399, 2.0 ** 401, 1e300):
        v = rng.standard_normal(n) * scale
        assert prep.beyond(v, HI) == _reference(v, HI)
    if n:
        for value, expected in ((HI, False), (-HI, False), (np.nextafter(HI, np.inf), True),
                                (-np.nextafter(HI, np.inf), True), (np.inf, True),
                                (-np.inf, True), (np.nan, True), (-0.0, False)):
            v = np.zeros(n)
            v[n // 2] = value  # one entry anywhere (the loop has no early exit)
            assert prep.beyond(v, HI) is expected, value


A = solvers.gallery.laplacian_2d(6)
B = np.ones(36)


@pytest.mark.parametrize("solve", [
    lambda x0: solvers.ssor_pcg(A, B, 1.5, x0=x0),
    lambda x0: solvers.ssor_pcg(A, B, 1.5, x0=x0, order="textbook"),
    lambda x0: solvers.cg(A, B, x0=x0),
    lambda x0: solvers.pcg(A, B, "jacobi", x0=x0),
    lambda x0: solvers.pcg(A, B, "ic0", x0=x0),
], ids=["ssor_pcg", "ssor_pcg-textbook", "cg", "pcg-jacobi", "pcg-ic0"])
def test_every_refusal_of_a_start_still_fires(solve):
    """The same refusals and messages: NaN and Inf (the vector check), shape and dtype, and a
    start out of proportion with ``b`` (the start check)."""
    for x0, error, words in (
            (np.where(np.arange(36) == 3, np.nan, 0.0), ValueError, "x0 contains NaN or Inf (1 entry)"),
            (np.full(36, np.inf), ValueError, "x0 contains NaN or Inf (36 entries)"),
            (np.zeros(35), ValueError, "x0 has shape (35,), expected (36,)"),
            (np.zeros((1, 36)), ValueError, "x0 has shape (1, 36), a row"),
            (np.zeros(36, dtype=bool), ValueError, "x0 is boolean"),
            # (an exactly zero imaginary part is solved as real: a non-zero one is refused)
            (np.full(36, 0.5j), ValueError, "x0 is complex"),
            (np.full(36, 1e200), IterateOverflowError, "cannot solve from this start: x0 is "
                                                       "out of proportion with b")):
        with pytest.raises(error) as info:
            solve(x0)
        assert words in str(info.value)
    # one entry beyond 2^400 is enough (the check passes over every entry) ...
    x0 = np.zeros(36)
    x0[-1] = -1e200
    with pytest.raises(IterateOverflowError, match="max \\|x0_i\\| = 1.000e\\+200"):
        solve(x0)
    # ... and a start that large whose residual is ordinary is solved from
    big = np.full(36, 2.0 ** 401)
    res = solvers.cg(A, A @ big, x0=big)
    assert res.converged and res.iterations == 0


def test_the_tuner_refuses_a_start_out_of_proportion_with_b():
    """The Tuner's checked entry runs the same start check (a solve's refusal, as before:
    every arm fails and the system is reported unsolvable from there)."""
    from bandit import Tuner

    tuner = Tuner(solver="ssor_pcg")
    with pytest.raises(ValueError, match="x0 contains NaN or Inf"):
        tuner.solve(A, B, x0=np.full(36, np.nan))
    with pytest.raises(IterateOverflowError, match="out of proportion with b"):
        tuner.solve(A, B, x0=np.full(36, 1e200))


def test_a_zero_start_is_checked_without_the_scaled_norm(monkeypatch):
    """A start vector's norm is never used: a zero one (sum of squares 0, below the plain
    sum's safe range) is no longer passed over a second time for it."""
    def refused(v):
        raise AssertionError("scaled_norm called")

    monkeypatch.setattr(prep, "scaled_norm", refused)
    x0 = np.zeros(36)
    out = _checks.check_vector(x0, 36, "x0")
    assert out is not x0 and out.dtype == np.float64 and not out.any()
    assert np.signbit(_checks.check_vector(-x0, 36, "x0")).all()  # a copy, bit for bit
    res = solvers.pcg(A, B, "jacobi", x0=x0)  # the public function's check of x0
    ref = solvers.pcg(A, B, "jacobi")
    assert res.iterations == ref.iterations and np.array_equal(res.x, ref.x)


def test_norms_are_unchanged():
    """:func:`check_vector_norm` still takes the scaled norm where the plain sum of squares
    is out of range, and the norm of zero is 0 exactly."""
    assert _checks.check_vector_norm(np.zeros(5), 5, "b")[1] == 0.0
    assert _checks.check_vector_norm(np.array([3e-170, 4e-170]), 2, "b")[1] == 5e-170
    assert _checks.check_vector_norm(np.array([3e200, 4e200]), 2, "b")[1] == pytest.approx(
        5e200, rel=1e-15)
    v = np.random.default_rng(1).standard_normal(50)
    assert _checks.check_vector_norm(v, 50, "b", copy=False)[1] == pytest.approx(
        np.linalg.norm(v), rel=1e-15)
    # and a vector of the tiny entries is no zero vector for the start check either
    tiny = np.full(36, 1e-170)
    assert np.array_equal(_checks.check_vector(tiny, 36, "x0"), tiny)


def test_a_zero_right_hand_side_still_returns_zero():
    res = solvers.pcg(sp.csr_array(A), np.zeros(36), "jacobi", x0=np.ones(36))
    assert res.converged and res.iterations == 0 and not res.x.any()
