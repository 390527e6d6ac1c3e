"""Masked arrays as ``A``, ``b`` or ``x0``: one with masked entries is refused by name (the
solvers had used the values under the mask — ``np.asarray`` drops the mask — and reported the
solve of another system as converged); one without masked entries is an ordinary array."""
import numpy as np
import pytest

import bandit
from solvers import cg, gallery, pcg, sor, ssor_pcg

A = gallery.laplacian_2d(6)
N = A.shape[0]
B = np.arange(1.0, N + 1)
SOLVES = {"sor": lambda A, b, **k: sor(A, b, 1.5, **k),
          "ssor_pcg": lambda A, b, **k: ssor_pcg(A, b, 1.5, **k),
          "cg": lambda A, b, **k: cg(A, b, **k),
          "pcg": lambda A, b, **k: pcg(A, b, "ic0", **k),
          "tuner": lambda A, b, **k: bandit.Tuner(solver="ssor_pcg").solve(A, b, **k)}


def masked_b():
    b = np.ma.masked_array(B.copy(), mask=np.zeros(N, bool))
    b[[4, 9]] = np.ma.masked  # "missing" entries; the data under them stays 5 and 10
    return b


@pytest.mark.parametrize("solve", SOLVES.values(), ids=SOLVES.keys())
def test_masked_entries_refused(solve):
    with pytest.raises(ValueError, match=r"b is a masked array with 2 masked entries "
                                         r"\(the first at index 4\)"):
        solve(A, masked_b())
    x0 = np.ma.masked_array(np.zeros(N), mask=np.arange(N) == 7)
    with pytest.raises(ValueError, match=r"x0 is a masked array with 1 masked entry"):
        solve(A, B, x0=x0)
    dense = A.toarray()
    Am = np.ma.masked_array(dense, mask=dense < 0)  # off-diagonal entries masked
    with pytest.raises(ValueError, match=r"A is a masked array with \d+ masked entries "
                                         r"\(the first at index \(0, 1\)\)"):
        solve(Am, B)


@pytest.mark.parametrize("solve", SOLVES.values(), ids=SOLVES.keys())
def test_masked_without_masked_entries_is_the_array(solve):
    exact = np.linalg.solve(A.toarray(), B)
    for b in (np.ma.masked_array(B), np.ma.masked_array(B, mask=np.zeros(N, bool))):
        res = solve(np.ma.masked_array(A.toarray()), b)
        assert res.converged
        np.testing.assert_allclose(res.x, exact, rtol=1e-7)


def test_masked_refused_on_petsc():
    pytest.importorskip("petsc4py")
    with pytest.raises(ValueError, match=r"b is a masked array with 2 masked entries"):
        ssor_pcg(A, masked_b(), 1.5, backend="petsc")
