"""``relaxtune tune --contexts`` takes a NumPy ``.npy`` array as well as a text file: the
``--rhs`` files may be ``.npy``, and a simulation that saves its step sizes with ``np.save``
had been told "line 1 is \"\\x93NUMPY...\" (values separated by commas), not numbers
separated by spaces".  The contexts the Tuner records are the file's."""
import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from experiments import user_files as uf
from experiments.cli import main
from solvers import gallery


@pytest.mark.parametrize("contexts", [np.array([0.1, 0.2, 0.4]),
                                      np.array([[0.1, 1.0], [0.2, 1.5], [0.4, 2.0]])])
def test_npy_contexts_reach_the_tuner(tmp_path, contexts):
    mats = []
    for k, dt in enumerate((0.1, 0.2, 0.4)):
        mats.append(tmp_path / f"step{k}.mtx")
        scipy.io.mmwrite(mats[-1], sp.csr_matrix(sp.identity(64) + dt * gallery.laplacian_2d(8)))
    ctx = tmp_path / "dt.npy"
    np.save(ctx, contexts)
    out = tmp_path / "out"
    assert main(["tune", *map(str, mats), "--contexts", str(ctx), "--no-exact", "--no-plots",
                 "--quiet", "--out", str(out)]) == 0
    tuner = json.loads((out / "tuner.json").read_text())
    assert "context" in json.dumps(tuner)
    got = uf.read_contexts(ctx, 3)
    want = contexts if contexts.ndim == 2 else contexts[:, None]
    np.testing.assert_array_equal(np.reshape(got, want.shape), want)
    from bandit import Tuner

    t = Tuner.load(out / "tuner.json")
    np.testing.assert_array_equal(np.reshape(t.history["context"], want.shape), want)


@pytest.mark.parametrize("array, message", [
    (np.zeros((3, 1, 1)), "contexts must be a 1-D array .* got shape \\(3, 1, 1\\)"),
    (np.array(["a", "b", "c"]), "of real numbers, got shape \\(3,\\) and dtype <U1"),
    (np.array([True, False, True]), "dtype bool"),
    (np.array([0.1, np.nan, 0.3]), "context of system 2 is nan"),
    (np.arange(4.0), "4 contexts for 3 systems"),
    (np.array([]), "0 contexts for 3 systems"),
])
def test_bad_npy_contexts_are_refused_by_name(tmp_path, array, message):
    path = tmp_path / "c.npy"
    np.save(path, array)
    with pytest.raises(ValueError, match=message):
        uf.read_contexts(path, 3)


def test_a_text_file_of_contexts_is_read_as_before(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("# dt\n0.1\n0.2\n0.4\n")
    assert uf.read_contexts(path, 3) == [0.1, 0.2, 0.4]
