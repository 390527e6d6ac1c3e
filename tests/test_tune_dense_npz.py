"""``relaxtune tune`` given a NumPy ``.npz`` of dense arrays (``np.savez``) as a matrix: the
error says what the file holds and how to save the matrix as relaxtune reads it (scipy had
said only "does not contain a sparse array or matrix")."""
import numpy as np
import scipy.sparse as sp

from experiments.cli import main
from experiments.user_files import read_matrix
from solvers import gallery


def test_a_dense_npz_is_named_with_its_arrays_and_the_fix(tmp_path, capsys):
    A = gallery.laplacian_2d(4).toarray()
    np.savez(tmp_path / "A.npz", A=A)
    assert main(["tune", str(tmp_path / "A.npz"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        f"relaxtune: error: {tmp_path / 'A.npz'}: a NumPy .npz of dense arrays ('A' of shape "
        f"(16, 16); np.savez), not a scipy sparse matrix: save the matrix with "
        f"scipy.sparse.save_npz(path, scipy.sparse.csr_matrix(A)), or as Matrix Market "
        f"(scipy.io.mmwrite)\n")
    # saved as the message says, it is read as the matrix it holds
    sp.save_npz(tmp_path / "B.npz", sp.csr_matrix(A))
    assert np.array_equal(read_matrix(tmp_path / "B.npz").toarray(), A)
