"""A never-run compiled family's iteration (plain CG, Jacobi-CG, IC(0)-CG) priced at its own
kernel's clock, per entry and per row of the matrix, calibrated once per process on two small
cubes (:func:`solvers._precond_work.iteration_clock`), over SSOR-PCG's
(:meth:`bandit.armset.ArmSet.priced_work`): checked against the kernels' measured iterations
on matrices the calibration does not use."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
import scipy.sparse as sp

import solvers
import solvers._precond_work as PW
from bandit import FixedArm, Tuner
from solvers import gallery, prepare

ARMS = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "none"},
        {"method": "cg", "pc": "jacobi"}, {"method": "cg", "pc": "ic0"}]
FAMILY = {1: "cg", 2: "jacobi", 3: "ic0"}
#: the rule before priced each at SSOR-PCG's seconds per unit of work: IC(0)-CG's iteration
#: at 0.55-0.91 × its clock (docs/studies/precond_rules.md; a geometric mean of 0.63 over
#: these three matrices); its own clock puts it within 0.75-1.15 × on a quiet core, and read
#: 0.72-0.85 (mean 0.79) once under the test suite on a core shared with four timed jobs.
#: The geometric mean over three matrices must lie within this factor (which the rule before
#: misses), every single prediction within the wider one (the noise of the test's own short
#: solves on a shared machine)
MEAN_FACTOR = 1.45
ONE_FACTOR = 2.0


def _cube(m, points):
    """The 7- or 27-point Laplacian of an ``m³`` grid (27: 27 on the diagonal, -1 off it)."""
    T = sp.diags_array([np.ones(m - 1), np.ones(m), np.ones(m - 1)], offsets=[-1, 0, 1])
    if points == 7:
        L, eye = 2 * sp.eye_array(m) - (T - sp.eye_array(m)), sp.eye_array(m)
        return sp.csr_array(sp.kron(sp.kron(L, eye), eye) + sp.kron(sp.kron(eye, L), eye)
                            + sp.kron(sp.kron(eye, eye), L))
    A = sp.csr_array(-sp.kron(sp.kron(T, T), T))
    A.setdiag(27.0)
    return sp.csr_array(A)


def _matrices():
    """Matrices the calibration (7- and 27-point cubes of side 12) does not use."""
    return {"aniso 2-D 120²": gallery.anisotropic_2d(120, 0.1),
            "3-D 7-point 20³": _cube(20, 7),
            "3-D 27-point 16³": _cube(16, 27)}


def _run(family, op, b, maxiter, pcs):
    if family == "ssor":
        return solvers.ssor_pcg(op, b, 1.5, rtol=1e-300, maxiter=maxiter)
    if family == "cg":
        return solvers.cg(op, b, rtol=1e-300, maxiter=maxiter)
    return solvers.pcg(op, b, pcs[family], rtol=1e-300, maxiter=maxiter)


def _led_by_ssor(A):
    """A timed Tuner whose fixed policy played SSOR-PCG (arm 0) on ``A``; no CG family ran.
    (Its kernels loaded first by another Tuner.)"""
    rng = np.random.default_rng(0)
    bs = [rng.standard_normal(A.shape[0]) for _ in range(6)]
    Tuner(FixedArm(ARMS, arm=0), cost="timed_work", rtol=1e-8).solve(A, bs[0])
    t = Tuner(FixedArm(ARMS, arm=0), cost="timed_work", rtol=1e-8)
    for b in bs:
        assert t.solve(A, b).converged
    return t


def _measured_in_ssor_work(op):
    """Each compiled family's iteration on ``op`` in units of SSOR-PCG's work: its clock over
    SSOR-PCG's (each the slope between solves of 5 and 25 iterations, the least of 9, all
    interleaved) times SSOR-PCG's work model figure.  Read on this thread's CPU time, which
    a busy core's preemption does not advance: on the wall clock a solve of a few ms shared
    a core with four busy processes was preempted in all 9 tries, and one family's slope
    read 10 x another's."""
    b = np.ones(op.n)
    pcs = {f: solvers.preconditioner(f).setup(op) for f in ("jacobi", "ic0")}
    for f in ("ssor", "cg", "jacobi", "ic0"):  # (each kernel loaded before the clock)
        _run(f, op, b, 2, pcs)
    best = {}
    for _ in range(9):
        for f in ("ssor", "cg", "jacobi", "ic0"):
            for k in (5, 25):
                t0 = time.thread_time()
                res = _run(f, op, b, k, pcs)
                sec = time.thread_time() - t0
                if (f, k) not in best or sec < best[(f, k)][0]:
                    best[(f, k)] = (sec, res.iterations)
    slope = {f: (best[(f, 25)][0] - best[(f, 5)][0]) / (best[(f, 25)][1] - best[(f, 5)][1])
             for f in ("ssor", "cg", "jacobi", "ic0")}
    w = solvers.work_model("ssor_pcg", op, {"pc": "ssor", "omega": 1.5}).per_iteration
    return {f: slope[f] / slope["ssor"] * w for f in ("cg", "jacobi", "ic0")}


def _price_misses():
    """Where the guard's price of a never-run family is off its measured iteration: the
    misses of one calibration of the process's iteration clock (empty: none)."""
    misses = []
    ratios = {f: [] for f in FAMILY.values()}
    for name, A in _matrices().items():
        t = _led_by_ssor(A)
        a, op = t._arms, t._last_op
        sec, work = a._per_work
        # the median of three measurements (one of a few short solves can read a preempted
        # core)
        runs = [_measured_in_ssor_work(op) for _ in range(3)]
        measured = {f: float(np.median([m[f] for m in runs])) for f in FAMILY.values()}
        w = solvers.work_model("ssor_pcg", op, {"pc": "ssor", "omega": 1.5}).per_iteration
        for k, f in FAMILY.items():
            assert a._rate[a.family[k]][1] == 0  # never ran
            # the guard's rate in units of the compiled kernels' work: the family's own clock
            # over SSOR-PCG's, as calibrated (exact, whatever the load)
            units = a.rate(k, op) / (sec / work)
            assert units == pytest.approx(PW.iteration_ratio(f, op) * w, rel=1e-9)
            r = units / measured[f]
            if not 1 / ONE_FACTOR < r < ONE_FACTOR:
                misses.append((name, f, units, measured[f]))
            ratios[f].append(r)
    # IC(0)-CG: the rule before priced it at 0.55-0.91 × its clock on every matrix
    mean = float(np.exp(np.mean(np.log(ratios["ic0"]))))
    if not 1 / MEAN_FACTOR < mean < MEAN_FACTOR:
        misses.append(("ic0 mean", mean, ratios["ic0"]))
    return misses


def test_a_never_run_family_is_priced_near_its_measured_iteration(monkeypatch):
    # The calibration is a wall-clock reading, once per process: a preempted core can put one
    # reading 2-3 × off (seen at a load of 15 on a 2-core machine).  A rule that misprices a
    # family misses on every fresh calibration; noise does not, three times running.
    tries = []
    for _ in range(3):
        monkeypatch.setattr(PW, "_ITERATION_CLOCK", {})  # a fresh calibration
        tries.append(_price_misses())
        if not tries[-1]:
            return
    pytest.fail(f"priced off its measured iteration on three calibrations: {tries}")


def test_the_clock_is_taken_once_per_process_and_kept_off_the_policy(monkeypatch):
    monkeypatch.setattr(PW, "_ITERATION_CLOCK", {})
    calls = []
    measure = PW._measure_clock

    def counted():
        calls.append(1)
        return measure()
    monkeypatch.setattr(PW, "_measure_clock", counted)
    A = gallery.laplacian_2d(30)
    t = _led_by_ssor(A)
    assert calls == []  # a loop that has not priced a CG family has not paid it
    for _ in range(3):
        for k in FAMILY:
            assert t._arms.rate(k, t._last_op) > 0
    assert calls == [1]
    assert not any("ITERATION_CLOCK" in k.upper() for k in vars(t._arms))
    assert "_ITERATION_CLOCK" not in vars(t.policy)


def test_the_clock_terms_and_the_ratio():
    for f in PW.COMPILED_FAMILIES:
        entry, row = PW.iteration_clock(f)
        assert entry >= 0 and row >= 0 and 0 < entry + row < 1e-6  # seconds, < 1 µs a row
    op = prepare(gallery.laplacian_2d(40))
    e, r = PW.iteration_clock("ic0")
    es, rs = PW.iteration_clock("ssor")
    assert PW.iteration_ratio("ic0", op) == pytest.approx(
        (e * op.nnz + r * op.n) / (es * op.nnz + rs * op.n))
    assert PW.iteration_ratio("ssor", op) == 1.0
    with pytest.raises(ValueError, match="family must be one of"):
        PW.iteration_clock("amg")


def test_a_clock_that_read_nothing_leaves_the_work_model(monkeypatch):
    monkeypatch.setattr(PW, "_ITERATION_CLOCK", {f: (0.0, 0.0) for f in PW.COMPILED_FAMILIES})
    t = _led_by_ssor(gallery.laplacian_2d(30))
    a, op = t._arms, t._last_op
    assert a.priced_work(1, op) is None
    sec, work = a._per_work
    assert a.rate(1, op) == pytest.approx(a.iteration_work(1, op) * sec / work)


def test_the_fit_drops_a_term_the_noise_makes_negative():
    sizes = ((6400.0, 1000.0), (21952.0, 1000.0))  # (entries, rows) of two cubes of 10³
    entry, row = 3e-10, 2e-9
    exact = tuple(entry * N + row * n for N, n in sizes)
    assert PW._fit_clock(exact, sizes) == pytest.approx((entry, row))
    # a second slope too small for its entries (the second matrix's clock read low): the
    # two-term solution's per-entry term is negative; the per-row term alone, fitted
    e, r = PW._fit_clock((exact[0], 0.5 * exact[0]), sizes)
    assert e == 0.0 and r == pytest.approx(0.75 * exact[0] / 1000.0)
    e, r = PW._fit_clock((exact[0], 10 * exact[0]), sizes)  # a per-row term below 0
    assert r == 0.0 and e > 0
    assert PW._fit_clock((0.0, 0.0), sizes) == (0.0, 0.0)
    assert PW._fit_clock((-1.0, -1.0), sizes) == (0.0, 0.0)


def test_amg_arms_and_sor_keep_their_own_prices():
    t = _led_by_ssor(gallery.laplacian_2d(30))
    a, op = t._arms, t._last_op
    assert a.priced_work(0, op) is None  # SSOR-PCG: the reference itself
    arms = [{"method": "sor", "omega": 1.5}, {"method": "cg", "pc": "jacobi"}]
    t2 = Tuner(FixedArm(arms, arm=0), cost="timed_work", rtol=1e-8)
    A = gallery.laplacian_2d(20)
    t2.solve(A, np.ones(A.shape[0]))
    assert t2._arms.priced_work(0, t2._last_op) is None
    assert t2._arms.priced_work(1, t2._last_op) > 0


def test_a_saved_tuner_file_holds_no_clock(tmp_path):
    t = _led_by_ssor(gallery.laplacian_2d(30))
    before = tmp_path / "before.json"
    t.save(before)
    t._arms.rate(3, t._last_op)
    after = tmp_path / "after.json"
    t.save(after)
    assert json.loads(before.read_text()) == json.loads(after.read_text())
