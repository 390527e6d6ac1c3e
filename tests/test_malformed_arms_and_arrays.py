"""Malformed input a new user passes by mistake — nested lists of unequal lengths for ``A`` or
``b``, an arm that is no number (complex, ``None``, a list), a 2-D array of arms, SSOR
without its ω — is refused with a ``ValueError`` naming the argument, never NumPy's or
Python's own ``TypeError``/``ValueError`` from deep inside; well-formed input of the same
shapes still solves to the dense solution."""
import numpy as np
import pytest

import bandit
import solvers
from solvers import gallery


def _system():
    A = gallery.laplacian_2d(3)
    return A, np.arange(1.0, 10.0)


@pytest.mark.parametrize("solver", ["sor", "ssor_pcg", "cg"])
def test_ragged_b_is_named(solver):
    A, _ = _system()
    ragged = [[1.0]] * 8 + [[1.0, 2.0]]
    args = () if solver == "cg" else (1.2,)
    with pytest.raises(ValueError, match=r"^b cannot be read as an array of numbers: it is a "
                                         r"nested sequence of unequal lengths"):
        solvers.SOLVERS[solver](A, ragged, *args)
    with pytest.raises(ValueError, match=r"^b cannot be read"):
        solvers.SOLVERS[solver](A, [1.0] * 8 + [[1.0]], *args)  # numbers and a sequence


def test_ragged_x0_and_A_are_named():
    A, b = _system()
    with pytest.raises(ValueError, match=r"^x0 cannot be read as an array of numbers"):
        solvers.sor(A, b, 1.2, x0=[[0.0]] * 8 + [[0.0, 0.0]])
    with pytest.raises(ValueError, match=r"^A cannot be read as an array of numbers"):
        solvers.cg([[2.0, -1.0], [-1.0]], [1.0, 1.0])


def test_nested_lists_of_equal_lengths_still_solve():
    A, b = _system()
    dense = A.toarray()
    x = np.linalg.solve(dense, b)
    res = solvers.cg(dense.tolist(), [[v] for v in b])  # a list matrix and a column list
    assert res.converged
    np.testing.assert_allclose(res.x, x, rtol=1e-7)


def test_tuner_refuses_ragged_b_before_the_draw():
    A, b = _system()
    tuner = bandit.Tuner(solver="sor")
    with pytest.raises(ValueError, match=r"^b cannot be read"):
        tuner.solve(A, [[1.0]] * 8 + [[1.0, 2.0]])
    assert tuner.policy.t == 0 and tuner.summary()["rounds"] == 0
    res = tuner.solve(A, b)
    np.testing.assert_allclose(res.x, np.linalg.solve(A.toarray(), b), rtol=1e-6)


@pytest.mark.parametrize("bad", [1.5 + 0j, None, [1.2, 1.3], np.array([1.2, 1.3])],
                         ids=["complex", "None", "list", "array"])
@pytest.mark.parametrize("solver", ["sor", None])
def test_an_arm_that_is_no_number_is_named(bad, solver):
    # default_policy reads the arms' ω (its families) before the policy checks the list:
    # float() had raised its own TypeError there, naming no arm
    with pytest.raises(ValueError, match=r"is neither a finite number \(ω\) nor a dict"):
        bandit.default_policy(solver, [1.2, bad])
    with pytest.raises(ValueError, match=r"is neither a finite number \(ω\) nor a dict"):
        bandit.Tuner([1.2, bad], solver="sor")


def test_tuner_refuses_a_2d_array_of_arms():
    # the Tuner had taken a 2-D array apart into its rows (list(arms)), which then failed
    # in float(); default_policy and the policies refuse it by its shape, so does the Tuner
    with pytest.raises(ValueError, match=r"got an array of shape \(2, 2\): give a 1-D array"):
        bandit.Tuner(np.array([[1.2, 1.4], [1.6, 1.8]]), solver="sor")
    A, b = _system()
    tuner = bandit.Tuner(np.array([1.2, 1.4, 1.6, 1.8]), solver="sor")
    res = tuner.solve(A, b)
    np.testing.assert_allclose(res.x, np.linalg.solve(A.toarray(), b), rtol=1e-6)


@pytest.mark.parametrize("spec", ["ssor", {"pc": "ssor"}])
def test_ssor_preconditioner_without_omega_says_how_to_give_it(spec):
    A, b = _system()
    with pytest.raises(ValueError, match=r"^preconditioner 'ssor' needs its relaxation "
                                         r"parameter omega in \(0, 2\): e\.g\. "):
        solvers.pcg(A, b, spec)
    res = solvers.pcg(A, b, {"pc": "ssor", "omega": 1.4})
    np.testing.assert_allclose(res.x, np.linalg.solve(A.toarray(), b), rtol=1e-7)


def test_a_solve_result_passed_as_x0_is_named():
    # `u = tuner.solve(A, b, x0=u)` without `.x`: the result had become a 0-d object array,
    # refused as "x0 must have a real numeric dtype, got object"
    A, b = _system()
    res = solvers.sor(A, b, 1.5)
    with pytest.raises(ValueError, match=r"^x0 is a SolveResult \(what a solve returns\), "
                                         r"not a vector: pass its solution, x0=result\.x"):
        solvers.sor(A, b, 1.5, x0=res)
    tuner = bandit.Tuner(solver="ssor_pcg")
    first = tuner.solve(A, b)
    with pytest.raises(ValueError, match=r"^x0 is a SolveResult"):
        tuner.solve(A, b, x0=first)
    assert tuner.summary()["rounds"] == 1
    again = tuner.solve(A, b, x0=first.x)  # the solution itself: already solved
    np.testing.assert_allclose(again.x, np.linalg.solve(A.toarray(), b), rtol=1e-7)


@pytest.mark.parametrize("name", ["A", "b"])
def test_an_object_array_says_how_to_convert_it(name):
    from fractions import Fraction

    A, b = _system()
    dense = A.toarray()
    obj_A = np.array([[Fraction(int(v)) for v in row] for row in dense], dtype=object)
    obj_b = np.array([Fraction(int(v)) for v in b], dtype=object)
    args = (obj_A, b) if name == "A" else (A, obj_b)
    with pytest.raises(ValueError, match=rf"^{name} must have a real numeric dtype, got "
                                         rf"object .*convert it with np\.asarray\({name}, "
                                         rf"dtype=float\)"):
        solvers.cg(*args)
    # converted as the message says, it solves
    res = solvers.cg(np.asarray(obj_A, dtype=float), np.asarray(obj_b, dtype=float))
    np.testing.assert_allclose(res.x, np.linalg.solve(dense, b), rtol=1e-7)
