"""A right-hand side (or start) of shape ``(1, n)`` — a row — is refused naming its shape, as
scipy refuses it (the solvers take ``(n,)`` or an ``(n, 1)`` column)."""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import solvers
from bandit import TsallisINF, Tuner
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
