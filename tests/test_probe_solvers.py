"""Inputs a new user tries first, each against an independent reference: preconditioner
applications into a caller's array, SSOR-PCG over the whole range 0 < ω < 2, and the
argument checks of the spectral helpers and the gallery."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import dense_gold as gold
from solvers import gallery, pcg, preconditioner, ssor_pcg

PCS = ["none", "jacobi", {"pc": "ssor", "omega": 1.3}, "ic0", "amg"]


def _built(spec, n=6):
    A = gallery.laplacian_1d(n)
    return A, preconditioner(spec).setup(A)


@pytest.mark.parametrize("spec", PCS, ids=str)
def test_apply_into_out_matches_apply(spec):
    A, pc = _built(spec)
    r = np.arange(1.0, 7.0)
    out = np.full(6, np.nan)
    z = pc.apply(r, out=out)
    assert z is out
    np.testing.assert_allclose(out, pc.apply(r), rtol=1e-14)


@pytest.mark.parametrize("spec", PCS, ids=str)
@pytest.mark.parametrize("bad, fragment", [
    (lambda: np.empty(5), "shape (5,)"),          # too short: was written past its end
    (lambda: np.empty(7), "shape (7,)"),
    (lambda: np.empty((6, 1)), "shape (6, 1)"),
    (lambda: np.empty(6, dtype=np.int64), "int64"),  # was silently truncated to integers
    (lambda: np.empty(6, dtype=np.float32), "float32"),
    (lambda: [0.0] * 6, "list"),
])
def test_apply_refuses_an_out_it_cannot_fill(spec, bad, fragment):
    A, pc = _built(spec)
    out = bad()
    with pytest.raises(ValueError, match="out") as err:
        pc.apply(np.ones(6), out=out)
    assert fragment in str(err.value)


@pytest.mark.parametrize("spec", PCS, ids=str)
def test_apply_refuses_a_read_only_out(spec):
    A, pc = _built(spec)
    out = np.zeros(6)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        pc.apply(np.ones(6), out=out)
    assert not out.any()


def _true_residual(A, b, x):
    return np.linalg.norm(b - A @ x)


@pytest.mark.parametrize("order", ["paper", "textbook"])
@pytest.mark.parametrize("omega", [1e-8, 1e-12, 1e-300])
def test_ssor_pcg_with_tiny_omega_is_jacobi_pcg(omega, order):
    # SSOR(ω) → D/(2ω) as ω → 0, and CG does not see a constant factor of M: the iterates
    # tend to Jacobi-PCG's.  The Eisenstat form cancelled 1/ω of its digits here and never
    # converged (ω = 1e-300: a "breakdown" on an SPD matrix).
    A = gallery.laplacian_2d(8)
    b = np.random.default_rng(0).standard_normal(64)
    count, _ = gold.pcg_count(A, b, lambda r: r / A.diagonal())
    res = ssor_pcg(A, b, omega, order=order, maxiter=500)
    assert res.converged and abs(res.iterations - count) <= 1
    assert _true_residual(A, b, res.x) <= 1e-8 * np.linalg.norm(b)
    assert pcg(A, b, {"pc": "ssor", "omega": omega, "order": order}).iterations == res.iterations


@pytest.mark.parametrize("omega", [1e-3, 1e-2, 0.3, 1.0])
def test_ssor_pcg_below_one_matches_the_dense_operator_on_an_ill_conditioned_matrix(omega):
    # the Laplacian shifted to λ_min = 1e-6 (condition 8e6): the Eisenstat form's product lost
    # (2 − ω)/ω of its accuracy and took 151 iterations at ω = 1e-2 (10 000, not converged,
    # at 1e-3) where PCG with the dense operator takes 48
    L = gallery.laplacian_2d(10)
    A = sp.csr_array(L - (8 * np.sin(np.pi / 22) ** 2 - 1e-6) * sp.eye_array(100))
    b = np.random.default_rng(1).standard_normal(100)
    for order in ("paper", "textbook"):
        count, _ = gold.pcg_count(A, b, lambda r: gold.ssor_apply(A, r, omega, order))
        res = ssor_pcg(A, b, omega, order=order)
        assert res.converged and abs(res.iterations - count) <= 1, (order, res.iterations, count)
        assert _true_residual(A, b, res.x) <= 1e-8 * np.linalg.norm(b)


def test_work_model_follows_the_form_ssor_pcg_runs():
    from solvers import SSOR, work_model
    A = gallery.laplacian_2d(20)
    eisenstat = work_model("ssor_pcg", A)
    assert work_model("ssor_pcg", A, SSOR(1.5)) == eisenstat
    plain = work_model("ssor_pcg", A, SSOR(0.2))
    # a product with A (N), the two triangular solves (N - n) and nine vector operations
    N, n = A.nnz, A.shape[0]
    assert plain.per_iteration == pytest.approx((N + (N - n) + 9 * n) / N)
    assert plain.per_iteration != eisenstat.per_iteration
    res = pcg(A, np.ones(400), {"pc": "ssor", "omega": 0.2})
    assert res.info["iteration_work"] == plain.per_iteration
    assert work_model("ssor_pcg", A, {"pc": "ssor", "omega": 0.2}) == plain
    with pytest.raises(ValueError, match="pc must be an SSOR preconditioner"):
        work_model("ssor_pcg", A, "jacobi")


def _corrupt(fmt, where, value):
    """A scipy matrix whose index arrays scipy's constructor accepts unchecked (it checks them
    only in ``check_format(full_check=True)``)."""
    M = getattr(sp, f"{fmt}_array")(gallery.laplacian_1d(5))
    indices, indptr = M.indices.astype(np.int64), M.indptr.astype(np.int64)
    (indices if where == "indices" else indptr)[2] = value
    return getattr(sp, f"{fmt}_array")((M.data, indices, indptr), shape=(5, 5))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("where, value, fragment", [
    ("indices", -1, "index -1"),          # read x[-1 as unsigned]: a segmentation fault
    ("indices", 5, "index 5"),
    ("indices", 2 ** 32 + 1, "index 4294967297"),  # would wrap to 1 in 32-bit indices
    ("indptr", 1, "decreas"),
])
def test_prepare_refuses_index_arrays_out_of_range(fmt, where, value, fragment):
    from solvers import cg, prepare, sor
    A = _corrupt(fmt, where, value)
    for call in (lambda: prepare(A), lambda: sor(A, np.ones(5), 1.2),
                 lambda: cg(A, np.ones(5))):
        with pytest.raises(ValueError, match="not a valid") as err:
            call()
        assert fragment in str(err.value)


def test_jacobi_spectral_radius_of_a_large_diagonal_matrix_is_zero():
    # above the dense limit ARPACK raised "Starting vector is zero" on J = 0
    from solvers import jacobi_spectral_radius, optimal_omega
    A = sp.diags_array(np.arange(1.0, 2001.0), format="csr")
    assert jacobi_spectral_radius(A) == 0.0
    assert optimal_omega(A) == 1.0


def _neumann_laplacian(n):
    A = gallery.laplacian_1d(n).tolil()
    A[0, 0] = A[n - 1, n - 1] = 1.0
    return sp.csr_array(A)


def test_jacobi_spectral_radius_falls_back_to_dense_when_arpack_does_not_converge(monkeypatch):
    # The Neumann Laplacian's Jacobi spectrum holds ±1 next to ±(1 − O(1/n²)); at n = 1600
    # ARPACK gave up after 16 000 iterations (6 s) with ArpackNoConvergence.  Here a
    # smaller one with the dense limit lowered and ARPACK's tolerance out of reach, so the
    # test stays fast.
    import scipy.sparse.linalg as spla_
    import solvers._spectral_radius as radius
    import solvers.spectral as spectral
    eigsh = spla_.eigsh

    def stubborn(*args, **kwargs):
        return eigsh(*args, **{**kwargs, "maxiter": 2})

    monkeypatch.setattr(radius, "DENSE_LIMIT", 10)
    monkeypatch.setattr(radius.spla, "eigsh", stubborn)
    A = _neumann_laplacian(300)
    dense = np.linalg.eigvals(np.eye(300) - A.toarray() / A.diagonal()[:, None])
    assert spectral.jacobi_spectral_radius(A) == pytest.approx(np.abs(dense).max(), abs=1e-12)
    monkeypatch.setattr(radius, "DENSE_FALLBACK_LIMIT", 100)
    with pytest.raises(ValueError, match="ARPACK did not converge"):
        spectral.jacobi_spectral_radius(A)


@pytest.mark.parametrize("mu", [1e-300, 1e-40, 5e-33])
def test_ssor_omega_stays_inside_the_open_interval(mu):
    # 2 / (1 + √(2μ)) rounds to 2.0 for μ below about 6e-33, an ω every solver refuses
    from solvers import ssor_pcg
    from solvers.spectral import ssor_omega
    w = ssor_omega(mu)
    assert 1.99 < w < 2.0
    assert ssor_pcg(gallery.laplacian_1d(3), np.ones(3), w).converged


@pytest.mark.parametrize("bad", ["0.5", None, [0.5], True, 1 + 0j])
def test_spectral_formulas_name_a_bad_argument(bad):
    from solvers.spectral import ssor_omega, young_omega
    with pytest.raises(ValueError, match="rho_j must be a real number"):
        young_omega(bad)
    with pytest.raises(ValueError, match="mu_min must be a real number"):
        ssor_omega(bad)


@pytest.mark.parametrize("bad", [None, True, float("nan"), 2.5, "3"])
def test_estimate_spectrum_names_a_bad_step_count(bad):
    from solvers.spectral import estimate_spectrum
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        estimate_spectrum(gallery.laplacian_1d(4), steps=bad)


@pytest.mark.parametrize("call, fragment", [
    (lambda: gallery.laplacian_1d(2.5), "n must be an integer >= 1, got 2.5"),
    (lambda: gallery.laplacian_1d("3"), "n must be an integer >= 1, got '3'"),
    (lambda: gallery.laplacian_2d(True), "m must be an integer >= 1, got True"),
    (lambda: gallery.laplacian_2d(0), "m must be an integer >= 1, got 0"),
    (lambda: gallery.anisotropic_2d(0), "m must be an integer >= 1, got 0"),
    (lambda: gallery.crank_nicolson_2d(1, 0.1), "nx must be an integer >= 2, got 1"),
    (lambda: gallery.jacobi_radius_laplacian_2d(-1), "m must be an integer >= 1, got -1"),
    (lambda: gallery.jacobi_radius_laplacian_2d(0), "m must be an integer >= 1, got 0"),
    (lambda: gallery.random_spd(0), "n must be an integer >= 1, got 0"),
    (lambda: gallery.random_spd(5, shift=-10.0), "shift must be >= 0"),
    (lambda: gallery.random_diagonally_dominant(0), "n must be an integer >= 1, got 0"),
])
def test_gallery_names_a_bad_argument(call, fragment):
    with pytest.raises(ValueError) as err:
        call()
    assert fragment in str(err.value)


def test_gallery_accepts_numpy_integers():
    A = gallery.laplacian_2d(np.int64(3))
    assert A.shape == (9, 9)
    assert gallery.jacobi_radius_laplacian_2d(np.int32(10)) == pytest.approx(np.cos(np.pi / 11))
    assert gallery.crank_nicolson_2d(np.int64(2), 0.1).shape == (1, 1)


@pytest.mark.parametrize("spec", ["sor", "ssor_pcg", "jacobi", "ic0", "amg"])
def test_a_diagonal_too_small_to_invert_is_refused_like_a_zero(spec):
    # a_ii = 4e-310: 1/a_ii overflows, and the solvers returned NaN ("diverged",
    # "breakdown") or pyamg's "array must not contain infs or NaNs"
    from solvers import prepare, sor
    A = gallery.laplacian_1d(4) * 1e-310
    b = np.ones(4)
    call = {"sor": lambda: sor(A, b, 1.2), "ssor_pcg": lambda: ssor_pcg(A, b, 1.2)}.get(
        spec, lambda: pcg(A, b, spec))
    with pytest.raises(ValueError, match=r"row 0 \(a_ii = 2e-310, too small to invert"):
        call()
    # the same on a refresh of a working copy
    op = prepare(gallery.laplacian_1d(4), overwrite=True)
    op = prepare(sp.csr_array(A), like=op, overwrite=True)
    with pytest.raises(ValueError, match="too small to invert"):
        sor(op, b, 1.2)


def test_the_smallest_invertible_diagonal_is_solved():
    # 1e-308 is tiny but 1/a_ii is finite: solved to tolerance (x ≈ 1e308 / 2 is finite too)
    from solvers import sor
    A = sp.csr_array(sp.diags_array([1e-308, 1.0, 2.0]))
    b = np.array([1e-1, 1.0, 1.0])
    for res in (sor(A, b, 1.0), ssor_pcg(A, b, 1.0), pcg(A, b, "jacobi")):
        assert res.converged
        np.testing.assert_allclose(res.x, [1e307, 1.0, 0.5], rtol=1e-12)


def test_a_user_preconditioner_missing_a_method_says_which():
    from solvers import Preconditioner

    class Half(Preconditioner):
        name = "half"

    A = gallery.laplacian_1d(4)
    with pytest.raises(NotImplementedError, match=r"Half must implement _build\(op\)"):
        pcg(A, np.ones(4), Half())

    class Built(Half):
        def _build(self, op):
            return 0.0

    with pytest.raises(NotImplementedError, match=r"Built must implement apply"):
        pcg(A, np.ones(4), Built())


@pytest.mark.parametrize("solve", [
    lambda A, b, x0: ssor_pcg(A, b, 1.5, x0=x0),
    lambda A, b, x0: ssor_pcg(A, b, 0.3, x0=x0, order="textbook"),
    lambda A, b, x0: pcg(A, b, "none", x0=x0),
    lambda A, b, x0: pcg(A, b, "jacobi", x0=x0),
    lambda A, b, x0: pcg(A, b, "ic0", x0=x0),
    lambda A, b, x0: pcg(A, b, "amg", x0=x0),
], ids=["ssor", "ssor-plain", "cg", "jacobi", "ic0", "amg"])
def test_a_start_whose_residual_overflows_is_refused_not_returned_as_nan(solve):
    # ‖b − A x0‖² overflows for x0 = 1e200: CG's first step was inf/inf, and the solvers
    # returned x full of NaN ("diverged"), though a failed solve keeps x finite
    A, b = gallery.laplacian_2d(6), np.ones(36)
    x0 = np.full(36, 1e200)
    with pytest.raises(ValueError, match="x0"):
        solve(A, b, x0)
    res = solve(A, b, np.full(36, 1e100))  # far off, but its residual is finite
    assert np.all(np.isfinite(res.x))


def test_sor_forgets_a_start_whose_residual_overflows():
    from solvers import sor
    A, b = gallery.laplacian_2d(6), np.ones(36)
    res = sor(A, b, 1.5, x0=np.full(36, 1e200))
    assert res.converged
    np.testing.assert_allclose(A @ res.x, b, atol=1e-7)


def test_prepare_refuses_a_bsr_block_index_out_of_range():
    from solvers import prepare
    M = sp.bsr_array(gallery.laplacian_1d(6), blocksize=(2, 2))
    indices = M.indices.copy()
    indices[1] = 7  # block columns 0..2
    A = sp.bsr_array((M.data, indices, M.indptr), shape=(6, 6))
    with pytest.raises(ValueError, match="not a valid BSR matrix: block column index 7"):
        prepare(A)


# A failed solve (capped, diverged, broken down) reports its true residual with one more
# kernel. Loaded lazily by the first failed solve of a process, it cost that solve milliseconds
# (a cached kernel's load) — in a Tuner, an audit's time. Each fresh process below checks
# that the kernel is loaded with the solver, and with the types a failed solve uses (a failed
# solve loads nothing more).
_LOADED = """
import sys
import numpy as np
import solvers
from solvers import _kernels as K, gallery
A, b = gallery.laplacian_2d(6), np.ones(36)
assert not K.residual_norm.signatures
if sys.argv[1] == "tuner":
    import bandit
    bandit.Tuner(bandit.FixedArm([1.3]), solver="ssor_pcg")  # no solve yet
else:
    assert solvers.cg(A, b).converged
loaded = list(K.residual_norm.signatures)
assert loaded, "not loaded"
for res in (solvers.sor(A, b, 1.9, dtol=1.5), solvers.ssor_pcg(A, b, 1.3, maxiter=2),
            solvers.ssor_pcg(A, b, 0.3, maxiter=2, order="textbook"),
            solvers.cg(A, b, maxiter=2), solvers.pcg(A, b, "ic0", maxiter=1)):
    assert res.reason == ("diverged" if res.solver == "sor" else "maxiter"), res
assert K.residual_norm.signatures == loaded, (K.residual_norm.signatures, loaded)
"""


@pytest.mark.parametrize("first", ["solve", "tuner"])
def test_the_kernel_of_a_failed_solve_is_loaded_with_the_solver(first):
    import os
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", _LOADED, first], check=True, env=os.environ,
                   timeout=120)
