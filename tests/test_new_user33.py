"""A new user's scenarios (round 33), on problems of their own: a real system held in complex
arrays, swapped arguments, CG on a matrix that is not positive definite, and what else broke
on their loops, each checked against an independent reference (dense NumPy, scipy)."""
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import bandit
import solvers
from experiments import cli


def _laplacian(n=20, shift=0.5):
    return sp.diags([-1.0, 2.0 + shift, -1.0], [-1, 0, 1], shape=(n, n)).tocsr()


# --- a real system held in complex arrays: solved as the real system it is -----------------

@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "dia", "bsr", "dense"])
@pytest.mark.parametrize("name", ["sor", "ssor_pcg", "cg"])
def test_complex_input_with_zero_imaginary_parts_is_solved_as_real(fmt, name):
    A, b = _laplacian(), np.linspace(1.0, 2.0, 20)
    Ac = A.toarray().astype(complex) if fmt == "dense" else A.astype(complex).asformat(fmt)
    run = (lambda M, v, **kw: solvers.cg(M, v, **kw)) if name == "cg" else (
        lambda M, v, **kw: solvers.SOLVERS[name](M, v, 1.5, **kw))
    real = run(A, b, rtol=1e-12)
    res = run(Ac, b.astype(complex), x0=np.zeros(20, np.complex64), rtol=1e-12)
    assert res.converged and res.iterations == real.iterations
    assert np.array_equal(res.x, real.x)
    assert np.allclose(res.x, np.linalg.solve(A.toarray(), b), rtol=1e-9)


def test_a_tuner_and_a_preconditioner_take_complex_input_with_zero_imaginary_parts():
    A, b = _laplacian(), np.ones(20)
    tuner = bandit.Tuner(solver="ssor_pcg")
    res = tuner.solve(A.astype(complex), b + 0j, x0=np.zeros(20, complex))
    assert res.converged
    assert np.allclose(res.x, np.linalg.solve(A.toarray(), b), rtol=1e-7)
    pc = solvers.preconditioner("jacobi").setup(A)
    assert np.array_equal(pc.apply(b + 0j), pc.apply(b))


@pytest.mark.parametrize("which", ["A sparse", "A lil", "A dense", "b"])
def test_complex_input_with_an_imaginary_part_is_refused_naming_it(which):
    A, b = _laplacian(), np.ones(20)
    if which == "b":
        b = b + 1e-3j * np.eye(20)[7]
        where = "index 7"
    else:
        M = A.astype(complex).tolil()
        M[3, 4] = -1 + 1e-3j
        A = {"A sparse": M.tocsr(), "A lil": M, "A dense": M.toarray()}[which]
        where = "index (3, 4)"
    name = which[0]
    for call in (lambda: solvers.sor(A, b, 1.5), lambda: bandit.Tuner(solver="sor").solve(A, b)):
        with pytest.raises(ValueError, match=rf"{name} is complex \(complex128\); relaxtune "
                                             rf"solves real systems only \(1 entry with a "
                                             rf"non-zero imaginary part, the first at "
                                             rf"{re_escape(where)}, the largest 0.001"):
            call()


def re_escape(text):
    import re

    return re.escape(text)


def test_a_nan_imaginary_part_is_not_zero():
    with pytest.raises(ValueError, match=r"b is complex .*the largest NaN"):
        solvers.sor(_laplacian(), np.ones(20) + np.nan * 1j, 1.5)


@pytest.mark.petsc
def test_the_petsc_backend_takes_complex_input_with_zero_imaginary_parts():
    A, b = _laplacian(), np.ones(20)
    res = solvers.cg(A.astype(complex), b + 0j, backend="petsc", rtol=1e-10)
    assert res.converged
    assert np.allclose(res.x, np.linalg.solve(A.toarray(), b), rtol=1e-8)
    with pytest.raises(ValueError, match="b is complex"):
        solvers.cg(A, b + 1j, backend="petsc")


def test_relaxtune_tune_reads_complex_files_with_zero_imaginary_parts_as_real(tmp_path, capsys):
    A = _laplacian()
    scipy.io.mmwrite(tmp_path / "A.mtx", A.astype(complex))
    np.save(tmp_path / "b.npy", np.ones(20, complex))
    code = cli.main(["tune", str(tmp_path / "A.mtx"), "--rhs", str(tmp_path / "b.npy"),
                     "--solver", "sor", "--no-exact", "--quiet", "--out", str(tmp_path / "o")])
    assert code == 0, capsys.readouterr().err
    scipy.io.mmwrite(tmp_path / "C.mtx", A * (1 + 1j))
    code = cli.main(["tune", str(tmp_path / "C.mtx"), "--solver", "sor", "--no-exact",
                     "--quiet", "--out", str(tmp_path / "o2")])
    assert code == 2
    assert "complex values with non-zero imaginary parts" in capsys.readouterr().err


# --- swapped arguments ----------------------------------------------------------------------

@pytest.mark.parametrize("call, said", [
    (lambda A, b: solvers.sor(b, A, 1.5), r"sor\(A, b, omega\)"),
    (lambda A, b: solvers.ssor_pcg(b[:, None], A.toarray(), 1.5), r"ssor_pcg\(A, b, omega\)"),
    (lambda A, b: solvers.cg(list(b), A), r"cg\(A, b\)"),
    (lambda A, b: solvers.pcg(b, A, "ic0"), r"pcg\(A, b, pc\)"),
    (lambda A, b: solvers.pcg(b, A, "none"), r"pcg\(A, b, pc\)"),
    (lambda A, b: bandit.Tuner(solver="sor").solve(b, A), r"tuner\.solve\(A, b\)"),
    (lambda A, b: bandit.Tuner(bandit.config_grid(omegas=[1.2], pcs=["jacobi"])).solve(b, A),
     r"tuner\.solve\(A, b\)"),
    pytest.param(lambda A, b: solvers.cg(b, A, backend="petsc"), r"cg\(A, b\)",
                 marks=pytest.mark.petsc),
])
def test_swapped_arguments_are_named_as_such(call, said):
    A, b = _laplacian(), np.ones(20)
    with pytest.raises(ValueError, match=r"^did you swap A and b\? A has shape \(20,?(, 1)?\), "
                                         rf"a vector, and b \(20, 20\), a matrix: {said}"):
        call(A, b)


def test_a_vector_of_another_length_is_not_called_swapped():
    with pytest.raises(ValueError, match="A must be a 2-D matrix"):
        solvers.sor(np.ones(3), _laplacian(), 1.5)


def test_a_refused_swap_leaves_the_tuner_as_it_was():
    A, b = _laplacian(), np.ones(20)
    tuner = bandit.Tuner(solver="sor")
    tuner.solve(A, b)
    with pytest.raises(ValueError, match="did you swap"):
        tuner.solve(b, A)
    assert len(tuner.history["iterations"]) == 1
    assert tuner.solve(A, 2 * b).converged


# --- CG on a matrix that is not positive definite: the cause of the breakdown --------------

def _indefinite(n=20):
    return _laplacian(n, shift=-1.5)  # diagonal 0.5: eigenvalues 0.5 − 2cos(kπ/(n+1))


def test_cg_breakdown_on_a_negative_definite_matrix_says_why():
    A, b = -_laplacian(), np.ones(20)
    assert np.linalg.eigvalsh(A.toarray()).max() < 0  # the reference: negative definite
    res = solvers.cg(A, b)
    assert res.reason == "breakdown" and not res.converged
    assert res.info["cause"].startswith("pᵀAp <= 0 at iteration 0: the matrix is not "
                                        "positive definite")
    assert "solve (−A) x = −b" in res.info["cause"]
    flipped = solvers.cg(-A, -b)  # the advice works
    assert flipped.converged


@pytest.mark.parametrize("name", ["cg", "ssor_pcg", "pcg"])
def test_cg_type_breakdown_on_an_indefinite_matrix_says_why(name):
    A, b = _indefinite(), np.ones(20)
    ev = np.linalg.eigvalsh(A.toarray())
    assert ev.min() < 0 < ev.max()  # the reference: indefinite, with a positive diagonal
    res = {"cg": lambda: solvers.cg(A, b), "ssor_pcg": lambda: solvers.ssor_pcg(A, b, 1.2),
           "pcg": lambda: solvers.pcg(A, b, "jacobi")}[name]()
    assert res.reason == "breakdown"
    cause = res.info["cause"]
    assert cause.startswith("pᵀAp <= 0 or rᵀz <= 0" if name == "pcg" else "pᵀAp <= 0")
    assert f"as {name} requires" in cause
    assert "A's diagonal is positive, so A is indefinite" in cause


def test_cg_breakdown_on_a_zero_diagonal_names_the_row():
    A = _laplacian(10).tolil()
    A[4, 4] = 0.0
    res = solvers.cg(A.tocsr(), np.ones(10))
    assert res.reason == "breakdown"
    assert "a_ii = 0 in row 4 is not positive (e_iᵀ A e_i = a_ii), while others are" in \
        res.info["cause"]


def test_a_tuner_of_cg_keeps_the_cause():
    res = bandit.Tuner(solver="cg").solve(-_laplacian(), np.ones(20))
    assert not res.converged and "not positive definite" in res.info["cause"]


@pytest.mark.petsc
def test_the_petsc_backend_says_why_kspcg_found_the_matrix_indefinite():
    res = solvers.cg(_indefinite(), np.ones(20), backend="petsc")
    assert res.info["petsc_reason"] == "DIVERGED_INDEFINITE_MAT"
    assert res.info["cause"].startswith("pᵀAp <= 0 at iteration ")
    assert "A's diagonal is positive, so A is indefinite" in res.info["cause"]


# --- an inconsistent singular system: the failed solve says why ----------------------------

def _graph_laplacian(n=40, seed=0):
    import scipy.sparse.csgraph as csg

    rng = np.random.default_rng(seed)
    G = sp.random(n, n, density=0.15, random_state=seed)
    G = G + G.T + sp.diags(np.ones(n - 1), 1) + sp.diags(np.ones(n - 1), -1)  # connected
    return csg.laplacian(G.tocsr()).tocsr(), rng.standard_normal(n)


@pytest.mark.parametrize("name", ["sor", "ssor_pcg", "cg"])
def test_a_failed_solve_of_an_inconsistent_graph_laplacian_says_why(name):
    L, b = _graph_laplacian()
    # the reference: A is singular with 1ᵀA = 0, and the least-squares residual is b's mean
    floor = abs(b.sum()) / np.sqrt(b.size)
    x_ls = np.linalg.lstsq(L.toarray(), b, rcond=None)[0]
    assert np.linalg.norm(b - L @ x_ls) == pytest.approx(floor, rel=1e-9)
    run = {"sor": lambda v: solvers.sor(L, v, 1.5, maxiter=400),
           "ssor_pcg": lambda v: solvers.ssor_pcg(L, v, 1.5),
           "cg": lambda v: solvers.cg(L, v)}[name]
    res = run(b)
    assert not res.converged
    cause = res.info["cause"]
    assert cause.startswith("A x = b is inconsistent: the columns of A sum to zero")
    assert f"‖b − A x‖ >= {floor:.3e}" in cause and "b − b.mean()" in cause
    fixed = run(b - b.mean())  # the advice works
    assert fixed.converged and "cause" not in fixed.info


def test_a_capped_solve_of_a_consistent_system_gets_no_such_cause():
    L, b = _graph_laplacian()
    res = solvers.sor(L + 1e-3 * sp.eye(L.shape[0]), b, 1.2, maxiter=3)
    assert res.reason == "maxiter" and "cause" not in res.info


# --- Young's formula given the matrix itself --------------------------------------------------

def test_young_omega_of_a_matrix_says_what_to_pass():
    A = solvers.gallery.laplacian_2d(10)
    with pytest.raises(ValueError, match=r"rho_j must be a real number, got a matrix of shape "
                                         r"\(100, 100\): .*young_omega\(jacobi_spectral_"
                                         r"radius\(A\)\), or optimal_omega\(A\)"):
        solvers.young_omega(A)
    # the advice, against Young's ω* of the model problem: ρ_J = cos(π/11)
    assert solvers.young_omega(solvers.jacobi_spectral_radius(A)) == pytest.approx(
        2 / (1 + np.sin(np.pi / 11)), rel=1e-6)
    assert solvers.young_omega(np.array(np.cos(np.pi / 11))) == pytest.approx(
        2 / (1 + np.sin(np.pi / 11)), rel=1e-12)


# --- Ctrl-C handled inside a learner's compiled call -----------------------------------------

def test_ctrl_c_read_inside_a_learners_compiled_call_is_a_keyboard_interrupt():
    A, b = _laplacian(), np.ones(20)
    tuner = bandit.Tuner(solver="sor")
    tuner.solve(A, b, context=1.0)
    select = tuner.policy.select

    def interrupted(context):
        # what Numba's dispatcher gives when the signal handler ran in its Python helpers
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise SystemError("CPUDispatcher(<function refit>) returned a result with an "
                              "exception set") from ki

    tuner.policy.select = interrupted
    try:
        with pytest.raises(KeyboardInterrupt):
            tuner.solve(A, 2 * b, context=2.0)
    finally:
        tuner.policy.select = select
    assert len(tuner.history["iterations"]) == 1  # nothing recorded of the interrupted round
    assert tuner.solve(A, 3 * b, context=3.0).converged  # and the loop goes on
    assert len(tuner.history["iterations"]) == 2


def test_a_short_capped_run_of_an_inconsistent_system_pays_for_no_diagnosis(monkeypatch):
    """A run stopped at a maxiter below the stagnation window says nothing of the system (a
    timed Tuner's untimed first run of plain CG is one): no pass over A for the cause."""
    import solvers.spectral

    L, b = _graph_laplacian()
    calls = []
    real = solvers.spectral.null_floor
    monkeypatch.setattr(solvers.spectral, "null_floor",
                        lambda *a: calls.append(1) or real(*a))
    res = solvers.cg(L, b, maxiter=5)
    assert res.reason == "maxiter" and "cause" not in res.info and not calls
    res = solvers.sor(L, b, 1.5, maxiter=60)
    assert "A x = b is inconsistent" in res.info["cause"] and calls == [1]
