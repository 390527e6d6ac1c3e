"""A new user's scenarios (round 32), on their own matrices, loops and files: the defects
they found, each checked against what the docs promise (``docs/quickstart.md``,
``docs/cli.rst``, ``docs/solvers.md``)."""
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import bandit
from experiments import cli


def _laplacian(n=20):
    return sp.diags([-1.0, 2.5, -1.0], [-1, 0, 1], shape=(n, n)).tocsr()


# --- a masked context: the values under its mask had been the learner's numbers -----------

@pytest.mark.parametrize("context, fragment", [
    (np.ma.array([1.0, 2.0], mask=[False, True]),
     r"context is a masked array with 1 masked entry \(the first at index 1\)"),
    (np.ma.array([[1.0]], mask=[[True]]), r"masked array with 1 masked entry .*\(0, 0\)"),
    (np.ma.masked, r"context is masked \(np\.ma\.masked, a missing value\)"),
])
def test_a_masked_context_is_refused_as_the_solvers_refuse_a_masked_b(context, fragment):
    A = _laplacian()
    tuner = bandit.Tuner(solver="sor")
    with pytest.raises(ValueError, match=fragment):
        tuner.solve(A, np.ones(20), context=context)
    assert len(tuner.history["iterations"]) == 0  # refused before anything was recorded


def test_a_masked_context_without_masked_entries_is_an_ordinary_context():
    A = _laplacian()
    plain, masked = bandit.Tuner(solver="sor"), bandit.Tuner(solver="sor")
    for k in range(3):
        plain.solve(A, np.ones(20) * (k + 1), context=[1.0, k])
        masked.solve(A, np.ones(20) * (k + 1), context=np.ma.array([1.0, k]))
    assert list(plain.history["arm"]) == list(masked.history["arm"])
    assert np.array_equal(plain.history["context"], masked.history["context"])


# --- relaxtune tune: files that are not what their names say, or given in the other place ---

def _tune(args, tmp_path, capsys):
    solver = [] if "--resume" in map(str, args) else ["--solver", "sor"]
    code = cli.main(["tune", *map(str, args), *solver, "--no-exact", "--quiet",
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, (code, err)
    assert not (tmp_path / "out").exists()
    return err[0]


@pytest.mark.parametrize("content, fragment", [
    (b"garbage", "not a .npz file (scipy.sparse.save_npz writes a zip archive"),
    (b"", "the file is empty (0 bytes"),
    (b"%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 2.0\n",
     "a Matrix Market file (name it .mtx)"),
])
def test_a_npz_that_is_no_zip_is_not_called_pickled_data(tmp_path, capsys, content, fragment):
    path = tmp_path / "A.npz"
    path.write_bytes(content)
    line = _tune([path], tmp_path, capsys)
    assert line.startswith(f"relaxtune: error: {path}: cannot read it as .npz: "), line
    assert fragment in line
    assert "allow_pickle" not in line and "pickled" not in line and "EOFError" not in line


def test_a_npy_array_named_npz_is_named(tmp_path, capsys):
    path = tmp_path / "A.npz"
    with open(path, "wb") as f:
        np.save(f, _laplacian().toarray())
    line = _tune([path], tmp_path, capsys)
    assert "a NumPy .npy array (np.save), not a .npz archive" in line
    assert "scipy.sparse.save_npz" in line


@pytest.mark.parametrize("shape, fragment", [
    ((20, 20), "a dense 20 × 20 NumPy array (.npy): matrices are read from .mtx, .mtx.gz, .npz"),
    ((20,), "a NumPy vector of 20 entries (.npy), not a matrix: a right-hand side goes in --rhs"),
    ((20, 1), "a NumPy vector of 20 entries (.npy), not a matrix"),
])
def test_a_npy_given_as_a_matrix_says_what_it_holds(tmp_path, capsys, shape, fragment):
    path = tmp_path / "A.npy"
    np.save(path, np.ones(shape))
    line = _tune([path], tmp_path, capsys)
    assert fragment in line and "unknown file type" not in line, line


def test_the_advice_for_a_dense_npy_works(tmp_path, capsys):
    A = _laplacian()
    scipy.sparse.save_npz(tmp_path / "A.npz", scipy.sparse.csr_matrix(A.toarray()))
    assert cli.main(["tune", str(tmp_path / "A.npz"), "--solver", "sor", "--no-exact",
                     "--quiet", "--out", str(tmp_path / "o")]) == 0


@pytest.mark.parametrize("make", ["savez", "sparse"])
def test_a_npz_given_as_a_right_hand_side_says_what_goes_where(tmp_path, capsys, make):
    A = _laplacian()
    scipy.io.mmwrite(tmp_path / "A.mtx", A)
    rhs = tmp_path / "b.npz"
    if make == "savez":
        np.savez(rhs, b=np.ones(20))
    else:
        sp.save_npz(rhs, A)
    line = _tune([tmp_path / "A.mtx", "--rhs", rhs], tmp_path, capsys)
    assert f"{rhs}: a .npz archive" in line and "np.save(path, b)" in line, line
    assert "unknown file type" not in line


@pytest.mark.parametrize("content, fragment", [
    ("zip", "a zip archive (a .npz: np.savez or scipy.sparse.save_npz), not a .npy array"),
    (b"1 2 3\n", "not a .npy file (np.save writes a file that starts with NumPy's header"),
    (b"", "the file is empty (0 bytes"),
])
def test_a_npy_right_hand_side_that_is_no_npy_is_named(tmp_path, capsys, content, fragment):
    scipy.io.mmwrite(tmp_path / "A.mtx", _laplacian())
    rhs = tmp_path / "b.npy"
    if content == "zip":  # np.load had opened it as a .npz: "got shape (1,)"
        with open(rhs, "wb") as f:
            np.savez(f, b=np.ones(20))
    else:
        rhs.write_bytes(content)
    line = _tune([tmp_path / "A.mtx", "--rhs", rhs], tmp_path, capsys)
    assert line.startswith(f"relaxtune: error: {rhs}: cannot read it as .npy: "), line
    assert fragment in line and "pickled" not in line and "got shape" not in line


def test_contexts_in_a_npz_are_not_read_as_lines_of_text(tmp_path, capsys):
    scipy.io.mmwrite(tmp_path / "A.mtx", _laplacian())
    ctx = tmp_path / "ctx.npz"
    np.savez(ctx, c=np.ones(1))
    line = _tune([tmp_path / "A.mtx", "--contexts", ctx], tmp_path, capsys)
    assert f"{ctx}: a zip archive" in line and "np.save(path, contexts)" in line, line
    assert "line 1 is" not in line


# --- experiments.user_files.run with systems that are not (A, b) pairs ----------------------

@pytest.mark.parametrize("systems, fragment", [
    (lambda A, b: [(A, b), (A, b, 1.0)],
     r"^system 1: systems must be \(A, b\) pairs, got a triple of 3 items; a context goes in "
     r"contexts="),
    (lambda A, b: [A, A], r"^system 0: .*got a csr_matrix of shape \(20, 20\); a matrix alone "
                          r"has no right-hand side"),
    (lambda A, b: [(A,)], r"^system 0: .*got a tuple of 1 item$"),
])
def test_run_names_a_system_that_is_not_a_pair(systems, fragment):
    from experiments import user_files as uf
    from experiments.user_files import UnreadSystem

    A = _laplacian()
    with pytest.raises(ValueError, match=fragment) as info:
        uf.run(systems(A, np.ones(20)), solver="sor", arms=[1.0, 1.5])
    assert not isinstance(info.value, UnreadSystem)  # no file was re-read
    assert "unpack" not in str(info.value)


def test_run_names_the_system_by_its_name_and_takes_pairs_as_lists():
    from experiments import user_files as uf

    A = _laplacian()
    with pytest.raises(ValueError, match=r"^b\.mtx: systems must be \(A, b\) pairs"):
        uf.run([(A, np.ones(20)), (A, np.ones(20), 2.0)], solver="sor", arms=[1.0, 1.5],
               names=["a.mtx", "b.mtx"])
    out = uf.run([[A, np.ones(20)], (A.toarray(), list(np.ones(20)))], solver="sor",
                 arms=[1.0, 1.5])
    assert out["converged"].all()


# --- a run's history.csv given where its tuner goes --------------------------------------

@pytest.mark.parametrize("name", ["history.csv", "history.csv.gz"])
def test_loading_a_history_csv_says_it_is_the_history_not_a_damaged_tuner(tmp_path, name):
    tuner = bandit.Tuner(solver="sor")
    tuner.solve(_laplacian(), np.ones(20))
    tuner.to_csv(tmp_path / name)
    with pytest.raises(bandit.TunerFileError, match=r"it is a run's history as CSV "
                                                    r"\(Tuner\.to_csv") as info:
        bandit.Tuner.load(tmp_path / name)
    assert "corrupt or truncated" not in str(info.value)


def test_resume_from_the_folders_history_names_its_tuner_file(tmp_path, capsys):
    scipy.io.mmwrite(tmp_path / "A.mtx", _laplacian())
    first = tmp_path / "first"
    assert cli.main(["tune", str(tmp_path / "A.mtx"), "--solver", "sor", "--no-exact",
                     "--quiet", "--out", str(first)]) == 0
    line = _tune([tmp_path / "A.mtx", "--resume", first / "history.csv"], tmp_path, capsys)
    assert "a run's history as CSV" in line and "tuner.json" in line, line
    assert "corrupt or truncated" not in line


# --- SOR whose sweeps overflow on a row far from diagonally dominant ----------------------

@pytest.mark.parametrize("M, row, times", [
    (np.array([[1e-300, 1e10], [1e10, 1.0]]), 0, "more than 1.8e308 times |a_ii| = 1.000e-300"),
    (np.array([[1.0, 1e-3, 0.0], [1e200, 1e-200, 0.0], [0.0, 0.0, 1.0]]), 1,
     "more than 1.8e308 times |a_ii| = 1.000e-200"),
    (np.array([[1e-200, 1.0], [1.0, 1e-200]]), 0, "1.000e+200 times |a_ii| = 1.000e-200"),
])
def test_an_sor_overflow_names_the_row_not_x0_or_a_nearly_singular_matrix(M, row, times):
    """The solution is ordinary; SOR's sweeps grow by the row's ratio at every ω.  The error
    had said "either x0 is out of proportion with b ... or A is nearly singular at its scale,
    e.g. a diagonal entry 1e-320", from x0 = 0, with "the residual ‖b − A x‖ = nan"."""
    import solvers

    b = np.ones(len(M))
    assert np.all(np.isfinite(np.linalg.solve(M, b)))
    for call in (lambda: solvers.sor(sp.csr_matrix(M), b, 1.0),
                 lambda: solvers.sor(M, b, 1.9),
                 lambda: bandit.Tuner(solver="sor").solve(M, b)):
        with pytest.raises(solvers.IterateOverflowError,
                           match=rf"sor cannot solve this system: its sweeps overflowed .* in "
                                 rf"row {row} the off-diagonal entries sum to ") as info:
            call()
        text = str(info.value)
        assert times in text and "whatever ω" in text
        assert "x0 is out of proportion" not in text and "nearly singular" not in text
        assert "= nan" not in text


def test_an_sor_overflow_from_a_huge_x0_keeps_its_message():
    import solvers

    x0 = np.full(100, 1e308)
    x0[::2] = -1e308
    with pytest.raises(solvers.IterateOverflowError, match="x0 is out of proportion with b"):
        solvers.sor(solvers.gallery.laplacian_2d(10), np.ones(100), 1.5, x0=x0)
