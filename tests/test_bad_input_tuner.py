"""Bad input for the Tuner and the policies: every case asserts its exact outcome.

Refused input raises before anything changes (the error type and a fragment naming the
problem); accepted input (NumPy scalars, lists, other real dtypes) gives a converged solution
checked against dense linear algebra.  A refused ``solve`` leaves the policy, its generator
and the history exactly as they were.
"""
import json
import re

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from bandit import ChebCB, FixedArm, Policy, Tuner, UniformRandom
from solvers import gallery

OM = [1.0, 1.5, 1.8]
A = gallery.laplacian_2d(6)
N = 36
B = np.linspace(1.0, 2.0, N)


def zero_diagonal():
    Z = A.tolil()
    Z[3, 3] = 0.0
    return Z.tocsr()


def nonsymmetric():
    M = A.tolil()
    M[0, 1] = -2.0
    return M.tocsr()


def sor_tuner():
    return Tuner(FixedArm(OM, arm=1), solver="sor")


def cheb_tuner():
    return Tuner(ChebCB(OM, context_bounds=(0.0, 1.0), seed=0), solver="ssor_pcg")


# (case id, call, error type, message fragment): the refused inputs ---------------------------
REFUSED = [
    # construction: the policy, the solver and its arms
    ("policy-a-string", lambda: Tuner("tsallis"), ValueError, "policy must be a bandit Policy"),
    ("solver-a-number", lambda: Tuner(FixedArm(OM), solver=5), ValueError,
     "solver must be a solvers.SOLVERS name or a function"),
    ("solver-unknown", lambda: Tuner(FixedArm(OM), solver="gmres"), ValueError,
     "unknown solver 'gmres'"),
    ("arm-omega-2-for-sor", lambda: Tuner(FixedArm([1.0, 2.0]), solver="sor"), ValueError,
     "arm 1 (2.0): omega must lie in the open interval (0, 2) for sor"),
    ("arm-omega-0-for-ssor", lambda: Tuner(FixedArm([0.0, 1.0]), solver="ssor_pcg"),
     ValueError, "arm 0 (0.0): omega must lie in the open interval (0, 2) for ssor_pcg"),
    ("arm-omega-negative-dict", lambda: Tuner(FixedArm([{"omega": -1.0}]), solver="sor"),
     ValueError, "omega must lie in the open interval (0, 2)"),
    ("arm-dict-without-omega", lambda: Tuner(FixedArm([{"order": "paper"}]), solver="ssor_pcg"),
     ValueError, "has no omega, which ssor_pcg needs"),
    ("arm-dict-omega-string", lambda: Tuner(FixedArm([{"omega": "fast"}]), solver="sor"),
     ValueError, "omega must be a number"),
    ("arm-dict-unknown-key", lambda: Tuner(FixedArm([{"omega": 1.2, "colour": 1}]), solver="sor"),
     ValueError, "is not valid for sor: unknown setting(s) ['colour']"),
    ("arm-dict-sets-maxiter", lambda: Tuner(FixedArm([{"omega": 1.2, "maxiter": 5}])),
     ValueError, "sets ['maxiter'], which the Tuner sets"),
    ("arm-dict-bad-order", lambda: Tuner(FixedArm([{"omega": 1.2, "order": "sideways"}])),
     ValueError, "order must be one of ('paper', 'textbook')"),
    ("arm-dict-petsc-option-on-numba",
     lambda: Tuner(FixedArm([{"omega": 1.2, "pc_type": "jacobi"}]), solver="sor"), ValueError,
     "is not valid for sor"),
    # construction: options
    ("guard-inf", lambda: Tuner(FixedArm(OM), guard=float("inf")), ValueError,
     "guard must be None or a finite number >= 1, got inf"),
    ("guard-nan", lambda: Tuner(FixedArm(OM), guard=float("nan")), ValueError,
     "guard must be None or a finite number >= 1, got nan"),
    ("guard-string", lambda: Tuner(FixedArm(OM), guard="3"), ValueError,
     "guard must be a number, got '3'"),
    ("guard-below-1", lambda: Tuner(FixedArm(OM), guard=0.5), ValueError,
     "guard must be None or a finite number >= 1"),
    ("rtol-string", lambda: Tuner(FixedArm(OM), rtol="1e-8"), ValueError,
     "rtol must be a number, got '1e-8'"),
    ("rtol-negative", lambda: Tuner(FixedArm(OM), rtol=-1e-8), ValueError,
     "rtol must be finite and >= 0"),
    ("rtol-nan", lambda: Tuner(FixedArm(OM), rtol=float("nan")), ValueError,
     "rtol must be finite and >= 0, got nan"),
    ("atol-string", lambda: Tuner(FixedArm(OM), atol="0"), ValueError,
     "atol must be a number, got '0'"),
    ("atol-inf", lambda: Tuner(FixedArm(OM), atol=float("inf")), ValueError,
     "atol must be finite and >= 0"),
    *[(f"rtol-{v!r}", lambda v=v: Tuner(FixedArm(OM), rtol=v), ValueError,
       f"rtol must be a number in [0, 1) (0 only with atol > 0), got {float(v)!r}")
      for v in (1, 1.0, 2.5, np.float32(1.0))],  # from x0 = 0 every solve was "already solved"
    ("rtol-and-atol-zero", lambda: Tuner(FixedArm(OM), rtol=0.0, atol=0.0), ValueError,
     "rtol and atol cannot both be 0"),
    ("maxiter-string", lambda: Tuner(FixedArm(OM), maxiter="100"), ValueError,
     "maxiter must be an integer, got '100'"),
    ("maxiter-float", lambda: Tuner(FixedArm(OM), maxiter=100.0), ValueError,
     "maxiter must be an integer, got 100.0"),
    ("maxiter-bool", lambda: Tuner(FixedArm(OM), maxiter=True), ValueError,
     "maxiter must be an integer, got True"),
    ("maxiter-zero", lambda: Tuner(FixedArm(OM), maxiter=0), ValueError,
     "maxiter must be a positive integer"),
    ("maxiter-beyond-int64", lambda: Tuner(FixedArm(OM), maxiter=2**63), ValueError,
     "within the solvers' integer range (at most 9223372036854775807)"),
    ("audit-string", lambda: Tuner(FixedArm(OM), audit_budget="0.1"), ValueError,
     "audit_budget must be a number, got '0.1'"),
    ("audit-above-1", lambda: Tuner(FixedArm(OM), audit_budget=1.5), ValueError,
     "audit_budget must be a fraction in [0, 1], got 1.5"),
    ("audit-nan", lambda: Tuner(FixedArm(OM), audit_budget=float("nan")), ValueError,
     "audit_budget must be a fraction in [0, 1], got nan"),
    ("audit-old-keyword", lambda: Tuner(FixedArm(OM), audit=0.1), TypeError,
     "unexpected keyword argument 'audit'"),
    ("callback-not-callable", lambda: Tuner(FixedArm(OM), callback=3), ValueError,
     "callback must be a function or None, got 3"),
    ("progress-a-number", lambda: Tuner(FixedArm(OM), progress=1), ValueError,
     "progress must be True, False or a description, got 1"),
    ("audit-seed-string", lambda: Tuner(FixedArm(OM), audit_seed="x"), ValueError,
     "audit_seed must be an integer, got 'x'"),
    ("audit-seed-negative", lambda: Tuner(FixedArm(OM), audit_seed=-1), ValueError,
     "audit_seed must be a non-negative integer"),
    ("cost-a-number", lambda: Tuner(FixedArm(OM), cost=5), ValueError,
     "cost must be 'iterations', 'time', 'work' or 'timed_work'"),
    ("cost-unknown", lambda: Tuner(FixedArm(OM), cost="flops"), ValueError,
     "got 'flops'"),
    ("backend-unknown", lambda: Tuner(FixedArm(OM), backend="cuda"), ValueError,
     "backend must be one of ('numba', 'petsc'), got 'cuda'"),
    # solve: b, x0, A
    ("b-wrong-length", lambda: sor_tuner().solve(A, np.ones(5)), ValueError,
     "b has shape (5,), expected (36,) to match A (36x36)"),
    ("b-nan", lambda: sor_tuner().solve(A, np.r_[np.nan, B[1:]]), ValueError,
     "b contains NaN or Inf (1 entry)"),
    ("b-complex", lambda: sor_tuner().solve(A, B * 1j), ValueError,
     "b is complex (complex128); relaxtune solves real systems only"),
    ("b-a-string", lambda: sor_tuner().solve(A, "abc"), ValueError,
     "b must have a real numeric dtype"),
    ("b-none", lambda: sor_tuner().solve(A, None), ValueError, "b is None; the solvers take a vector"),
    ("x0-wrong-length", lambda: sor_tuner().solve(A, B, x0=np.ones(3)), ValueError,
     "x0 has shape (3,), expected (36,)"),
    ("x0-inf", lambda: sor_tuner().solve(A, B, x0=np.r_[np.inf, B[1:]]), ValueError,
     "x0 contains NaN or Inf (1 entry)"),
    ("A-not-square", lambda: sor_tuner().solve(np.ones((3, 4)), np.ones(3)), ValueError,
     "A must be square, got shape (3, 4)"),
    ("A-nan", lambda: sor_tuner().solve(np.array([[np.nan, 0.0], [0.0, 1.0]]), np.ones(2)),
     ValueError, "A contains NaN or Inf (1 non-finite entry)"),
    ("A-none", lambda: sor_tuner().solve(None, B), TypeError,
     "A must be a scipy sparse matrix, a dense numpy array or a CSROperator"),
    ("A-zero-diagonal-for-sor", lambda: sor_tuner().solve(zero_diagonal(), B), ValueError,
     "A has a zero or missing diagonal entry in row 3"),
    ("A-nonsymmetric-for-ssor", lambda: cheb_tuner().solve(nonsymmetric(), B, context=0.5),
     ValueError, "A is not symmetric"),
    # solve: context
    ("context-a-string", lambda: sor_tuner().solve(A, B, context="0.5"), ValueError,
     "context must be a number or a sequence of numbers, got '0.5'"),
    ("context-nan", lambda: sor_tuner().solve(A, B, context=float("nan")), ValueError,
     "context must be finite, got nan"),
    ("context-inf-in-vector", lambda: sor_tuner().solve(A, B, context=[1.0, np.inf]),
     ValueError, "context must be finite"),
    ("context-2d", lambda: sor_tuner().solve(A, B, context=[[1.0, 2.0]]), ValueError,
     "got shape (1, 2)"),
    ("context-empty", lambda: sor_tuner().solve(A, B, context=[]), ValueError,
     "got shape (0,)"),
    ("context-strings", lambda: sor_tuner().solve(A, B, context=["a"]), ValueError,
     "context must be a number or a sequence of numbers"),
    ("context-bool", lambda: sor_tuner().solve(A, B, context=True), ValueError,
     "context must be a number or a sequence of numbers, got True"),
    ("context-missing-for-contextual", lambda: cheb_tuner().solve(A, B), ValueError,
     "ChebCB is contextual: pass context=..."),
    ("context-vector-for-scalar-policy", lambda: cheb_tuner().solve(A, B, context=[0.1, 0.2]),
     ValueError, "context must have 1 entry, got 2"),
    # policies (the ask/tell protocol a Tuner relies on)
    ("policy-no-arms", lambda: UniformRandom([]), ValueError, "arms must be a non-empty"),
    ("policy-arm-string", lambda: UniformRandom([1.0, "x"]), ValueError,
     "arm 'x' is neither a finite number"),
    ("policy-arm-nan", lambda: UniformRandom([1.0, float("nan")]), ValueError,
     "is neither a finite number"),
    ("policy-seed-string", lambda: UniformRandom(OM, seed="abc"), ValueError,
     "seed must be an int or None"),
    ("update-cost-string", lambda: UniformRandom(OM).update(0, "ten"), ValueError,
     "cost must be a number, got 'ten'"),
    ("update-cost-nan", lambda: UniformRandom(OM).update(0, float("nan")), ValueError,
     "cost is NaN"),
    ("update-cost-negative", lambda: UniformRandom(OM).update(0, -1.0), ValueError,
     "cost must be >= 0"),
    ("update-cost-inf", lambda: UniformRandom(OM).update(0, float("inf")), ValueError,
     "cost is infinite"),
    ("update-arm-float", lambda: UniformRandom(OM).update(1.0, 3.0), ValueError,
     "arm must be an integer index, got 1.0"),
    ("update-arm-bool", lambda: UniformRandom(OM).update(True, 3.0), ValueError,
     "arm must be an integer index, got True"),
    ("update-arm-out-of-range", lambda: UniformRandom(OM).update(3, 3.0), ValueError,
     "arm index 3 outside 0..2"),
    ("update-censored-string", lambda: UniformRandom(OM).update(0, 3.0, censored="no"),
     ValueError, "censored must be True or False, got 'no'"),
    ("update-converged-number", lambda: UniformRandom(OM).update(0, 3.0, converged=1),
     ValueError, "converged must be True or False, got 1"),
    ("tell-cost-nan", lambda: sor_tuner().tell(0, float("nan")), ValueError, "cost is NaN"),
    ("state-dict-foreign", lambda: Policy.from_state_dict({"format": "x"}), ValueError,
     "not a relaxtune policy state"),
    ("simulate-failures-without-cap",
     lambda: bandit.simulate(UniformRandom(OM), [[1.0, np.inf, 2.0]]), ValueError,
     "costs has non-finite entries (arms that failed): pass cap="),
]


@pytest.mark.parametrize("call, error, fragment", [c[1:] for c in REFUSED],
                         ids=[c[0] for c in REFUSED])
def test_refused(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()


def dense_check(r, A_, b_, rtol=1e-8):
    A_ = A_.toarray() if sp.issparse(A_) else np.asarray(A_, dtype=float)
    b_ = np.asarray(b_, dtype=float).ravel()
    assert r.converged and r.reason == "converged"
    assert np.linalg.norm(b_ - A_ @ r.x) <= rtol * np.linalg.norm(b_)
    np.testing.assert_allclose(r.x, np.linalg.solve(A_, b_), rtol=1e-5)


# (case id, tuner keywords, solve arguments): input accepted and solved to tolerance --------
ACCEPTED = [
    ("numpy-scalars-everywhere",
     dict(rtol=np.float32(1e-9), atol=np.float64(0.0), maxiter=np.int64(5000),
          guard=np.float32(2.5), audit_budget=np.float64(0.0), audit_seed=np.int64(3)),
     dict(b=B, context=np.float32(0.25))),
    ("integer-options", dict(rtol=0, atol=1, maxiter=10**6, guard=2),
     dict(b=B * 1e6)),  # atol = 1 against ‖b‖ ~ 1e6: the rule is ‖r‖ <= 1
    ("b-a-list", {}, dict(b=list(B))),
    ("b-integers", {}, dict(b=np.arange(N))),
    ("b-float32", {}, dict(b=B.astype(np.float32))),
    ("b-column", {}, dict(b=B[:, None])),
    ("x0-a-list", {}, dict(b=B, x0=[0.5] * N)),
    ("context-int", {}, dict(b=B, context=1)),
    ("context-numpy-vector", {}, dict(b=B, context=np.array([0.2, 0.3]))),
    ("context-0d-array", {}, dict(b=B, context=np.array(0.25))),  # a number, as policies take it
    ("A-dense", {}, dict(A=A.toarray(), b=B)),
    ("A-prepared", {}, dict(A=solvers.prepare(A), b=B)),
    ("A-coo", {}, dict(A=sp.coo_array(A), b=B)),
    ("b-zero", {}, dict(b=np.zeros(N))),
]


@pytest.mark.parametrize("kw, args", [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted(kw, args):
    tuner = Tuner(UniformRandom(OM, seed=0), solver="sor", **kw)
    args = dict(args)
    A_ = args.pop("A", A)
    r = tuner.solve(A_, **args)
    b_norm = np.linalg.norm(np.asarray(args["b"], dtype=float))
    rtol = max(float(kw.get("rtol", 1e-8)), float(kw.get("atol", 0.0)) / max(b_norm, 1e-300))
    if b_norm == 0:
        assert r.converged and r.iterations == 0 and not r.x.any()
    else:
        dense_check(r, A_ if not isinstance(A_, solvers.CSROperator) else A_.matrix, args["b"],
                    rtol)
    assert len(tuner.history["arm"]) == 1


def test_numpy_scalar_options_are_stored_as_python_numbers():
    t = Tuner(UniformRandom(OM), rtol=np.float32(1e-6), maxiter=np.int64(50),
              guard=np.float32(2.0), audit_budget=np.float64(0.5))
    assert (type(t.rtol), type(t.maxiter), type(t.guard), type(t.audit_budget)) == (
        float, int, float, float)
    assert (t.rtol, t.maxiter, t.guard, t.audit_budget) == (pytest.approx(1e-6), 50, 2.0, 0.5)


# --- a refused call changes nothing -----------------------------------------------------------
BAD_CALLS = [
    ("b-nan", lambda t, A_, b_, c: t.solve(A_, np.r_[np.nan, b_[1:]], context=c)),
    ("b-short", lambda t, A_, b_, c: t.solve(A_, b_[:5], context=c)),
    ("x0-inf", lambda t, A_, b_, c: t.solve(A_, b_, x0=np.full(b_.size, np.inf), context=c)),
    ("A-zero-diagonal", lambda t, A_, b_, c: t.solve(zero_diagonal(), b_, context=c)),
    ("A-nonsymmetric", lambda t, A_, b_, c: t.solve(nonsymmetric(), b_, context=c)),
    ("context-string", lambda t, A_, b_, c: t.solve(A_, b_, context="hot")),
    ("context-missing", lambda t, A_, b_, c: t.solve(A_, b_)),
    ("context-nan", lambda t, A_, b_, c: t.solve(A_, b_, context=float("nan"))),
]


def _state(tuner):
    p = tuner.policy
    return (json.dumps(p.state_dict(), sort_keys=True), p.rng.bit_generator.state,
            {k: v.tolist() for k, v in tuner.history.items()}, tuner._work.copy())


@pytest.mark.parametrize("name", ["uniform", "tsallis_inf", "smooth_igw", "chebcb",
                                  "tsallis_inf_cb", "jointcb"])
def test_refused_call_leaves_policy_generator_and_history_unchanged(name):
    cls = bandit.POLICIES[name]

    def make():
        pol = cls(OM, context_bounds=(0.0, 1.0), seed=4) if cls.contextual else cls(OM, seed=4)
        return Tuner(pol, solver="ssor_pcg")

    rng = np.random.default_rng(0)
    steps = [(gallery.shifted_laplacian_2d(6, s), rng.standard_normal(N), float(s))
             for s in rng.uniform(0.0, 1.0, 12)]
    clean, noisy = make(), make()
    arms_clean = [clean.solve(A_, b_, context=c).arm for A_, b_, c in steps]
    arms_noisy = []
    for t, (A_, b_, c) in enumerate(steps):
        label, bad = BAD_CALLS[t % len(BAD_CALLS)]
        before = _state(noisy)
        if label != "context-missing" or cls.contextual:
            with pytest.raises((ValueError, TypeError)):
                bad(noisy, A_, b_, c)
            assert _state(noisy) == before, label
        arms_noisy.append(noisy.solve(A_, b_, context=c).arm)
    assert arms_noisy == arms_clean
    for k, v in clean.history.items():
        if k not in ("seconds", "tuner_seconds"):  # (the clock's)
            np.testing.assert_array_equal(v, noisy.history[k])


def test_a_0d_array_context_is_recorded_as_the_number():
    t = Tuner(ChebCB(OM, context_bounds=(0.0, 1.0), seed=0), solver="sor")
    u = Tuner(ChebCB(OM, context_bounds=(0.0, 1.0), seed=0), solver="sor")
    t.solve(A, B, context=np.array(0.25))
    u.solve(A, B, context=0.25)
    assert t.history["context"].tolist() == [0.25]
    np.testing.assert_array_equal(t.history["arm"], u.history["arm"])
    with pytest.raises(ValueError, match="context must be finite"):
        t.solve(A, B, context=np.array(np.nan))


@pytest.mark.parametrize("seed", ["x", -1, 1.5, True])
def test_regret_refuses_a_bad_seed_by_name(seed):
    # was numpy's "SeedSequence expects int or sequence of ints ..." / "expected non-negative
    # integer", naming no parameter
    t = sor_tuner()
    t.solve(A, B)
    with pytest.raises(ValueError, match=r"^seed must be a non-negative integer"):
        t.regret(seed=seed)
    assert t.regret(seed=np.int64(3)).rounds == 1
