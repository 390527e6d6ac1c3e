"""The AMG calibration of a Tuner's first solve assembles its small 3-D Poisson matrix once
per process, not once per Tuner and AMG arm."""
import sys

import numpy as np

import bandit
import solvers.amg
from bandit import _tuner_prime
from solvers import gallery


def test_a_second_tuner_calibrates_on_the_same_cube(monkeypatch):
    made = []
    real = solvers.amg._poisson_cube

    def counting(m):
        caller = sys._getframe(1).f_code.co_name
        if caller in ("_cube", "_calibrate_amg"):  # the Tuner's calibration (pyamg's own
            made.append(m)                          # clocks make theirs once per process)
        return real(m)

    monkeypatch.setattr(solvers.amg, "_poisson_cube", counting)
    _tuner_prime._cube.cache_clear()
    arms = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "amg"},
            {"method": "cg", "pc": "amg", "reuse": 5}]
    A = gallery.laplacian_2d(12)
    b = np.ones(A.shape[0])
    seen = []
    for _ in range(2):
        tuner = bandit.Tuner(arms)  # timed work over configurations: guarded, AMG priced
        res = tuner.solve(A, b)
        assert res.converged
        seen.append(_tuner_prime._cube(3))
    # both AMG arms of both Tuners read one cube (max_coarse 10: 3 × 3 × 3), made once
    assert made == [3]
    assert seen[0] is seen[1] and seen[0].n == 27
