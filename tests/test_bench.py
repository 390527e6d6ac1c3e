"""The shared timing discipline (experiments/_bench.py) and ``relaxtune bench kernels``."""
import json
import time

import numpy as np
import pytest

from experiments import _bench as B
from experiments import bench_kernels


def test_theil_sen_ignores_one_disturbed_call():
    k = np.array([2.0, 4.0, 6.0, 8.0])
    T = 1e-3 + 2e-4 * k
    T_bad = T.copy()
    T_bad[1] += 5e-3  # another process held the CPU during one call
    a, c = B.theil_sen(k, np.vstack([T, T_bad]))
    np.testing.assert_allclose(c, 2e-4, rtol=1e-9)
    np.testing.assert_allclose(a, 1e-3, rtol=1e-9)
    # a least-squares slope would have moved by far more than the robust one did
    ls = np.polyfit(k, T_bad, 1)[0]
    assert abs(ls - 2e-4) > 1e-4


def test_measure_recovers_a_known_cost_on_the_wall_clock():
    # a sleep overshoots by a few milliseconds on a loaded machine (load average 6 on the two
    # shared cores made steps of 2 ms per k fail two runs in three): steps of 10 ms keep that
    # well inside the bounds
    def run(k):
        time.sleep(4e-3 + 10e-3 * k)

    t = B.measure([B.Method("sleep", run)], rounds=5, ks=(1, 2, 3, 4), clock="wall")["sleep"]
    assert 7.5e-3 < t.per_iter.median < 15e-3
    assert 0 < t.setup.median < 2.5e-2
    assert t.raw.shape == (5, 4)


def _fake_timing(name, per_iter, floor=None, setup=1e-4):
    samples = np.asarray(per_iter, dtype=float)
    ks = (1, 2, 3, 4)
    raw = setup + samples[:, None] * np.array(ks)[None, :]
    return B.Timing(B.Method(name, lambda k: None, floor=floor), ks, B.Estimate(samples),
                    B.Estimate(np.full(samples.size, setup)), 0.0, raw)


def test_check_flags_a_method_faster_than_its_floor():
    ok = {"SpMV": _fake_timing("SpMV", [1.0, 1.1, 1.0]),
          "CG": _fake_timing("CG", [1.5, 1.6, 1.4], floor="SpMV")}
    assert not [m for m in B.check(ok) if "IMPOSSIBLE" in m]
    bad = {"SpMV": _fake_timing("SpMV", [1.0, 1.1, 1.0]),
           "CG": _fake_timing("CG", [0.5, 0.6, 0.4], floor="SpMV")}
    msgs = [m for m in B.check(bad) if "IMPOSSIBLE" in m]
    assert len(msgs) == 1 and "CG" in msgs[0] and "SpMV" in msgs[0]
    # overlapping spreads are noise, not an impossibility
    close = {"SpMV": _fake_timing("SpMV", [1.0, 1.2, 0.9]),
             "CG": _fake_timing("CG", [0.95, 1.15, 0.85], floor="SpMV")}
    assert not [m for m in B.check(close) if "IMPOSSIBLE" in m]


def test_check_flags_time_that_is_not_linear_in_k():
    t = _fake_timing("X", [1.0, 1.0, 1.0], setup=-2.0)
    assert any("negative per-call set-up" in m for m in B.check({"X": t}))


def test_ratio_is_paired_by_round():
    a = B.Estimate(np.array([2.0, 4.0, 6.0]))  # a machine that slows down over the rounds
    b = B.Estimate(np.array([1.0, 2.0, 3.0]))
    r = B.ratio(a, b)
    assert r.median == 2.0 and r.q1 == r.q3 == 2.0  # unpaired medians would mix rounds


def test_machine_header_names_cpu_and_libraries():
    info = B.machine_info()
    head = B.machine_header(info)
    assert info["cpu"] and info["cpu"] in head
    for pkg in ("numpy", "scipy", "numba", "pyamg"):
        assert f"{pkg} {info['versions'][pkg]}" in head
    assert all(line.startswith("# ") for line in head.splitlines())


def test_format_table_markdown():
    md = B.format_table(["a", "b"], [["x", "1"]], markdown=True)
    assert md.splitlines() == ["| a | b |", "| --- | ---: |", "| x | 1 |"]


def test_bench_kernels_smoke(tmp_path, capsys):
    out = tmp_path / "k.json"
    rc = bench_kernels.main(["--sizes", "10", "--rounds", "3", "--target", "0.002",
                             "--solve-sizes", "8", "--json", str(out)])
    text = capsys.readouterr().out
    # at n = 100 a call lasts microseconds and noise can put a method below its floor: the
    # status must then be 1, and 0 otherwise (whichever happened in this run)
    assert rc == (1 if "IMPOSSIBLE" in text else 0)
    assert "# machine:" in text and "SOR / pyamg sor" in text and "whole solves" in text
    data = json.loads(out.read_text())
    methods = data["per_iteration"][0]["methods"]
    assert set(methods) >= {"stream", "SpMV", "SOR sweep", "SOR", "pyamg sor", "SSOR-PCG", "CG",
                            "scipy CG"}
    assert methods["SOR"]["floor"] == "SOR sweep"
    s = data["whole_solves"][0]
    assert s["iterations"]["SOR"] > 0 and len(s["seconds"]["SOR"]) == 3


def test_bench_kernels_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        bench_kernels.main(["--rounds", "2"])


def test_bench_overhead_runs_a_baseline_on_its_own_solvers(capsys):
    # the baseline checkout here is this one, loaded a second time: its bandit must run on its
    # own solvers modules, and this checkout's must be back in sys.modules afterwards
    import sys
    from pathlib import Path

    import solvers
    from experiments import bench_overhead

    root = Path(solvers.__file__).resolve().parent.parent
    assert bench_overhead.main(["--baseline", str(root), "--nx", "4", "--steps", "3",
                                "--batches", "2"]) == 0
    out = capsys.readouterr().out
    assert "this checkout − baseline" in out and "baseline, no-work solver" in out
    assert out.startswith("# machine: ") and "# libraries: python " in out
    assert sys.modules["solvers"] is solvers
    base = sys.modules.pop("bandit_baseline")
    assert base.solver_modules["solvers"] is not solvers


def test_bench_layout_plain_kernels_make_the_solvers_iterates():
    """The plain-CSR kernels of the layout benchmark are the solvers' algorithms term for term:
    the same SSOR-PCG solve (iterations and bit-identical x) and the same SOR sweeps, with
    the exact residual of the public solver."""
    import math

    import scipy.sparse as sp

    from experiments import bench_layout as L
    from solvers import gallery, prepare, sor, ssor_pcg

    A = sp.csr_array(gallery.crank_nicolson_2d(12, 0.05))
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    # the scipy matrix's own int32 arrays (what a direct path reads; one compilation)
    times, check = L.measure(A, b, k1=1, k2=3, rounds=2, index="user")
    assert check["same"] and check["iterations"] == ssor_pcg(A, b, 1.7).iterations
    assert set(times) == {f"{m} {v}" for m in ("pcg", "sor", "cg") for v in ("split", "plain")}
    # against the public solvers: the plain SOR sweep with its exact residual
    op = prepare(A)
    dptr, lend, lnk, ustart, unk = L.plain_pattern(op)
    inv, x = np.empty(op.n), np.zeros(op.n)
    L.invert_diagonal(A.data, dptr, inv)
    ring = np.zeros_like(op.ring())
    rr = L.sor_exact_plain(A.indptr, A.indices, A.data, dptr, lend, lnk, ustart, unk, inv,
                           op.sor_finish(), ring, x, b, 1.5, 4)
    ref = sor(A, b, 1.5, maxiter=4)
    np.testing.assert_array_equal(x, ref.x)
    assert math.sqrt(rr) == pytest.approx(ref.residual_norm, rel=1e-12)
    parts = L.refresh_parts(A, b, None, rounds=2)
    assert set(parts) == {"refresh", "compare", "scatter", "finish", "b, x0", "read"}


def test_bench_percall_matches_learner_steps_to_the_fixed_tuner_of_their_omega(capsys):
    from experiments import bench_percall

    records = bench_percall.main(["--m", "4", "--samples", "14"])
    out = capsys.readouterr().out
    assert "chebcb (ω only)" in out and "outside the solver" in out
    fixed = [n for n in records if n.startswith("fixed")]
    assert len(fixed) == 8 and all(len(v) == 4 for v in records.values())  # 14 − 10 warm-up
    for learner in ("chebcb (configurations)", "default (configurations)", "chebcb (ω only)"):
        for rec, ref in bench_percall.matched(records, fixed, learner):
            # the same system, the same ω: the fixed Tuner of that arm, same iterations
            assert rec["step"] == ref["step"] and rec["iterations"] == ref["iterations"]
            assert ref["arm"] == rec["arm"] < 8
            # the sections lie inside the call, the solver's seconds inside the run (all
            # three on the wall clock: on a busy core the call's CPU time can be less than
            # its sections' wall time), and a thread's CPU time within its wall time
            assert rec["seconds"] <= rec["run"] <= rec["wall"]
            assert rec["cpu"] <= rec["wall"] + 1e-3
            if "decide" in rec:  # the general path: the draw inside Tuner._decide
                assert rec["decide"] >= rec["  select"]
            else:  # a JointCB without audits draws in Tuner._solve (no cost asked of the
                # leader it played): the draw is still timed
                assert rec["  select"] > 0.0


def test_bench_pcg_checks_the_spmv_bound_only_on_resolved_timings():
    """At n = 64 a CG iteration takes ~0.1 µs: the slope fitted to solves of a few µs is the
    timer's jitter (some repeats even fit a negative slope), so a ratio below one SpMV there
    says nothing; it is reported as unresolved, and the bound is checked where the timed
    solves differ by enough."""
    from experiments import bench_pcg

    def row(ratio, lo, hi, seconds, ks):
        return {"ratio": ratio, "ratio_min": lo, "ratio_max": hi, "seconds": seconds, "ks": ks}

    results = {"tiny": {"n": 64, "methods": {
        "cg": row(0.44, -5.46, 0.92, 1e-7, [12, 25, 37, 50]),    # a negative slope
        "jacobi": row(0.79, 0.79, 0.79, 1e-7, [12, 25, 37, 50])}},  # 4 µs between solves
        "big": {"n": 10**5, "methods": {
            "cg": row(0.8, 0.7, 0.9, 1e-4, [100, 200, 300, 400]),  # 30 ms span: resolved
            "ssor": row(1.9, 1.8, 2.0, 2e-4, [100, 200, 300, 400])}}}
    assert bench_pcg.sanity(results) == ["big cg: 0.80 × SpMV per iteration (< 1)"]
    assert [line.split(":")[0] for line in bench_pcg.unresolved(results)] == ["tiny cg",
                                                                               "tiny jacobi"]


def test_check_flags_a_per_iteration_time_that_is_not_positive():
    """An iteration takes time: a median <= 0 (the clock did not resolve the calls; a slope
    over calls of a few microseconds on a busy core) is impossible, whatever its spread or
    floor — a real run of ``bench kernels --sizes 2 --target 1e-5`` printed CG at
    -0.000043 ms per iteration flagged only as noisy."""
    spread = {"SpMV": _fake_timing("SpMV", [0.5, 1.0, 1.5]),
              "CG": _fake_timing("CG", [-0.5, -0.2, 2.0], floor="SpMV"),
              "stream": _fake_timing("stream", [-1.0, -0.5, 0.5])}
    msgs = [m for m in B.check(spread) if "IMPOSSIBLE" in m and "not positive" in m]
    assert len(msgs) == 2 and "CG" in msgs[0] and "stream" in msgs[1]
    zero = {"SpMV": _fake_timing("SpMV", [0.0, 0.0, 0.0], setup=0.0)}
    zero["SpMV"] = B.Timing(zero["SpMV"].method, zero["SpMV"].ks, zero["SpMV"].per_iter,
                            zero["SpMV"].setup, 0.0, zero["SpMV"].raw, "cpu",
                            B.Estimate(np.zeros(3)), zero["SpMV"].raw)
    msgs = B.check(zero)  # (had divided by the zero median)
    assert any("IMPOSSIBLE" in m and "SpMV" in m for m in msgs)


def test_measure_on_a_clock_that_does_not_resolve_the_calls(monkeypatch):
    """A clock that reads the same before and after every call (its tick longer than the
    calls): measure picks its iteration counts without dividing by zero, and check flags the
    zero figures instead of dividing by them."""
    frozen = type(time)("frozen_time")
    frozen.perf_counter = frozen.process_time = lambda: 1.0
    frozen.get_clock_info = lambda name: type("Info", (), {"resolution": 1e-3})()
    monkeypatch.setattr(B, "time", frozen)
    t = B.measure([B.Method("SpMV", lambda k: None)], rounds=3, target=0.03)
    assert t["SpMV"].ks[-1] == 120  # four iterations priced at one tick: 0.03 s / 0.25 ms
    assert t["SpMV"].per_iter.median == 0.0
    assert any("IMPOSSIBLE" in m and "not positive" in m for m in B.check(t))


def test_bench_pcg_reports_an_unresolved_spmv():
    """Every figure of a problem is a multiple of its SpMV: when the SpMV's own slope is not
    resolved (some repeat fitted a slope <= 0 — a real ``bench pcg --sizes 8`` printed
    "SpMV -0.000 ms" and set-ups at −13 to −29 482 SpMVs without a word), the problem's
    ratios, set-ups included, are reported as unresolved and not checked against the bound."""
    from experiments import bench_pcg

    def row(ratio, lo, hi, seconds, ks):
        return {"ratio": ratio, "ratio_min": lo, "ratio_max": hi, "seconds": seconds, "ks": ks}

    results = {"tiny": {"n": 8, "spmv_seconds": 2e-7,
                        "spmv": {"seconds": 2e-7, "min": -1e-7, "max": 5e-7, "ks": [250, 500,
                                                                                   750, 1000]},
                        "methods": {"cg": row(0.5, 0.4, 0.6, 1e-7, [1000, 2000, 3000, 4000])},
                        "setup": {"jacobi": {"seconds": 4e-6, "spmvs": 20.0, "spmvs_min": -8.0,
                                             "spmvs_max": 40.0, "work": 0.3}}}}
    assert bench_pcg.sanity(results) == []
    lines = bench_pcg.unresolved(results)
    assert [line.split(":")[0] for line in lines] == ["tiny SpMV", "tiny cg"]
    assert "set-ups" in lines[0]


def _fake_measure(per_round):
    """A stand-in for ``_bench.measure`` returning fixed per-round slopes (name -> list)."""
    def fake(methods, **kwargs):
        return {m.name: _fake_timing(m.name, per_round.get(m.name, per_round["default"]),
                                     floor=m.floor) for m in methods}
    return fake


def test_bench_kernels_exits_1_on_an_impossible_figure(monkeypatch, capsys):
    """``bench kernels`` prints IMPOSSIBLE for a method below its floor and, like ``bench pcg``
    and ``bench tuner``, ends with status 1 then (it had ended with 0)."""
    monkeypatch.setattr(B, "measure", _fake_measure({
        "default": [2e-3, 2e-3, 2e-3], "stream": [0.5e-3] * 3, "SpMV": [1e-3] * 3,
        "CG": [0.4e-3, 0.5e-3, 0.45e-3]}))  # a CG iteration at half an SpMV
    assert bench_kernels.main(["--sizes", "10", "--rounds", "3", "--solve-sizes"]) == 1
    text = capsys.readouterr().out
    assert "!! " in text and "IMPOSSIBLE: CG" in text


def test_bench_pcg_flags_one_round_below_one_spmv():
    """The table prints every round's spread (median [min, max] of the per-round ratio to the
    SpMV).  A round whose SSOR-PCG iteration measures 0.28 SpMV (a figure once printed at
    n = 10⁶) is impossible — each iteration reads the matrix at least once — even when the
    median (1.30) and the quartiles are fine and the floor check on quartiles passes."""
    from experiments import bench_pcg

    spmv = _fake_timing("spmv", [4.3e-3] * 5)
    ssor = _fake_timing("ssor", [5.6e-3, 5.5e-3, 5.6e-3, 5.7e-3, 1.2e-3], floor="spmv")
    cg = _fake_timing("cg", [6.0e-3] * 5, floor="spmv")
    r = {"n": 10**6, "nnz": 5 * 10**6, **bench_pcg.summarise({"spmv": spmv, "ssor": ssor,
                                                             "cg": cg})}
    v = r["methods"]["ssor"]
    assert v["ratio"] == pytest.approx(1.30, abs=0.01)
    assert v["ratio_min"] == pytest.approx(0.28, abs=0.01)
    assert not [m for m in r["checks"] if "IMPOSSIBLE" in m]  # the quartiles alone pass
    bad = bench_pcg.sanity({"lap2d m=1000": r})
    assert len(bad) == 1 and bad[0].startswith("lap2d m=1000 ssor: 1 of 5 rounds")
    assert "0.28" in bad[0]


def test_bench_pcg_exits_1_when_a_round_is_below_one_spmv(monkeypatch, capsys):
    """End to end: the command prints the impossible round as IMPOSSIBLE and exits with 1."""
    from experiments import bench_pcg

    monkeypatch.setattr(B, "measure", _fake_measure({
        "default": [2e-3] * 5, "spmv": [1e-3] * 5,
        "ssor": [1.3e-3, 1.3e-3, 1.3e-3, 1.3e-3, 0.28e-3]}))
    rc = bench_pcg.main(["--sizes", "400", "--problems", "lap2d", "--repeats", "5",
                         "--no-solve"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "IMPOSSIBLE: lap2d m=20 ssor: 1 of 5 rounds" in text
    assert "[0.28, 1.30]" in text  # the printed minimum is the flagged one


def test_bench_tuner_flags_an_operator_call_faster_than_the_fixed_solve():
    """The Tuner handed a refreshed operator still runs the fixed solve and its own work: an
    operator / fixed ratio whose whole inter-quartile range is below 1 is impossible (a
    published table had 0.986 [0.958–0.996] unflagged, the check covering tuned / fixed only)."""
    from experiments import bench_tuner

    def est(v):
        return B.Estimate(np.asarray(v, dtype=float))

    row = {"label": "heat2d", "solver": "sor", "same_iterations": True, "converged": True,
           "ratio": est([1.01, 1.02, 1.0]), "floor": est([1.0, 1.0, 1.0]),
           "operator_ratio": est([0.958, 0.986, 0.996]),
           "tuned": est([1.0]), "fixed": est([1.0]), "operator": est([1.0]),
           "wall": {"tuned": np.array([1.0]), "fixed": np.array([1.0]),
                    "operator": np.array([1.0])}}
    msgs = bench_tuner.warnings_of([row])
    assert [m for m in msgs if m.startswith("IMPOSSIBLE")] == [
        "IMPOSSIBLE: heat2d sor: the tuned call on a refreshed operator (the fixed solve plus "
        "the Tuner's work) is faster than the fixed call (0.986 [0.972–0.991])"]
    row["operator_ratio"] = est([0.99, 1.0, 1.01])  # a range that reaches 1: noise
    assert not [m for m in bench_tuner.warnings_of([row]) if m.startswith("IMPOSSIBLE")]
