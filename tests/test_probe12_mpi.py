"""Two MPI ranks (``mpiexec -n 2`` on ``tests/mpi_probe12.py``): a policy whose ``select``
raises on rank 0 (the only rank that decides), or an input check raising something other than
``ValueError``/``TypeError`` on one rank, raises on every rank, and the run goes on.  Before
the fixes the rank that raised went on alone and the others waited forever (the first case),
or took the next call's exchange for this one's (the second: the next solves failed with
``'NoneType' object is not subscriptable`` and then hung)."""
import pytest

from test_petsc_comm import rank_reports  # the launch settings of the suite's MPI tests

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    # one launch for both tests; a hang is ended by the script's own alarm (240 s) or here
    folder = tmp_path_factory.mktemp("probe12")
    return rank_reports("mpi_probe12.py", folder, timeout=300)


def test_an_error_of_rank_0s_policy_is_raised_on_every_rank(two_ranks):
    r0, r1 = two_ranks
    kinds0 = [c[0] for c in r0["calls"]]
    kinds1 = [c[0] for c in r1["calls"]]
    # rank 0 raises its own exceptions; rank 1 the same built-in class, or a RuntimeError
    # naming the class it cannot rebuild (defined inside a function)
    assert kinds0 == ["ok", "RuntimeError", "BudgetError", "KeyboardInterrupt", "ok", "ok"]
    assert kinds1 == ["ok", "RuntimeError", "RuntimeError", "KeyboardInterrupt", "ok", "ok"]
    assert r0["calls"][1][1] == "select failed (budget exhausted)"
    assert r1["calls"][1][1] == "on rank 0, so on every rank: select failed (budget exhausted)"
    assert "BudgetError: no budget left" in r1["calls"][2][1]
    assert "rank 0 alone" in r1["calls"][3][1]
    # the refused rounds recorded nothing, on either rank; the solves agree
    assert r0["arms"] == r1["arms"] and len(r0["arms"]) == 3
    assert r0["iterations"] == r1["iterations"] and r0["t"] == r1["t"] == 3
    # what each successful call returned is what the history recorded
    ok0 = [c for c in r0["calls"] if c[0] == "ok"]
    assert [c[1] for c in ok0] == r0["iterations"]


def test_any_exception_of_one_ranks_input_checks_is_raised_on_every_rank(two_ranks):
    r0, r1 = two_ranks
    assert [c[0] for c in r0["odd"]] == ["ok", "RuntimeError", "ok", "ok"]
    assert [c[0] for c in r1["odd"]] == ["ok", "RuntimeError", "ok", "ok"]
    assert r0["odd"][1][1] == "rank 1: the sensor is offline"
    assert r1["odd"][1][1] == "the sensor is offline"
    assert r0["odd"][2:] == r1["odd"][2:] and r0["odd_rounds"] == r1["odd_rounds"] == 3


def test_on_root_without_mpi_runs_the_function():
    """One rank: ``on_root`` is the function itself (its exception as it is)."""
    from bandit import mpi

    assert mpi.on_root(None, max, 2, 3) == 3
    with pytest.raises(ZeroDivisionError):
        mpi.on_root(None, lambda: 1 / 0)
    err = mpi.rank_error("builtins", "ValueError", "bad")
    assert type(err) is ValueError and str(err) == "on rank 0, so on every rank: bad"
    err = mpi.rank_error("mine", "PolicyError", "out")
    assert type(err) is RuntimeError and "mine.PolicyError: out" in str(err)
