"""A file of another kind given where a tuner file goes (``Tuner.load``, ``relaxtune tune
--resume``, ``relaxtune plot``): a matrix, an array, a figure.  The error says what the file
is, read from its first bytes, instead of calling it a corrupt or truncated tuner file."""
import gzip

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import bandit
from experiments.cli import main
from tests.test_tune_exit_status import _laplacians

A = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(5, 5), format="csr")


def _mtx(path):
    scipy.io.mmwrite(path, A)


def _npz(path):
    sp.save_npz(path, A)


def _npy(path):
    np.save(path, np.ones(5))


def _gz(path):
    path.write_bytes(gzip.compress(b"%%MatrixMarket matrix coordinate real general\n"))


def _png(path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))


def _pdf(path):
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


@pytest.mark.parametrize("name, write, kind", [
    ("A.mtx", _mtx, "a Matrix Market file (a matrix or a vector)"),
    ("A.npz", _npz, "a zip archive (such as scipy's .npz of a matrix)"),
    ("b.npy", _npy, "a NumPy .npy array"),
    ("A.mtx.gz", _gz, "a Matrix Market file (a matrix or a vector), gzip-compressed"),
    ("cost.png", _png, "a PNG image"),
    ("cost.pdf", _pdf, "a PDF document"),
])
def test_load_says_what_the_file_is(tmp_path, name, write, kind):
    path = tmp_path / name
    write(path)
    with pytest.raises(bandit.TunerFileError) as err:
        bandit.Tuner.load(path)
    assert str(err.value) == f"{path}: not a relaxtune.tuner file: it is {kind} (not JSON)"


def test_a_damaged_tuner_file_is_still_called_so(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"format": "relaxtune.tuner", "vers')
    with pytest.raises(bandit.TunerFileError, match="corrupt or truncated file"):
        bandit.Tuner.load(path)


def test_resume_given_a_matrix_says_where_the_matrices_go(tmp_path, capsys):
    mats = _laplacians(tmp_path, count=2)
    assert main(["tune", mats[1], "--resume", mats[0], "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == (f"relaxtune: error: --resume: {mats[0]}: not a relaxtune.tuner file: it is "
                   f"a Matrix Market file (a matrix or a vector) (not JSON); --resume takes a "
                   f"saved tuner (a relaxtune tune folder's tuner.json, or a file written by "
                   f"Tuner.save), the systems go in MATRIX ... and --rhs\n")
    assert not (tmp_path / "o").exists()
