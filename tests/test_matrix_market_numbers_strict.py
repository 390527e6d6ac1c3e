"""Matrix Market files whose numbers scipy's reader misreads without a word: a decimal comma,
Fortran's ``D`` exponent, trailing characters, more numbers on a line than the header says
(complex values under a ``real`` header). ``relaxtune tune`` refuses them by name; it had
tuned the system scipy read — ``1,5`` as 1, ``1.5D-3`` as 1.5, ``-1 0.5`` as −1 — and
reported it converged. Ordinary files (comments, blank lines, CRLF, gzip, any exponent
scipy's writer uses) read exactly as before."""
import gzip

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from experiments import user_files
from test_probe14_cli import relaxtune

HEAD = "%%MatrixMarket matrix coordinate {field} general\n3 3 5\n"
ENTRIES = ["1 1 2", "2 2 2", "3 3 2", "2 1 {v}", "1 2 -1"]


def write(path, value, field="real"):
    body = "\n".join(ENTRIES).format(v=value) + "\n"
    path.write_text(HEAD.format(field=field) + body)
    return path


@pytest.mark.parametrize("value, scipy_reads", [("-1,5", -1.0), ("-1.5D-3", -1.5),
                                                ("-1.5.3", -1.5), ("-1.5x", -1.5)])
def test_misread_numbers_are_refused(tmp_path, value, scipy_reads):
    path = write(tmp_path / "A.mtx", value)
    assert scipy.io.mmread(path).toarray()[1, 0] == scipy_reads  # what it had been read as
    with pytest.raises(ValueError, match=r"A\.mtx: cannot read it as \.mtx: an entry is "
                                         r"not a number as Matrix Market "
                                         r"writes them \(line 6, '2 1 " + value + r"'\)"):
        user_files.read_matrix(path)
    p = relaxtune("tune", "A.mtx", "--solver", "sor", "--quiet", "--out", "out", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().startswith(
        "relaxtune: error: A.mtx: cannot read it as .mtx: an entry is not a number")
    assert not (tmp_path / "out" / "tuner.json").exists()


def test_complex_values_under_a_real_header_are_refused(tmp_path):
    path = tmp_path / "A.mtx"
    path.write_text(HEAD.format(field="real") + "\n".join(
        f"{e} 0.5" for e in "\n".join(ENTRIES).format(v=-1).splitlines()) + "\n")
    assert scipy.io.mmread(path).toarray()[1, 0] == -1.0  # the imaginary parts dropped
    with pytest.raises(ValueError, match=r"hold 4 numbers each, and a coordinate real file "
                                         r"has 3 .*imaginary parts"):
        user_files.read_matrix(path)


def test_right_hand_side_with_a_decimal_comma_is_refused(tmp_path):
    path = tmp_path / "b.mtx"
    path.write_text("%%MatrixMarket matrix array real general\n3 1\n1\n2,5\n3\n")
    assert scipy.io.mmread(path).ravel()[1] == 2.0
    with pytest.raises(ValueError, match=r"b\.mtx: cannot read it as \.mtx: an entry is "
                                         r"not a number .*'2,5'"):
        user_files.read_vector(path, 3)


def test_integer_file_with_fractions_is_refused(tmp_path):
    path = write(tmp_path / "A.mtx", "-1.5", field="integer")
    with pytest.raises(ValueError, match=r"'integer' file holds non-integer values"):
        user_files.read_matrix(path)


def test_ordinary_files_read_exactly(tmp_path):
    A = sp.random(30, 30, density=0.2, random_state=1, format="csr") + 30 * sp.eye(30)
    A = sp.csr_matrix(A)
    scipy.io.mmwrite(tmp_path / "w.mtx", A, precision=17)
    np.testing.assert_array_equal(user_files.read_matrix(tmp_path / "w.mtx").toarray(),
                                  A.toarray())
    with open(tmp_path / "w.mtx", "rb") as f, gzip.open(tmp_path / "w.mtx.gz", "wb") as g:
        g.write(f.read())
    np.testing.assert_array_equal(user_files.read_matrix(tmp_path / "w.mtx.gz").toarray(),
                                  A.toarray())
    # comments and blank lines before the size line, CRLF, exponents, '.5', '4.', '+1'
    text = ("%%MatrixMarket matrix coordinate real symmetric\r\n% a comment\r\n\r\n3 3 5\r\n"
            "1 1 4.\r\n2 2 .5E+1\r\n3 3 4e0\r\n2 1 -1.0e-00\r\n"
            "3 2 -0.5\r\n")
    (tmp_path / "s.mtx").write_text(text)
    expected = np.array([[4, -1, 0], [-1, 5, -0.5], [0, -0.5, 4]])
    np.testing.assert_array_equal(user_files.read_matrix(tmp_path / "s.mtx").toarray(),
                                  expected)
    scipy.io.mmwrite(tmp_path / "b.mtx", np.arange(1.0, 31.0).reshape(-1, 1))
    np.testing.assert_array_equal(user_files.read_vector(tmp_path / "b.mtx", 30),
                                  np.arange(1.0, 31.0))
    (tmp_path / "i.mtx").write_text("%%MatrixMarket matrix coordinate integer general\n"
                                    "2 2 2\n1 1 3\n2 2 -4\n")
    np.testing.assert_array_equal(user_files.read_matrix(tmp_path / "i.mtx").toarray(),
                                  [[3, 0], [0, -4]])


def test_strict_pass_runs_once_per_version_of_a_file(tmp_path, monkeypatch):
    # `relaxtune tune` reads every file to check it, then again to solve: the strict pass
    # (about three of scipy's reads) runs once per version of the file, and a file rewritten
    # since is checked again, even at the same size
    import os

    calls = []
    strict = user_files._check_numbers
    monkeypatch.setattr(user_files, "_check_numbers",
                        lambda *a: (calls.append(a[0]), strict(*a))[1])
    path = write(tmp_path / "A.mtx", "-1.5")
    first = user_files.read_matrix(path)
    again = user_files.read_matrix(path)
    assert len(calls) == 1
    assert np.array_equal(first.toarray(), again.toarray()) and first[1, 0] == -1.5
    st = os.stat(path)
    write(path, "-1,5")  # the same size, a misread number
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    with pytest.raises(ValueError, match="not a number as Matrix Market writes them"):
        user_files.read_matrix(path)
    assert len(calls) == 2


def test_skew_symmetric_file_with_a_diagonal_entry_is_refused(tmp_path):
    # a skew-symmetric matrix has a zero diagonal (a_ii = -a_ii); scipy keeps a listed
    # diagonal entry, and the matrix read is then neither the file's nor skew-symmetric
    path = tmp_path / "S.mtx"
    path.write_text("%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 3\n"
                    "1 1 4\n2 1 -1\n2 2 4\n")
    G = scipy.io.mmread(path).toarray()
    assert G[0, 0] == 4 and G[1, 0] == -G[0, 1] == -1  # what scipy makes of it, silently
    with pytest.raises(ValueError, match=r"S\.mtx: skew-symmetric storage with a nonzero "
                                         r"diagonal entry \(row 1\)"):
        user_files.read_matrix(path)
    p = relaxtune("tune", "S.mtx", "--solver", "sor", "--quiet", "--out", "out", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "skew-symmetric storage with a nonzero diagonal entry" in p.stderr
