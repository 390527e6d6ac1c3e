"""The split triangles' placement charged to the arm that needs it: a configuration Tuner's
SOR/SSOR-PCG run on a working copy refreshed without the triangles (after a CG-type call,
:meth:`solvers.CSROperator._check_csr`) places them inside its cost — its seconds include the
placement (``info["split_seconds"]``) and its work the work model's set-up term
(:attr:`solvers.WorkModel.split`, one move of each value, counted against the kernel's own
slots) — while a CG run never pays it.  References: the placement kernel's slot count, the
work model's formulas recomputed by hand from scipy's triangles, dense solves."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from solvers import gallery, prepare, work_model

GRID = [{"method": "cg"}, {"method": "ssor_pcg", "omega": 1.5}]


def test_the_work_model_counts_the_placement_as_one_move_of_each_value():
    A = gallery.laplacian_2d(12).tocsr()
    op = prepare(A)
    op.split_triangles()
    slot = op._pattern["values"][0]  # where place_values moves each of A's values
    moved = slot.size / A.nnz
    assert slot.size == A.nnz and moved == 1.0
    for method, pc in (("ssor_pcg", None), ("ssor_pcg", {"pc": "ssor", "omega": 0.3}),
                       ("sor", None), ("pcg", {"pc": "ssor", "omega": 1.2})):
        assert work_model(method, A, pc).split == moved
    for method, pc in (("cg", None), ("pcg", "jacobi"), ("pcg", "ic0")):
        assert work_model(method, A, pc).split == 0.0
    # total() is unchanged by the term (it is charged only to a run that places)
    N, n = float(A.nnz), float(A.shape[0])
    NL = NU = float(sp.triu(A, 1).nnz)
    w = work_model("ssor_pcg", A)
    assert w.total(7) == pytest.approx((2 * N + 2 * NU + NL + 7 * n) / N
                                       + 7 * (2 * NU + NL + 14 * n) / N, rel=1e-14)


def _tuner(arm, cost="timed_work"):
    policy = bandit.FixedArm(GRID, arm=arm)
    return policy, bandit.Tuner(policy, rtol=1e-10, maxiter=10_000, cost=cost, guard=None)


def _systems(steps, seed):
    rng = np.random.default_rng(seed)
    for step in range(steps):
        A = gallery.crank_nicolson_2d(9, 0.01 * (step + 1)).tocsr()
        yield A, rng.standard_normal(A.shape[0])


@pytest.mark.parametrize("cost", ["timed_work", "work", "time"])
def test_an_ssor_run_after_a_cg_call_is_charged_the_placement(cost):
    """CG, CG, SSOR, SSOR, CG, SSOR: the SSOR runs that follow a CG call place the
    triangles and are charged them (seconds and work); the SSOR run after an SSOR call finds
    them placed with the values (nothing to charge); CG runs are never charged."""
    policy, t = _tuner(0, cost)
    plays = [0, 0, 1, 1, 0, 1, 1]
    placed = 0
    for step, ((A, b), arm) in enumerate(zip(_systems(len(plays), 2), plays)):
        policy.arm = arm
        stale = t._last_op is not None and t._last_op._split_asked is False
        r = t.solve(A, b)
        assert r.arm == arm
        np.testing.assert_allclose(r.x, np.linalg.solve(A.toarray(), b), rtol=1e-7)
        charged = "split_seconds" in r.info
        assert charged == (arm == 1 and step > 0 and stale), (step, arm, stale)
        if not charged:
            continue
        placed += 1
        assert 0.0 < r.info["split_seconds"] < r.seconds
        if cost != "time":
            model = work_model("ssor_pcg", A, {"pc": "ssor", "omega": 1.5})
            assert r.info["work"] == model.total(r.iterations) + model.split
            assert r.info["work"] == pytest.approx(model.total(r.iterations) + 1.0)
    assert placed == 2  # the SSOR runs of steps 2 and 5


def test_the_told_cost_of_an_ssor_run_after_a_cg_call_includes_the_placement():
    """With the family's price fixed, the told ``timed_work`` of a run that placed the
    triangles is its price times (the run's work + one pass); the same arm's next run, on
    triangles placed with the values, is told its price times the run's work alone."""
    _, t = _tuner(1)
    for A, b in _systems(14, 3):  # the reference family's price fixed from its 9th warm solve
        t.solve(A, b)
    book = t._arms._prices
    assert book is not None and book.fixed
    A = gallery.crank_nicolson_2d(9, 0.5).tocsr()
    b = np.ones(A.shape[0])
    t._last_op._split_asked = False  # as after a CG call
    r = t.solve(A, b)
    model = work_model("ssor_pcg", A, {"pc": "ssor", "omega": 1.5})
    assert r.info["split_seconds"] > 0
    assert r.info["timed_work"] == pytest.approx(
        book.base * (model.total(r.iterations) + 1.0), rel=1e-12)
    r2 = t.solve(A, b)
    assert "split_seconds" not in r2.info
    assert r2.info["timed_work"] == pytest.approx(book.base * model.total(r2.iterations),
                                                  rel=1e-12)


def test_a_fixed_cg_tuner_never_pays_the_placement():
    _, t = _tuner(0)
    for A, b in _systems(6, 4):
        r = t.solve(A, b)
        assert "split_seconds" not in r.info
    assert t._last_op._split is None  # never placed
