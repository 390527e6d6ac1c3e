"""The regret record as read and printed: intervals that read unambiguously, the comparator
and the number of rounds in ``as_dict``, and audit plans priced without the first solve's
loading of the compiled kernels."""
import re

import numpy as np

import bandit
from bandit import Tuner
from bandit.estimate import RegretEstimate, RegretReport
from experiments.bench_regret import ReplaySolver

OMEGAS = [round(1.0 + 0.1 * k, 1) for k in range(10)]


def _estimate(comparator, estimate, low, high, T=5000):
    cps = np.array([T // 2, T])
    return RegretEstimate(comparator, estimate, low, high, 0.9, "audits", True, cps,
                          np.zeros(2), np.zeros(2), np.zeros(2),
                          3 if comparator == "best_fixed" else None)


def _numbers(text):
    """The numbers of an interval as printed, read back: digits in groups of three after
    the first, separated by commas."""
    return [float(v.replace(",", "")) for v in
            re.findall(r"-?\d{1,3}(?:,\d{3})*(?:\.\d+)?", text)]


def test_printed_interval_reads_back_as_two_numbers():
    """``[-79,308, 600]`` reads as a list of three (the thousands separator is the list
    separator): the interval's two ends, read back from the printed line, are its low and
    high ends, whatever their size."""
    for low, high in ((-79_308.0, 600.0), (-1_642_349.0, 9_073.0), (0.0, 0.0),
                      (12.0, 1_234_567.0)):
        rep = RegretReport(_estimate("best_fixed", 0.5 * (low + high), low, high),
                           _estimate("instance_optimal", 5.0, float("nan"), float("nan")),
                           1e6, "iterations", 5000, {})
        line = next(s for s in str(rep).splitlines() if "best fixed" in s)
        band = line.split("interval", 1)[1]
        assert _numbers(band) == [low, high], line
        # no comma but the thousands separators: a comma between the ends reads as a list
        # separator, and "-79,308, 600" as the three numbers -79, 308 and 600
        assert "," not in re.sub(r"(?<=\d),(?=\d{3})", "", band), line


def test_as_dict_names_the_comparator_and_its_rounds():
    """A saved summary's entries say which comparator they are against and over how many
    rounds (``regret(rounds=T0)`` covers fewer rounds than the run)."""
    rng = np.random.default_rng(0)
    T = 120
    C = np.round(50 + 30 * (np.arange(10)[None] - 6.0) ** 2 / 36
                 + 5 * rng.random((T, 10))).astype(np.int64)
    tuner = Tuner(bandit.TsallisINF(OMEGAS, seed=0), solver=ReplaySolver(C, 1e-6 * C, OMEGAS),
                  audit_budget=0.05, audit_seed=0)
    for t in range(T):
        tuner.solve(t, None)
    for rounds, report in ((T, tuner.regret()), (80, tuner.regret(rounds=80))):
        d = report.as_dict()
        for name in ("best_fixed", "instance_optimal"):
            assert d[name]["comparator"] == name
            assert d[name]["rounds"] == rounds
    assert tuner.summary()["regret"]["best_fixed"]["rounds"] == T


class _SlowFirst(ReplaySolver):
    """A replayed solver whose first call takes 50 ms more (loading compiled kernels)."""

    def __init__(self, *args, load=0.05, **kwargs):
        super().__init__(*args, **kwargs)
        self.load = load

    def __call__(self, A, b, omega=None, *, x0=None, rtol=1e-8, atol=0.0, maxiter=10_000,
                 backend="numba"):
        res = super().__call__(A, b, omega, x0=x0, rtol=rtol, atol=atol, maxiter=maxiter,
                               backend=backend)
        if self.load:
            res, self.load = res.replace(seconds=res.seconds + self.load), 0.0
        return res


def test_plan_is_priced_without_the_first_solves_loading():
    """A plan's CPU seconds are converted to the tuner's cost unit (iterations) at the
    seconds per iteration of the user's solves; those of the first solve include loading the
    compiled kernels (50 ms here, against 600 solves of about 0.1 ms).  Counted in, the
    seconds per iteration were 1.8 × too high and the plan charged 0.55 × what it costs.
    The charge is the plan's seconds at the solves' own rate, 1 µs per iteration."""
    T = 600
    C = np.full((T, 10), 100, dtype=np.int64) + np.arange(10)[None] * 10
    tuner = Tuner(bandit.TsallisINF(OMEGAS, seed=0),
                  solver=_SlowFirst(C, 1e-6 * C, OMEGAS), audit_budget=0.05, audit_seed=0)
    for t in range(T):
        tuner.solve(t, None)
    assert tuner.summary()["audits"]["load_seconds"] > 0.049  # the report leaves it out
    aud = tuner._auditor
    aud.plan_cost = None
    expected = (aud.plan_floor + aud.plan_slope * T) / 1e-6  # seconds at 1 µs per iteration
    np.testing.assert_allclose(aud.plan_charge(tuner, T), expected, rtol=1e-6)
