"""A timed Tuner pays the untimed cold run once per family, not once per arm.

The cold run (``bandit._tuner_run._COLD_ITERATIONS`` iterations before an arm's first timed
run in a process) pays the interpreter's and the caches' first pass over a solver's code and
the system's arrays: costs of the family (SSOR-PCG at another ω runs the same kernels over the
same arrays), whose later first runs' readings the prices no longer rest on
(:mod:`bandit._cold_family`).  Counted here by wrapping the checked solver entry; the
solutions are checked against scipy's direct solve.
"""
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import bandit
import solvers._api
from bandit._base import Policy
from bandit._cold_family import COLD_BY_FAMILY, cold_run_needed
from bandit._tuner_run import _COLD_ITERATIONS
from solvers import gallery

ARMS = [{"method": "ssor_pcg", "omega": 1.2}, {"method": "ssor_pcg", "omega": 1.5},
        {"method": "ssor_pcg", "omega": 1.8}, {"method": "cg", "pc": "jacobi"},
        {"method": "cg", "pc": "none"}]


class Script(Policy):
    """Plays ``order`` in turn (deterministic)."""

    randomised = False
    order = (0, 1, 3, 2, 1, 4, 3, 0)

    def _select(self, context):
        return self.order[self.t % len(self.order)]


def _count_cold(monkeypatch):
    caps = []
    run = solvers._api.run_checked

    def counted(entry, op, b, c, x, maxiter, zero=False):
        caps.append(maxiter)
        return run(entry, op, b, c, x, maxiter, zero)

    monkeypatch.setattr(solvers._api, "run_checked", counted)
    return caps


def _play(tuner, steps):
    A = gallery.laplacian_2d(10).tocsr()
    rng = np.random.default_rng(3)
    for _ in range(steps):
        b = rng.standard_normal(A.shape[0])
        r = tuner.solve(A, b)
        x = spla.spsolve(A.tocsc(), b)
        assert r.converged
        assert np.linalg.norm(r.x - x) <= 1e-6 * np.linalg.norm(x)


@pytest.mark.parametrize("cost", ["time", "timed_work"])
def test_the_cold_run_is_paid_once_per_family(monkeypatch, cost):
    assert COLD_BY_FAMILY
    caps = _count_cold(monkeypatch)
    tuner = bandit.Tuner(Script(ARMS), cost=cost, guard=None, rtol=1e-10)
    _play(tuner, len(Script.order))
    # SSOR-PCG (three arms) and plain CG run through the checked entry, each family's first
    # run after an untimed one (Jacobi-CG takes the general path, without a cold run)
    assert caps.count(_COLD_ITERATIONS) == 2
    assert caps[0] == _COLD_ITERATIONS  # the first SSOR-PCG arm's, none for ω = 1.5, 1.8


def test_as_before_once_per_arm_when_switched_off(monkeypatch):
    caps = _count_cold(monkeypatch)
    tuner = bandit.Tuner(Script(ARMS), cost="timed_work", guard=None, rtol=1e-10)
    tuner._arms.cold_by_family = False
    _play(tuner, len(Script.order))
    assert caps.count(_COLD_ITERATIONS) == 4  # one per arm of the checked entry


def test_iterations_cost_has_no_cold_run(monkeypatch):
    caps = _count_cold(monkeypatch)
    class Omegas(Script):
        order = (0, 1, 2, 2, 1, 0)

    tuner = bandit.Tuner(Omegas(ARMS[:3]), cost="iterations", guard=None, rtol=1e-10)
    _play(tuner, len(Omegas.order))
    assert _COLD_ITERATIONS not in caps


def test_cold_run_needed_reads_the_family_of_the_arm():
    class Arms:
        family = [0, 0, 1, 1, 2]
        _warm = [False, True, False, False, False]

    arms = Arms()
    assert [cold_run_needed(arms, k) for k in range(5)] == [False, False, True, True, True]
    arms.cold_by_family = False
    assert [cold_run_needed(arms, k) for k in range(5)] == [True] * 5
