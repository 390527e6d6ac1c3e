"""``solvers.spectral``'s documented limits and tolerances (``DENSE_LIMIT``, ...,
``NULL_ROWS``) are defined in the private modules whose code reads them
(``solvers/_spectral_radius.py``, ``solvers/_spectral_floor.py``) and listed on the public
module's page.  Set on :mod:`solvers.spectral`, as a reader of that page would, a value now
reaches the code (it is set in the private module too); it had been a silent no-op."""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers._spectral_floor as floor
import solvers._spectral_radius as radius
import solvers.spectral as spectral
from solvers import gallery

NAMES = {"solvers._spectral_radius": ("DENSE_LIMIT", "DENSE_FALLBACK_LIMIT",
                                      "GENERAL_DENSE_LIMIT", "ARPACK_TOL", "ARPACK_RETRY_TOL",
                                      "ARPACK_RESTARTS", "CONDITION_TOL"),
         "solvers._spectral_floor": ("NULL_ROWS",)}


@pytest.mark.parametrize("name", [n for names in NAMES.values() for n in names])
def test_a_limit_set_on_the_public_module_is_set_where_it_is_read(monkeypatch, name):
    part = radius if hasattr(radius, name) else floor
    old = getattr(spectral, name)
    new = type(old)(old * 2)
    monkeypatch.setattr(spectral, name, new)
    assert getattr(part, name) == new and getattr(spectral, name) == new
    monkeypatch.undo()  # (monkeypatch puts the old value back the same way)
    assert getattr(part, name) == old and getattr(spectral, name) == old


def test_the_dense_limit_set_on_the_public_module_takes_arpack(monkeypatch):
    """``solvers.spectral.DENSE_LIMIT = 10``: a 144-unknown Laplacian's radius goes to ARPACK
    (the same radius, cos(π/13), to ARPACK's tolerance) instead of the dense solver."""
    calls = []
    eigsh = radius.spla.eigsh
    monkeypatch.setattr(radius.spla, "eigsh", lambda *a, **k: calls.append(1) or eigsh(*a, **k))
    A = gallery.laplacian_2d(12)
    assert spectral.jacobi_spectral_radius(A) == pytest.approx(np.cos(np.pi / 13), abs=1e-12)
    assert calls == []  # dense below the limit
    monkeypatch.setattr(spectral, "DENSE_LIMIT", 10)
    assert spectral.jacobi_spectral_radius(A) == pytest.approx(np.cos(np.pi / 13), abs=1e-8)
    assert calls == [1]


def test_null_rows_set_on_the_public_module_reaches_the_floor(monkeypatch):
    """A 1-D Neumann Laplacian whose rows sum to 1e-9 (not within the default NULL_ROWS of
    1e-12): the residual floor finds no null vector; with ``solvers.spectral.NULL_ROWS =
    1e-6`` set on the public module it finds the constant one (``|1ᵀb|/√n``)."""
    n = 20
    A = sp.diags_array([-np.ones(n - 1), np.r_[1.0, 2 * np.ones(n - 2), 1.0],
                        -np.ones(n - 1)], offsets=[-1, 0, 1]).tocsr()
    A = (A + 1e-9 * sp.identity(n)).tocsr()
    b = np.ones(n)
    assert spectral.residual_floor(A, b)[0] == 0.0
    monkeypatch.setattr(spectral, "NULL_ROWS", 1e-6)
    assert spectral.residual_floor(A, b)[0] == pytest.approx(np.sqrt(n), rel=1e-6)
