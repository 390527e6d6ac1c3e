"""Tests of zero row or column sums on a matrix whose entries lie near the double range
(a 5-point Laplacian times 4e307: every entry finite, every row's absolute sum beyond 1.8e308).
The sums had overflowed to inf, every finite row sum then passed for zero, and a nonsingular
matrix was taken for one whose rows or columns sum to zero: the Tuner refused a failed,
consistent system as "A x = b is inconsistent: the columns of A sum to zero", the spectral
estimate deflated a null vector that is not one (μ = 0, so `auto_context="spectral"` told
the learner ω ≈ 2 for a matrix whose ω* is 1.39) and warned of the overflow.  The tests are
now made on the entries scaled by a power of two, which rounds nothing: the same verdicts,
bit for bit, as on the matrix at unit scale.  The reference is the same matrix at scale 1."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from bandit._tuner_guard_diagnosis import _singular_note
from solvers import gallery, prepare
from solvers.spectral import estimate_spectrum, null_floor, residual_floor

HUGE = 4e307  # 4·HUGE = 1.6e308 on the diagonal: finite; a row's absolute sum is not
TINY = 2.0 ** -1000  # entries far below one, still normal numbers


def _lap(m=6):
    return gallery.laplacian_2d(m).tocsr().astype(np.float64)


def _neumann(m=6):
    t = sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1]).tolil()
    t[0, 0] = t[m - 1, m - 1] = 1.0
    eye = sp.identity(m)
    return (sp.kron(t, eye) + sp.kron(eye, t)).tocsr()


@pytest.fixture(autouse=True)
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        yield


@pytest.mark.parametrize("scale", [HUGE, 1.7e308 / 4])
def test_the_spectrum_of_a_scaled_matrix_is_the_matrix_s(scale):
    # D^{-1/2} A D^{-1/2} does not change with A's scale
    ref = estimate_spectrum(_lap())
    got = estimate_spectrum(_lap() * scale)
    assert (got.mu_min, got.mu_max, got.steps) == pytest.approx(
        (ref.mu_min, ref.mu_max, ref.steps), rel=1e-12)
    assert got.mu_min > 0.05


def test_a_singular_matrix_near_the_double_range_is_still_found_singular():
    ref = estimate_spectrum(_neumann())
    got = estimate_spectrum(_neumann() * HUGE)
    assert ref.mu_min == got.mu_min == 0.0
    assert got.mu_max == pytest.approx(ref.mu_max, rel=1e-12)


def test_entries_far_below_one_keep_their_verdicts():
    # at 2^-1000 the tolerance NULL_ROWS × a row's absolute sum is subnormal
    b = np.ones(36)
    assert null_floor(_neumann() * TINY, b) == null_floor(_neumann(), b)
    assert null_floor(_lap() * TINY, b) == (0.0, 0, "")
    ref = estimate_spectrum(_neumann())
    got = estimate_spectrum(_neumann() * TINY)
    assert got.mu_min == 0.0 and got.mu_max == pytest.approx(ref.mu_max, rel=1e-12)


@pytest.mark.parametrize("scale", [1.0, HUGE])
def test_the_floors_of_a_nonsingular_matrix_are_none_at_any_scale(scale):
    b = np.ones(36)
    assert null_floor(_lap() * scale, b) == (0.0, 0, "")
    assert residual_floor(_lap() * scale, b) == (0.0, 0)


def test_the_floors_of_a_singular_matrix_are_the_unit_scale_ones():
    b = np.ones(36)
    assert null_floor(_neumann() * HUGE, b) == null_floor(_neumann(), b) == (6.0, 1, "columns")
    # a row-scaled Neumann Laplacian: its null vector read off the ratios, at any scale
    d = sp.diags(np.linspace(1.0, 2.0, 36))
    ref = null_floor(d @ _neumann(), b)
    assert ref[1:] == (1, "rows") and ref[0] > 0
    assert null_floor(d @ _neumann() * (HUGE / 2), b) == pytest.approx(ref)


def test_a_failed_solve_of_a_consistent_system_near_the_double_range_is_not_refused():
    # every arm stops at maxiter: the round says so, and no "inconsistent" refusal
    for solver in ("sor", "ssor_pcg", "cg"):
        r = bandit.Tuner(solver=solver, maxiter=3).solve(_lap() * HUGE, np.ones(36))
        assert not r.converged and r.info["all_arms_failed"]
        assert "singular" not in r.info["failure"]


def test_the_singular_note_is_not_given_to_a_nonsingular_matrix_near_the_double_range():
    assert _singular_note(prepare(_lap() * HUGE)) == ""
    assert _singular_note(prepare(_neumann() * HUGE)) == _singular_note(prepare(_neumann()))
    assert _singular_note(prepare(_neumann())) != ""


def test_the_automatic_context_is_the_unit_scale_one():
    contexts = []
    for scale in (1.0, HUGE):
        t = bandit.Tuner(solver="sor", auto_context="spectral", seed=0)
        assert t.solve(_lap() * scale, np.ones(36)).converged
        contexts.append(float(t.history["context"][-1]))
    assert contexts[1] == pytest.approx(contexts[0], rel=1e-9)
    assert 1.3 < contexts[0] < 1.5  # Young's ω* of the 6 × 6 Laplacian, 1.39


# --- the PETSc backend: the same verdicts (a copy scaled by 2^-64 when a norm overflows) ----

@pytest.mark.petsc
def test_the_petsc_backend_gives_the_same_verdicts():
    from solvers.petsc import to_petsc_mat

    ref = estimate_spectrum(to_petsc_mat(_lap()))
    got = estimate_spectrum(to_petsc_mat(_lap() * HUGE))
    assert (got.mu_min, got.mu_max) == pytest.approx((ref.mu_min, ref.mu_max), rel=1e-12)
    assert estimate_spectrum(to_petsc_mat(_neumann() * HUGE)).mu_min == 0.0
    b = np.ones(36)
    assert residual_floor(to_petsc_mat(_lap() * HUGE), _petsc_vec(b)) == (0.0, 0)
    assert residual_floor(to_petsc_mat(_neumann() * HUGE), _petsc_vec(b)) == (6.0, 1)
    assert null_floor(to_petsc_mat(_lap() * HUGE), _petsc_vec(b)) == (0.0, 0, "")


@pytest.mark.petsc
def test_the_petsc_spectral_estimate_refuses_a_nonsymmetric_matrix_near_the_double_range():
    # 1e-10 × an overflowed inf norm had passed every matrix as symmetric
    from solvers.petsc import to_petsc_mat

    A = _lap().tolil()
    A[0, 1] = -2.0
    with pytest.raises(ValueError, match="not symmetric"):
        estimate_spectrum(to_petsc_mat(A.tocsr() * HUGE))


@pytest.mark.petsc
def test_a_petsc_tuner_near_the_double_range_neither_refuses_nor_misreads():
    for solver in ("sor", "ssor_pcg"):
        r = bandit.Tuner(solver=solver, maxiter=3, backend="petsc").solve(_lap() * HUGE,
                                                                         np.ones(36))
        assert not r.converged and r.info["all_arms_failed"]
    contexts = []
    for scale in (1.0, HUGE):
        t = bandit.Tuner(solver="sor", auto_context="spectral", seed=0, backend="petsc")
        assert t.solve(_lap() * scale, np.ones(36)).converged
        contexts.append(float(t.history["context"][-1]))
    assert contexts[1] == pytest.approx(contexts[0], rel=1e-9)


def _petsc_vec(b):
    from petsc4py import PETSc

    v = PETSc.Vec().createSeq(len(b))
    v.setArray(b)
    return v


# --- a CG-type run on such a matrix: solved by the Numba backend, explained by PETSc's ----

def test_a_cg_run_near_the_double_range_is_solved_as_at_unit_scale():
    # plain CG's pᵀAp overflows (A·1 reaches 3.1e308 on the 12 × 12 Laplacian times 3.9e307):
    # it had stopped as "diverged" after 2 iterations; the solvers now divide A and b by the
    # same power of two themselves (tests/test_scale_a_near_double_range.py)
    A, b = _lap(12) * 3.9e307, np.ones(144)
    r = solvers.cg(A, b)
    assert r.converged and "cause" not in r.info
    assert r.iterations == solvers.cg(_lap(12), b).iterations
    t = bandit.Tuner(solver="cg")
    got = t.solve(A, b)
    assert got.converged and got.iterations == r.iterations


def test_a_failed_run_of_an_ordinary_matrix_gets_no_such_cause():
    A = (_lap(12) - 3.0 * sp.identity(144)).tocsr() * 1e300  # indefinite, within range
    for r in (solvers.cg(A, np.ones(144)), solvers.ssor_pcg(A, np.ones(144), 1.2)):
        assert not r.converged and "double range" not in r.info.get("cause", "")


@pytest.mark.petsc
def test_the_petsc_backend_solves_it():
    # KSPCG stopped as "diverged" after 1 iteration there, and the backend named the cause;
    # it now solves a copy scaled down by 2**k as the Numba backend does
    # (tests/test_petsc_scale_a.py)
    A, b = _lap(12) * 3.9e307, np.ones(144)
    r = solvers.cg(A, b, backend="petsc")
    assert r.converged and "cause" not in r.info
    assert r.iterations == solvers.cg(A, b).iterations
    assert "cause" not in solvers.cg(_lap(12) * 1e300, b, backend="petsc").info
