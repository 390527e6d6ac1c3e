"""``b`` or ``x0`` given as an object NumPy makes a 0-d object array of — a generator, a
``map``, a set, a dict — by the solvers and by the Tuner.  They had been refused with the
hint for a list of Python objects, "convert it with np.asarray(b, dtype=float)", which fails
on them too; the message now says what the object is and what to pass.  A list, a tuple, a
``range`` and an ``array.array`` are still read (checked against a dense solve)."""
import array

import numpy as np
import pytest

import bandit
import solvers
from solvers import gallery

A = gallery.laplacian_2d(5)
N = 25


@pytest.mark.parametrize("make, fragment", [
    (lambda: (1.0 for _ in range(N)), r"it is an iterator \(generator\), which NumPy does "
                                      r"not read as an array: pass np.fromiter\(b, "
                                      r"dtype=float\) or a list"),
    (lambda: map(float, range(N)), r"it is an iterator \(map\)"),
    (lambda: {1.0, 2.0}, r"a set has no order"),
    (lambda: {i: 1.0 for i in range(N)}, r"NumPy reads a dict as one object"),
    (lambda: object(), r"a object is no array of numbers"),
])
@pytest.mark.parametrize("where", ["sor", "ssor_pcg", "tuner"])
def test_objects_that_are_no_vector_are_named(make, fragment, where):
    start = f"b must be a vector of shape \\({N},\\) \\(an array, a list or a column of " \
            f"shape \\({N}, 1\\)\\): "
    with pytest.raises(ValueError, match=start + fragment):
        if where == "tuner":
            bandit.Tuner(solver="sor").solve(A, make())
        else:
            solvers.SOLVERS[where](A, make(), 1.2)


def test_x0_as_a_generator_is_named():
    t = bandit.Tuner(solver="sor", seed=0)
    with pytest.raises(ValueError, match=r"x0 must be a vector .*np.fromiter\(x0, dtype=float\)"):
        t.solve(A, np.ones(N), x0=(0.0 for _ in range(N)))
    assert len(t.history["arm"]) == 0


@pytest.mark.parametrize("b", [list(np.arange(1.0, N + 1)), tuple(np.arange(1.0, N + 1)),
                               range(1, N + 1), array.array("d", np.arange(1.0, N + 1))])
def test_sequences_of_numbers_are_still_read(b):
    ref = np.linalg.solve(A.toarray(), np.arange(1.0, N + 1))
    r = solvers.sor(A, b, 1.2)
    assert r.converged and np.linalg.norm(r.x - ref) <= 1e-7 * np.linalg.norm(ref)
