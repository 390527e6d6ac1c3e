"""The a-priori price of an AMG set-up (solvers.amg.AMG.setup_price) and the guard's use
of it: a first set-up that provably cannot win against the leader is not built; one that
can is still tried; every guarded solve converges."""
import math

import numpy as np
import pytest

import bandit
import solvers
from bandit import FixedArm, Tuner
from experiments.problems import DiffusionMC3D
from solvers import gallery
from solvers import amg
from solvers.amg import AMG, AMG_PRICE_FACTOR, _poisson_cube

ARMS = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "amg"},
        {"method": "cg", "pc": "amg", "reuse": 20}]


def mc(T, m):
    seq = DiffusionMC3D(m, T, seed=0)
    return [seq[t] for t in range(T)]


def best_setup_seconds(op, reps=3):
    return min(AMG().setup(op).setup_seconds for _ in range(reps))


@pytest.mark.parametrize("make", [lambda: gallery.laplacian_2d(70),
                                  lambda: _poisson_cube(18),
                                  lambda: mc(1, 16)[0][0],
                                  lambda: gallery.crank_nicolson_2d(80, 2.0)])
def test_amg_set_up_price_is_within_its_factor_of_pyamgs_measured_set_up(make):
    # the reference is pyamg's own set-up on the clock (the best of three); the price is made
    # before any set-up of this matrix, from a calibration cube of another size (and, for the
    # 2-D matrices and the random-coefficient one, another kind of sparsity)
    # Both sides are clocks, so a burst of other work on a shared core can push one of them
    # out of the factor; the claim is about the machine's speed, so a fresh calibration and
    # measurement get three tries (a price that is wrong by more than the factor fails all).
    op = solvers.prepare(make())
    ratios = []
    for _ in range(3):
        amg._AMG_FIXED_CLOCK.clear()
        amg._AMG_PRODUCT_EQUIVALENTS.clear()
        price = AMG().setup_price(op)
        ratios.append(best_setup_seconds(op) / price)
        if 1 / AMG_PRICE_FACTOR < ratios[-1] < AMG_PRICE_FACTOR:
            break
    else:
        pytest.fail(f"set-up / price {ratios} outside the factor {AMG_PRICE_FACTOR} every time")


def _tuner(price_setups, clock=None, solves=2, m=20):
    """A Tuner over :data:`ARMS` playing arm 0 (SSOR-PCG), with ``solves`` solves behind it
    (the first cold, the second warm), its policy's record then cleared; the guard's clock
    floors and prices of set-ups taken from ``clock`` (another such Tuner) if given."""
    p = FixedArm(ARMS, arm=0)
    t = Tuner(p, cost="timed_work")
    t._arms.price_setups = price_setups
    t._arms.warm_leader_first = price_setups
    if solves:
        for A, b, _ in mc(solves, m):
            t.solve(A, b)
        p.counts[:] = p.converged_counts[:] = 0
        p.cost_sums[:] = 0.0
        p.t = 0
    if clock is not None:
        t._arms._clock_floor = dict(clock._arms._clock_floor)
        t._arms._clock_price = dict(clock._arms._clock_price)
    return p, t


def _lead(p, t, cost):
    """Tell the fixed policy a synthetic cost sequence: the leader (arm 0) cost ``cost``
    seconds five times."""
    for _ in range(5):
        p.update(0, cost, None, False, True)
    assert t.policy.leader(None) == (0, pytest.approx(cost))


def test_the_guard_refuses_a_first_amg_set_up_whose_price_exceeds_the_leader():
    A, b, _ = mc(3, 20)[2]
    op = solvers.prepare(A)
    p, t = _tuner(True)
    floor = t._arms.setup_prior(1, op)  # pyamg's clock floor of the counted passes
    priced = t._arms.setup_prior(1, op, priced=True)  # the price over its factor, if larger
    key = (t._arms.configs[1].setup_key, op.n, op.nnz)
    assert priced == max(floor, t._arms._clock_price[key])
    # the decision on a synthetic price three times the floor (the price's own accuracy on
    # the clock is the test above)
    t._arms._clock_price[key] = 3 * floor  # (both AMG arms have the same kind of set-up)
    priced = t._arms.setup_prior(1, op, priced=True)
    assert priced == pytest.approx(3 * floor)
    # a leader dearer than pyamg's clock floor but cheaper than the least the set-up can
    # cost by its price: no AMG-CG attempt can win, fresh or reused (a reuse arm's set-up
    # serves no solve the policy has shown it will give it)
    lead = math.sqrt(floor * priced)
    for arm in (1, 2):
        p, t = _tuner(True, clock=t)
        _lead(p, t, lead)
        p.arm = arm
        res = t.solve(A, b)
        assert res.converged and res.arm == 0  # the leader solved it
        h = t.history
        assert h["budget"][-1] == 0 and h["censored"][-1]
        assert t._calls[arm][1][False]["pc"].setups == 0  # nothing built
        assert h["cost"][-1] >= lead * (1 - 1e-9)  # told a bound at which it cannot win
        # with pyamg's clock floor alone (the rule before) the attempt was started
        p, old = _tuner(False, clock=t)
        _lead(p, old, lead)
        p.arm = arm
        res = old.solve(A, b)
        assert res.converged and old._calls[arm][1][False]["pc"].setups == 1


def test_an_amg_set_up_is_measured_against_warm_solves_and_still_tried_where_it_can_win():
    # a leader predicted dearer than the set-up's price: the fresh AMG-CG arm may win.  It is
    # not built while that prediction rests on the leader's cold first solve only, nor while
    # every warm solve of the leader's family cost less than the set-up's share (a prediction
    # that extrapolates, to a context not yet seen, costs never shown); once the family has
    # shown solves that dear it is built (not locked out by the price); every solve converges
    A, b, _ = mc(3, 20)[2]
    price = AMG().setup_price(solvers.prepare(A))
    for solves, shown, started in ((1, 0.0, False), (2, None, False), (2, 4 * price, True)):
        p, t = _tuner(True, solves=solves)
        if started:  # leader and warm solves dearer than this tuner's own price of the
            # set-up (its price is a clock reading of its own: under load it can read dearer
            # than the one above, and 4 x the wrong one need not pay for it)
            price = max(price, t._arms.setup_prior(1, solvers.prepare(A), priced=True))
            shown = 4 * price
        if shown is not None:  # the dearest warm solve of SSOR-PCG so far
            t._arms._warm_most[0] = shown
        else:  # the real warm solve, far cheaper than the set-up's price
            # (a clock reading: a core descheduled through it under load 4-7 can read it
            # dearer, so up to five fresh tuners are made before failing)
            for _ in range(4):
                if 0 < t._arms._warm_most[0] < price / AMG_PRICE_FACTOR:
                    break
                p, t = _tuner(True, solves=solves)
            assert 0 < t._arms._warm_most[0] < price / AMG_PRICE_FACTOR
        _lead(p, t, 4 * price)
        p.arm = 1
        res = t.solve(A, b)
        assert res.converged
        assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-6)
        built = t._calls[1][1][False]["pc"].setups
        assert (built, t.history["budget"][-1] > 0) == ((1, True) if started else (0, False))
        # the rule before started it every time
        p, old = _tuner(False, solves=solves)
        _lead(p, old, 4 * price)
        p.arm = 1
        assert old.solve(A, b).converged and old._calls[1][1][False]["pc"].setups == 1
