"""Under MPI a Tuner primes its policy with a collective spectral estimate of the first
matrix only when the policy takes a prior from it.

Launches ``mpiexec -n 2`` on ``tests/mpi_prime.py``, which counts the estimates each Tuner's
first solves run (every rank must run it or none: it is collective).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bandit
from solvers import gallery

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("prime")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(HERE.parent),
               NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable, str(HERE / "mpi_prime.py"),
           str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.mark.parametrize("name", ["uniform", "tsallis", "joint_no_prior", "default_ssor_pcg"])
def test_no_estimate_for_a_policy_without_a_prior(ranks, name):
    """The default SSOR-PCG learner (JointCB without a prior) had run the estimate's ~40
    collective products on every rank for a prior nobody took."""
    for r in ranks:
        assert r["size"] == 2
        assert r["estimates"][name] == 0, (r["rank"], name)
        assert r["converged"][name] and r["prior"][name] is None


def test_the_theory_prior_still_takes_its_estimate(ranks):
    """The default SOR learner takes its prior from the first matrix: one estimate on every
    rank (collective), and the same prior as the whole matrix gives on one process."""
    r0, r1 = ranks
    assert r0["estimates"]["default_sor"] == r1["estimates"]["default_sor"] == 1
    p = bandit.default_policy("sor", [1.0, 1.3, 1.6, 1.8], seed=0)
    p.prime(gallery.laplacian_2d(12), "sor")
    assert r0["prior"]["default_sor"] is not None
    np.testing.assert_allclose(r0["prior"]["default_sor"], p.prior_curve, rtol=1e-6, atol=1e-9)
