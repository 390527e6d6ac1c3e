"""A right-hand side of finite entries whose norm is beyond the double range (64 entries of
1e308: ‖b‖ = 8e308) is refused on both backends and by a Tuner, before anything changes: its
infinite norm had made the tolerance rtol·‖b‖ infinite, and the Numba solvers returned
x = 0 after 0 iterations as converged (a Tuner recorded an "already solved" round), while
PETSc raised a bare OverflowError.  A residual that overflows once a scaled solve is undone
(b = 1e307: 4·x_i is beyond the range while x is not) is said to overflow, not underflow."""
import numpy as np
import pytest

import bandit
import solvers
from solvers import gallery

A = gallery.laplacian_2d(8).tocsr()
B = np.full(64, 1e308)
REFUSAL = ("b is too large: its norm ‖b‖ overflows double precision (largest |b_i| = "
           "1.000e+308, 64 entries), so the stopping rule ‖b − A x‖ <= rtol·‖b‖ cannot be "
           "evaluated; rescale the system (e.g. divide b by 1e10: the solution scales with it)")


def test_the_norm_is_beyond_the_range_while_every_entry_is_finite():
    assert np.all(np.isfinite(B))
    assert np.sqrt(64.0) * 1e300 > np.finfo(float).max / 1e8  # the reference: 8e308


@pytest.mark.parametrize("backend", ["numba", "petsc"])
@pytest.mark.parametrize("solve", [lambda b, be: solvers.sor(A, b, 1.2, backend=be),
                                   lambda b, be: solvers.ssor_pcg(A, b, 1.2, backend=be),
                                   lambda b, be: solvers.cg(A, b, backend=be)],
                         ids=["sor", "ssor_pcg", "cg"])
def test_solvers_refuse_it(solve, backend):
    with pytest.raises(ValueError) as err:
        solve(B, backend)
    assert str(err.value) == REFUSAL


@pytest.mark.parametrize("backend", ["numba", "petsc"])
def test_a_tuner_refuses_it_and_records_nothing(backend):
    tuner = bandit.Tuner(solver="sor", seed=0, backend=backend)
    with pytest.raises(ValueError, match="b is too large"):
        tuner.solve(A, B)
    assert tuner.summary()["rounds"] == 0
    r = tuner.solve(A, np.full(64, 1e306))  # just inside: solved, scaled
    x = np.linalg.solve(A.toarray(), np.ones(64))  # the solution over 1e306
    assert r.converged and r.iterations > 0
    assert np.linalg.norm(r.x / 1e306 - x) <= 1e-7 * np.linalg.norm(x)


@pytest.mark.parametrize("backend", ["numba", "petsc"])
def test_an_overflowing_residual_is_said_to_overflow(backend):
    x = np.linalg.solve(A.toarray(), np.ones(64))  # the solution over 1e307
    big = np.finfo(float).max / 1e307
    assert x.max() < big < 4 * x.max()  # A x overflows (a_ii = 4), x does not
    with pytest.raises(ValueError) as err:
        solvers.ssor_pcg(A, np.full(64, 1e307), 1.2, backend=backend)
    assert "entries of A x overflow, though x itself is finite" in str(err.value)
    assert "underflow" not in str(err.value)


def test_relaxtune_tune_names_the_right_hand_side_file_before_solving(tmp_path, capsys):
    import scipy.io

    from experiments.cli import main

    scipy.io.mmwrite(tmp_path / "A.mtx", A.tocoo())
    np.save(tmp_path / "b.npy", B)
    out = tmp_path / "o"
    assert main(["tune", str(tmp_path / "A.mtx"), "--rhs", str(tmp_path / "b.npy"),
                 "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"relaxtune: error: {tmp_path / 'b.npy'}: {REFUSAL}\n"
    assert not out.exists()
