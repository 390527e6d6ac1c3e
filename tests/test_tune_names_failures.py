"""``relaxtune tune`` on a system no arm can solve says why, as the Tuner's result does.

A symmetric indefinite matrix (the 8 × 8 Laplacian shifted between its two smallest
eigenvalues, checked with the dense spectrum) given to SSOR-PCG: every run breaks down at
once.  The table had said only "(no solve converged)" on every row, with nothing naming the
cause; the report now adds the tuned run's failure for the first unsolved system (the matrix
is not positive definite) and ``summary.json`` lists every unsolved system."""
import json

import numpy as np
import scipy.io
import scipy.sparse as sp

from experiments import user_files as uf
from experiments.cli import main
from solvers import gallery


def indefinite():
    K = sp.csr_matrix(gallery.laplacian_2d(8))
    ev = np.linalg.eigvalsh(K.toarray())
    A = sp.csr_matrix(K - 0.5 * (ev[0] + ev[1]) * sp.identity(K.shape[0]))
    shifted = np.linalg.eigvalsh(A.toarray())
    assert shifted[0] < 0 < shifted[1]  # one negative eigenvalue: indefinite
    return A


def test_the_report_names_why_the_tuned_run_failed(tmp_path, capsys):
    bad, good = tmp_path / "bad.mtx", tmp_path / "good.mtx"
    scipy.io.mmwrite(bad, indefinite())
    scipy.io.mmwrite(good, sp.csr_matrix(gallery.laplacian_2d(8)))
    out = tmp_path / "out"
    # status 3: a system left unsolved
    assert main(["tune", str(good), str(bad), "--out", str(out), "--no-plots"]) == 3
    text = capsys.readouterr().out
    line = [s for s in text.splitlines() if s.startswith("not solved by the tuned run")]
    assert len(line) == 1, text
    assert f"system 2 ({bad})" in line[0] and "not positive definite" in line[0]
    summary = json.loads((out / "summary.json").read_text())
    assert [f["system"] for f in summary["failures"]] == [2]
    assert summary["tuned"]["not_converged"] == 1


def test_a_run_that_solved_everything_says_nothing_more():
    A = sp.csr_matrix(gallery.laplacian_2d(8))
    res = uf.run([(A, np.ones(64))] * 2, solver="sor", arms=[1.0, 1.5], audit_budget=None)
    s = uf.summarize(res)
    assert res["failures"] == [] and "failures" not in s and uf.format_failures(s) == ""
