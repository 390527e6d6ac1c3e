"""A Matrix Market file that starts with a byte-order mark (the UTF-8 signature some Windows
editors write) is refused by ``relaxtune tune`` saying so and what to do: scipy's reader finds
no banner there, and "Missing banner" had been all the error said of a file whose banner is
on its first line."""
import gzip

import numpy as np
import pytest
import scipy.io

from experiments.cli import main
from experiments.user_files import read_matrix, read_vector
from solvers import gallery

BOM = b"\xef\xbb\xbf"
NOTE = ("; the file starts with a byte-order mark (the UTF-8 signature some Windows editors "
        "write) before its %%MatrixMarket banner: save it without one (UTF-8, no signature)")


def _files(tmp_path):
    scipy.io.mmwrite(tmp_path / "A.mtx", gallery.laplacian_2d(4))
    scipy.io.mmwrite(tmp_path / "b.mtx", np.ones((16, 1)))
    raw, rhs = (tmp_path / "A.mtx").read_bytes(), (tmp_path / "b.mtx").read_bytes()
    (tmp_path / "bom.mtx").write_bytes(BOM + raw)
    (tmp_path / "bom.mtx.gz").write_bytes(gzip.compress(BOM + raw))
    (tmp_path / "bom_b.mtx").write_bytes(BOM + rhs)
    return tmp_path


@pytest.mark.parametrize("name", ["bom.mtx", "bom.mtx.gz"])
def test_a_matrix_with_a_byte_order_mark_is_refused_saying_so(tmp_path, name):
    path = _files(tmp_path) / name
    with pytest.raises(ValueError) as err:
        read_matrix(path)
    assert str(err.value).startswith(f"{path}: cannot read it as .mtx")
    assert str(err.value).endswith(NOTE)


def test_a_right_hand_side_with_a_byte_order_mark_is_refused_saying_so(tmp_path):
    path = _files(tmp_path) / "bom_b.mtx"
    with pytest.raises(ValueError) as err:
        read_vector(path, 16)
    assert str(err.value).endswith(NOTE)


def test_the_command_line_says_it_in_one_line(tmp_path, capsys):
    folder = _files(tmp_path)
    assert main(["tune", str(folder / "bom.mtx"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith(NOTE)


def test_other_unreadable_files_get_no_such_note(tmp_path):
    path = tmp_path / "bad.mtx"
    path.write_bytes(b"%%MatrixMarkt matrix coordinate real general\n1 1 1\n1 1 1.0\n")
    with pytest.raises(ValueError) as err:
        read_matrix(path)
    assert "byte-order mark" not in str(err.value)
    assert read_matrix(_files(tmp_path) / "A.mtx").shape == (16, 16)
