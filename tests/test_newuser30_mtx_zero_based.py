"""A Matrix Market file written with 0-based indices (a hand-written writer counting as
Python does) is refused naming its first such line and saying that the format counts from 1;
scipy's words, "Row index out of bounds", had been quoted alone.  The same file with every
index plus one is read as the matrix it describes."""
import numpy as np
import pytest

from experiments import user_files as uf
from experiments.cli import main

ZERO = ("%%MatrixMarket matrix coordinate real general\n% written 0-based\n3 3 5\n"
        "0 0 4\n1 1 4\n2 2 4\n0 1 -1\n1 0 -1\n")


def test_a_zero_based_matrix_is_named(tmp_path, capsys):
    path = tmp_path / "A.mtx"
    path.write_text(ZERO)
    assert main(["tune", str(path), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        f"relaxtune: error: {path}: line 4 ('0 0 4') has an index below 1; Matrix Market "
        f"numbers rows and columns from 1 (written with 0-based indices, as Python counts? "
        f"add 1 to every index, or write the file with scipy.io.mmwrite)\n")


def test_a_zero_based_right_hand_side_is_named(tmp_path):
    path = tmp_path / "b.mtx"
    path.write_text("%%MatrixMarket matrix coordinate real general\n3 1 3\n0 0 1\n1 0 1\n"
                    "2 0 1\n")
    with pytest.raises(ValueError, match=r"line 3 \('0 0 1'\) has an index below 1"):
        uf.read_vector(path, 3)


def test_the_same_file_one_based_is_read(tmp_path):
    lines = ZERO.splitlines()
    body = [" ".join([str(int(r) + 1), str(int(c) + 1), v])
            for r, c, v in (line.split() for line in lines[3:])]
    path = tmp_path / "A.mtx"
    path.write_text("\n".join(lines[:3] + body) + "\n")
    A = uf.read_matrix(path).toarray()
    np.testing.assert_array_equal(A, [[4, -1, 0], [-1, 4, 0], [0, 0, 4]])
