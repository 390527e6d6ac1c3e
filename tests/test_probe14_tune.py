"""``relaxtune tune`` on a user's own files (written with scipy.io.mmwrite / save_npz), its
totals checked against SOR solved here with scipy's triangular solve, independently of the
library's kernels."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.io as sio
import scipy.sparse as sp
import scipy.sparse.linalg as sla

ROOT = Path(__file__).resolve().parents[1]
OMEGAS = [1.2, 1.5]


def relaxtune(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def laplacian(m, shift=0.0):
    T = sp.diags([-np.ones(m - 1), (2 + shift) * np.ones(m), -np.ones(m - 1)], [-1, 0, 1])
    return (sp.kron(sp.eye(m), T) + sp.kron(T, sp.eye(m))).tocsr()


def sor_reference(A, b, omega, x, rtol=1e-8, maxiter=10000):
    """Forward SOR, (D/ω + L) x⁺ = b − (U + (1 − 1/ω) D) x, stopped at ‖b − A x‖ ≤ rtol‖b‖."""
    D = A.diagonal()
    M = (sp.diags(D) / omega + sp.tril(A, -1)).tocsr()
    U = sp.triu(A, 1).tocsr()
    nb = np.linalg.norm(b)
    if np.linalg.norm(b - A @ x) <= rtol * nb:
        return 0, x
    for k in range(1, maxiter + 1):
        x = sla.spsolve_triangular(M, b - U @ x - (1 - 1 / omega) * D * x, lower=True)
        if np.linalg.norm(b - A @ x) <= rtol * nb:
            return k, x
    raise AssertionError("reference SOR did not converge")


def test_warm_run_whose_size_changes_matches_sor_from_zero_there(tmp_path):
    # 5×5, 5×5, 6×6, 6×6 grids in symmetric storage: --warm starts system 2 from system 1's
    # solution, system 3 from zero (its size changed) and system 4 from system 3's; the help
    # had not said what happens where the size changes
    mats = [laplacian(5), laplacian(5, 0.2), laplacian(6), laplacian(6, 0.2)]
    names = []
    for k, A in enumerate(mats):
        names.append(f"A{k}.mtx")
        sio.mmwrite(str(tmp_path / names[-1]), A, symmetry="symmetric")
    p = relaxtune("tune", *names, "--solver", "sor", "--warm", "--omegas", *map(str, OMEGAS),
                  "--no-plots", "--out", "out", "--quiet", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    played = np.genfromtxt(tmp_path / "out" / "history.csv", delimiter=",", names=True)["omega"]
    fixed = dict.fromkeys(OMEGAS, 0)
    x = None
    for A, w in zip(mats, played):
        b = np.ones(A.shape[0])
        x0 = x if x is not None and x.shape[0] == A.shape[0] else np.zeros(A.shape[0])
        for omega in OMEGAS:
            fixed[omega] += sor_reference(A, b, omega, x0)[0]
        x = sor_reference(A, b, float(w), x0)[1]
    assert {float(k): v for k, v in s["fixed"].items()} == fixed
    best = min(fixed.values())
    assert s["exact_regret"]["best_fixed"] == s["tuned"]["iterations"] - best
    h = relaxtune("tune", "--help", cwd=tmp_path).stdout
    assert "from zero where the size changes" in " ".join(h.split())


def test_continued_run_on_one_system_says_this_system(tmp_path):
    # the regret line of a continued run on one new system had read "exact 6 over these
    # 1 systems"
    for k in range(3):
        sp.save_npz(tmp_path / f"A{k}.npz", laplacian(5, 0.1 * k))
    p = relaxtune("tune", "A0.npz", "A1.npz", "--solver", "sor", "--omegas", "1.2", "1.5",
                  "--no-plots", "--out", "run1", "--quiet", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    p = relaxtune("tune", "A2.npz", "--resume", "run1/tuner.json", "--no-plots", "--out", "run2",
                  cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "run2" / "summary.json").read_text())
    assert f"exact {s['exact_regret']['best_fixed']:,} over this system" in p.stdout
    assert "1 systems" not in p.stdout
    # and the exact figures are those of scipy's SOR on the new system from zero
    A = laplacian(5, 0.2)
    its = {w: sor_reference(A, np.ones(25), w, np.zeros(25))[0] for w in OMEGAS}
    assert {float(k): v for k, v in s["fixed"].items()} == its


def test_grid_without_one_compares_with_its_omega_nearest_one_and_docs_say_so(tmp_path):
    # the docs promised a row for ω = 1; with --omegas 1.5 1.8 the row is ω = 1.5 (the
    # grid's nearest), labelled so, which the docs had not said
    sp.save_npz(tmp_path / "A.npz", laplacian(5))
    p = relaxtune("tune", "A.npz", "--solver", "sor", "--omegas", "1.8", "1.5", "--no-plots",
                  "--out", "out", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    its = sor_reference(laplacian(5), np.ones(25), 1.5, np.zeros(25))[0]
    assert s["omega_one"] == {"omega": 1.5, "iterations": its, "all_converged": True,
                              "not_converged": 0}
    assert any(line.startswith("fixed ω = 1.5 ") and f" {its} " in line
               for line in p.stdout.splitlines())
    doc = " ".join((ROOT / "docs" / "cli.rst").read_text(encoding="utf-8").split())
    assert "ω = 1 (the grid's ω nearest 1 when ``--omegas`` leaves 1 out" in doc
