"""IC(0) on the PETSc backend where the unshifted factorisation breaks down (SPD, not an
M-matrix): the configuration arm's ``breakdown`` knob maps to PETSc's
``pc_factor_shift_type`` (``"shift"``: PETSc's positive-definite shift, pinned; ``"raise"``:
no shift, the solve reports the breakdown), knobs that cannot be mapped are refused when the
arm is made, and each backend's answer is checked against the Numba IC(0) on the same matrix
and scipy's direct solve.  (A fixed ``shift > 0``, once refused here, is a preconditioning
matrix ``A + shift·diag(A)``: tests/test_small7_petsc_shift.py.)"""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

pytest.importorskip("petsc4py")

import dense_gold as gold  # noqa: E402
from bandit import FixedArm, Tuner  # noqa: E402
from bandit.arms import parse_arm  # noqa: E402
from solvers import IC0, IC0BreakdownError, pcg  # noqa: E402
from test_probe16_pcg_properties import _rotated  # noqa: E402

KERSHAW = np.array([[3.0, -2.0, 0.0, 2.0], [-2.0, 3.0, -2.0, 0.0], [0.0, -2.0, 3.0, -2.0],
                    [2.0, 0.0, -2.0, 3.0]])
ROTATED = _rotated(np.random.default_rng(3), 30, 3)  # 30 × 30, condition ~1e3
MATRICES = {"kershaw": KERSHAW, "rotated": ROTATED}


def _petsc_solve(arm, A, b, **kw):
    fn, call = parse_arm(arm, backend="petsc").call()
    return fn(sp.csr_matrix(A), b, rtol=1e-10, maxiter=200, **call, **kw)


@pytest.mark.parametrize("name", sorted(MATRICES))
def test_unshifted_ic0_breaks_down_on_these_matrices(name):
    A = MATRICES[name]
    assert np.linalg.eigvalsh(A).min() > 0  # SPD
    with pytest.raises(ArithmeticError):
        gold.ic0_dense(A)  # the textbook factorisation meets a non-positive pivot
    with pytest.raises(IC0BreakdownError):
        IC0(breakdown="raise").setup(sp.csr_matrix(A))


@pytest.mark.parametrize("name", sorted(MATRICES))
@pytest.mark.parametrize("arm", [{"method": "cg", "pc": "ic0"},
                                 {"method": "cg", "pc": "ic0", "breakdown": "shift"},
                                 {"method": "cg", "pc": "ic0", "shift": 0.0}])
def test_breakdown_is_shifted_on_both_backends(name, arm):
    A = MATRICES[name]
    b = np.arange(1.0, A.shape[0] + 1)
    exact = spla.spsolve(sp.csc_matrix(A), b)
    numba = pcg(sp.csr_matrix(A), b, IC0(), rtol=1e-10, maxiter=200)
    assert numba.converged and numba.info["ic0_shift"] > 0  # the documented shift
    petsc = _petsc_solve(arm, A, b)
    assert petsc.converged and petsc.reason == "converged"
    assert petsc.info["pc_type"] == "icc"
    for res in (numba, petsc):
        np.testing.assert_allclose(res.x, exact, rtol=0, atol=1e-7 * np.abs(exact).max())
    # a default said explicitly is the same arm (one label, one family)
    assert parse_arm(arm, backend="petsc") == parse_arm({"method": "cg", "pc": "ic0"},
                                                        backend="petsc")
    fn, call = parse_arm(arm, backend="petsc").call()
    assert call["options"]["pc_factor_shift_type"] == "positive_definite"


@pytest.mark.parametrize("name", sorted(MATRICES))
def test_breakdown_raise_is_reported_on_both_backends(name):
    A = MATRICES[name]
    b = np.arange(1.0, A.shape[0] + 1)
    with pytest.raises(IC0BreakdownError, match="breaks down at row"):
        pcg(sp.csr_matrix(A), b, IC0(breakdown="raise"))
    arm = {"method": "cg", "pc": "ic0", "breakdown": "raise"}
    assert parse_arm(arm, backend="petsc").label == "cg+ic0(pc_factor_shift_type=none)"
    res = _petsc_solve(arm, A, b)
    # never a silent wrong solve: not converged, and the reason says the preconditioner broke
    assert not res.converged and res.reason == "breakdown"
    assert res.info["petsc_reason"] == "DIVERGED_INDEFINITE_PC"
    assert np.all(np.isfinite(res.x))


@pytest.mark.parametrize("arm, match", [
    ({"method": "cg", "pc": "ic0", "shift": -1.0}, "shift must be a finite number >= 0"),
    ({"method": "cg", "pc": "ic0", "breakdown": "stop"}, "breakdown must be 'shift' or 'raise'"),
    ({"method": "cg", "pc": "ic0", "breakdown": "raise",
      "pc_factor_shift_type": "positive_definite"}, "breakdown='raise' is pc_factor_shift_type"),
])
def test_unmappable_ic0_knobs_are_refused_when_the_arm_is_made(arm, match):
    with pytest.raises(ValueError, match=match):
        parse_arm(arm, backend="petsc")
    with pytest.raises(ValueError, match=match):
        Tuner(FixedArm([arm, {"method": "cg", "pc": "jacobi"}]), backend="petsc")
    # the same knobs are the Numba IC(0)'s own, accepted or refused there by IC0 itself
    if "pc_factor_shift_type" not in arm and arm.get("shift", 0) >= 0 and arm.get(
            "breakdown", "shift") in ("shift", "raise"):
        assert parse_arm(arm).preconditioner().shift == arm["shift"]
