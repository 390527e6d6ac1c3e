"""Inputs a new user tries first, each against an independent reference: preconditioner
applications into a caller's array, SSOR-PCG over the whole range 0 < ω < 2, and the
argument checks of the spectral helpers and the gallery."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from solvers import gallery, preconditioner

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
