"""A right-hand side (or start) of shape ``(1, n)`` — a row — is refused naming its shape, as
scipy refuses it (the solvers take ``(n,)`` or an ``(n, 1)`` column); a 0-d NumPy array is a
scalar (``rtol``, ``atol``, ``maxiter``, the Tuner's numbers), accepted as NumPy scalars are."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import solvers
from bandit import FixedArm, TsallisINF, Tuner
from solvers import gallery

A = gallery.laplacian_2d(5)
N = 25
B = np.linspace(1.0, 2.0, N)
SOLVE = {"sor": lambda **kw: solvers.sor(A, omega=1.3, **kw),
         "ssor_pcg": lambda **kw: solvers.ssor_pcg(A, omega=1.3, **kw),
         "cg": lambda **kw: solvers.cg(A, **kw)}


def test_scipy_refuses_a_row():  # the convention followed
    with pytest.raises(ValueError):
        spla.cg(A, B[None, :])


@pytest.mark.parametrize("name", sorted(SOLVE))
@pytest.mark.parametrize("which", ["b", "x0"])
def test_a_row_is_refused_by_the_solvers(name, which):
    kw = {"b": B, which: (B if which == "b" else np.zeros(N))[None, :]}
    with pytest.raises(ValueError, match=rf"{which} has shape \(1, 25\), a row: the solvers "
                                         rf"take a vector of shape \(25,\) or a column of "
                                         rf"shape \(25, 1\)"):
        SOLVE[name](**kw)
    # a column is a vector (as in scipy): the same solution as the 1-D vector
    col = {"b": B, which: kw[which].T}
    ref = SOLVE[name](b=B, x0=None if which == "b" else np.zeros(N))
    res = SOLVE[name](**col)
    assert res.x.shape == (N,) and res.iterations == ref.iterations
    np.testing.assert_array_equal(res.x, ref.x)


@pytest.mark.parametrize("which", ["b", "x0"])
def test_a_row_is_refused_by_the_tuner_before_the_draw(which):
    t = Tuner(TsallisINF([1.0, 1.5, 1.8], seed=0), solver="sor")
    state = t.policy.state_dict()
    kw = {"b": B[None, :]} if which == "b" else {"b": B, "x0": np.zeros((1, N))}
    with pytest.raises(ValueError, match=rf"{which} has shape \(1, 25\), a row"):
        t.solve(A, **kw)
    assert t.policy.state_dict() == state and len(t.history["arm"]) == 0
    assert t.solve(A, B[:, None]).converged  # a column is taken


def test_a_one_unknown_system_takes_its_1x1_right_hand_side():
    res = solvers.sor(np.array([[2.0]]), np.array([[4.0]]), 1.0)
    assert res.converged and res.x.tolist() == [2.0]


@pytest.mark.parametrize("name", sorted(SOLVE))
def test_zero_dimensional_arrays_are_scalars_for_the_solvers(name):
    ref = SOLVE[name](b=B, rtol=1e-6, atol=1e-12, maxiter=500)
    res = SOLVE[name](b=B, rtol=np.array(1e-6), atol=np.array(1e-12), maxiter=np.array(500))
    assert res.converged and res.iterations == ref.iterations
    assert type(res.rtol) is float and res.rtol == 1e-6
    for bad, what in ((np.array(True), "rtol must be a real number"),
                      (np.array([1e-6]), "rtol must be a real number"),
                      (np.array("1e-6"), "rtol must be a real number")):
        with pytest.raises(ValueError, match=what):
            SOLVE[name](b=B, rtol=bad)
    with pytest.raises(ValueError, match="maxiter must be a non-negative integer"):
        SOLVE[name](b=B, maxiter=np.array(5.0))


def test_zero_dimensional_arrays_are_scalars_for_the_tuner():
    t = Tuner(FixedArm([1.5], arm=0), solver="sor", rtol=np.array(1e-6), atol=np.array(0.0),
              maxiter=np.array(400), guard=np.array(2.0), audit_budget=np.array(0.0),
              audit_seed=np.array(3))
    assert (t.rtol, t.atol, t.maxiter, t.guard, t.audit_seed) == (1e-6, 0.0, 400, 2.0, 3)
    assert type(t.rtol) is float and type(t.maxiter) is int and type(t.audit_seed) is int
    res = t.solve(A, B)
    assert res.iterations == solvers.sor(A, B, 1.5, rtol=1e-6).iterations
    for kw, what in ((dict(rtol=np.array(True)), "rtol must be a number"),
                     (dict(rtol=np.array([1e-6])), "rtol must be a number"),
                     (dict(maxiter=np.array(4.0)), "maxiter must be an integer"),
                     (dict(audit_seed=np.array([3])), "audit_seed must be an integer")):
        with pytest.raises(ValueError, match=what):
            Tuner(FixedArm([1.5], arm=0), solver="sor", **kw)
