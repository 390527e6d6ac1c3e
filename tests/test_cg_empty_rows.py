"""Plain CG (the one solver that accepts a zero diagonal) on a matrix with rows that hold no
non-zero entry: where ``b`` does not vanish on them ``A x = b`` has no solution (``e_i`` is a
null vector of ``Aᵀ``: ``(b − A x)_i = b_i`` for every ``x``), and the failed solve says so
in ``info["cause"]``, naming the row and the floor of the residual.  It had stopped as
"diverged" with nothing to say why; where ``b`` vanishes there, CG solves the consistent
system (checked against a least-squares reference).
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from solvers import cg, gallery, pcg

HERE = Path(__file__).resolve().parent


def isolated_node(m=4, rows=(5,)):
    """The model Laplacian with the rows and columns ``rows`` removed from the graph
    (isolated vertices, or nodes left out of the assembly)."""
    G = sp.lil_array(gallery.laplacian_2d(m))
    for row in rows:
        G[row, :] = 0.0
        G[:, row] = 0.0
    G = sp.csr_array(G)
    G.eliminate_zeros()
    return G


@pytest.mark.parametrize("scale", [1.0, 1e-200, 1e200])
def test_failed_cg_names_the_empty_row_and_the_residual_floor(scale):
    G = isolated_node() * scale
    b = np.full(16, scale)
    res = cg(G, b)
    assert not res.converged
    # the floor holds for any x: the residual at row 5 is b[5] itself
    assert res.residual_norm >= scale * (1 - 1e-12)
    assert abs((b - G @ res.x)[5]) == pytest.approx(scale, rel=1e-15)
    cause = res.info["cause"]
    assert "row 5" in cause and "no solution" in cause
    assert f"{scale:.3e}" in cause  # the floor ‖b_E‖ = |b_5|
    assert pcg(G, b, "none").info["cause"] == cause


def test_consistent_system_with_an_empty_row_is_solved():
    G = isolated_node()
    b = np.ones(16)
    b[5] = 0.0
    res = cg(G, b)
    assert res.converged and "cause" not in res.info
    keep = np.arange(16) != 5
    reference = np.linalg.solve(G.toarray()[np.ix_(keep, keep)], b[keep])
    np.testing.assert_allclose(res.x[keep], reference, rtol=1e-7)


def test_tuner_failure_carries_the_cause():
    G = isolated_node()
    res = bandit.Tuner(solver="cg").solve(G, np.ones(16))
    assert not res.converged and "row 5" in res.info["cause"]


@pytest.mark.parametrize("backend", ["numba", "petsc"])
def test_cause_names_the_first_row_of_two_and_their_floor(backend):
    if backend == "petsc":
        pytest.importorskip("petsc4py")
    G = isolated_node(rows=(5, 12))
    res = cg(G, np.arange(1.0, 17.0), backend=backend)
    assert not res.converged
    cause = res.info["cause"]
    assert "2 rows" in cause and "row 5, b[5] = 6" in cause
    assert f"{np.hypot(6.0, 13.0):.3e}" in cause


def test_two_ranks_name_the_same_cause(tmp_path):
    pytest.importorskip("petsc4py")
    from mpi_launch import ENV

    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable,
           str(HERE / "mpi_empty_rows.py"), str(tmp_path)]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    serial = cg(isolated_node(rows=(5, 12)), np.ones(16))
    for r in reports:
        assert not r["inconsistent"]["converged"]
        assert r["inconsistent"]["cause"] == serial.info["cause"]  # rows 5 and 12: both ranks
        assert r["consistent"]["converged"] and r["consistent"]["cause"] is None
    G = isolated_node(rows=(5, 12))
    b = np.where(np.isin(np.arange(16), (5, 12)), 0.0, 1.0)
    x = np.array(reports[0]["consistent"]["x"])
    keep = b != 0.0
    np.testing.assert_allclose(x[keep], np.linalg.solve(G.toarray()[np.ix_(keep, keep)],
                                                        b[keep]), rtol=1e-7)
