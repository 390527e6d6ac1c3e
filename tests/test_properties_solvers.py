"""Property tests of the solvers' contract (docs/solvers.md, docs/preconditioners.md).

Small random systems (n <= 40) drawn by Hypothesis: sparse SPD matrices with varied
conditioning and diagonal scalings over many orders of magnitude, stored zeros, unsorted and
duplicated entries in non-canonical CSR, non-symmetric diagonally dominant matrices for SOR.
Every invariant is checked against an independent reference: the residual recomputed with
numpy, dense SOR sweeps and a dense textbook PCG written from the documented formulas
(``tests/dense_gold.py``), a fresh ``prepare``.  Derandomized, so CI cannot flake.
"""
import os

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings, strategies as st

import solvers
from solvers import cg, pcg, prepare, sor, ssor_pcg

import dense_gold as gold

# RELAXTUNE_PROPERTY_EXAMPLES=N hunts with N random (not derandomized) examples per test
_HUNT = int(os.environ.get("RELAXTUNE_PROPERTY_EXAMPLES", "0"))
FAST = settings(max_examples=_HUNT or 60, deadline=None, derandomize=not _HUNT,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

REASONS = {"converged", "maxiter", "breakdown", "diverged"}


# -- strategies ---------------------------------------------------------------------------------

def _messy_csr(A, rng, *, zeros, shuffle, duplicate):
    """``A`` (dense) as a scipy CSR whose arrays are not canonical: columns shuffled within each
    row, some entries split into two duplicates, some stored zeros (symmetric positions)."""
    n = A.shape[0]
    stored = A != 0
    if zeros:
        Z = rng.random((n, n)) < 0.15
        stored |= Z | Z.T
    indptr, indices, data = [0], [], []
    for i in range(n):
        cols = np.flatnonzero(stored[i])
        vals = A[i, cols]
        if duplicate:
            split = rng.random(cols.size) < 0.3
            frac = rng.uniform(0.1, 0.9, cols.size)
            extra_c, extra_v = cols[split], vals[split] * (1 - frac[split])
            vals = np.where(split, vals * frac, vals)
            cols, vals = np.concatenate([cols, extra_c]), np.concatenate([vals, extra_v])
        if shuffle:
            p = rng.permutation(cols.size)
            cols, vals = cols[p], vals[p]
        indices.extend(cols.tolist())
        data.extend(vals.tolist())
        indptr.append(len(indices))
    return sp.csr_array((np.array(data, float), np.array(indices, np.int32),
                         np.array(indptr, np.int32)), shape=(n, n))


@st.composite
def spd_systems(draw, *, max_scale=8.0, min_shift=-6.0, messy=True):
    """``(A, b, x0, seed)``: A SPD (symmetric, positive diagonal, diagonally dominant up to a
    shift 10^[min_shift, 1]), then scaled ``S A S`` by ``s_i = 10^U(-max_scale/2, max_scale/2)``."""
    n = draw(st.integers(1, 40))
    density = draw(st.floats(0.0, 0.5))
    seed = draw(st.integers(0, 2**32 - 1))
    shift = 10.0 ** draw(st.floats(min_shift, 1.0))
    scale = draw(st.floats(0.0, max_scale))
    rng = np.random.default_rng(seed)
    R = np.triu(rng.uniform(-1, 1, (n, n)) * (rng.random((n, n)) < density), 1)
    A = R + R.T
    A += np.diag(np.abs(A).sum(axis=1) + shift)
    s = 10.0 ** rng.uniform(-scale / 2, scale / 2, n)
    A = s[:, None] * A * s[None, :]
    M = _messy_csr(A, rng, zeros=draw(st.booleans()), shuffle=messy and draw(st.booleans()),
                   duplicate=messy and draw(st.booleans())) if messy else sp.csr_array(A)
    b = rng.standard_normal(n) * 10.0 ** draw(st.floats(-3, 3))
    x0 = None if draw(st.booleans()) else rng.standard_normal(n) * np.abs(b).max() / np.diag(A)
    return M, b, x0, A


@st.composite
def dd_systems(draw):
    """Non-symmetric, strictly diagonally dominant (SOR converges for ω in (0, 1], and is
    well defined for any ω), in messy CSR."""
    n = draw(st.integers(1, 40))
    density = draw(st.floats(0.0, 0.5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    A = rng.uniform(-1, 1, (n, n)) * (rng.random((n, n)) < density)
    np.fill_diagonal(A, 0.0)
    d = np.abs(A).sum(axis=1) * (1 + rng.random(n)) + 0.1
    A += np.diag(d * rng.choice([-1.0, 1.0], n))
    s = 10.0 ** rng.uniform(-2, 2, n)
    A = s[:, None] * A           # row scaling keeps diagonal dominance
    M = _messy_csr(A, rng, zeros=draw(st.booleans()), shuffle=draw(st.booleans()),
                   duplicate=draw(st.booleans()))
    b = rng.standard_normal(n)
    x0 = None if draw(st.booleans()) else rng.standard_normal(n)
    return M, b, x0, A


omegas = st.floats(0.05, 1.95)
tolerances = st.tuples(st.sampled_from([0.0, 1e-12, 1e-8, 1e-4, 1e-1]),
                       st.sampled_from([0.0, 1e-10, 1e-3])).filter(lambda t: t != (0.0, 0.0))
maxiters = st.sampled_from([0, 1, 2, 3, 7, 40, 10_000])

SOLVES = {
    "sor": lambda A, b, w, **kw: sor(A, b, w, **kw),
    "ssor_pcg": lambda A, b, w, **kw: ssor_pcg(A, b, w, **kw),
    "ssor_pcg_textbook": lambda A, b, w, **kw: ssor_pcg(A, b, w, order="textbook", **kw),
    "cg": lambda A, b, w, **kw: cg(A, b, **kw),
    "pcg_jacobi": lambda A, b, w, **kw: pcg(A, b, "jacobi", **kw),
    "pcg_ic0": lambda A, b, w, **kw: pcg(A, b, "ic0", **kw),
    "pcg_ssor": lambda A, b, w, **kw: pcg(A, b, {"pc": "ssor", "omega": w}, **kw),
    "pcg_amg": lambda A, b, w, **kw: pcg(A, b, "amg", **kw),
}


def _snapshot(A, b, x0):
    return [a.copy() for a in (A.data, A.indices, A.indptr, b)] + [None if x0 is None else x0.copy()]


def _assert_untouched(snap, A, b, x0):
    for before, after in zip(snap, (A.data, A.indices, A.indptr, b, x0)):
        if before is None:
            assert after is None
        else:
            assert after.dtype == before.dtype and np.array_equal(after, before), "input modified"


def _norm(v):
    """2-norm without overflow or underflow of the squares (numpy's norm squares in place)."""
    m = np.abs(v).max() if v.size else 0.0
    return 0.0 if m == 0 else m * np.linalg.norm(v / m)


def _check_contract(res, A_dense, b, rtol, atol, maxiter):
    assert np.all(np.isfinite(res.x)), res
    assert 0 <= res.iterations <= maxiter
    tol = max(rtol * _norm(b), atol)
    true = _norm(b - A_dense @ res.x)
    # the residual of a floating-point x is itself known only to the rounding of b − A x
    # (docs/solvers.md, stopping rule): a few units of eps·(‖b‖ + ‖|A| |x|‖)
    slack = 8 * np.finfo(float).eps * (_norm(b) + _norm(np.abs(A_dense) @ np.abs(res.x)))
    assert res.reason in REASONS
    if res.converged:
        assert res.reason == "converged"
        assert true <= tol + slack, (true, tol, res)
    else:
        assert res.reason != "converged"
        if res.reason == "maxiter":
            assert res.iterations == maxiter
    # the reported residual is the true one of the returned x; SOR's in-sweep residual may
    # differ from b − A x by the rounding of x times (1 − ω)/ω as well (docs/solvers.md)
    if res.solver == "sor":
        omega = res.omega
        slack += 8 * np.finfo(float).eps * abs((1 - omega) / omega) * _norm(np.diag(A_dense) * res.x)
    assert res.residual_norm == pytest.approx(true, rel=1e-9, abs=slack)


# -- stopping rule, reasons, untouched inputs ----------------------------------------------------

@FAST
@given(spd_systems(), st.sampled_from(sorted(SOLVES)), omegas, tolerances, maxiters)
def test_contract_on_random_spd(system, name, omega, tols, maxiter):
    A, b, x0, A_dense = system
    rtol, atol = tols
    atol *= np.linalg.norm(b)
    snap = _snapshot(A, b, x0)
    res = SOLVES[name](A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter)
    _assert_untouched(snap, A, b, x0)
    _check_contract(res, A_dense, b, rtol, atol, maxiter)


@FAST
@given(dd_systems(), omegas, tolerances, maxiters)
def test_contract_sor_non_symmetric(system, omega, tols, maxiter):
    A, b, x0, A_dense = system
    rtol, atol = tols
    snap = _snapshot(A, b, x0)
    res = sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter, dtol=1e4)
    _assert_untouched(snap, A, b, x0)
    _check_contract(res, A_dense, b, rtol, atol, maxiter)
    # diagonally dominant: SOR with ω <= 1 converges, to any tolerance above rounding level
    x_star = np.linalg.solve(A_dense, b)
    attainable = max(rtol * _norm(b), atol) > 100 * np.finfo(float).eps * (
        _norm(b) + _norm(np.abs(A_dense) @ np.abs(x_star)))
    if omega <= 1.0 and maxiter == 10_000 and attainable:
        assert res.converged


# -- SOR iterates against the dense sweep ---------------------------------------------------------

@FAST
@given(dd_systems(), omegas, st.integers(1, 4))
def test_sor_iterates_equal_dense_sweeps(system, omega, k):
    A, b, x0, A_dense = system
    start = np.zeros_like(b) if x0 is None else x0
    res = sor(A, b, omega, x0=x0, maxiter=k, rtol=1e-300, atol=1e-300, dtol=np.inf)
    # a capped solve returns its best iterate (by its exact residual or an upper bound)
    ref = gold.sor_sweeps(A_dense, b, omega, start, res.info.get("best_iteration",
                                                               res.iterations))
    assert res.iterations == k or res.converged
    np.testing.assert_allclose(res.x, ref, rtol=1e-10, atol=1e-12 * (1 + np.abs(ref).max()))


# -- PCG iteration counts against a dense PCG ------------------------------------------------------

def _apply(name, A_dense, omega, res):
    if name in ("ssor_pcg", "ssor_pcg_textbook", "pcg_ssor"):
        order = "textbook" if name.endswith("textbook") else "paper"
        return lambda r: gold.ssor_apply(A_dense, r, omega, order)
    if name == "cg":
        return lambda r: r.copy()
    if name == "pcg_jacobi":
        d = np.diag(A_dense)
        return lambda r: r / d
    L = gold.ic0_dense(A_dense_pattern[0], res.info["ic0_shift"])
    return lambda r: gold.ic0_apply(L, r)


A_dense_pattern = [None]


@FAST
@given(spd_systems(max_scale=0.6, min_shift=0.0), st.sampled_from(sorted(set(SOLVES) - {"sor", "pcg_amg"})),
       st.floats(0.5, 1.9), st.sampled_from([1e-6, 1e-8]))
def test_pcg_counts_equal_dense_pcg(system, name, omega, rtol):
    A, b, x0, A_dense = system
    res = SOLVES[name](A, b, omega, x0=x0, rtol=rtol, maxiter=1000)
    assert res.converged
    A_dense_pattern[0] = A  # IC(0) works on the stored pattern (stored zeros included)
    count, _ = gold.pcg_count(A_dense, b, _apply(name, A_dense, omega, res), x0=x0, rtol=rtol)
    assert abs(res.iterations - count) <= 1, (res.iterations, count)


# -- prepare and refresh ---------------------------------------------------------------------------

def _same(r1, r2):
    assert r1.iterations == r2.iterations and r1.reason == r2.reason
    assert np.array_equal(r1.x, r2.x)
    assert r1.residual_norm == r2.residual_norm


@FAST
@given(spd_systems(), st.sampled_from(sorted(SOLVES)), omegas, maxiters)
def test_prepared_equals_direct(system, name, omega, maxiter):
    A, b, x0, _ = system
    direct = SOLVES[name](A, b, omega, x0=x0, maxiter=maxiter)
    snap = _snapshot(A, b, x0)
    op = prepare(A)
    _assert_untouched(snap, A, b, x0)
    _same(SOLVES[name](op, b, omega, x0=x0, maxiter=maxiter), direct)


@FAST
@given(spd_systems(), st.sampled_from(sorted(SOLVES)), omegas, st.integers(0, 2**32 - 1))
def test_refresh_equals_fresh_prepare(system, name, omega, seed):
    A, b, x0, _ = system
    A = sp.csr_array(A, copy=True)
    A.sum_duplicates()  # a refresh needs the same (canonical) pattern
    rng = np.random.default_rng(seed)
    A2 = A.copy()
    # new values on the same pattern, still SPD: symmetric scaling of A plus a diagonal shift
    s = 10.0 ** rng.uniform(-1, 1, A.shape[0])
    A2 = sp.csr_array(sp.diags_array(s) @ A @ sp.diags_array(s))
    A2.sum_duplicates()
    A2 = sp.csr_array((A2.data.copy(), A.indices.copy(), A.indptr.copy()), shape=A.shape) \
        if A2.nnz == A.nnz and np.array_equal(A2.indices, A.indices) else A2
    op = prepare(A, overwrite=True)
    snap = _snapshot(A2, b, x0)
    op2 = prepare(A2, like=op, overwrite=True)
    fresh = prepare(sp.csr_array(A2, copy=True))
    _same(SOLVES[name](op2, b, omega, x0=x0), SOLVES[name](fresh, b, omega, x0=x0))
    _assert_untouched(snap, A2, b, x0)


# -- invalid input -----------------------------------------------------------------------------------

BAD = {
    "nan_in_A": ("finite|nan|inf", ValueError),
    "inf_in_b": ("finite|nan|inf", ValueError),
    "nan_in_x0": ("finite|nan|inf", ValueError),
    "zero_diag": ("diagonal", ValueError),
    "missing_diag": ("diagonal", ValueError),
    "short_b": ("shape|length", ValueError),
    "long_x0": ("shape|length", ValueError),
    "omega": ("ω|omega", ValueError),
    "rtol": ("rtol", ValueError),
    "atol": ("atol", ValueError),
    "maxiter_neg": ("maxiter", ValueError),
    "maxiter_float": ("maxiter", (ValueError, TypeError)),
    "index_out_of_range": ("index|indices|range", ValueError),
    "decreasing_indptr": ("indptr", ValueError),
    "asymmetric": ("symmetric", ValueError),
    "negative_diag": ("negative|positive", ValueError),
    "non_square": ("square", ValueError),
    "complex_b": ("complex|real|dtype", (ValueError, TypeError)),
}


@FAST
@given(spd_systems(messy=False), st.sampled_from(sorted(SOLVES)), st.sampled_from(sorted(BAD)),
       st.integers(0, 2**32 - 1), omegas)
def test_invalid_input_raises_naming_the_problem(system, name, bad, seed, omega):
    A, b, x0, A_dense = system
    n = A.shape[0]
    rng = np.random.default_rng(seed)
    i = int(rng.integers(n))
    A = sp.csr_array(A, copy=True)
    kw = {"x0": x0}
    if bad == "nan_in_A":
        A.data[rng.integers(A.nnz)] = np.nan
    elif bad == "inf_in_b":
        b = b.copy()
        b[i] = np.inf
    elif bad == "nan_in_x0":
        kw["x0"] = np.zeros(n)
        kw["x0"][i] = np.nan
    elif bad in ("zero_diag", "missing_diag", "negative_diag"):
        D = A.toarray()
        D[i, i] = {"zero_diag": 0.0, "missing_diag": 0.0, "negative_diag": -abs(D[i, i])}[bad]
        A = sp.csr_array(D)
        if bad == "zero_diag":
            A = sp.csr_array(D + 0 * sp.eye_array(n).toarray())
            A.setdiag(D.diagonal())  # an explicitly stored zero
        if bad == "negative_diag" and name in ("sor",):
            return  # SOR works with any non-zero diagonal
        if name == "cg":
            return  # CG needs no diagonal; an indefinite matrix is a breakdown, not an input error
    elif bad == "short_b":
        b = b[:-1]
    elif bad == "long_x0":
        kw["x0"] = np.zeros(n + 1)
    elif bad == "omega":
        if name not in ("sor", "ssor_pcg", "ssor_pcg_textbook", "pcg_ssor"):
            return
        omega = float(rng.choice([0.0, 2.0, -0.5, 2.5, np.nan, np.inf]))
    elif bad == "rtol":
        kw["rtol"] = float(rng.choice([-1e-8, np.nan, np.inf]))
    elif bad == "atol":
        kw["atol"] = float(rng.choice([-1.0, np.nan, np.inf]))
    elif bad == "maxiter_neg":
        kw["maxiter"] = -int(rng.integers(1, 5))
    elif bad == "maxiter_float":
        kw["maxiter"] = 10.5
    elif bad == "index_out_of_range":
        A.indices[rng.integers(A.nnz)] = n + int(rng.integers(0, 3))
    elif bad == "decreasing_indptr":
        if n < 2 or A.nnz < 2:
            return
        A.indptr[1], A.indptr[2 if n >= 2 else 1] = A.indptr[2], A.indptr[1]
        if not np.any(np.diff(A.indptr) < 0):
            return
    elif bad == "asymmetric":
        if name == "sor" or n < 2:
            return
        D = A.toarray()
        D[0, 1] += 1.0 + abs(D[0, 0])
        A = sp.csr_array(D)
    elif bad == "non_square":
        A = sp.csr_array(np.hstack([A.toarray(), np.ones((n, 1))]))
    elif bad == "complex_b":
        b = b + 1j
    fragment, errors = BAD[bad]
    with pytest.raises(errors, match=f"(?i){fragment}"):
        SOLVES[name](A, b, omega, **kw)


# -- extremes: scaling of b over the double range, ω at the ends, n = 1, b = 0 ----------------------

@FAST
@given(spd_systems(), st.sampled_from(sorted(SOLVES)),
       st.sampled_from([1e-300, 1e-8, 0.5, 1.0, 1.999999, 2 - 2**-40]),
       st.sampled_from([-250, -200, -170, 0, 150, 200, 250]), st.booleans(), st.sampled_from([0, 1, 5, 10_000]))
def test_extreme_scales_and_omegas(system, name, omega, exponent, zero_b, maxiter):
    A, b, x0, A_dense = system
    b = np.zeros_like(b) if zero_b else b / np.linalg.norm(b) * 10.0 ** exponent
    if x0 is not None:
        x0 = x0 / (np.abs(x0).max() or 1.0) * np.abs(b).max()
    snap = _snapshot(A, b, x0)
    try:
        res = SOLVES[name](A, b, omega, x0=x0, rtol=1e-8, maxiter=maxiter, dtol=1e4)
    except ValueError as e:  # a solution double precision cannot hold is refused, by name
        assert "represent" in str(e) or "overflow" in str(e) or "underflow" in str(e), e
        return
    _assert_untouched(snap, A, b, x0)
    if zero_b:
        assert res.converged and res.iterations == 0 and not np.any(res.x)
        return
    _check_contract(res, A_dense, b, 1e-8, 0.0, maxiter)


@FAST
@given(spd_systems(), st.sampled_from(sorted(SOLVES)), omegas, st.integers(0, 2**32 - 1))
def test_refresh_of_a_messy_pattern_equals_fresh_prepare(system, name, omega, seed):
    """The same non-canonical arrays (unsorted, duplicates, stored zeros) with new values."""
    A, b, x0, _ = system
    rng = np.random.default_rng(seed)
    # new values for the same stored entries: scale entry (i, j) by s_i s_j (stays SPD)
    s = 10.0 ** rng.uniform(-1, 1, A.shape[0])
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    A2 = sp.csr_array((A.data * s[rows] * s[A.indices], A.indices.copy(), A.indptr.copy()),
                      shape=A.shape)
    op = prepare(sp.csr_array((A.data.copy(), A.indices.copy(), A.indptr.copy()), shape=A.shape),
                 overwrite=True)
    snap = _snapshot(A2, b, x0)
    op2 = prepare(A2, like=op, overwrite=True)
    _assert_untouched(snap, A2, b, x0)
    fresh = prepare(sp.csr_array((A2.data.copy(), A2.indices.copy(), A2.indptr.copy()), shape=A.shape))
    _same(SOLVES[name](op2, b, omega, x0=x0), SOLVES[name](fresh, b, omega, x0=x0))
    _same(SOLVES[name](op2, b, omega, x0=x0), SOLVES[name](A2, b, omega, x0=x0))
    # across layouts: the canonical operator refreshed from the messy arrays and vice versa
    canon2 = sp.csr_array(A2, copy=True)
    canon2.sum_duplicates()
    canon = sp.csr_array(A, copy=True)
    canon.sum_duplicates()
    for like, new in ((prepare(canon, overwrite=True), A2), (prepare(A, overwrite=True), canon2),
                      (prepare(canon), A2)):
        _same(SOLVES[name](prepare(new, like=like, overwrite=True), b, omega, x0=x0),
              SOLVES[name](fresh, b, omega, x0=x0))


@FAST
@given(spd_systems(messy=False), st.sampled_from(sorted(SOLVES)),
       st.sampled_from(["csc", "coo", "dense", "float32", "int64_idx", "col_b", "col_x0", "int_b",
                        "np_scalars"]), omegas)
def test_accepted_input_forms_agree(system, name, form, omega):
    """Other accepted forms of the same system give the same solve."""
    A, b, x0, A_dense = system
    ref = SOLVES[name](A, b, omega, x0=x0, maxiter=50)
    kw = {"x0": x0, "maxiter": 50}
    A1, b1 = A, b
    if form == "csc":
        A1 = sp.csc_array(A)
    elif form == "coo":
        A1 = sp.coo_array(A)
    elif form == "dense":
        A1 = A.toarray()
    elif form == "float32":
        A1 = A.astype(np.float32)
        ref = SOLVES[name](sp.csr_array(A1.astype(float)), b, omega, x0=x0, maxiter=50)
    elif form == "int64_idx":
        A1 = sp.csr_array((A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)), shape=A.shape)
    elif form == "col_b":
        b1 = b[:, None]
    elif form == "col_x0":
        kw["x0"] = None if x0 is None else x0[:, None]
    elif form == "int_b":
        b1 = np.round(b * 10).astype(np.int64)
        ref = SOLVES[name](A, b1.astype(float), omega, x0=x0, maxiter=50)
    elif form == "np_scalars":
        omega, kw["maxiter"] = np.float32(omega), np.int64(50)
        ref = SOLVES[name](A, b, float(np.float32(omega)), x0=x0, maxiter=50)
    res = SOLVES[name](A1, b1, omega, **kw)
    assert res.iterations == ref.iterations and res.reason == ref.reason
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12, atol=1e-300)


# -- regressions found by the properties above ------------------------------------------------------

@pytest.mark.parametrize("solve", [lambda A, b: cg(A, b), lambda A, b: pcg(A, b, "none")])
def test_overflowing_solution_is_named_not_only_blamed_on_x0(solve):
    # A = [[1e-320]], b = [1], no x0: the first CG step is 1/1e-320 = inf.  The residual of
    # the start is 1, yet the error said only "x0 is out of proportion with b ... or A's scale
    # is extreme" -- advice to pass a smaller x0 to a call that passed none.
    A = sp.csr_array(np.array([[1e-320]]))
    with pytest.raises(ValueError, match="iterate overflows double precision") as err:
        solve(A, np.array([1.0]))
    assert "nearly singular" in str(err.value) and "rescale A or b" in str(err.value)


# -- failures: divergence and breakdown keep x finite and say why ---------------------------------

@st.composite
def general_systems(draw):
    """Non-symmetric with a non-zero diagonal and no dominance: SOR may diverge."""
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) * (rng.random((n, n)) < draw(st.floats(0.05, 0.6)))
    np.fill_diagonal(A, rng.uniform(0.1, 2, n) * rng.choice([-1.0, 1.0], n))
    return sp.csr_array(A), rng.standard_normal(n), A


@FAST
@given(general_systems(), st.floats(0.05, 1.99), st.sampled_from([1e2, 1e4, 1e12]),
       st.sampled_from([1, 5, 200, 10_000]))
def test_sor_divergence_is_reported_with_a_finite_iterate(system, omega, dtol, maxiter):
    A, b, A_dense = system
    res = sor(A, b, omega, maxiter=maxiter, dtol=dtol)
    _check_contract(res, A_dense, b, 1e-8, 0.0, maxiter)
    if res.reason == "diverged":  # the best iterate: x0 = 0 or one with a smaller residual
        assert res.residual_norm <= _norm(b) * (1 + 1e-12)


@FAST
@given(st.integers(2, 40), st.integers(0, 2**32 - 1), st.sampled_from(["cg", "pcg_jacobi", "ssor_pcg"]),
       st.sampled_from([3, 100, 10_000]))
def test_indefinite_symmetric_matrices_break_down_or_fail_finitely(n, seed, name, maxiter):
    """A symmetric matrix with positive diagonal but negative eigenvalues: CG-type solvers
    either converge (CG may, on an indefinite matrix) or stop with a documented reason."""
    rng = np.random.default_rng(seed)
    R = np.triu(rng.standard_normal((n, n)) * (rng.random((n, n)) < 0.4), 1)
    A = R + R.T + 3.0 * np.diag(rng.uniform(0.05, 1, n))
    b = rng.standard_normal(n)
    res = SOLVES[name](sp.csr_array(A), b, 1.2, maxiter=maxiter, dtol=1e6)
    _check_contract(res, A, b, 1e-8, 0.0, maxiter)


@FAST
@given(spd_systems(messy=False), st.sampled_from(["nan", "asym", "zero_diag", "neg_diag"]),
       st.sampled_from(["ssor_pcg", "pcg_jacobi", "sor"]), st.integers(0, 2**32 - 1))
def test_a_refresh_refuses_what_a_fresh_prepare_refuses(system, bad, name, seed):
    A, b, x0, _ = system
    n = A.shape[0]
    if bad == "asym" and n < 2:
        return
    A = sp.csr_array(A, copy=True)
    A.sum_duplicates()
    rng = np.random.default_rng(seed)
    data = A.data.copy()
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    on_diag = np.flatnonzero(rows == A.indices)
    if bad == "nan":
        data[rng.integers(data.size)] = np.nan
    elif bad == "asym":
        off = np.flatnonzero(rows != A.indices)
        if off.size == 0:
            return
        data[rng.choice(off)] += 1.0 + np.abs(data).max()
    else:
        k = rng.choice(on_diag)
        data[k] = 0.0 if bad == "zero_diag" else -data[k]
    A2 = sp.csr_array((data, A.indices.copy(), A.indptr.copy()), shape=A.shape)
    outcomes = []
    for make in (lambda: prepare(A2, like=prepare(A, overwrite=True), overwrite=True),
                 lambda: prepare(A2, like=prepare(A)), lambda: A2):
        try:
            outcomes.append(("ok", SOLVES[name](make(), b, 1.3, x0=x0).iterations))
        except ValueError as e:
            outcomes.append(("ValueError", str(e)))
    assert outcomes[0] == outcomes[1] == outcomes[2], outcomes
    if bad == "nan" or (bad == "zero_diag") or (bad == "asym" and name != "sor") \
            or (bad == "neg_diag" and name == "ssor_pcg"):
        assert outcomes[0][0] == "ValueError"


@FAST
@given(spd_systems(max_scale=3.0, min_shift=-2.0), st.sampled_from(["jacobi", "ic0", "amg"]),
       st.integers(1, 4), st.lists(st.floats(-3, 3), min_size=2, max_size=5),
       st.sampled_from([1e-6, 1e-8]))
def test_a_reused_preconditioner_still_solves_the_current_matrix(system, name, reuse, logs, rtol):
    """A set-up kept for later matrices on the same pattern (values scaled row and column by
    10^±3) is a worse preconditioner, never a wrong solve.  Draws well enough conditioned
    (κ ≲ 10⁷) for the tolerance to be attainable in double precision."""
    A, b, x0, A_dense = system
    rng = np.random.default_rng(len(logs))
    pc = solvers.preconditioner(name, reuse=reuse)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    for t, e in enumerate(logs):
        s = 10.0 ** (e * rng.random(A.shape[0]))
        At = sp.csr_array((A.data * s[rows] * s[A.indices], A.indices, A.indptr), shape=A.shape)
        res = pcg(At, b, pc, x0=x0, rtol=rtol, maxiter=2000)
        assert res.converged, (t, res)
        _check_contract(res, s[:, None] * A_dense * s[None, :], b, rtol, 0.0, 2000)


def _dense_sor_count(A, b, omega, x0, tol, maxiter):
    """Sweeps of the documented SOR sweep until ‖b − A x‖ <= tol (numpy residual)."""
    D, L = np.diag(np.diag(A)), np.tril(A, -1)
    x = np.array(x0, dtype=float)
    if np.linalg.norm(b - A @ x) <= tol:
        return 0
    with np.errstate(all="ignore"):  # a diverging draw overflows here: no count
        for k in range(1, maxiter + 1):
            x = x + np.linalg.solve(D / omega + L, b - A @ x)
            if np.linalg.norm(b - A @ x) <= tol:
                return k
    return None


@FAST
@given(st.one_of(spd_systems(max_scale=2.0, min_shift=-1.0), dd_systems()), st.floats(0.3, 1.9),
       st.sampled_from([1e-4, 1e-8, 1e-10]))
def test_sor_counts_equal_the_dense_exact_test(system, omega, rtol):
    """The in-sweep residual and its bound stop SOR at the sweep the dense residual does."""
    A, b, x0, A_dense = system
    start = np.zeros_like(b) if x0 is None else x0
    res = sor(A, b, omega, x0=x0, rtol=rtol, maxiter=3000)
    count = _dense_sor_count(A_dense, b, omega, start, rtol * np.linalg.norm(b), 3000)
    if count is None:
        assert not res.converged
    else:
        assert res.converged and abs(res.iterations - count) <= 1, (res.iterations, count)


@pytest.mark.parametrize("A, b, omega, x0", [
    ([[2.0]], [1.0], 1e-20, [1.0]),   # ω·σ/a_ii is below half an ulp of x: δ = 0, "r = 0"
    ([[2.0]], [1.0], 1e-9, [0.50000001]),  # ‖r‖ = 2e-8 > tol, update 1e-17 lost
    ("laplacian", None, 1e-17, "ones"),
])
def test_sor_never_claims_convergence_when_small_omega_cannot_move_x(A, b, omega, x0):
    # The in-sweep residual θ D δ − U δ is the residual of the iterate the sweep meant to
    # form; with ω·σ_i/a_ii under half an ulp of x_i the update is lost (δ = 0) and it read 0,
    # so SOR returned converged=True, residual_norm=0 at the first sweep with ‖b − A x‖ = 1
    # (‖b − A x‖ = 3.6 on the 5 × 5 Laplacian from x0 = 1).
    if A == "laplacian":
        A, b = solvers.gallery.laplacian_2d(5), np.ones(25)
        x0 = np.ones(25)
    A, b, x0 = sp.csr_array(np.array(A, dtype=float)) if isinstance(A, list) else A, \
        np.asarray(b, dtype=float), np.asarray(x0, dtype=float)
    res = sor(A, b, omega, x0=x0, rtol=1e-8, maxiter=20)
    true = np.linalg.norm(b - A @ res.x)
    assert res.residual_norm == pytest.approx(true, rel=1e-12)
    assert res.converged == (true <= 1e-8 * np.linalg.norm(b))
    assert not res.converged and res.reason == "maxiter" and res.iterations == 20


@pytest.mark.parametrize("a, b, omega", [(2.0, 1.0, 1e-308), (1.0, 1.0, 5e-324), (1e200, 1e200, 1e-120)])
def test_sor_with_a_tiny_omega_is_capped_not_diverged(a, b, omega):
    # (1 − ω)/ω · a_ii overflowed in the in-sweep residual: reason="diverged" after one sweep
    # while the residual had not grown at all.
    res = sor(sp.csr_array(np.array([[a]])), np.array([b]), omega, maxiter=5)
    assert res.reason == "maxiter" and res.iterations == 5
    assert res.residual_norm == pytest.approx(abs(b), rel=1e-12)


@FAST
@given(spd_systems(max_scale=2.0, min_shift=-1.0), st.floats(-17, -1), st.floats(-14, -2),
       st.floats(-3, 6), st.sampled_from([1, 3, 50]))
def test_sor_with_a_small_omega_from_a_warm_start_meets_the_rule(system, log_omega, log_gap,
                                                                 log_x, maxiter):
    """Warm starts a relative 10^log_gap from the solution and a small ω: the updates are near
    or below the rounding of x, where the in-sweep residual is least reliable."""
    A, b, _, A_dense = system
    x_star = np.linalg.solve(A_dense, b) * 10.0 ** log_x
    b = A_dense @ x_star
    x0 = x_star * (1 + 10.0 ** log_gap * np.random.default_rng(0).standard_normal(b.size))
    rtol = 0.3 * 10.0 ** log_gap
    res = sor(A, b, 10.0 ** log_omega, x0=x0, rtol=rtol, maxiter=maxiter)
    _check_contract(res, A_dense, b, rtol, 0.0, maxiter)
