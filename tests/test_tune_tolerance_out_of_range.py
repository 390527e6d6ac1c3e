"""``relaxtune tune --rtol 1e-400`` had been refused as "got 0.0" (the text parsed to 0 before
the Tuner saw it), and ``--audit-budget 1e400`` as "inf": a value lost in double precision is
now named by its text, in one line, with exit status 2, before anything is read or solved.
Values within range are taken as before (checked against the Tuner's own result)."""
import numpy as np
import pytest
import scipy.sparse as sp

from experiments.cli import main
from solvers import gallery


@pytest.fixture
def one_system(tmp_path):
    A = gallery.laplacian_2d(6)
    m = tmp_path / "A.npz"
    sp.save_npz(m, sp.csr_matrix(A))
    b = tmp_path / "b.npy"
    np.save(b, np.ones(A.shape[0]))
    return m, b


@pytest.mark.parametrize("option,text,lost", [("--rtol", "1e-400", "underflows to 0"),
                                               ("--rtol", "2.5E-999", "underflows to 0"),
                                               ("--audit-budget", "1e400", "overflows to inf")])
def test_a_value_lost_in_double_precision_is_named_by_its_text(one_system, tmp_path, capsys,
                                                               option, text, lost):
    m, b = one_system
    out = tmp_path / "o"
    assert main(["tune", str(m), "--rhs", str(b), option, text, "--out", str(out),
                 "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"relaxtune: error: argument {option}: must be a number within double precision's "
        f"range, got {text} (it {lost})\n")
    assert not out.exists()


@pytest.mark.parametrize("text", ["0", "0.0", "1e-300", "0e5"])
def test_values_in_range_and_a_written_zero_pass_the_parser(text):
    from experiments.cli_options import _double

    assert _double(text) == float(text)
