"""A Matrix Market file whose entry line holds too few numbers is named by its line in the
file, and one cut short mid-line (copied, or read, while its writer was still at work) is said
to be one.

The refusal had quoted NumPy's reader: "the number of columns changed from 3 to 2 at row 48;
use `usecols` to select a subset and avoid this error; rows counted from the first entry
line, line 4" — an option ``relaxtune tune`` does not have, rows counted from elsewhere, and
then the advice for a decimal comma or a Fortran exponent, neither of which was the problem.
"""
import gzip

import pytest
import scipy.io
import scipy.sparse as sp

from experiments import user_files
from solvers import gallery


def _full(tmp_path):
    path = tmp_path / "full.mtx"
    scipy.io.mmwrite(path, sp.csr_matrix(gallery.laplacian_2d(5)))
    return path.read_bytes()


@pytest.mark.parametrize("gz", [False, True])
def test_a_file_cut_mid_line_is_said_to_be_cut_short(tmp_path, gz):
    raw = _full(tmp_path)
    lines = raw.split(b"\n")
    keep = lines[:40] + [lines[40].rsplit(b" ", 1)[0]]  # line 41 cut before its value
    cut = b"\n".join(keep)
    path = tmp_path / ("cut.mtx.gz" if gz else "cut.mtx")
    path.write_bytes(gzip.compress(cut) if gz else cut)
    with pytest.raises(ValueError) as info:
        user_files.read_matrix(path)
    msg = str(info.value)
    shown = keep[-1].decode()
    assert f"line 41 ('{shown}') holds 2 numbers, and a coordinate real file has 3" in msg
    assert "cut short" in msg and "usecols" not in msg and "Fortran" not in msg


def test_a_line_missing_its_value_inside_the_file_is_named(tmp_path):
    lines = _full(tmp_path).split(b"\n")
    lines[20] = lines[20].rsplit(b" ", 1)[0]
    path = tmp_path / "gap.mtx"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ValueError) as info:
        user_files.read_matrix(path)
    msg = str(info.value)
    assert f"line 21 ('{lines[20].decode()}') holds 2 numbers" in msg
    assert "cut short" not in msg and "usecols" not in msg
