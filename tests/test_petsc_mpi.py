"""Two MPI ranks: the Tuner decides once (rank 0) and broadcasts; a distributed Mat works.

Launches ``mpiexec -n 2`` on ``tests/mpi_tuner.py`` (never skipped: CI installs Open MPI and
petsc4py, see the Makefile).  The heat2d study under MPI: tests/test_heat2d_mpi.py.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import solvers

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpi")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(HERE.parent),
               NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable, str(HERE / "mpi_tuner.py"),
           str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    return out, ranks


def test_both_ranks_ran_distributed(two_ranks):
    _, ranks = two_ranks
    assert [r["size"] for r in ranks] == [2, 2]
    assert ranks[0]["mat_type"] == "mpiaij"
    assert ranks[0]["local_rows"] + ranks[1]["local_rows"] == 23 * 23
    assert min(r["local_rows"] for r in ranks) > 0


def test_same_arms_and_history_on_every_rank(two_ranks):
    _, (r0, r1) = two_ranks
    assert len(r0["arms"]) == 16
    assert r0["arms"] == r1["arms"]  # rank 0 decided, rank 1 received (it had another seed)
    assert r0["iterations"] == r1["iterations"]
    assert r0["seconds"] == r1["seconds"]  # rank 0's clock, broadcast
    assert len(set(r0["arms"])) > 1  # the learner explored
    assert r0["loaded_arms"] == r0["arms"] == r1["loaded_arms"]
    # audits: rank 0 draws (rank 1 had another audit seed), every rank runs the same ones
    assert r0["audits"] == r1["audits"] and len(r0["audits"]["round"]) > 0
    assert r0["p"] == r1["p"] and all(0 < p <= 1 for p in r0["p"])


def test_rounds_already_solved_are_recorded_alike_untold_and_unaudited(two_ranks):
    _, (r0, r1) = two_ranks
    z = r0["zero"]
    assert z == r1["zero"]  # rank 0's draws and audit schedule on every rank
    assert z["iterations"][1::2] == [0] * 12 and min(z["iterations"][0::2]) > 0
    assert z["told"] == 12
    assert z["audited"] and not set(z["audited"]) & set(range(1, 24, 2))


def test_every_solve_reached_tolerance(two_ranks):
    _, ranks = two_ranks
    for r in ranks:
        assert all(r["converged"])
        assert max(r["relative_residuals"]) <= 1e-8
    assert ranks[0]["u_norm"] == pytest.approx(ranks[1]["u_norm"], rel=1e-14)


def test_state_file_written_once_by_rank_0(two_ranks):
    out, (r0, r1) = two_ranks
    assert len(r0["writes"]) == 1 and r1["writes"] == []
    assert (out / "tuner.json").exists()


def test_replicated_scipy_input_is_solved_distributed(two_ranks):
    _, (r0, r1) = two_ranks
    for r in (r0, r1):
        s = r["scipy_input"]
        assert s["converged"] and s["true_residual"] <= 1e-8 and s["ranks"] == 2
    assert r0["scipy_input"]["x_head"] == r1["scipy_input"]["x_head"]


def test_distributed_system_gathered_whole_on_every_rank(two_ranks):
    """The sampled direct baseline's input under MPI: the scipy simulation's system, exactly."""
    _, ranks = two_ranks
    for r in ranks:
        g = r["gathered"]
        assert g["shape"] == [23 * 23, 23 * 23]
        assert g["matrix"] <= 1e-12 and g["rhs"] <= 1e-12


def test_every_kind_on_a_distributed_mat(two_ranks):
    """Block-Jacobi SOR/SSOR on 2 ranks: converged to tolerance, same counts on both ranks."""
    _, (r0, r1) = two_ranks
    assert r0["kinds"] == r1["kinds"]
    for name, k in r0["kinds"].items():
        assert k["converged"] and k["true_residual"] <= 1e-8, name
    one_rank_sor = solvers.sor(solvers.gallery.laplacian_2d(20),
                               np.random.default_rng(0).standard_normal(400), 1.7).iterations
    assert r0["kinds"]["sor"]["iterations"] != one_rank_sor  # parallel SOR is block Jacobi


def test_guarded_fallback_is_the_same_on_every_rank(two_ranks):
    _, (r0, r1) = two_ranks
    g0, g1 = r0["guard"], r1["guard"]
    assert g0 == {**g1, "true_residuals": g0["true_residuals"]}  # arms, chains, costs agree
    assert all(g0["converged"]) and max(g0["true_residuals"] + g1["true_residuals"]) <= 1e-8
    rescued = [a for a in g0["attempts"] if len(a) > 1]
    assert rescued  # some chosen arms diverged and another arm finished the solve
    assert all(f >= 0 for f, a in zip(g0["fallback"], g0["attempts"]) if len(a) > 1)


def test_input_refused_on_one_rank_is_refused_on_every_rank(two_ranks):
    _, (r0, r1) = two_ranks
    assert r0["refused"] == "rank 1: b contains NaN or Inf (1 entry)"
    assert r1["refused"].startswith("b contains NaN or Inf")
    assert r0["unchanged"] and r1["unchanged"]


def test_a_context_refused_or_different_on_one_rank_is_refused_on_every_rank(two_ranks):
    _, (r0, r1) = two_ranks
    assert r0["context"]["nan"] == "rank 1: context must be finite, got nan"
    assert r1["context"]["nan"] == "context must be finite, got nan"
    for r in (r0, r1):
        assert r["context"]["differ"].startswith("the MPI ranks passed different contexts")
        assert "rank 1: 0.25" in r["context"]["differ"]
        assert r["context"]["after"] and r["context"]["rounds"] == 1  # nothing else recorded


def test_eisenstat_on_a_distributed_mat_is_refused(two_ranks):
    """PETSc's PCEISENSTAT needs the diagonal-block product, which a distributed AIJ Mat's
    blocks do not have: a clear ValueError on every rank (solve and Tuner arm check), the
    process survives and other configurations still solve."""
    _, (r0, r1) = two_ranks
    for r in (r0, r1):
        e = r["eisenstat"]
        assert e["solve"] and "eisenstat" in e["solve"] and "2 ranks" in e["solve"]
        assert e["tuner"] and "arm 0" in e["tuner"] and "eisenstat" in e["tuner"]
        assert e["after"] is True


def test_factorisation_preconditioner_on_a_distributed_mat_says_what_to_use(two_ranks):
    _, (r0, r1) = two_ranks
    for r in (r0, r1):
        assert r["icc"] and "2 ranks" in r["icc"] and "'sub_pc_type': 'icc'" in r["icc"]
        assert r["bjacobi_icc"]["converged"] and r["bjacobi_icc"]["true_residual"] <= 1e-8


def test_input_that_differs_between_ranks_is_refused_on_every_rank(two_ranks):
    """Each rank passes the whole input and keeps its own rows: input that differs between
    the ranks (even a setting only one rank would refuse, or a different iteration cap, which
    would leave one rank waiting in KSPSolve) is a ValueError on every rank naming what
    differs, raised before any collective operation; the next solve works."""
    _, (r0, r1) = two_ranks
    named = {"omega": "omega", "options": "options", "maxiter": "maxiter", "kind": "kind",
             "A": "different A", "b": "different b", "prepare": "different A"}
    for r in (r0, r1):
        d = r["differ"]
        for case, word in named.items():
            assert d[case] and "ranks passed different" in d[case] and word in d[case], (case, d)
        assert d["after"] is True


def test_default_learner_takes_its_prior_from_a_distributed_matrix(two_ranks):
    """The spectral estimate behind the default learner's prior runs on every rank of a
    distributed Mat (it had been skipped: the default learner then started from ω = 1 and
    walked up, +28 % iterations over 60 solves of a 3-D diffusion sequence)."""
    from bandit.prior import theory_costs
    from solvers import gallery
    from solvers.spectral import estimate_spectrum

    _, (r0, r1) = two_ranks
    A = gallery.laplacian_2d(20)  # the matrix the script distributed
    serial = estimate_spectrum(A)
    for r in (r0, r1):  # every rank ran the same Lanczos: the serial one, to rounding
        assert r["spectrum"][0] == pytest.approx(serial.mu_min, rel=1e-9)
        assert r["spectrum"][1] == pytest.approx(serial.mu_max, rel=1e-9)
        assert r["spectrum"][2] == serial.steps
    expected = np.log(theory_costs(A, r0["prior"]["arms"], "sor")
                      / theory_costs(A, r0["prior"]["arms"], "sor").min())
    assert r0["prior"]["curve"] == pytest.approx(expected.tolist(), rel=1e-7, abs=1e-9)
    # the first draw plays the prior's minimum, on every rank
    assert r0["prior"]["first_arm"] == r1["prior"]["first_arm"] == int(np.argmin(expected))
    assert r0["prior"]["converged"] and r1["prior"]["converged"]
