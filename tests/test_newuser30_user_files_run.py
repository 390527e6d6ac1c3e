"""``experiments.user_files.run`` (what ``relaxtune tune`` runs) called from Python with a
policy object, a generator of systems or no systems.

A policy over other ω than ``arms`` (or than the default grid, ``arms`` left out) had been
run as given while the exact comparison solved with ``arms``: the table's best fixed ω, the
exact regret and the tuner's own estimate beside it were of two different grids, without a
word.  The policy's arms are now the grid when ``arms`` is left out, and other ``arms`` are
refused; each fixed ω's total is checked against the solver run by hand."""
import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from experiments import user_files as uf
from solvers import gallery


def _systems():
    A = gallery.laplacian_2d(6)
    return [(A + s * sp.eye(36), np.ones(36)) for s in (0.0, 0.5, 1.0)]


def test_a_policy_object_brings_its_own_grid():
    systems = _systems()
    omegas = [1.1, 1.3, 1.7]
    res = uf.run(systems, solver="sor", policy=bandit.TsallisINF(omegas, seed=0),
                 audit_budget=None)
    assert res["arms"] == omegas
    s = uf.summarize(res)
    by_hand = {w: sum(solvers.sor(A, b, w).iterations for A, b in systems) for w in omegas}
    assert s["fixed"] == by_hand
    best = min(by_hand, key=by_hand.get)
    assert s["best_fixed"] == {"omega": best, "iterations": by_hand[best],
                               "all_converged": True, "not_converged": 0}
    tuned = int(np.sum(res["tuner"].history["iterations"]))
    assert s["exact_regret"]["best_fixed"] == tuned - by_hand[best]


def test_the_same_arms_as_the_policy_are_taken():
    omegas = [1.1, 1.3, 1.7]
    res = uf.run(_systems(), solver="sor", arms=np.array(omegas), audit_budget=None,
                 policy=bandit.TsallisINF(omegas, seed=0))
    assert res["arms"] == omegas


def test_other_arms_than_the_policy_are_refused():
    with pytest.raises(ValueError, match=r"arms \[1.0, 1.5\] are not the policy's arms "
                                         r"\[1.1, 1.3, 1.7\]"):
        uf.run(_systems(), solver="sor", arms=[1.0, 1.5],
               policy=bandit.TsallisINF([1.1, 1.3, 1.7], seed=0))


def test_a_policy_over_configurations_is_refused():
    policy = bandit.JointCB(bandit.config_grid(omegas=[1.2], pcs=["jacobi"]), seed=0)
    with pytest.raises(ValueError, match="configuration arms such as"):
        uf.run(_systems(), solver="ssor_pcg", policy=policy)


def test_a_generator_of_systems_is_named():
    with pytest.raises(TypeError, match=r"systems must be a sequence of \(A, b\) pairs .*"
                                        r"got generator.*pass list\(systems\)"):
        uf.run((s for s in _systems()), solver="sor", arms=[1.0, 1.5])


def test_no_systems_is_refused():
    with pytest.raises(ValueError, match="no systems given"):
        uf.run([], solver="sor", arms=[1.0, 1.5])
