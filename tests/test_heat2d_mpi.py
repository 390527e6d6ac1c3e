"""``relaxtune heat2d --backend petsc`` on one rank and on two: one pipeline, one schema.

Launches ``mpiexec -n 2 python -m experiments.cli heat2d --backend petsc ...`` (never skipped:
CI installs Open MPI and petsc4py) and runs the same options on one rank in this process.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dense_gold import pcg_count, ssor_apply
from experiments.cli import main
from experiments.costs import OMEGA_GRID
from experiments.problems import Heat2D

pytestmark = [pytest.mark.petsc, pytest.mark.mpi]

ROOT = Path(__file__).resolve().parent.parent
# nx = 12 (n = 121 unknowns), 10 steps of dt = 1.5 from s = 0.75: κ(s) alternates between 10
# and 0.1, so the systems alternate between hard and easy (a small run with something to learn)
OPTIONS = ["heat2d", "--backend", "petsc", "--nx", "12", "--steps", "10", "--t-end", "15",
           "--methods", "tsallis_inf", "chebcb", "--trials", "2", "--seed", "3"]


def _keys(obj, prefix=""):
    """Every key path of a JSON object (the schema, without the values)."""
    if not isinstance(obj, dict):
        return set()
    out = set()
    for k, v in obj.items():
        out |= {prefix + "/" + k} | _keys(v, prefix + "/" + k)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("heat2d_mpi")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(ROOT),
               NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable, "-m", "experiments.cli",
           *OPTIONS, "--out", str(tmp / "two"), "--json", str(tmp / "two.json")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=tmp)
    assert proc.returncode == 0, f"mpiexec failed:\n{proc.stdout}\n{proc.stderr}"
    assert main([*OPTIONS, "--out", str(tmp / "one"), "--quiet"]) == 0
    return tmp, proc


def _summary(folder):
    return json.loads((folder / "summary.json").read_text())


def _arrays(folder):
    with np.load(folder / "rounds_nx12.npz") as z:
        return {k: z[k] for k in z.files}


def test_two_ranks_write_the_same_schema_as_one(runs):
    tmp, _ = runs
    one, two = _summary(tmp / "one"), _summary(tmp / "two")
    assert _keys(one) == _keys(two)
    assert (one["params"]["ranks"], two["params"]["ranks"]) == (1, 2)
    assert {k: v for k, v in one["params"].items() if k != "ranks"} == \
        {k: v for k, v in two["params"].items() if k != "ranks"}
    assert {"cg", "direct", "best_fixed", "grid_min", "instance_optimal", "fixed_1.5",
            "tsallis_inf", "chebcb"} <= set(two["methods"])
    a1, a2 = _arrays(tmp / "one"), _arrays(tmp / "two")
    assert {k: v.shape for k, v in a1.items()} == {k: v.shape for k, v in a2.items()}
    assert two == json.loads((tmp / "two.json").read_text())  # --json
    for name in ("cumulative_nx12", "regret_nx12", "omega_map_nx12"):
        assert (tmp / "two" / "figures" / f"{name}.png").stat().st_size > 1000
    assert [p.name for p in tmp.iterdir() if p.name == "results"] == []  # only --out written


def test_table_printed_once_by_rank_0(runs):
    _, proc = runs
    out = proc.stdout
    assert "Traceback" not in proc.stderr
    assert out.count("SSOR-PCG iterations and solve seconds (2 learner trials, PETSc on 2 MPI "
                     "ranks)") == 1
    assert sum(line.startswith("method ") for line in out.splitlines()) == 1
    assert out.count("plain CG ") == 1 and out.count("ChebCB ") == 1
    assert out.count("results written to") == 1


def test_every_solve_converged_and_the_learners_agree_with_their_replay(runs):
    tmp, _ = runs
    for run in ("one", "two"):
        m = _summary(tmp / run)["methods"]
        for name in ("tsallis_inf", "chebcb"):
            assert m[name]["all_converged"], (run, name)
            assert len(m[name]["iterations_per_trial"]) == 2


def test_plain_cg_does_not_depend_on_the_number_of_ranks(runs):
    """Unpreconditioned CG is the same algorithm on any layout: same counts (± rounding)."""
    tmp, _ = runs
    c1, c2 = _arrays(tmp / "one")["iter__cg"], _arrays(tmp / "two")["iter__cg"]
    assert c1.sum() > 10 * c1.size  # a real solve each step
    assert np.abs(c1 - c2).max() <= 1


def test_parallel_ssor_is_block_jacobi_with_local_ssor(runs):
    """The first step's (κ = 10) SSOR-PCG counts over the ω grid against dense PCG: on one rank with
    the whole matrix's SSOR (forward sweep first, PETSc's order), on two ranks with SSOR of
    each rank's diagonal block (PETSc splits the 121 rows 61 + 60)."""
    tmp, _ = runs
    sim = Heat2D(12, 10, 15.0)
    u0 = sim.initial()
    A, b, _ = sim.system(0, u0)
    A = A.toarray()
    blocks = [slice(0, 61), slice(61, 121)]

    def block_jacobi(r, w):
        return np.concatenate([ssor_apply(A[s, s], r[s], w, order="textbook") for s in blocks])

    C1, C2 = _arrays(tmp / "one")["C"], _arrays(tmp / "two")["C"]
    for k in (0, 6, 12, 19):
        w = OMEGA_GRID[k]
        whole, _ = pcg_count(A, b, lambda r: ssor_apply(A, r, w, order="textbook"), x0=u0)
        split, _ = pcg_count(A, b, lambda r: block_jacobi(r, w), x0=u0)
        assert abs(C1[0, k] - whole) <= 1, (w, C1[0, k], whole)
        assert abs(C2[0, k] - split) <= 1, (w, C2[0, k], split)
        assert split >= whole + 3  # the lagged coupling between the blocks costs iterations
