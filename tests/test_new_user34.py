"""A new user's scenarios (round 34): a failed preconditioned CG on an inconsistent singular
system, a right-hand side held as a ``np.matrix`` row, SSOR-PCG on a matrix whose entries
span 1e32, ``relaxtune --version``, and a saved tuner file given to ``relaxtune tune`` as a
matrix; each checked against an independent reference (dense NumPy, scipy, setup.cfg)."""
import configparser
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
import scipy.sparse.csgraph as csg
import scipy.sparse.linalg as spla

import bandit
import solvers
import solvers.spectral
from experiments import cli

ROOT = Path(__file__).resolve().parent.parent


def _graph_laplacian(n=40, seed=0):
    rng = np.random.default_rng(seed)
    G = sp.random(n, n, density=0.15, random_state=seed)
    G = G + G.T + sp.diags(np.ones(n - 1), 1) + sp.diags(np.ones(n - 1), -1)  # connected
    return csg.laplacian(G.tocsr()).tocsr(), rng.standard_normal(n)


@pytest.fixture
def floors(monkeypatch):
    """Every call of the inconsistency diagnosis's pass (solvers.spectral.null_floor)."""
    calls = []
    real = solvers.spectral.null_floor
    monkeypatch.setattr(solvers.spectral, "null_floor", lambda *a: calls.append(1) or real(*a))
    return calls


# --- a failed pcg on an inconsistent singular system says why -------------------------------

@pytest.mark.parametrize("pc", ["jacobi", "ic0", "amg"])
def test_a_failed_pcg_of_an_inconsistent_graph_laplacian_says_why(pc):
    L, b = _graph_laplacian()
    # the reference: 1ᵀL = 0, and the least-squares residual is b's mean times √n
    floor = abs(b.sum()) / np.sqrt(b.size)
    x_ls = np.linalg.lstsq(L.toarray(), b, rcond=None)[0]
    assert np.linalg.norm(b - L @ x_ls) == pytest.approx(floor, rel=1e-9)
    res = solvers.pcg(L, b, pc)
    assert not res.converged
    cause = res.info["cause"]
    assert cause.startswith("A x = b is inconsistent: the columns of A sum to zero")
    assert f"‖b − A x‖ >= {floor:.3e}" in cause and "b − b.mean()" in cause
    if res.reason == "breakdown":  # (CG meets one there: said after the cause)
        assert "the solve stopped at a breakdown: pᵀAp <= 0 or rᵀz <= 0" in cause
    fixed = solvers.pcg(L, b - b.mean(), pc)  # the advice works
    assert fixed.converged and "cause" not in fixed.info


def test_plain_cg_breaking_down_on_an_inconsistent_neumann_grid_says_why():
    """Plain CG on a 2-D pure Neumann grid broke down and was told "not positive definite"."""
    n = 12
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n)).tolil()
    T[0, 0] = T[-1, -1] = 1.0
    I = sp.identity(n)
    A = sp.csr_array(sp.kron(T, I) + sp.kron(I, T))
    b = np.random.default_rng(3).standard_normal(n * n) + 0.1
    assert abs(np.linalg.eigvalsh(A.toarray())).min() < 1e-12  # singular (dense reference)
    res = solvers.cg(A, b)
    assert not res.converged
    assert res.info["cause"].startswith("A x = b is inconsistent: the columns of A sum to zero")


def test_pcg_without_the_diagnosis_makes_no_pass(floors):
    L, b = _graph_laplacian()
    res = solvers.pcg(L, b, "jacobi", diagnose=False)
    assert not res.converged and not floors
    assert "inconsistent" not in res.info.get("cause", "")
    with pytest.raises(TypeError, match="diagnose must be True or False"):
        solvers.pcg(L, b, "jacobi", diagnose="no")


def test_the_tuners_configuration_runs_pay_for_no_diagnosis(floors):
    """The Tuner's pcg arms run without the diagnosis (the guard caps their tries); the
    Tuner's own check names the inconsistent system once per refused round."""
    L, b = _graph_laplacian()
    arms = [{"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "ic0"}]
    tuner = bandit.Tuner(arms)
    assert all(kw[g]["diagnose"] is False for _, kw in tuner._calls for g in kw)
    for _ in range(3):
        with pytest.raises(ValueError, match="A x = b is inconsistent"):
            tuner.solve(L, b)
    assert len(floors) == 3  # the Tuner's own, one a round


# --- a np.matrix row as b: advice that works -------------------------------------------------

def test_a_matrix_row_gets_advice_that_works():
    A = sp.diags([-1.0, 2.5, -1.0], [-1, 0, 1], shape=(8, 8)).tocsr()
    with pytest.warns(PendingDeprecationWarning):  # (NumPy's word on np.matrix)
        b = np.matrix(np.linspace(1.0, 2.0, 8))
    assert b.ravel().shape == (1, 8)  # why "b.ravel()" had not worked
    with pytest.raises(ValueError, match=r"a row: .* pass np\.asarray\(b\)\.ravel\(\)$"):
        solvers.cg(A, b)
    res = solvers.cg(A, np.asarray(b).ravel(), rtol=1e-12)  # the advice works
    np.testing.assert_allclose(res.x, np.linalg.solve(A.toarray(), np.asarray(b).ravel()),
                               rtol=1e-10)
    # an ndarray row keeps its own advice, which works for it
    with pytest.raises(ValueError, match=r"a row: .* pass b\.ravel\(\)$"):
        solvers.cg(A, np.asarray(b))


# --- SSOR-PCG on entries spanning 1e32: a spurious divergence named ------------------------

def _scaled_laplacian():
    A0 = sp.csr_array(solvers.gallery.laplacian_2d(10))
    S = sp.diags(np.logspace(-8, 8, A0.shape[0]))
    return sp.csr_array(S @ A0 @ S)


def test_ssor_pcg_stopped_by_a_transient_says_so_and_the_way_out_works():
    A = _scaled_laplacian()
    b = np.ones(A.shape[0])
    d = A.diagonal()
    assert d.max() / d.min() > 1e31  # the diagonal spans 1e32 > dtol² = 1e24
    res = solvers.ssor_pcg(A, b, 1.5, rtol=1e-2)
    assert res.reason == "diverged" and res.iterations == 1
    assert "CG's residual may grow by up to √κ(A)" in res.info["cause"]
    assert "ssor_pcg with dtol=inf" in res.info["cause"]
    # the reference: scipy's CG on the symmetrically rescaled system, D^-1/2 A D^-1/2
    Dh = 1.0 / np.sqrt(d)
    y, info = spla.cg(sp.diags(Dh) @ A @ sp.diags(Dh), Dh * b, rtol=1e-12, maxiter=5000)
    assert info == 0
    ref = Dh * y
    dense = np.linalg.solve(A.toarray(), b)
    assert np.linalg.norm(ref - dense) <= 1e-9 * np.linalg.norm(dense)
    fixed = solvers.ssor_pcg(A, b, 1.5, rtol=1e-2, dtol=np.inf)  # the advice works
    assert fixed.converged and np.linalg.norm(b - A @ fixed.x) <= 1e-2 * np.linalg.norm(b)
    # the same solution as the rescaled system's (the stop at iteration 1 was no divergence)
    assert np.linalg.norm(fixed.x - ref) <= 1e-9 * np.linalg.norm(ref)


def test_pcg_stopped_by_a_transient_says_so():
    A = _scaled_laplacian()
    res = solvers.pcg(A, np.ones(A.shape[0]), "jacobi")
    assert res.reason == "diverged"
    assert "pcg with dtol=inf" in res.info["cause"]


# --- relaxtune --version ----------------------------------------------------------------------

def test_version_is_setup_cfgs(capsys):
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"relaxtune {cfg['metadata']['version']}"


# --- a saved tuner file given as a matrix ---------------------------------------------------

@pytest.fixture
def tuner_file(tmp_path):
    A = sp.diags([-1.0, 2.1, -1.0], [-1, 0, 1], shape=(12, 12)).tocsr()
    tuner = bandit.Tuner()
    tuner.solve(A, np.ones(12))
    path = tmp_path / "tuner.json"
    tuner.save(path)
    assert json.loads(path.read_text())["format"] == "relaxtune.tuner"
    scipy.io.mmwrite(tmp_path / "a.mtx", A)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_tune_given_a_tuner_file_says_what_it_is(tuner_file, capsys, gz):
    path = tuner_file
    if gz:
        path = tuner_file.with_name("run.json.gz")
        path.write_bytes(gzip.compress(tuner_file.read_bytes()))
    assert cli.main(["tune", str(path), "--no-plots", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: a saved tuner file" in err and "not a matrix" in err
    assert f"relaxtune plot {path}" in err and f"--resume {path}" in err
    assert "unknown file type" not in err


def test_tune_given_a_tuner_file_as_rhs_or_its_folder_says_what_it_is(tuner_file, capsys):
    mtx = str(tuner_file.parent / "a.mtx")
    assert cli.main(["tune", mtx, "--rhs", str(tuner_file), "--no-plots", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "a saved tuner file" in err and "not a right-hand side" in err
    assert cli.main(["tune", str(tuner_file.parent), "--no-plots", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "a relaxtune tune folder, not matrices" in err and f"--resume {tuner_file}" in err


def test_the_advice_for_a_tuner_file_works(tuner_file, tmp_path, capsys):
    mtx = str(tuner_file.parent / "a.mtx")
    out = tmp_path / "more"
    assert cli.main(["tune", mtx, "--resume", str(tuner_file), "--out", str(out),
                     "--no-plots", "--quiet", "--no-exact"]) == 0
    assert cli.main(["plot", str(tuner_file), "--out", str(tmp_path / "fig")]) == 0


def test_other_json_stays_an_unknown_file_type(tmp_path, capsys):
    path = tmp_path / "notes.json"
    path.write_text('{"format": "something else"}')
    assert cli.main(["tune", str(path), "--no-plots", "--quiet"]) == 2
    assert "unknown file type" in capsys.readouterr().err
