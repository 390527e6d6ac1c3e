"""A right-hand side's ``.txt`` file: numbers separated by white space, read in order
whatever the count on each line, and a file that is not that named by its first bad line.

A vector written a few numbers a line with a shorter last line (Fortran's list-directed
output, ``write(*,*) b``) had been refused with NumPy's "the number of columns changed from
5 to 1 at row 8; use `usecols` ...", and a comma-separated file (``np.savetxt(...,
delimiter=",")``) with "could not convert string '1.0,2.0,...' to float64 at row 0, column 1".
"""
import numpy as np
import pytest

from experiments import user_files


def test_lines_of_unequal_counts_are_read_in_order(tmp_path):
    v = np.arange(1.0, 37.0) / 7
    path = tmp_path / "b.txt"
    path.write_text("# b of step 3\n" + "\n".join(
        " ".join(repr(float(x)) for x in v[i:i + 5]) for i in range(0, 36, 5)) + "\n")
    assert np.array_equal(user_files.read_vector(path, 36), v)


def test_a_table_is_read_as_before(tmp_path):
    path = tmp_path / "b.txt"
    np.savetxt(path, np.arange(6.0))
    assert np.array_equal(user_files.read_vector(path, 6), np.arange(6.0))
    np.savetxt(path, np.arange(6.0).reshape(2, 3))  # two right-hand sides: refused as before
    with pytest.raises(ValueError, match="a vector of 6 entries was expected"):
        user_files.read_vector(path, 6)


@pytest.mark.parametrize("text, said", [
    ("1.0,2.0,3.0\n", "line 1 is '1.0,2.0,3.0' (values separated by commas)"),
    ("1.0\n2.0\nthree\n", "line 3 is 'three', not numbers"),
])
def test_a_file_that_is_not_numbers_is_named_by_its_line(tmp_path, text, said):
    path = tmp_path / "b.txt"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        user_files.read_vector(path, 3)
    msg = str(info.value)
    assert msg.startswith(f"{path}: cannot read it as .txt: {said}")
    assert "could not convert" not in msg and "usecols" not in msg
