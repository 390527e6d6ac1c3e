"""Input, a preconditioner set-up or a Ctrl-C that ONE MPI rank meets in the PETSc solvers is
raised on every rank (or, for a Ctrl-C in a direct solve, once every collective call of the
solve is made): no rank is left waiting inside a collective PETSc call.

Launches ``mpiexec -n 2`` once on ``tests/mpi_one_rank_refuses.py`` (each scenario is
described there) under a timeout; a rank left waiting stops itself, so a hang fails these
tests instead of CI.

Before, each refusal below was raised on the rank that met it alone, and the other rank went
on into the solve's next collective call (a norm, the KSPSolve) and waited there for ever; a
Ctrl-C raised on one rank inside or just before a KSPSolve, or the conversion of scipy input
to a distributed Mat, did the same; and a Tuner's failure told by one rank while the other
compared the ranks' inputs in the solvers reached it as another exchange's data (a
``TypeError``), then left a rank waiting.
"""
from pathlib import Path

import mpi_one_rank_refuses as script
import pytest
from mpi_launch import scenario_reports

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent
BEFORE = script.BEFORE

#: scenario -> (the class the failing rank 1 raises, what its message says)
REFUSED = {
    "vec_layout": ("ValueError", "b has local size 64 on rank 1, but A owns 32 rows there"),
    "vec_nan": ("ValueError", "b contains NaN or Inf (in the rows of rank 1)"),
    "block_setup": ("ValueError", "Matrix is missing diagonal entries"),
    "tuner_vec_layout": ("ValueError", "b has local size 64 on rank 1, but A owns 32 rows"),
    "tuner_block_setup": ("ValueError", "Matrix is missing diagonal entries"),
    "tuner_told_in_prepare": ("Injected", "an input check failed on rank 1 alone"),
    "tuner_sigint_solve": ("KeyboardInterrupt", ""),
}
#: Ctrl-C on rank 1 in a direct solve: raised there once the solve's collective calls are
#: made, the other rank's solve returning as usual
INTERRUPTED = ("sigint_sor_test", "sigint_before_ksp", "sigint_convert")
CASES = [*REFUSED, *INTERRUPTED]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """Both ranks' reports per scenario (a scenario missing: its ranks did not finish it)."""
    out = tmp_path_factory.mktemp("one_rank_refuses")
    reports, stderr = scenario_reports(HERE / "mpi_one_rank_refuses.py", out, CASES)
    return reports, stderr


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_refusal_on_one_rank_is_raised_on_every_rank_naming_it(ranks, name):
    reports, stderr = ranks
    assert name in reports, f"the ranks did not finish {name!r} (left waiting?):\n{stderr}"
    kind, said = REFUSED[name]
    other, mine = reports[name]
    assert mine["raised"] is not None and mine["raised"][0] == kind
    assert said in mine["raised"][1]
    assert other["raised"] is not None, "rank 0 went on as if nothing had happened"
    assert other["raised"][0] == ("RuntimeError" if kind == "Injected" else kind)
    text = other["raised"][1]
    assert text.startswith("rank 1: ") and said in text
    if kind == "Injected":
        assert "Injected" in text  # the class of the user's is named


@pytest.mark.parametrize("name", [n for n in REFUSED if n.startswith("tuner_")])
def test_the_tuner_records_the_round_on_no_rank_and_goes_on_together(ranks, name):
    reports, stderr = ranks
    assert name in reports, f"the ranks did not finish {name!r} (left waiting?):\n{stderr}"
    r0, r1 = reports[name]
    for key in ("rounds", "told", "policy", "after_arms", "after_iterations", "after_policy"):
        assert r0[key] == r1[key], (name, key)
    assert r0["rounds"] == r0["told"] == BEFORE
    assert len(r0["after_arms"]) == BEFORE + 2


@pytest.mark.parametrize("name", INTERRUPTED)
def test_ctrl_c_on_one_rank_is_raised_once_the_collective_solve_is_done(ranks, name):
    reports, stderr = ranks
    assert name in reports, f"the ranks did not finish {name!r} (left waiting?):\n{stderr}"
    other, mine = reports[name]
    assert mine["raised"] is not None and mine["raised"][0] == "KeyboardInterrupt"
    if name == "sigint_sor_test":
        # a Richardson solve's sweeps stop on every rank within one (the Ctrl-C's rank
        # poisons the next global norm), and every rank raises (tests/test_mpi_rank_dies.py)
        assert other["raised"] == ["KeyboardInterrupt", "rank 1: KeyboardInterrupt"]
    else:
        assert other["raised"] is None and other["converged"]  # its solve ran to the end
    # ... and the ranks solve together again, alike
    assert other["after"] == mine["after"] and other["after"][1]


@pytest.mark.parametrize("name", [n for n in REFUSED if not n.startswith("tuner_")])
def test_the_ranks_solve_together_after_a_refusal(ranks, name):
    reports, stderr = ranks
    assert name in reports, f"the ranks did not finish {name!r} (left waiting?):\n{stderr}"
    other, mine = reports[name]
    assert other["after"] == mine["after"] and other["after"][1]
