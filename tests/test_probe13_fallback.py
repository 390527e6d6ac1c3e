"""The fallback chain tries first the arm that finished the previous solves.

Where only a narrow band of ω converges within ``maxiter`` and the learner has not yet drawn
one, every chain had swept the failing arms from the most conservative on before reaching
the one that converges, on every solve, although the tuner had seen that arm finish the
solve before.
"""
import numpy as np

import bandit
import solvers
from solvers import gallery

OMEGAS = [1.0, 1.2, 1.4, 1.6, 1.7, 1.8, 1.9]
MAXITER = 80
A = gallery.laplacian_2d(16)


def _systems(k):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(A.shape[0]) for _ in range(k)]


def _reference(b):
    """Each arm's SOR run from x0 = 0 with the tuner's cap (rtol 1e-8)."""
    return [solvers.sor(A, b, w, maxiter=MAXITER) for w in OMEGAS]


def test_the_arm_that_finished_the_last_solve_is_tried_first():
    bs = _systems(6)
    # the reference: on every system only ω = 1.7 converges within the cap
    refs = [_reference(b) for b in bs]
    for ref in refs:
        assert [r.converged for r in ref] == [w == 1.7 for w in OMEGAS]
    # a learner that keeps playing ω = 1.9 (fails: never a converged observation, no leader)
    t = bandit.Tuner(bandit.FixedArm(OMEGAS, 6), solver="sor", maxiter=MAXITER)
    its = []
    for b, ref in zip(bs, refs):
        r = t.solve(A, b)
        assert r.converged and r.omega == 1.7
        assert np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b)
        its.append(r.iterations)
    # first solve: the attempt (80), then 1.0, 1.2, 1.4, 1.6 to the cap, then 1.7
    assert its[0] == 5 * MAXITER + refs[0][4].iterations
    # every later solve: the attempt, then 1.7 at once (it had swept the four again: 400 more)
    assert its[1:] == [MAXITER + ref[4].iterations for ref in refs[1:]]


def test_a_loaded_tuner_knows_which_arm_finished_the_solves(tmp_path):
    bs = _systems(4)
    refs = [_reference(b) for b in bs]
    t = bandit.Tuner(bandit.FixedArm(OMEGAS, 6), solver="sor", maxiter=MAXITER)
    for b in bs[:2]:
        t.solve(A, b)
    t.save(tmp_path / "t.json")
    u = bandit.Tuner.load(tmp_path / "t.json")
    for b, ref in zip(bs[2:], refs[2:]):
        r = u.solve(A, b)
        t.solve(A, b)
        assert r.iterations == MAXITER + ref[4].iterations
    # the loaded tuner continued as the uninterrupted one did
    assert np.array_equal(u.history["iterations"], t.history["iterations"])
    assert np.array_equal(u.history["fallback_arm"], t.history["fallback_arm"])


def test_the_policys_own_converged_arms_still_come_first():
    # the leader and the arms with a converged observation keep their place before it
    t = bandit.Tuner(bandit.FixedArm([1.0, 1.3, 1.6, 1.9], arm=3), solver="sor")
    t._log.append((3, 1.9, 10, 0.0, float("nan"), True, 10.0, True, 0, 1.0, -1, 5))
    assert t.fallback_order(3, None) == [0, 1, 2, 3]  # 0 is also the conservative arm
    t._log.append((3, 1.9, 10, 0.0, float("nan"), True, 10.0, True, 2, 1.0, -1, 5))
    assert t.fallback_order(3, None) == [2, 0, 1, 3]  # the latest first
    # a round the chain did not finish (not converged) names no arm
    t._log.append((3, 1.9, 10, 0.0, float("nan"), False, 10.0, True, 1, 1.0, -1, 5))
    assert t.fallback_order(3, None) == [2, 0, 1, 3]
    t.policy.update(1, 50.0)
    assert t.fallback_order(3, 1) == [1, 2, 0, 3]
