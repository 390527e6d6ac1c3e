"""``relaxtune tune --solver ssor_pcg`` on a Matrix Market file headed ``general`` that holds
one triangle of a symmetric matrix: the refusal says to write ``symmetric`` in the header
(Python's ``A + sp.triu(A, 1).T`` had been the advice, to a command-line user); the file so
headed is then read as the full matrix and solved."""
import json

import numpy as np
import pytest

from experiments.cli import main

ENTRIES = {"upper": ["1 2 -1", "2 3 -1"], "lower": ["2 1 -1", "3 2 -1"]}


def _write(path, header, side):
    path.write_text(f"%%MatrixMarket matrix coordinate real {header}\n3 3 5\n1 1 4\n2 2 4\n"
                    f"3 3 4\n" + "\n".join(ENTRIES[side]) + "\n")


@pytest.mark.parametrize("side", ["upper", "lower"])
def test_one_triangle_under_general_names_the_header(tmp_path, capsys, side):
    path = tmp_path / "A.mtx"
    _write(path, "general", side)
    assert main(["tune", str(path), "--solver", "ssor_pcg", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert (f"A holds only its {side} triangle (no non-zero entry on the other side of the "
            f"diagonal): if it is a symmetric matrix stored as one triangle, write 'symmetric' "
            f"instead of 'general' in the file's first line (Matrix Market then keeps one "
            f"triangle and relaxtune mirrors it)") in err
    assert "sp.tri" not in err


@pytest.mark.parametrize("side", ["upper", "lower"])
def test_the_file_headed_symmetric_is_solved_as_the_full_matrix(tmp_path, capsys, side):
    path = tmp_path / "A.mtx"
    _write(path, "symmetric", side)
    out = tmp_path / "o"
    assert main(["tune", str(path), "--solver", "ssor_pcg", "--omegas", "1.0", "1.5", "--out",
                 str(out), "--quiet"]) == 0
    from bandit import Tuner

    t = Tuner.load(out / "tuner.json")
    assert bool(t.history["converged"][0])
    s = json.loads((out / "summary.json").read_text())
    assert s["tuned"]["all_converged"]
    from experiments.user_files import read_matrix

    full = np.array([[4.0, -1, 0], [-1, 4, -1], [0, -1, 4]])
    np.testing.assert_array_equal(read_matrix(path).toarray(), full)


def test_a_npz_keeps_the_python_advice(tmp_path, capsys):
    import scipy.sparse as sp

    A = sp.csr_matrix(np.array([[4.0, -1, 0], [0, 4, -1], [0, 0, 4]]))
    sp.save_npz(tmp_path / "A.npz", A)
    assert main(["tune", str(tmp_path / "A.npz"), "--solver", "ssor_pcg", "--out",
                 str(tmp_path / "o")]) == 2
    assert "pass the full matrix, A + sp.triu(A, 1).T" in capsys.readouterr().err
