"""Preconditioned CG (Jacobi, IC(0), AMG, SSOR via pcg) against dense references and scipy;
preconditioner set-up, reuse, breakdown handling, work model and settings."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings, strategies as st

import dense_gold as gold
from experiments.problems import DiffusionMC3D
from solvers import (AMG, IC0, SSOR, IC0BreakdownError, Jacobi, NoPreconditioner,
                     PRECONDITIONERS, Preconditioner, cg, gallery, pcg, preconditioner, prepare,
                     ssor_pcg, work_model)

RNG = np.random.default_rng(0)

#: named model problems run through every preconditioner (all SPD)
CASES = {**gold.model_problems(), "diffusion3d": DiffusionMC3D(m=5, samples=1, seed=3).matrix(0)}
#: Kershaw's SPD matrix, on which IC(0) meets a negative pivot (Kershaw, 1978)
KERSHAW = np.array([[3.0, -2.0, 0.0, 2.0], [-2.0, 3.0, -2.0, 0.0], [0.0, -2.0, 3.0, -2.0],
                    [2.0, 0.0, -2.0, 3.0]])
TINY = dict(rtol=1e-300, atol=1e-300)


def dense_apply(name, A):
    """``r ↦ M⁻¹ r`` written from the definition (dense), for the preconditioner ``name``."""
    Ad = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
    if name == "jacobi":
        return lambda r: r / np.diag(Ad)
    if name == "ic0":
        L = gold.ic0_dense(A)
        return lambda r: gold.ic0_apply(L, r)
    raise ValueError(name)


def scipy_operator(pc):
    n = pc._op.n
    return spla.LinearOperator((n, n), matvec=lambda r: pc.apply(np.ravel(r)))


# -- the IC(0) factor -------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_ic0_factor_matches_dense_ic0(name):
    A = CASES[name]
    L = IC0().setup(A).factor().toarray()
    np.testing.assert_allclose(L, gold.ic0_dense(A), rtol=1e-12, atol=1e-14)


def test_ic0_on_a_pattern_with_inner_products():
    """Random patterns share columns between rows, so every l_ij has a non-empty sum."""
    A = gallery.random_spd(80, 0.15, seed=4)
    pc = IC0().setup(A)
    assert pc.factor().nnz == sp.tril(A).nnz
    np.testing.assert_allclose(pc.factor().toarray(), gold.ic0_dense(A), rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("A", [gallery.laplacian_1d(30), sp.csr_array(sp.diags_array(
    [np.full(19, -0.5), np.linspace(2, 5, 20), np.full(19, -0.5)], offsets=[-1, 0, 1]))])
def test_ic0_is_exact_cholesky_without_fill(A):
    """A tridiagonal pattern has no fill-in: IC(0) is the Cholesky factor, M = A."""
    pc = IC0().setup(A)
    np.testing.assert_allclose(pc.factor().toarray(), np.linalg.cholesky(A.toarray()),
                               rtol=1e-13, atol=1e-15)
    b = RNG.standard_normal(A.shape[0])
    assert pcg(A, b, pc).iterations == 1


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.floats(0.05, 0.5), st.integers(0, 2**31 - 1))
def test_ic0_reproduces_A_on_its_pattern(n, density, seed):
    """The defining property: ``(L Lᵀ)_ij = a_ij`` wherever ``A`` stores ``(i, j)``."""
    A = gallery.random_spd(n, density, seed=seed)
    L = IC0().setup(A).factor()
    LLt = (L @ L.T).toarray()
    mask = A.toarray() != 0
    np.testing.assert_allclose(LLt[mask], A.toarray()[mask], rtol=1e-11, atol=1e-12)
    assert sp.tril(L).nnz == L.nnz and L.nnz == sp.tril(A).nnz


def test_ic0_keeps_explicit_zeros_in_its_pattern():
    """A stored zero is part of the pattern: fill may land there, as in the dense reference.
    Rows 5 and 2 of the 4 × 4 grid share the lower neighbour 1, so l_52 fills."""
    base = gallery.laplacian_2d(4).tocoo()
    rows = np.r_[base.row, 5, 2]
    cols = np.r_[base.col, 2, 5]
    A = sp.csr_array(sp.coo_array((np.r_[base.data, 0.0, 0.0], (rows, cols)), shape=(16, 16)))
    op = prepare(A)
    assert op.nnz == base.nnz + 2
    L = IC0().setup(op).factor()
    assert L.nnz == sp.tril(op.matrix).nnz and L[5, 2] != 0.0
    np.testing.assert_allclose(L.toarray(), gold.ic0_dense(op.matrix), rtol=1e-12, atol=1e-14)
    plain = IC0().setup(gallery.laplacian_2d(4)).factor()
    assert plain.nnz == L.nnz - 1


def test_ic0_apply_is_the_two_triangular_solves():
    A = CASES["random_spd"]
    pc = IC0().setup(A)
    r = RNG.standard_normal(60)
    np.testing.assert_allclose(pc.apply(r), gold.ic0_apply(gold.ic0_dense(A), r), rtol=1e-11)


# -- breakdown -------------------------------------------------------------------------------

def test_kershaw_matrix_breaks_ic0():
    assert np.all(np.linalg.eigvalsh(KERSHAW) > 0)  # SPD
    with pytest.raises(ArithmeticError):
        gold.ic0_dense(KERSHAW)
    with pytest.raises(IC0BreakdownError, match="breaks down at row 3"):
        IC0(breakdown="raise").setup(KERSHAW)
    with pytest.raises(IC0BreakdownError, match="row 3"):
        pcg(KERSHAW, np.ones(4), IC0(breakdown="raise"))


def test_shifted_ic0_doubles_the_shift_until_the_pivots_are_positive():
    pc = IC0().setup(KERSHAW)
    s = pc.shift_used
    # 1e-3 doubled: the first shift of that sequence with a dense IC(0) that succeeds
    shifts = [1e-3 * 2**k for k in range(30)]
    ok = [t for t in shifts if _factorises(KERSHAW, t)]
    assert s == ok[0] and pc.attempts == shifts.index(s) + 2  # + the unshifted attempt
    np.testing.assert_allclose(pc.factor().toarray(), gold.ic0_dense(KERSHAW, s), rtol=1e-12)
    b = np.arange(1.0, 5.0)
    res = pcg(KERSHAW, b, IC0())
    assert res.converged and res.info["ic0_shift"] == s and res.info["ic0_attempts"] == pc.attempts
    assert np.linalg.norm(b - KERSHAW @ res.x) <= 1e-8 * np.linalg.norm(b)


def _factorises(A, shift):
    try:
        gold.ic0_dense(A, shift)
    except ArithmeticError:
        return False
    return True


def test_ic0_explicit_shift_and_its_work_charges_every_attempt():
    A = CASES["poisson2d"]
    pc = IC0(shift=0.1).setup(A)
    assert pc.shift_used == 0.1 and pc.attempts == 1
    np.testing.assert_allclose(pc.factor().toarray(), gold.ic0_dense(A, 0.1), rtol=1e-12)
    one = IC0().setup(KERSHAW.copy())
    direct = IC0(shift=one.shift_used).setup(KERSHAW)
    assert direct.attempts == 1 and one.attempts == 10  # nine failed attempts were charged
    assert one.setup_work > 3 * direct.setup_work


def test_indefinite_matrix_gives_up_with_a_clear_error():
    A = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 2.0], [0.0, 2.0, 1.0]]) - 3.5 * np.eye(3)
    with pytest.raises(ValueError, match="negative diagonal"):
        IC0().setup(A)  # caught before factorising
    B = np.array([[1.0, 3.0], [3.0, 1.0]])  # positive diagonal, indefinite
    pc = IC0().setup(B)  # the shift makes any positive-diagonal matrix factorisable
    assert pc.shift_used > 1.0
    res = pcg(B, np.array([1.0, -1.0]), pc)
    assert res.reason == "breakdown" and not res.converged


# -- PCG iterates and counts against the dense references ------------------------------------

@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("pc", ["jacobi", "ic0"])
def test_pcg_iterates_match_dense_pcg(name, pc):
    A = CASES[name]
    b = RNG.standard_normal(A.shape[0])
    x0 = RNG.standard_normal(A.shape[0])
    ref = gold.pcg_iterates(A, b, dense_apply(pc, A), x0=x0, steps=4)
    for k in (1, 2, 4):
        res = pcg(A, b, pc, x0=x0, maxiter=k, **TINY)
        assert res.iterations == k and res.reason == "maxiter"
        np.testing.assert_allclose(res.x, ref[k - 1], rtol=1e-8,
                                   atol=1e-10 * np.abs(ref[k - 1]).max())
        assert res.residual_norm == pytest.approx(np.linalg.norm(b - A @ res.x), rel=1e-9)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("pc", ["jacobi", "ic0"])
def test_pcg_counts_match_dense_pcg_with_the_true_residual_rule(name, pc):
    A = CASES[name]
    b = RNG.standard_normal(A.shape[0])
    count, x = gold.pcg_count(A, b, dense_apply(pc, A))
    res = pcg(A, b, pc)
    assert res.converged and abs(res.iterations - count) <= 1
    assert res.residual_norm <= 1e-8 * np.linalg.norm(b)
    np.testing.assert_allclose(res.x, x, rtol=1e-6, atol=1e-8 * np.abs(x).max())


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("pc", ["jacobi", "ic0", "amg"])
def test_pcg_counts_match_scipy_cg_with_the_same_preconditioner(name, pc):
    """scipy stops on its recursive residual, we on the true one: ±1 iteration."""
    A = CASES[name]
    b = RNG.standard_normal(A.shape[0])
    P = preconditioner(pc).setup(A)
    x_ref, count, info = gold.scipy_cg_count(A, b, M=scipy_operator(P))
    res = pcg(A, b, P)
    assert info == 0 and res.converged and abs(res.iterations - count) <= 1
    np.testing.assert_allclose(res.x, x_ref, rtol=1e-6, atol=1e-7 * np.abs(x_ref).max())


def test_amg_pcg_iterates_match_dense_pcg_with_pyamgs_public_preconditioner():
    pyamg = pytest.importorskip("pyamg")
    A = gallery.laplacian_2d(20)
    b = RNG.standard_normal(400)
    np.random.seed(AMG.SEED)  # pyamg's spectral radius estimates start from a random vector
    ml = pyamg.smoothed_aggregation_solver(
        A, presmoother=("gauss_seidel", {"sweep": "symmetric", "iterations": 1}),
        postsmoother=("gauss_seidel", {"sweep": "symmetric", "iterations": 1}))
    M = ml.aspreconditioner(cycle="V")
    state = np.random.get_state()
    pc = AMG().setup(A)
    assert all(np.array_equal(a, b) for a, b in zip(state[1:3], np.random.get_state()[1:3]))
    r = RNG.standard_normal(400)
    np.testing.assert_allclose(pc.apply(r), M @ r, rtol=1e-12, atol=1e-14)  # same cycle
    ref = gold.pcg_iterates(A, b, lambda v: M @ v, steps=3)
    for k in (1, 3):
        res = pcg(A, b, pc, maxiter=k, **TINY)
        np.testing.assert_allclose(res.x, ref[k - 1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("settings_", [dict(cycle="W"), dict(smoother="jacobi"),
                                       dict(smoother="chebyshev", sweeps=2),
                                       dict(strength="evolution", smooth="energy"),
                                       dict(strength="classical", theta=0.25, smooth="none"),
                                       dict(max_coarse=200)])
def test_amg_variants_are_spd_preconditioners(settings_):
    A = CASES["diffusion3d"]
    pc = AMG(**settings_).setup(A)
    Md = np.column_stack([pc.apply(e) for e in np.eye(A.shape[0])])
    np.testing.assert_allclose(Md, Md.T, atol=1e-9 * np.abs(Md).max())  # symmetric
    assert np.linalg.eigvalsh((Md + Md.T) / 2).min() > 0  # positive definite
    b = RNG.standard_normal(A.shape[0])
    res = pcg(A, b, pc)
    assert res.converged and res.iterations < cg(A, b).iterations


def test_amg_single_level_is_an_exact_solve():
    A = CASES["poisson2d"]  # n = 81 <= max_coarse: the coarse pseudo-inverse is M⁻¹ = A⁻¹
    res = pcg(A, RNG.standard_normal(81), AMG(max_coarse=100))
    assert res.info["amg_levels"] == 1 and res.iterations == 1


def test_amg_set_up_includes_the_coarse_pseudo_inverse():
    # pyamg computes it at the first cycle: the set-up's seconds had left it out (0.3 ms of
    # set-up for a 1.2 s solve at n = 900 with max_levels=1), and the first solve paid it
    A = gallery.laplacian_2d(12)
    for settings_ in ({"max_levels": 1}, {}):
        pc = AMG(**settings_).setup(A)
        assert hasattr(pc._ml.coarse_solver, "P")  # pyamg's cached pseudo-inverse
        n_c = pc._ml.levels[-1].A.shape[0]
        np.testing.assert_allclose(pc._ml.coarse_solver.P,
                                   np.linalg.inv(pc._ml.levels[-1].A.toarray()), atol=1e-12)
    assert n_c < 144 and pc._ml.coarse_solver.P.shape == (n_c, n_c)


def test_amg_refuses_sweeps_no_cycle_could_finish():
    # sweeps=10**20 was accepted and the first cycle then smoothed for ever; refused by name
    # (directly and as a Tuner's configuration arm) before anything runs
    import bandit
    with pytest.raises(ValueError, match=r"sweeps must be at most 100 .*got 100000000000000000000"):
        AMG(sweeps=10**20)
    with pytest.raises(ValueError, match=r"sweeps must be at most 100"):
        bandit.Tuner(bandit.FixedArm([{"method": "cg", "pc": "amg", "sweeps": 101}]), cost="work")
    A, b = gallery.laplacian_2d(12), np.ones(144)
    res = pcg(A, b, AMG(sweeps=AMG.MAX_SWEEPS), rtol=1e-8)  # the bound itself still solves
    assert res.converged
    assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)


def test_amg_refuses_a_coarsest_level_too_large_for_a_dense_solve(monkeypatch):
    # max_levels=1 (or a max_coarse beyond n) makes the whole matrix the coarsest level,
    # whose dense pseudo-inverse at n = 10⁵ needs 80 GB: refused by name before it is tried
    monkeypatch.setattr(AMG, "MAX_COARSEST", 100)
    A, b = gallery.laplacian_2d(12), np.ones(144)
    pc = AMG(max_levels=1, reuse=3)
    with pytest.raises(ValueError, match=r"coarsest level has 144 unknowns \(max_levels=1, "
                                         r"max_coarse=10\).*more than the 100 unknowns"):
        pcg(A, b, pc)
    assert not pc.built
    with pytest.raises(ValueError, match=r"144 unknowns \(max_levels=10, max_coarse=200\)"):
        pcg(A, b, AMG(max_coarse=200))
    small = gallery.laplacian_2d(9)  # 81 unknowns: one level, an exact solve
    res = pcg(small, np.ones(81), pc)
    assert res.iterations == 1 and res.info["amg_levels"] == 1
    np.testing.assert_allclose(res.x, spla.spsolve(sp.csc_array(small), np.ones(81)),
                               rtol=1e-10)
    with pytest.raises(ValueError, match="coarsest level has 144"):
        pcg(A, b, pc)  # another pattern: a new set-up, refused; the old one stays
    assert pc.built and pc._op.n == 81 and pcg(small * 1.01, np.ones(81), pc).info["reused"]


def test_ssor_and_none_are_the_existing_solvers():
    A = CASES["heat_cn"]
    b = RNG.standard_normal(A.shape[0])
    for order in ("paper", "textbook"):
        a, ref = pcg(A, b, SSOR(1.4, order)), ssor_pcg(A, b, 1.4, order=order)
        assert a.iterations == ref.iterations and a.omega == 1.4 and a.solver == "pcg"
        np.testing.assert_array_equal(a.x, ref.x)
    a, ref = pcg(A, b, "none"), cg(A, b)
    assert a.iterations == ref.iterations and a.omega is None
    np.testing.assert_array_equal(a.x, ref.x)


@pytest.mark.parametrize("order", ["paper", "textbook"])
def test_ssor_apply_matches_the_dense_operator(order):
    A = CASES["random_spd"]
    r = RNG.standard_normal(60)
    z = SSOR(1.3, order).setup(A).apply(r)
    np.testing.assert_allclose(z, gold.ssor_apply(A, r, 1.3, order), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 25), st.floats(0.05, 0.6), st.integers(0, 2**31 - 1),
       st.sampled_from(["jacobi", "ic0"]))
def test_pcg_property_vs_dense_solve(n, density, seed, pc):
    A = gallery.random_spd(n, density, seed=seed)
    b = np.random.default_rng(seed).standard_normal(n)
    res = pcg(A, b, pc, rtol=1e-10)
    assert res.converged and res.iterations <= n + 5
    assert res.residual_norm <= 1e-10 * np.linalg.norm(b)
    np.testing.assert_allclose(res.x, np.linalg.solve(A.toarray(), b), rtol=1e-6, atol=1e-8)


# -- stopping rule, divergence, warm starts ----------------------------------------------------

@pytest.mark.parametrize("pc", ["jacobi", "ic0", "amg"])
def test_stops_at_the_first_iterate_meeting_the_true_residual_rule(pc):
    A = CASES["anisotropic"]
    b = RNG.standard_normal(A.shape[0])
    x0 = RNG.standard_normal(A.shape[0])
    res = pcg(A, b, pc, x0=x0, rtol=1e-6)
    assert res.converged
    tol = 1e-6 * np.linalg.norm(b)
    prev = pcg(A, b, pc, x0=x0, maxiter=res.iterations - 1, **TINY)
    assert np.linalg.norm(b - A @ prev.x) > tol >= np.linalg.norm(b - A @ res.x)


def _first_growth(A, b, apply, dtol, maxiter=200):
    """Dense PCG: first iteration whose residual norm exceeds ``dtol·‖r_0‖``."""
    Ad = A.toarray()
    x = np.zeros_like(b)
    r = b.copy()
    z = apply(r)
    p = z.copy()
    r0 = np.linalg.norm(b)
    for k in range(1, maxiter + 1):
        q = Ad @ p
        alpha = (r @ z) / (p @ q)
        x += alpha * p
        r_new = r - alpha * q
        if np.linalg.norm(r_new) > dtol * r0:
            return k
        z_new = apply(r_new)
        p = z_new + (r_new @ z_new) / (r @ z) * p
        r, z = r_new, z_new
    raise AssertionError("no growth")


def _residual_growth(A, b, apply, steps=60):
    """Dense PCG from 0: ``‖r_k‖/‖r_0‖`` for k = 1, 2, … until converged."""
    Ad = A.toarray()
    x, r = np.zeros_like(b), b.copy()
    z = apply(r)
    p = z.copy()
    out = []
    for _ in range(steps):
        q = Ad @ p
        alpha = (r @ z) / (p @ q)
        x += alpha * p
        r_new = r - alpha * q
        out.append(np.linalg.norm(r_new) / np.linalg.norm(b))
        if out[-1] < 1e-9:
            break
        z_new = apply(r_new)
        p = z_new + (r_new @ z_new) / (r @ z) * p
        r, z = r_new, z_new
    return np.array(out)


@pytest.mark.parametrize("pc", ["jacobi", "ic0"])
def test_dtol_stops_at_the_first_residual_beyond_it(pc):
    """CG's residual norm is not monotone: on the Laplacian with b = 1 it first rises."""
    A = gallery.laplacian_2d(12)
    b = np.ones(144)
    growth = _residual_growth(A, b, dense_apply(pc, A))
    assert growth.max() > 1.0
    dtol = (1.0 + growth.max()) / 2
    first = int(np.argmax(growth > dtol)) + 1
    res = pcg(A, b, pc, dtol=dtol)
    assert res.reason == "diverged" and not res.converged and res.iterations == first
    # the best iterate is returned: the start (x0 = 0) or one whose residual is below it
    assert res.info["best_iteration"] < first and np.isfinite(res.x).all()
    best = np.r_[1.0, growth[:first]].min() * np.linalg.norm(b)
    assert res.residual_norm == pytest.approx(best, rel=1e-8)
    assert res.residual_norm == pytest.approx(np.linalg.norm(b - A @ res.x), rel=1e-8)
    assert pcg(A, b, pc, dtol=growth.max() * 1.001).converged


@pytest.mark.parametrize("pc", ["jacobi", "ic0", "amg"])
def test_warm_start_from_a_near_solution_takes_fewer_steps_and_no_setup(pc):
    A = CASES["poisson2d"]
    b = RNG.standard_normal(81)
    first = pcg(A, b, pc, rtol=1e-6)
    again = pcg(A, b, pc, x0=first.x, rtol=1e-6)
    assert again.iterations == 0 and not again.info["setup"] and again.info["setup_seconds"] == 0
    tighter = pcg(A, b, pc, x0=first.x, rtol=1e-10)
    assert 0 < tighter.iterations < pcg(A, b, pc, rtol=1e-10).iterations


# -- set-up and reuse --------------------------------------------------------------------------

def _sequence(T=7, m=5):
    seq = DiffusionMC3D(m=m, samples=T, seed=11)
    return [seq.matrix(t) for t in range(T)], seq.b


@pytest.mark.parametrize("name", ["jacobi", "ic0", "amg"])
@pytest.mark.parametrize("reuse", [0, 2, 10])
def test_reuse_schedule_and_every_solve_converges_on_its_own_matrix(name, reuse):
    mats, b = _sequence()
    pc = preconditioner(name, reuse=reuse)
    built = []
    for t, A in enumerate(mats):
        res = pcg(A, b, pc, rtol=1e-9)
        assert res.converged
        assert np.linalg.norm(b - A @ res.x) <= 1e-9 * np.linalg.norm(b)  # the NEW matrix
        built.append(res.info["setup"])
        assert res.info["reused"] == (not res.info["setup"])
        assert (res.info["setup_seconds"] > 0) == res.info["setup"]
        assert (res.info["setup_work"] > 0) == res.info["setup"]
    assert built == [t % (reuse + 1) == 0 for t in range(len(mats))]
    assert pc.setups == sum(built)


@pytest.mark.parametrize("name", ["jacobi", "ic0"])
def test_a_reused_preconditioner_is_the_old_matrix_applied_to_the_new_one(name):
    """Iterates of a reused solve = dense PCG on A_new with M built from A_old."""
    (A_old, A_new, *_), b = _sequence(3)
    pc = preconditioner(name, reuse=1)
    pcg(A_old, b, pc)
    res = pcg(A_new, b, pc, maxiter=3, **TINY)
    assert res.info["reused"]
    ref = gold.pcg_iterates(A_new, b, dense_apply(name, A_old), steps=3)
    np.testing.assert_allclose(res.x, ref[2], rtol=1e-9, atol=1e-12 * np.abs(ref[2]).max())
    fresh = gold.pcg_iterates(A_new, b, dense_apply(name, A_new), steps=3)
    assert np.abs(res.x - fresh[2]).max() > 1e-6 * np.abs(fresh[2]).max()  # really the old M


def test_amg_reuse_applies_the_old_hierarchy():
    (A_old, A_new, *_), b = _sequence(3)
    pc = AMG(reuse=1)
    pcg(A_old, b, pc)
    M_old = AMG().setup(A_old)
    res = pcg(A_new, b, pc, maxiter=3, **TINY)
    ref = gold.pcg_iterates(A_new, b, M_old.apply, steps=3)
    assert res.info["reused"] and pc._ml.levels[0].A is not None
    np.testing.assert_allclose(res.x, ref[2], rtol=1e-9, atol=1e-12 * np.abs(ref[2]).max())


def test_amg_hierarchy_keeps_its_values_when_the_users_matrix_changes_in_place():
    # an operator refreshed with overwrite=True (a Tuner's working copy) shares the user's
    # A.data; the hierarchy's finest level shared it too, so a user re-assembling A in place
    # changed a kept hierarchy's finest matrix instead of applying it unchanged (here the
    # reused solve took 2 iterations, where the old matrix's hierarchy takes 42)
    (A_old, A_new, *_), b = _sequence(3)
    A_new = sp.csr_array(A_new)
    A_new.setdiag(10.0 * A_new.diagonal())
    A = sp.csr_array(A_old, copy=True)
    op = prepare(A, overwrite=True)
    op = prepare(A, like=op, overwrite=True)  # aliases A.data from here on
    pc = AMG(reuse=1)
    assert pcg(op, b, pc).info["setup"]
    A.data[:] = A_new.data  # the user re-assembles in place
    op = prepare(A, like=op, overwrite=True)
    res = pcg(op, b, pc, maxiter=3, **TINY)
    assert res.info["reused"]
    M_old = AMG().setup(A_old)
    np.testing.assert_array_equal(pc._ml.levels[0].A.toarray(), A_old.toarray())
    ref = gold.pcg_iterates(A_new, b, M_old.apply, steps=3)
    np.testing.assert_allclose(res.x, ref[2], rtol=1e-9, atol=1e-12 * np.abs(ref[2]).max())
    full = pcg(op, b, pc)
    assert full.converged and np.linalg.norm(b - A_new @ full.x) <= 1e-8 * np.linalg.norm(b)


def test_same_operator_or_same_values_is_not_a_reuse():
    A, b = CASES["heat_cn"], np.ones(81)
    op = prepare(A)
    pc = IC0()  # reuse=0
    r1, r2 = pcg(op, b, pc), pcg(op, b, pc)
    assert r1.info["setup"] and not r2.info["setup"] and not r2.info["reused"]
    r3 = pcg(A.copy(), b, pc)  # prepared again, same values
    assert not r3.info["setup"] and pc.setups == 1
    pc2 = IC0().setup(A)
    assert not pcg(A, b, pc2).info["setup"]  # set up by hand, then solved with the same A


@pytest.mark.parametrize("name", ["jacobi", "ic0", "amg"])
def test_the_same_matrix_again_is_no_reuse_also_with_reuse_or_refreshed_in_place(name):
    # with reuse > 0 the same matrix passed again had been counted as a reuse (using up the
    # budget, so the next, changed matrix set up afresh), and an operator refreshed in place
    # with equal values (a Tuner's working copy) had been set up again on every solve
    A, b = CASES["heat_cn"], RNG.standard_normal(81)
    pc = preconditioner(name, reuse=2)
    infos = [pcg(M, b, pc).info for M in (A, A.copy(), A.copy(), A.copy(), A * 1.01)]
    assert [(i["setup"], i["reused"]) for i in infos] == [(True, False)] + [(False, False)] * 3 \
        + [(False, True)]
    assert pc.setups == 1 and infos[-1]["pc_age"] == 1
    op = prepare(A, overwrite=True)
    pc = preconditioner(name)  # reuse=0
    first = pcg(op, b, pc)
    for _ in range(3):
        op = prepare(A.copy(), like=op, overwrite=True)  # the same values, refreshed in place
        res = pcg(op, b, pc)
        assert not res.info["setup"] and not res.info["reused"]
        np.testing.assert_array_equal(res.x, first.x)
    assert pc.setups == 1
    ref = spla.spsolve(sp.csc_array(A), b)
    assert np.linalg.norm(A @ res.x - b) <= 1e-8 * np.linalg.norm(b)
    np.testing.assert_allclose(res.x, ref, rtol=1e-6, atol=1e-8 * np.abs(ref).max())
    op = prepare(A * 1.01, like=op, overwrite=True)  # other values: set up afresh
    assert pcg(op, b, pc).info["setup"] and pc.setups == 2


def test_a_new_pattern_or_size_always_sets_up():
    A = CASES["heat_cn"]
    pc = IC0(reuse=100)
    pcg(A, np.ones(81), pc)
    wider = 0.01 * np.ones(79)
    other = sp.csr_array(A + sp.diags_array([wider, wider], offsets=[-2, 2]))
    assert prepare(other).nnz != prepare(A).nnz
    assert pcg(other, np.ones(81), pc).info["setup"]
    assert pcg(gallery.crank_nicolson_2d(9, 0.01), np.ones(64), pc).info["setup"]
    assert pc.setups == 3


def test_a_failed_reused_solve_rebuilds_next_time():
    (A_old, A_new, A3, *_), b = _sequence(4)
    pc = IC0(reuse=5)
    pcg(A_old, b, pc)
    res = pcg(A_new, b, pc, maxiter=2)
    assert res.info["reused"] and not res.converged
    assert pcg(A3, b, pc).info["setup"]


def test_invalidate_forces_the_next_setup():
    (A0, A1, A2, *_), b = _sequence(3)
    pc = IC0(reuse=10)
    pcg(A0, b, pc)
    assert pcg(A1, b, pc).info["reused"]
    pc.invalidate()
    assert pcg(A2, b, pc).info["setup"] and pc.setups == 2
    assert pcg(A2, b, pc).info["setup"] is False  # the same matrix again: current


def test_with_values_operators_share_the_pattern_work():
    mats, b = _sequence(3)
    op = prepare(mats[0])
    pc = IC0(reuse=0)
    pcg(op, b, pc)
    pattern = pc._pattern
    op2 = op.with_values(mats[1])
    res = pcg(op2, b, pc)
    assert res.info["setup"] and pc._pattern is pattern  # refactorised on the cached pattern
    np.testing.assert_allclose(pc.factor().toarray(), gold.ic0_dense(mats[1]), rtol=1e-12)


# -- work model ------------------------------------------------------------------------------

def test_work_model_on_the_5_point_laplacian():
    m = 60
    A = gallery.laplacian_2d(m)
    n, N = m * m, A.nnz
    NL = (N - n) / 2
    assert work_model("cg", A).per_iteration == pytest.approx((N + 5 * n) / N)
    assert work_model("pcg", A, "jacobi").per_iteration == pytest.approx((N + 7 * n) / N)
    assert work_model("pcg", A, "ic0").per_iteration == pytest.approx((2 * N + 7 * n) / N)
    assert work_model("pcg", A, "ic0").per_iteration == pytest.approx(
        (N + 6 * n + 2 * (NL + n)) / N)
    assert work_model("pcg", A, {"pc": "ssor", "omega": 1.5}) == work_model("ssor_pcg", A)
    assert work_model("ssor_pcg", A).per_iteration == pytest.approx((3 * NL + 14 * n) / N)
    assert work_model("sor", A).per_iteration == pytest.approx((N + NL + 5 * n) / N)
    with pytest.raises(ValueError, match="method"):
        work_model("gmres", A)


def test_ic0_setup_work_counts_the_factorisation():
    """5-point stencil: each row has two lower neighbours whose rows hold ≤ 2 entries, so the
    factorisation visits ≤ 2·(2 + 1) + 1 entries a row, plus the scaling pass."""
    m = 30
    A = gallery.laplacian_2d(m)
    pc = IC0().setup(A)
    N, n = A.nnz, m * m
    NL = (N - n) / 2
    assert 0 < pc.setup_work <= (7 * n + 2 * (NL + n)) / N
    assert pc.apply_work == pytest.approx(2 * (NL + n) / N)


def test_amg_apply_work_from_the_hierarchy():
    A = gallery.laplacian_2d(40)
    pc = AMG().setup(A)
    lv = pc._ml.levels
    expect = sum(5 * l.A.nnz + l.P.nnz + l.R.nnz + 2 * l.A.shape[0] for l in lv[:-1])
    expect += lv[-1].A.shape[0] ** 2
    assert pc.apply_work == pytest.approx(expect / A.nnz)
    w = AMG(cycle="W").setup(A)
    assert w.apply_work > pc.apply_work
    assert pc.setup_work > 2 * 15 + 5 + 8  # the finest level's Arnoldi runs and passes alone
    plain = AMG(smooth="none").setup(A)  # no spectral radius for the prolongation
    assert plain.setup_work < pc.setup_work < AMG(smoother="jacobi").setup(A).setup_work


def test_info_work_is_setup_plus_fixed_plus_iterations():
    A, b = CASES["diffusion3d"], np.ones(125)
    for name in ("jacobi", "ic0", "amg"):
        pc = preconditioner(name, reuse=1)
        res = pcg(A, b, pc)
        model = work_model("pcg", A, pc)
        assert res.info["work"] == pytest.approx(model.setup + model.fixed +
                                                 res.iterations * model.per_iteration)
        assert res.info["iteration_work"] == pytest.approx(model.per_iteration)
        again = pcg(A * 1.01, b, pc)
        assert again.info["reused"]
        assert again.info["work"] == pytest.approx(model.fixed +
                                                   again.iterations * model.per_iteration)


# -- settings, labels, errors ------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["none", "jacobi", "ic0", "amg", {"pc": "ssor", "omega": 1.3},
                                  {"pc": "ic0", "shift": 0.01, "reuse": 3},
                                  {"pc": "amg", "cycle": "W", "strength": "evolution",
                                   "reuse": 20}])
def test_params_round_trip(spec):
    pc = preconditioner(spec)
    again = preconditioner(pc.params())
    assert again.params() == pc.params() and again.label == pc.label and not again.built
    assert pc.fresh().params() == pc.params()
    assert set(PRECONDITIONERS) >= {pc.name}


def test_labels():
    assert preconditioner("jacobi").label == "jacobi"
    assert preconditioner("ic0", reuse=20).label == "ic0 reuse=20"
    assert SSOR(1.4).label == "ssor ω=1.40"
    assert SSOR(1.4, "textbook").label == "ssor ω=1.40(textbook)"
    assert AMG(cycle="W", reuse=5).label == "amg(cycle=W) reuse=5"
    assert IC0(shift=0.5).label == "ic0(shift=0.5)"


GRID = np.linspace(1.0, 1.95, 20)  # the paper's grid: GRID[11] is 1.5499999999999998


@pytest.mark.parametrize("omega, shown", [
    (1.4, "1.40"), (1.95, "1.95"), (1.0, "1.00"), (0.5, "0.50"), (GRID[11], "1.55"),
    (np.float32(1.25), "1.25"),
    (1e-3, "0.001"), (1e-4, "0.0001"), (1.405, "1.405"), (1.9999, "1.9999"),
    (0.123456789012345, "0.123456789012"),
])
def test_ssor_label_shows_omega_to_two_decimals_when_they_say_it_all(omega, shown):
    # ".2f" made SSOR(1e-3) and SSOR(1e-4) both "ssor ω=0.00"
    assert SSOR(omega).label == f"ssor ω={shown}"
    assert SSOR(omega, "textbook").label == f"ssor ω={shown}(textbook)"


def test_distinct_ssor_omegas_have_distinct_labels():
    omegas = [1e-4, 1e-3, 0.01, 1.401, 1.4001, 1.9999, 1.99999, *GRID]  # GRID holds 1.4
    labels = [SSOR(w).label for w in omegas]
    assert len(set(labels)) == len(omegas)
    assert [float(lab.split("=")[1]) for lab in labels] == pytest.approx(omegas, rel=1e-12)


@pytest.mark.parametrize("spec, kw, match", [
    ("ilu", {}, "unknown preconditioner"),
    ("ic0", {"reuse": -1}, "reuse"),
    ("ic0", {"reuse": 1.5}, "reuse"),
    ("jacobi", {"omega": 1.2}, "bad settings"),
    ("ssor", {}, "needs its relaxation parameter omega"),
    ("ssor", {"omega": 2.0}, "omega"),
    ("ssor", {"omega": 1.2, "order": "sideways"}, "order"),
    ("ssor", {"omega": 1.2, "reuse": 3}, "reuse must be 0"),
    ("none", {"reuse": 1}, "reuse must be 0"),
    ("ic0", {"shift": -0.1}, "shift"),
    ("ic0", {"breakdown": "ignore"}, "breakdown"),
    ("amg", {"cycle": "F"}, "cycle"),
    ("amg", {"smoother": "gauss_seidel_forward"}, "symmetric"),
    ("amg", {"strength": "magic"}, "strength"),
    ("amg", {"strength": "evolution", "theta": 0.2}, "theta"),
    ("amg", {"max_coarse": 0}, "max_coarse"),
    ("amg", {"smooth": "cubic"}, "smooth"),
    ({"omega": 1.2}, {}, "'pc' name"),
])
def test_bad_settings_are_clear_errors(spec, kw, match):
    with pytest.raises(ValueError, match=match):
        preconditioner(spec, **kw)


def test_other_bad_uses():
    with pytest.raises(TypeError, match="pc must be"):
        preconditioner(3.0)
    with pytest.raises(ValueError, match="cannot be combined"):
        preconditioner(IC0(), reuse=2)
    with pytest.raises(RuntimeError, match="setup"):
        IC0().apply(np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        Jacobi().setup(CASES["poisson2d"]).apply(np.ones(80))
    with pytest.raises(ValueError, match="Numba backend only"):
        pcg(CASES["poisson2d"], np.ones(81), "ic0", backend="petsc")
    with pytest.raises(ValueError, match="only accepted with backend='petsc'"):
        pcg(CASES["poisson2d"], np.ones(81), "ic0", options={"pc_type": "icc"})


def test_custom_preconditioner_runs_in_the_generic_loop():
    """A user subclass only builds and applies; pcg runs it and counts like scipy."""
    class Diagonal2(NoPreconditioner):
        name, has_setup = "diag2", True

        def _build(self, op):
            self.d = op.diagonal.copy()
            return 0.0

        def apply(self, r, out=None):
            return np.asarray(r) / (2.0 * self.d)

    class Bare(Preconditioner):  # states no cost: its work is unknown, not an error
        name = "bare"

        def _build(self, op):
            self.d = op.diagonal.copy()
            return 0.0

        def apply(self, r, out=None):
            return np.asarray(r) / self.d

    A, b = CASES["random_spd"], np.ones(60)
    res = pcg(A, b, Diagonal2())
    assert res.converged and res.info["pc"] == "diag2"
    assert res.iterations == pcg(A, b, "jacobi").iterations  # a scaled M: same iterates
    bare = Bare(reuse=2)
    res = pcg(A, b, bare)
    assert res.converged and np.isnan(res.info["work"]) and res.info["setup"]
    assert bare.fresh().reuse == 2 and not bare.fresh().built


# -- the benchmark stays runnable ------------------------------------------------------------

def test_bench_pcg_smoke(tmp_path, capsys):
    import json

    from experiments import bench_pcg
    from experiments.cli import main

    out = tmp_path / "pcg.json"
    bench_pcg.main(["--sizes", "400", "--problems", "lap2d", "diff3d", "--repeats", "1",
                    "--target", "0.002", "--json", str(out)])
    text = capsys.readouterr().out
    assert "CPU:" in text and "lap2d m=20" in text and "diff3d m=7" in text
    assert "# machine: " in text and "# libraries: python " in text
    data = json.loads(out.read_text())["results"]
    r = data["lap2d m=20"]
    assert set(r["methods"]) == set(bench_pcg.METHODS) and set(r["setup"]) == {"jacobi", "ic0",
                                                                             "amg"}
    assert r["methods"]["ic0"]["iterations"] == pcg(gallery.laplacian_2d(20), np.ones(400),
                                                     "ic0").iterations
    assert r["methods"]["cg"]["work"] == pytest.approx(work_model("cg", gallery.laplacian_2d(20))
                                                      .per_iteration)
    fake = {"p": {"methods": {"cg": {"ratio": 0.8}, "ic0": {"ratio": 2.0}}}}
    assert bench_pcg.sanity(fake) == ["p cg: 0.80 × SpMV per iteration (< 1)"]
    assert "pcg" in __import__("experiments.cli", fromlist=["BENCHES"]).BENCHES
    assert callable(main)


@pytest.mark.parametrize("max_coarse, side", [(10, 3), (26, 3), (27, 4), (30, 4), (200, 6)])
def test_amg_clock_floor_times_a_hierarchy_of_two_levels(max_coarse, side):
    # pyamg's fixed cost per set-up is timed on the smallest cube with more unknowns than
    # max_coarse (else its set-up would be one level and the floor would collapse), and is
    # left out for a matrix with fewer entries than that cube
    import pyamg

    from solvers.amg import _AMG_FIXED_CLOCK, _poisson_cube

    amg = AMG(max_coarse=max_coarse)
    big = prepare(gallery.laplacian_2d(40))
    assert amg.setup_clock_floor(big, 100.0) > 0
    key = (amg.strength, amg.theta, amg.smooth, amg.smoother, amg.sweeps, amg.max_coarse,
           amg.max_levels)
    setup, product, nnz = _AMG_FIXED_CLOCK[key]
    cube = _poisson_cube(side)
    assert nnz == cube.nnz and cube.shape[0] > max_coarse >= (side - 1) ** 3 or side == 3
    assert len(pyamg.smoothed_aggregation_solver(cube, max_coarse=max_coarse).levels) >= 2
    assert setup > 0 and product > 0
    small = prepare(gallery.laplacian_2d(int(np.sqrt(max_coarse)) + 1))
    if small.n > max_coarse and small.nnz < nnz:  # the fixed part is left out
        assert amg.setup_clock_floor(small, 0.0) == 0.0
