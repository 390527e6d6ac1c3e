"""A user's own matrix and right-hand-side files that ``relaxtune tune`` must refuse by name."""
import numpy as np
import pytest
import scipy.sparse as sp

from experiments import user_files
from test_probe14_cli import relaxtune


def laplacian_1d(n):
    return sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tocsr()


def test_boolean_npz_matrix_is_a_pattern_and_refused(tmp_path):
    # save_npz of a boolean matrix keeps its pattern only: every stored entry read as 1.0, so
    # the 1-D Laplacian [2, -1; -1, 2 ...] became [1, 1; 1, 1 ...] and was tuned without a word
    # (a Matrix Market pattern file had been refused already)
    A = laplacian_1d(6)
    sp.save_npz(tmp_path / "A.npz", A.astype(bool))
    assert np.array_equal(sp.load_npz(tmp_path / "A.npz").astype(float).toarray(),
                          np.abs(np.sign(A.toarray())))  # what it had been read as
    with pytest.raises(ValueError, match=r"A\.npz: boolean values, a sparsity pattern only"):
        user_files.read_matrix(tmp_path / "A.npz")
    p = relaxtune("tune", "A.npz", "--solver", "sor", "--quiet", "--out", "out", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [
        "relaxtune: error: A.npz: boolean values, a sparsity pattern only; the systems need "
        "their numbers"]
    assert not (tmp_path / "out" / "tuner.json").exists()
    # the same values as numbers are read exactly
    sp.save_npz(tmp_path / "B.npz", A.astype(np.int8))
    assert np.array_equal(user_files.read_matrix(tmp_path / "B.npz").toarray(), A.toarray())


def test_one_non_finite_entry_is_counted_in_the_singular(tmp_path):
    b = np.ones(6)
    b[2] = np.nan
    np.save(tmp_path / "b.npy", b)
    with pytest.raises(ValueError, match=r"b\.npy: 1 entry is not finite \(NaN or Inf\), the first at entry 3$"):
        user_files.read_vector(tmp_path / "b.npy", 6)
    b[3] = np.inf
    np.save(tmp_path / "b.npy", b)
    with pytest.raises(ValueError, match=r"b\.npy: 2 entries are not finite"):
        user_files.read_vector(tmp_path / "b.npy", 6)
