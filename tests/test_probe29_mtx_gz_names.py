"""Matrix Market files whose name and compression disagree.

``relaxtune tune`` takes ``.MTX.GZ`` as ``.mtx.gz`` (its suffixes are matched in any case),
but scipy decompresses only a name ending in ``.gz`` in lower case: such a file had been read
as text and refused as "Not a Matrix Market file. Missing banner."  A gzip file named
``.mtx``, or a plain one named ``.mtx.gz``, is refused as before, the message now saying
which it is.
"""
import gzip

import numpy as np
import scipy.io
import scipy.sparse as sp

import pytest

from experiments import user_files
from solvers import gallery


def _plain(tmp_path):
    A = sp.csr_matrix(gallery.laplacian_2d(5))
    path = tmp_path / "plain.mtx"
    scipy.io.mmwrite(path, A)
    return A, path.read_bytes()


def test_an_upper_case_gz_name_is_decompressed(tmp_path):
    A, raw = _plain(tmp_path)
    path = tmp_path / "STEP1.MTX.GZ"
    path.write_bytes(gzip.compress(raw))
    M = user_files.read_matrix(path)
    assert (M != A).nnz == 0
    b = tmp_path / "B1.MTX.GZ"
    vec = tmp_path / "b.mtx"
    scipy.io.mmwrite(vec, np.arange(1.0, 26.0)[:, None])
    b.write_bytes(gzip.compress(vec.read_bytes()))
    assert np.array_equal(user_files.read_vector(b, 25), np.arange(1.0, 26.0))


def test_a_gzip_file_named_mtx_is_said_to_be_compressed(tmp_path):
    _, raw = _plain(tmp_path)
    path = tmp_path / "step.mtx"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match=r"the file is gzip-compressed: name it step\.mtx\.gz"):
        user_files.read_matrix(path)


def test_a_plain_file_named_gz_is_said_to_be_plain(tmp_path):
    _, raw = _plain(tmp_path)
    path = tmp_path / "step.mtx.gz"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=r"the file is not gzip-compressed"):
        user_files.read_matrix(path)
