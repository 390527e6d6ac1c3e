"""Promises of docs/guarantees.md checked on inputs the other tests had not tried."""
import numpy as np
import pytest
import scipy.sparse.linalg as spl

import bandit
from bandit import Tuner
from bandit.report import read_csv
from solvers import gallery


def test_contexts_of_different_lengths_are_all_kept_by_the_history(tmp_path):
    # a learner without contexts accepts any context and the history records it: vectors of
    # different lengths (and numbers among them) had made history, to_csv, summary and
    # regret raise numpy's "inhomogeneous shape", and a number among vectors had dropped
    # every entry of the vectors but the first
    A = gallery.laplacian_2d(4)
    b = np.arange(1.0, 17.0)
    t = Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    contexts = [[1.0, 2.0], [3.0, 4.0, 5.0], 0.5, None, [6]]
    for c in contexts:
        r = t.solve(A, b, context=c)
        # the solve itself is unaffected: dense reference
        np.testing.assert_allclose(r.x, np.linalg.solve(A.toarray(), b), rtol=1e-6)
    nan = np.nan
    want = np.array([[1.0, 2.0, nan], [3.0, 4.0, 5.0], [0.5, nan, nan], [nan, nan, nan],
                     [6.0, nan, nan]])
    np.testing.assert_array_equal(t.history["context"], want)
    t.to_csv(tmp_path / "h.csv")
    np.testing.assert_array_equal(read_csv(tmp_path / "h.csv")["context"], want)
    assert t.summary()["rounds"] == 5
    assert t.regret(n_boot=10).paid == pytest.approx(float(np.sum(t.history["iterations"])))
    t.save(tmp_path / "t.json")
    np.testing.assert_array_equal(Tuner.load(tmp_path / "t.json").history["context"], want)


def test_contexts_of_one_entry_stay_one_column():
    A = gallery.laplacian_2d(4)
    t = Tuner(bandit.UniformRandom([1.0, 1.5], seed=0), solver="sor")
    for c in (0.25, [0.5], None):
        t.solve(A, np.ones(16), context=c)
    np.testing.assert_array_equal(t.history["context"], [0.25, 0.5, np.nan])


@pytest.mark.parametrize("argv, message", [
    (["learning", "--out", ""], "argument --out: must be a path, got an empty string"),
    (["learning", "--json", ""], "argument --json: must be a path, got an empty string"),
    (["plot", ""], "argument PATH: must be a path, got an empty string"),
    (["heat2d", "--nx", "99999999999999999999999"],
     "argument --nx: must be an integer in 2..1358187914 (intervals per side), got "
     "99999999999999999999999"),
    (["precond", "--m", "1096303"],
     "argument --m: must be an integer in 2..1096302 (cells per side), got 1096303"),
    (["learning", "--T", str(2**63)], f"argument --T: must be an integer in "
                                      f"1..{2**63 - 1}, got {2**63}"),
])
def test_bad_cli_arguments_are_usage_errors_before_any_computation(argv, message, tmp_path,
                                                                   monkeypatch, capsys):
    from experiments.cli import main

    # `--out ""` had meant the current folder, and the study had run there
    monkeypatch.chdir(tmp_path)
    argv = argv + (["--T", "1", "--trials", "1", "--learners", "fixed", "--quiet", "--no-plots"]
                   if argv[:2] == ["learning", "--out"] else [])
    assert main(argv) == 2
    assert capsys.readouterr().err == f"relaxtune: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_the_size_bounds_are_the_64_bit_index_range():
    from experiments.cli_options import _M_MAX, _NX_MAX

    top = np.iinfo(np.int64).max
    assert 5 * (_NX_MAX - 1) ** 2 <= top < 5 * _NX_MAX ** 2
    assert 7 * _M_MAX ** 3 <= top < 7 * (_M_MAX + 1) ** 3


def _sor(A, b, omega=1.0, *, x0, rtol, atol, maxiter, backend):
    import solvers

    return solvers.sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter,
                       backend=backend)


def _assert_solves(A, b, r):
    """``r`` converged to the solution scipy's direct solver gives (the rule rtol = 1e-8)."""
    assert r.converged
    x = spl.spsolve(A.tocsc(), b)
    np.testing.assert_allclose(r.x, x, atol=1e-6 * np.abs(x).max())
    assert np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-9)


_INNER = {"tuner": None, "go": False, "copy": None}


def _reentrant(A, b, omega=1.0, *, x0, rtol, atol, maxiter, backend):
    """SOR that, once asked to, first calls the tuner it serves (and pickles it mid-round)."""
    import pickle

    if _INNER["go"]:
        _INNER["go"] = False
        _INNER["copy"] = pickle.dumps(_INNER["tuner"])  # a copy made mid-round is idle
        _INNER["tuner"].solve(A, b)
    return _sor(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter, backend=backend)


def test_a_solve_inside_a_solve_of_the_same_tuner_is_refused_and_changes_nothing():
    # a custom solver function calling its own tuner: the inner solve had drawn and been told
    # in the middle of the outer round, whose Tsallis-INF update then weighted its cost by a
    # distribution formed after the inner update
    import pickle

    A = gallery.laplacian_2d(5)
    n = A.shape[0]
    rng = np.random.default_rng(0)
    systems = [rng.standard_normal(n) for _ in range(6)]
    arms = [0.8, 1.2, 1.5, 1.8]
    t = Tuner(bandit.TsallisINF(arms, seed=3), _reentrant, cost="iterations")
    ref = Tuner(bandit.TsallisINF(arms, seed=3), _sor, cost="iterations")
    _INNER.update(tuner=t, go=False, copy=None)
    for i, b in enumerate(systems):
        if i == 2:
            _INNER["go"] = True
            with pytest.raises(RuntimeError, match="a tuner solves one system at a time"):
                t.solve(A, b)
            assert t.policy.t == 2 and len(t.history["arm"]) == 2
        r = t.solve(A, b)
        ref.solve(A, b)
        _assert_solves(A, b, r)
    np.testing.assert_array_equal(t.history["arm"], ref.history["arm"])
    np.testing.assert_array_equal(t.history["cost"], ref.history["cost"])
    np.testing.assert_array_equal(t.policy.p, ref.policy.p)
    copy = pickle.loads(_INNER["copy"])
    r = copy.solve(A, systems[0])
    _assert_solves(A, systems[0], r)


def test_a_callback_may_solve_again_with_its_tuner():
    A = gallery.laplacian_2d(5)
    n = A.shape[0]
    b2 = np.linspace(-1.0, 1.0, n)
    seen = []
    calls = [0]

    def callback(result):
        calls[0] += 1
        if calls[0] <= 2:
            seen.append(t.solve(A, b2))  # the round is recorded before the callback runs

    t = Tuner(bandit.TsallisINF([0.8, 1.5], seed=0), "sor", callback=callback)
    t.solve(A, np.ones(n))
    assert len(t.history["arm"]) == 3 and len(seen) == 2
    for r in seen:
        _assert_solves(A, b2, r)


def test_ctrl_c_while_the_first_system_primes_the_learner_changes_nothing():
    # the default learner takes its prior from the first system (a spectral estimate, long on
    # a large matrix); Ctrl-C there had left the tuner marked as primed, so it never took the
    # prior and its arms parted from an uninterrupted run's
    import scipy.sparse as sp
    from bandit.prior import theory_costs

    A0 = gallery.laplacian_2d(8)
    n = A0.shape[0]
    rng = np.random.default_rng(0)
    systems = [(A0 + c * sp.eye(n), rng.standard_normal(n), c) for c in rng.uniform(0, 1, 20)]
    t, ref = Tuner(solver="sor"), Tuner(solver="sor")
    real = t.policy.prime
    calls = []

    def prime(A, solver):
        calls.append(solver)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(A, solver)

    t.policy.prime = prime
    with pytest.raises(KeyboardInterrupt):
        t.solve(systems[0][0], systems[0][1], context=systems[0][2])
    assert t.policy.t == 0 and len(t.history["arm"]) == 0
    for A, b, c in systems:
        _assert_solves(A, b, t.solve(A, b, context=c))
        ref.solve(A, b, context=c)
    assert calls == ["sor", "sor"]
    c = theory_costs(systems[0][0], t.policy.arms, "sor")  # the prior, computed directly
    np.testing.assert_allclose(t.policy.prior_curve, np.log(c / c.min()))
    np.testing.assert_array_equal(t.history["arm"], ref.history["arm"])
    np.testing.assert_array_equal(t.history["cost"], ref.history["cost"])
