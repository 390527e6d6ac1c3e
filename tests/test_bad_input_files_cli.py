"""Bad input never costs work: tuner files (load refuses every inconsistent file, save is atomic,
strict and keeps permissions) and the command line (one-line errors before any computation,
partial results kept on Ctrl-C or an error).

Command-line cases run the real console entry point in a subprocess
(``python -m experiments.cli ...`` with this checkout on ``PYTHONPATH``).
"""
import copy
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import bandit
from bandit import Tuner, TunerFileError
from bandit._base import to_jsonable
from bandit._persist import stale_temporaries, write_atomic
from experiments.learners import make_learner, uses_vector_context
from solvers import gallery

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")
OMEGAS = [1.0, 1.3, 1.5, 1.7, 1.9]
K = len(OMEGAS)


def systems(n, seed=0, m=6):
    rng = np.random.default_rng(seed)
    for c in rng.uniform(0.0, 0.4, n):
        yield gallery.shifted_laplacian_2d(m, c), rng.standard_normal(m * m), c


# === tuner files ===============================================================================
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A ChebCB tuner after 8 solves with audits: its file's text and payload."""
    tuner = Tuner(bandit.ChebCB(OMEGAS, context_bounds=(0.0, 0.4), seed=1), solver="sor",
                  audit_budget=1.0, audit_seed=0)
    for A, b, c in systems(8):
        tuner.solve(A, b, context=c)
    assert tuner.audits["round"].size >= 2 and tuner.policy.t == 8
    path = tmp_path_factory.mktemp("saved") / "tuner.json"
    tuner.save(path)
    text = path.read_text()
    return text, json.loads(text)


def _arr(a):
    return to_jsonable(np.asarray(a))


def _policy_state(p, key, value):
    p["policy"]["state"][key] = value


def _theta(p):
    return np.array(p["policy"]["state"]["theta"]["__ndarray__"], dtype=float)


def _set_theta_entry(p, value):
    th = _theta(p)
    th[1, 2] = value
    _policy_state(p, "theta", _arr(th))


def _counts_off(p):
    c = np.array(p["policy"]["state"]["counts"]["__ndarray__"])
    c[0] += 1
    _policy_state(p, "counts", _arr(c.astype(np.int64)))


def _negative_count(p):
    c = np.array(p["policy"]["state"]["counts"]["__ndarray__"])
    c[1] += c[0] + 1
    c[0] = -1  # the sum still equals t
    _policy_state(p, "counts", _arr(c.astype(np.int64)))


def _rows(p, column, i, value):
    p["rows"][column][i] = value


def _records(p, column, i, value):
    p["audits"]["records"][column][i] = value


#: (case id, mutation of the saved payload, message fragment); every one is a TunerFileError
PAYLOAD_CASES = [
    ("other-format", lambda p: p.update(format="relaxtune.policy"), "not a relaxtune.tuner file"),
    ("newer-version", lambda p: p.update(version=4),
     "written by a newer relaxtune (file version 4"),
    ("version-string", lambda p: p.update(version="2"), "file version '2' is not an integer"),
    ("version-zero", lambda p: p.update(version=0), "file version 0 is not supported"),
    ("no-rows", lambda p: p.pop("rows"), "incomplete tuner file: no 'rows'"),
    ("unequal-columns", lambda p: p["rows"]["cost"].pop(),
     "rows columns have unequal lengths: 'arm' has 8, 'cost' has 7"),
    ("missing-column", lambda p: p["rows"].pop("censored"), "rows has no column 'censored'"),
    ("extra-column", lambda p: p["rows"].update(note=[0] * 8), "rows has unknown column(s) 'note'"),
    ("arm-too-large", lambda p: _rows(p, "arm", 2, K), f"rows.arm[2] must be an arm index in 0..{K - 1}"),
    ("arm-negative", lambda p: _rows(p, "arm", 0, -1), "rows.arm[0] must be an arm index"),
    ("arm-float", lambda p: _rows(p, "arm", 1, 1.0), "rows.arm[1] must be an arm index"),
    ("fallback-out-of-range", lambda p: _rows(p, "fallback_arm", 3, K + 4),
     "rows.fallback_arm[3] must be -1 or an arm index"),
    ("omega-not-the-arms", lambda p: _rows(p, "omega", 0, 1.77), "rows.omega[0] = 1.77 is not the ω of arm"),
    ("iterations-negative", lambda p: _rows(p, "iterations", 4, -3), "rows.iterations[4] must be an integer >= 0"),
    ("converged-int", lambda p: _rows(p, "converged", 5, 1), "rows.converged[5] must be true or false"),
    ("cost-nan", lambda p: _rows(p, "cost", 6, {"__float__": "nan"}), "rows.cost[6] must be a finite number"),
    ("seconds-overflow", lambda p: _rows(p, "seconds", 7, 1e999), "rows.seconds[7] must be a finite number"),
    ("context-string", lambda p: _rows(p, "context", 0, "0.1"), "rows.context[0] must be a number"),
    ("config-rtol-string", lambda p: p["config"].update(rtol="1e-8"),
     "config.rtol must be a finite number >= 0, got str '1e-8'"),
    ("config-maxiter-float", lambda p: p["config"].update(maxiter=10.5), "config.maxiter must be an integer >= 1"),
    ("config-guard-string", lambda p: p["config"].update(guard="3"), "config.guard must be a number or null"),
    ("config-seed-bool", lambda p: p["config"].update(audit_seed=True), "config.audit_seed must be an integer or null"),
    ("config-missing-cost", lambda p: p["config"].pop("cost"), "config has no 'cost'"),
    ("config-unknown-solver", lambda p: p["config"].update(solver="sorr"), "config: unknown solver 'sorr'"),
    ("config-unknown-key", lambda p: p["config"].update(colour="red"),
     "config has unknown key(s) 'colour'"),
    ("config-old-audit-key", lambda p: p["config"].update(audit=0.1),
     "config has unknown key(s) 'audit'"),
    ("p-above-one", lambda p: _rows(p, "p", 1, 1.5), "rows.p[1] must be a probability"),
    ("leader-out-of-range", lambda p: _rows(p, "leader", 2, K), "rows.leader[2] must be -1 or"),
    ("budget-above-maxiter", lambda p: _rows(p, "budget", 0, 10**6),
     "rows.budget[0] must be an iteration cap in 0..10000"),
    ("policy-unknown-class", lambda p: p["policy"].update({"class": "GreedyCB"}),
     "policy class 'GreedyCB' is unknown"),
    ("policy-state-version", lambda p: p["policy"].update(version=2), "policy state version 2 is not supported"),
    ("policy-config-type", lambda p: p["policy"]["config"].update(m="six"), "policy config of ChebCB"),
    ("policy-theta-shape", lambda p: _policy_state(p, "theta", _arr(np.zeros((K + 1, 6)))),
     f"policy state 'theta' has shape ({K + 1}, 6), expected ({K}, 6)"),
    ("policy-P-dtype", lambda p: _policy_state(p, "P", _arr(np.zeros((K, 6, 6), dtype=np.int64))),
     "policy state 'P' has dtype int64, expected float64"),
    ("policy-theta-nan", lambda p: _set_theta_entry(p, np.nan), "policy state 'theta' has a non-finite entry nan at index (1, 2)"),
    ("policy-theta-inf", lambda p: _set_theta_entry(p, np.inf), "policy state 'theta' has a non-finite entry inf"),
    ("policy-unit-inf", lambda p: _policy_state(p, "unit", {"__float__": "inf"}), "policy state 'unit' is not finite"),
    ("policy-unknown-entry", lambda p: _policy_state(p, "arms", [1.0]), "policy state has unknown entries 'arms'"),
    ("policy-missing-entry", lambda p: p["policy"]["state"].pop("counts"), "incomplete policy state: no 'counts'"),
    ("policy-counts-vs-t", _counts_off, "counts sum to 9 but t = 8"),
    ("policy-negative-count", _negative_count, "policy state 'counts' has a negative count"),
    ("policy-converged-above-counts",
     lambda p: _policy_state(p, "converged_counts", _arr(
         np.array(p["policy"]["state"]["counts"]["__ndarray__"], dtype=np.int64) + 1)),
     "policy state 'converged_counts' must lie between 0 and 'counts'"),
    ("policy-p-not-distribution", lambda p: _policy_state(p, "p", _arr(np.full(K, 0.5))),
     "policy state 'p' is not a probability distribution"),
    ("policy-p-shape", lambda p: _policy_state(p, "p", _arr(np.full(K + 1, 1 / (K + 1)))),
     f"policy state 'p' must be null or {K} float64 probabilities"),
    ("policy-rng", lambda p: p["policy"]["rng"].update(bit_generator="MT19937"), "policy rng is not a valid PCG64 state"),
    ("policy-array-encoding", lambda p: p["policy"]["state"]["theta"].update(shape=[3, 3]),
     "policy state 'theta': malformed encoded value"),
    ("float-tag", lambda p: _rows(p, "seconds", 0, {"__float__": "lots"}), "rows: malformed encoded value"),
    ("audit-rng", lambda p: p["audits"]["rng"]["state"].update(state="x"),
     "audits.rng is not a valid PCG64 state"),
    ("audit-arm", lambda p: _records(p, "arm", 0, K), "audits.records.arm[0] must be an arm index"),
    ("audit-round", lambda p: _records(p, "round", 0, 99),
     "audits.records.round[0] must be a round of the history (0..7)"),
    ("audit-order", lambda p: _records(p, "round", 0, 7), "audits.records.round must be in round order"),
    ("audit-value-nan", lambda p: _records(p, "value", 0, {"__float__": "nan"}),
     "audits.records.value[0] must be a finite number >= 0"),
    ("audit-column-length", lambda p: p["audits"]["records"]["cap"].pop(),
     "audits.records columns must be lists of one length"),
    ("audit-q-length", lambda p: p["audits"]["q"][0].update(
        __ndarray__=[0.1] * (K - 1), shape=[K - 1]), f"audits.q[0] must be {K} probabilities"),
    ("audit-epoch-after-end", lambda p: p["audits"]["epoch_start"].__setitem__(0, 50),
     "audits.epoch_start[0] must be a round after the previous epoch's, at most 8"),
    ("audit-missing-part", lambda p: p["audits"].pop("spent"), "incomplete audits: no 'spent'"),
    ("audits-without-budget", lambda p: p["config"].update(audit_budget=0.0),
     "audits must be null when config.audit_budget is 0"),
    ("work-negative", lambda p: p.update(work=[-1.0, 5]), "work must be [seconds >= 0, iterations >= 0]"),
    ("audit-seconds-string", lambda p: p["audits"].update(seconds="0"),
     "audits.seconds must be a finite number >= 0"),
]


@pytest.mark.parametrize("mutate, fragment", [c[1:] for c in PAYLOAD_CASES],
                         ids=[c[0] for c in PAYLOAD_CASES])
def test_load_refuses_inconsistent_file(saved, tmp_path, mutate, fragment):
    payload = copy.deepcopy(saved[1])
    mutate(payload)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(TunerFileError) as info:
        Tuner.load(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and fragment in msg, msg


def test_state_without_converged_counts_loads_with_no_leader(saved, tmp_path):
    """A policy state saved before converged observations were counted restores zeros."""
    payload = copy.deepcopy(saved[1])
    del payload["policy"]["state"]["converged_counts"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(payload))
    tuner = Tuner.load(path)
    assert tuner.policy.converged_counts.tolist() == [0] * K
    assert tuner.policy.leader(0.1)[0] is None


#: (case id, file bytes or a callable making the path, fragment)
FILE_CASES = [
    ("empty", b"", "empty file"),
    ("truncated", None, "corrupt or truncated file"),
    ("binary", b"\xff\xfe\x00garbage", "corrupt or truncated file"),
    ("nested", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("json-list", b"[1, 2, 3]", "not a relaxtune.tuner file"),
]


@pytest.mark.parametrize("content, fragment", [c[1:] for c in FILE_CASES],
                         ids=[c[0] for c in FILE_CASES])
def test_load_refuses_unreadable_file(saved, tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_bytes(saved[0].encode()[: len(saved[0]) // 2] if content is None else content)
    with pytest.raises(TunerFileError, match=fragment):
        Tuner.load(path)


def test_load_refuses_missing_file_and_folder(tmp_path):
    with pytest.raises(TunerFileError, match="no such file"):
        Tuner.load(tmp_path / "missing.json")
    with pytest.raises(TunerFileError, match="is a folder, not a relaxtune.tuner file"):
        Tuner.load(tmp_path)


def _as_version(payload, version, audit=0.0, audits=()):
    """A version 1 or 2 payload of the same run: no p/leader/budget columns, a fraction of
    audited rounds, ``[round, arm, costs of every arm]`` audits."""
    old = copy.deepcopy(payload)
    old["version"] = version
    cfg = old["config"]
    cfg.pop("audit_budget")
    cfg["audit"] = audit
    for col in ("p", "leader", "budget"):
        old["rows"].pop(col)
    old["audits"] = [[i, a, _arr(c)] for i, a, c in audits]
    old["audit_seconds"] = 0.002 if audits else 0.0
    old["audit_rng"] = np.random.default_rng(7).bit_generator.state
    return old


def test_version_1_file_with_bare_nan_still_loads(saved, tmp_path):
    """Files written before strict JSON (version 1, bare NaN) are read, not refused."""
    payload = _as_version(saved[1], 1)
    payload["rows"]["context"][0] = float("nan")  # a solve without context
    payload["policy"]["state"]["sq_err"] = 0.5
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(payload))  # json.dumps writes a bare NaN
    assert "NaN" in path.read_text()
    t = Tuner.load(path)
    assert np.isnan(t.history["context"][0]) and t.summary()["rounds"] == 8
    assert t.audit_budget == 0.0 and t.audits["round"].size == 0


def test_version_2_audits_read_as_full_audits_of_every_arm(saved, tmp_path):
    """A version 2 file (audit = fraction of rounds, every arm run) reads as one epoch of
    column audits of every arm and row audits with that probability; the tuner continues
    with the share of the solve time the old audits took as its budget."""
    arms = saved[1]["rows"]["arm"]
    costs = [np.array([40.0, 30.0, 25.0, 35.0, np.inf]), np.array([50.0, 33.0, 27.0, 36.0, 80.0])]
    payload = _as_version(saved[1], 2, audit=0.25, audits=[(2, arms[2], costs[0]),
                                                            (5, arms[5], costs[1])])
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(payload))
    t = Tuner.load(path)
    h = t.history
    assert np.isnan(h["p"]).all() and (h["leader"] == -1).all() and (h["budget"] == 10_000).all()
    solve = sum(payload["rows"]["seconds"])
    assert t.audit_budget == pytest.approx(min(0.002 / solve, 1.0))  # a share, at most 1
    aud = t._auditor
    assert aud.epoch_start == [0] and aud.q[0].tolist() == [0.25] * K and aud.r == [0.25]
    a = t.audits
    col = ~a["row"]
    # every arm of both rounds but the played one (its converged cost is the history's)
    assert sorted(zip(a["round"][col].tolist(), a["arm"][col].tolist())) == sorted(
        (i, k) for i in (2, 5) for k in range(K) if k != arms[i])
    failed = (a["round"] == 2) & (a["arm"] == K - 1)
    assert not a["converged"][failed].any()  # the arm that failed (inf) stays a failure
    assert a["row"].sum() == 2  # one row record per audited round
    rep = t.regret()
    assert np.isfinite(rep.best_fixed.estimate)
    for A, b, c in systems(2, seed=9):  # and it goes on solving
        t.solve(A, b, context=c)
    assert t.summary()["rounds"] == 10


def _make(name, seed=5):
    return make_learner(name, OMEGAS, seed=seed, context_bounds=(0.0, 0.4), bins=3,
                        vector_bounds=[(0.0, 0.4)])


@pytest.mark.parametrize("name", list(bandit.POLICIES))
def test_round_trip_mid_run_continues_identically(name, tmp_path):
    """Every policy: save after 10 solves, load, and both copies pick the same arms after."""
    vec = uses_vector_context(name)
    ctx = (lambda c: [c]) if vec else (lambda c: c)
    data = list(systems(22, seed=4))
    a = Tuner(_make(name), solver="sor", audit_budget=0.5, audit_seed=2)
    for A, b, c in data[:10]:
        a.solve(A, b, context=ctx(c))
    path = tmp_path / "t.json"
    a.save(path)

    def no_constants(s):
        raise AssertionError(f"bare {s} in a tuner file")

    json.loads(path.read_text(), parse_constant=no_constants)  # strict JSON
    assert os.listdir(tmp_path) == ["t.json"]
    b_ = Tuner.load(path)
    assert type(b_.policy) is type(a.policy) and b_.summary()["rounds"] == 10
    for A, b, c in data[10:]:
        ra, rb = a.solve(A, b, context=ctx(c)), b_.solve(A, b, context=ctx(c))
        assert (ra.arm, ra.iterations) == (rb.arm, rb.iterations)
    np.testing.assert_array_equal(a.history["arm"], b_.history["arm"])
    # audits are counted in iterations, so the reloaded tuner audits the same rounds
    for key in ("round", "arm", "row", "iterations"):
        np.testing.assert_array_equal(a.audits[key], b_.audits[key])


def test_fresh_tuner_round_trips(tmp_path):
    """No rounds yet: NaN sentinels (ChebCB's unit) are encoded, decoded and accepted."""
    t = Tuner(bandit.ChebCB(OMEGAS, context_bounds=(0.0, 0.4), seed=0), solver="sor")
    t.save(tmp_path / "t.json")
    text = (tmp_path / "t.json").read_text()
    assert '{"__float__": "nan"}' in text and "NaN" not in text
    again = Tuner.load(tmp_path / "t.json")
    assert np.isnan(again.policy.unit) and again.summary()["rounds"] == 0


def test_save_keeps_permission_bits_and_symlinks(tmp_path):
    t = Tuner(bandit.TsallisINF(OMEGAS, seed=0), solver="sor")
    path = tmp_path / "t.json"
    t.save(path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # like open(path, "w")
    for mode in (0o640, 0o604):
        path.chmod(mode)
        for A, b, c in systems(1):
            t.solve(A, b)
        t.save(path)
        assert stat.S_IMODE(path.stat().st_mode) == mode
    link = tmp_path / "link.json"
    link.symlink_to(path)
    t.save(link)
    assert link.is_symlink() and Tuner.load(link).summary()["rounds"] == 2
    assert sorted(os.listdir(tmp_path)) == ["link.json", "t.json"]


def test_save_errors_name_the_problem_and_leave_nothing(tmp_path):
    t = Tuner(bandit.TsallisINF(OMEGAS, seed=0), solver="sor")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        t.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        t.save(tmp_path / "nowhere" / "t.json")
    with pytest.raises(ValueError, match="Out of range float"):
        write_atomic(tmp_path / "x.json", {"x": float("nan")})  # strict: refused, not written
    assert os.listdir(tmp_path) == []


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_next_save_removes_stale_temporaries_only(tmp_path):
    path = tmp_path / "t.json"
    host = socket.gethostname().replace(os.sep, "_").replace(".", "_")
    stale = tmp_path / f".t.json.{host}.{_dead_pid()}.abcd1234.tmp"
    live = tmp_path / f".t.json.{host}.{os.getppid()}.abcd1234.tmp"  # a running process
    other = tmp_path / f".other.json.{host}.{_dead_pid()}.abcd1234.tmp"  # another target
    for f in (stale, live, other):
        f.write_text("{")
    assert stale_temporaries(path) == [str(stale)]
    Tuner(bandit.TsallisINF(OMEGAS, seed=0), solver="sor").save(path)
    assert sorted(os.listdir(tmp_path)) == sorted(["t.json", live.name, other.name])


KILL_CHILD = r"""
import os, sys, time
import bandit, bandit._persist as persist
path, phase = sys.argv[1], sys.argv[2]
tuner = bandit.Tuner.load(path)
tuner.policy.cost_sums[0] += 1.0               # the new file would differ from the old one
def stall(*args):
    print("SAVING", flush=True)
    time.sleep(120)
if phase == "write":                            # killed with half of the new file written
    real = persist._write_all
    def half(fd, data):
        real(fd, data[: len(data) // 2])
        stall()
    persist._write_all = half
else:                                           # killed with the new file complete, not renamed
    persist.os.replace = stall
tuner.save(path)
"""


@pytest.mark.parametrize("phase", ["write", "rename"])
def test_kill_during_save_leaves_old_file_and_next_save_cleans_up(tmp_path, phase):
    t = Tuner(bandit.ChebCB(OMEGAS, context_bounds=(0.0, 0.4), seed=1), solver="sor")
    data = list(systems(4))
    for A, b, c in data[:3]:
        t.solve(A, b, context=c)
    path = tmp_path / "t.json"
    t.save(path)
    old = path.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(path), phase], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line == "SAVING\n", child.stderr.read()
        child.kill()  # SIGKILL: no cleanup code runs
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == old  # the old file, intact
    leftovers = [f for f in os.listdir(tmp_path) if f != "t.json"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".t.json.")
    assert stale_temporaries(path) == [str(tmp_path / leftovers[0])]
    loaded = Tuner.load(path)
    assert loaded.summary()["rounds"] == 3
    A, b, c = data[3]
    loaded.solve(A, b, context=c)
    loaded.save(path)
    assert os.listdir(tmp_path) == ["t.json"]  # the stale temporary is gone
    assert Tuner.load(path).summary()["rounds"] == 4


# === command line ==============================================================================
def _cli(*args, timeout=600, **kw):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", *map(str, args)], env=ENV,
                          capture_output=True, text=True, timeout=timeout, **kw)
    proc.seconds = time.perf_counter() - t0
    return proc


def _one_line_error(proc, fragment, status=2):
    err = proc.stderr
    assert proc.returncode == status, (proc.returncode, err)
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("relaxtune: error: "), err
    assert fragment in err, err
    assert proc.stdout == ""


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Results-like folders for ``relaxtune plot``: foreign, corrupt, and a file."""
    base = tmp_path_factory.mktemp("plot")
    (base / "empty").mkdir()
    (base / "foreign").mkdir()
    (base / "foreign" / "summary.json").write_text('{"name": "something else"}')
    (base / "corrupt").mkdir()
    (base / "corrupt" / "summary.json").write_text('{"study": "learning", "para')
    good = {"study": "learning", "params": {"learners": []}, "methods": {}}
    (base / "npz").mkdir()
    (base / "npz" / "summary.json").write_text(json.dumps(good))
    (base / "npz" / "rounds.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (base / "npz-garbage").mkdir()  # no zip header at all: numpy would read it as a pickle
    (base / "npz-garbage" / "summary.json").write_text(json.dumps(good))
    (base / "npz-garbage" / "rounds.npz").write_bytes(b"garbage")
    (base / "file.txt").write_text("x")
    (base / "no-npz").mkdir()  # a summary whose per-round arrays were not copied along
    (base / "no-npz" / "summary.json").write_text(json.dumps(good))
    (base / "foreign-npz").mkdir()
    (base / "foreign-npz" / "summary.json").write_text(json.dumps(good))
    np.savez(base / "foreign-npz" / "rounds.npz", weights=np.ones(3))
    (base / "figures-is-a-file").mkdir()  # the default figures folder cannot be made
    (base / "figures-is-a-file" / "summary.json").write_text(json.dumps(good))
    (base / "figures-is-a-file" / "figures").write_text("x")
    np.savez(base / "figures-is-a-file" / "rounds.npz", iter__fixed_1=np.ones((1, 3)))
    (base / "bad-sequences").mkdir()
    (base / "bad-sequences" / "summary.json").write_text(json.dumps(
        {"study": "precond", "params": {}, "methods": {}, "sequences": []}))
    (base / "bad-method").mkdir()  # a method entry without its totals (edited by hand)
    (base / "bad-method" / "summary.json").write_text(json.dumps(
        {"study": "learning", "params": {"learners": []}, "methods": {"fixed_1.2": {}}}))
    np.savez(base / "bad-method" / "rounds.npz", iter__fixed_1_2=np.ones((1, 3)))
    heat = {"study": "heat2d", "params": {"learners": []}, "methods": {},
            "sizes": {"8": {"methods": {}}}}
    (base / "heat-no-npz").mkdir()
    (base / "heat-no-npz" / "summary.json").write_text(json.dumps(heat))
    return base


#: (case id, argv with {tmp} and {plot} placeholders, message fragment)
CLI_CASES = [
    ("T-zero", ["learning", "--T", "0"], "argument --T: must be an integer >= 1, got 0"),
    ("T-text", ["learning", "--T", "abc"], "argument --T: must be an integer, got 'abc'"),
    ("trials-zero", ["learning", "--trials", "0"], "argument --trials: must be an integer >= 1, got 0"),
    ("jobs-zero", ["contextual", "--jobs", "0"], "argument --jobs: must be an integer >= 1, got 0"),
    ("seed-negative", ["learning", "--seed", "-1"], "argument --seed: must be an integer >= 0, got -1"),
    ("nx-zero", ["heat2d", "--nx", "0"], "argument --nx: must be an integer >= 2 (intervals per side), got 0"),
    ("nx-one-of-several", ["heat2d", "--nx", "8", "1"], "argument --nx: must be an integer >= 2"),
    ("steps-zero", ["demo", "--steps", "0"], "argument --steps: must be an integer >= 1, got 0"),
    ("t-end-negative", ["heat2d", "--t-end", "-1"], "argument --t-end: must be a finite number > 0, got -1"),
    ("t-end-inf", ["heat2d", "--t-end", "inf"], "argument --t-end: must be a finite number > 0, got inf"),
    ("cap-nan", ["precond", "--cap", "nan"], "argument --cap: must be a finite number > 1, got nan"),
    ("cap-negative", ["precond", "--anchor-cap", "-3"],
     "argument --anchor-cap: must be a finite number > 1, got -3"),
    ("cap-one", ["precond", "--cap", "1"], "argument --cap: must be a finite number > 1, got 1"),
    ("unknown-learner", ["learning", "--learners", "tsalis"],
     "unknown learner 'tsalis'; did you mean 'tsallis_inf'?"),
    ("unknown-method", ["heat2d", "--methods", "chebcb", "chebbcb"],
     "unknown learner 'chebbcb'; did you mean 'chebcb'?"),
    ("unknown-backend", ["heat2d", "--backend", "cuda"], "argument --backend: invalid choice: 'cuda'"),
    ("no-command", [], "name a subcommand: learning, contextual"),
    ("unknown-option", ["learning", "--TT", "5"], "unrecognized arguments: --TT 5"),
    ("out-in-proc", ["learning", "--T", "5000", "--trials", "40", "--out", "/proc/relaxtune/x"],
     "--out /proc/relaxtune/x: cannot create the folder"),
    ("out-is-a-file", ["learning", "--T", "5", "--trials", "1", "--out", "{plot}/file.txt"],
     "exists and is not a folder"),
    ("json-is-a-folder", ["learning", "--T", "5", "--trials", "1", "--out", "{tmp}/r", "--json", "{tmp}"],
     "is a folder; give a file name"),
    ("plot-missing", ["plot", "{tmp}/nowhere"], "nowhere: no such folder"),
    ("plot-missing-tuner-file", ["plot", "{tmp}/tuner.json"], "tuner.json: no such file"),
    ("plot-empty-folder", ["plot", "{plot}/empty"], "has no summary.json: not a relaxtune results folder"),
    ("plot-foreign", ["plot", "{plot}/foreign"], "not a relaxtune results summary (no 'study' entry)"),
    ("plot-corrupt-summary", ["plot", "{plot}/corrupt"], "summary.json: unreadable or corrupt"),
    ("plot-corrupt-npz", ["plot", "{plot}/npz"], "rounds.npz: unreadable or corrupt"),
    ("plot-garbage-npz", ["plot", "{plot}/npz-garbage"],
     "rounds.npz: unreadable or corrupt (not an .npz archive: no zip structure)"),
    ("plot-missing-npz", ["plot", "{plot}/no-npz"],
     "no-npz/rounds.npz: missing (the per-round arrays the figures are drawn from"),
    ("plot-foreign-npz", ["plot", "{plot}/foreign-npz"],
     "rounds.npz: not a relaxtune rounds file (no per-round iterations"),
    ("plot-heat-missing-npz", ["plot", "{plot}/heat-no-npz"], "rounds_nx8.npz: missing"),
    ("plot-figures-folder-unwritable", ["plot", "{plot}/figures-is-a-file"],
     "figures folder {plot}/figures-is-a-file/figures: exists and is not a folder; draw them "
     "elsewhere with --out FOLDER"),
    ("plot-malformed-sequences", ["plot", "{plot}/bad-sequences"],
     "bad-sequences/summary.json: not a relaxtune results summary (malformed 'sequences')"),
    ("plot-malformed-method", ["plot", "{plot}/bad-method", "--markdown"],
     "bad-method: its summary.json or per-round arrays do not have the layout this relaxtune "
     "draws (KeyError: 'iterations')"),
    ("plot-file-of-a-results-folder", ["plot", "{plot}/foreign-npz/summary.json"],
     "summary.json is a file of the results folder {plot}/foreign-npz: give the folder "
     "(relaxtune plot {plot}/foreign-npz)"),
    ("plot-not-a-tuner-file", ["plot", "{plot}/file.txt"],
     "file.txt: corrupt or truncated file (not JSON"),
    ("bench-unknown", ["bench", "gpu"], "argument NAME: invalid choice: 'gpu'"),
    # a benchmark's output paths and numbers are checked before anything is measured
    ("bench-target-nan", ["bench", "kernels", "--target", "nan"],
     "bench kernels: argument --target: must be a finite number > 0, got nan"),
    ("bench-json-unwritable", ["bench", "petsc", "--sizes", "8", "--json", "{plot}/file.txt/t.json"],
     "bench petsc: argument --json: folder {plot}/file.txt: exists and is not a folder"),
    ("bench-cache-file", ["bench", "regret", "--cache", "{plot}/file.txt"],
     "bench regret: argument --cache: {plot}/file.txt: exists and is not a folder"),
    ("bench-baseline-missing", ["bench", "overhead", "--baseline", "{tmp}/nowhere"],
     "bench overhead: --baseline {tmp}/nowhere: no bandit/__init__.py there"),
]


@pytest.fixture(scope="module")
def cli_runs(folders, tmp_path_factory):
    """Every CLI case, run as subprocesses two at a time."""
    tmp = tmp_path_factory.mktemp("cli")

    def run(case):
        argv = [a.format(tmp=tmp, plot=folders) for a in case[1]]
        return case[0], _cli(*argv, cwd=tmp)

    with ThreadPoolExecutor(2) as ex:
        out = dict(ex.map(run, CLI_CASES))
    out["tmp"] = tmp
    return out


@pytest.mark.parametrize("case, fragment", [(c[0], c[2]) for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_bad_input_in_one_line(cli_runs, folders, case, fragment):
    _one_line_error(cli_runs[case], fragment.format(tmp=cli_runs["tmp"], plot=folders))


def test_cli_checks_before_computing(cli_runs):
    """--out /proc/x with a 40-trial study fails at once (nothing ran), and no folder stays."""
    # the study itself would take many minutes on 2 cores; the limit only has to tell "nothing
    # ran" from that, not time the start-up of a Python process on a loaded machine: against
    # the other refused commands of the same run (each a start-up and a check: about 30 s
    # each on a core shared with a dozen busy processes)
    refused = [r.seconds for c, r in cli_runs.items() if c not in ("tmp", "out-in-proc")]
    assert cli_runs["out-in-proc"].seconds < 5 * np.median(refused)
    assert not (cli_runs["tmp"] / "r").exists()  # --json refused before --out was used
    assert not (cli_runs["tmp"] / "results").exists()


def test_debug_shows_the_traceback(tmp_path):
    proc = _cli("plot", tmp_path / "nowhere", "--debug")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "ResultsError" in proc.stderr
    assert proc.stderr.splitlines()[-1] == f"relaxtune: error: {tmp_path / 'nowhere'}: no such folder"


def test_error_mid_study_keeps_finished_trials(tmp_path, monkeypatch, capsys):
    """A trial fails after two finished: one line, status 1, and the two are plottable."""
    import experiments.offset_study as study
    from experiments.cli import main

    real = study.offset_trial

    def flaky(task):
        if task.trial == 2:
            raise RuntimeError("solver exploded")
        return real(task)

    monkeypatch.setattr(study, "offset_trial", flaky)
    out = tmp_path / "r"
    assert main(["learning", "--T", "15", "--trials", "4", "--learners", "tsallis_inf",
                 "--quiet", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("relaxtune: error: RuntimeError: solver exploded; ")
    assert f"2 of 4 trials finished and saved in {out}" in err
    s = json.loads((out / "summary.json").read_text())
    assert s["partial"] == {"finished": 2, "of": 4, "unit": "trials"}
    with np.load(out / "rounds.npz") as z:
        assert z["iter__tsallis_inf"].shape == (2, 15)
    assert main(["plot", str(out)]) == 0
    assert "partial results: 2 of 4 trials finished" in capsys.readouterr().out
    assert (out / "figures" / "cumulative.png").is_file()


def test_interrupt_before_any_trial_leaves_no_folder(tmp_path, monkeypatch, capsys):
    import experiments.offset_study as study
    from experiments.cli import main

    def interrupted(params):
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "offset_trial", interrupted)
    out = tmp_path / "r"
    assert main(["learning", "--T", "15", "--trials", "4", "--quiet", "--out", str(out)]) == 130
    assert capsys.readouterr().err == ("relaxtune: interrupted: no trial had finished, nothing "
                                       "was saved\n")
    assert not out.exists()


def _descendants(pid):
    """(pid, start time) of every living process descended from ``pid`` (Linux /proc): a
    study's workers, the fork server they come from and Python's resource tracker."""
    children = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                # after the command name (which may hold spaces): state, ppid, ... starttime
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append((int(d.name), fields[19]))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _alive(processes):
    """Those of ``processes`` (pid, start time) still running (not a reused pid, not a zombie)."""
    alive = []
    for pid, start in processes:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[19] == start and fields[0] != "Z":
            alive.append(pid)
    return alive


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_mid_study_keeps_finished_trials(tmp_path, jobs, capsys):
    """SIGINT to a running study (in worker processes too): what was done is readable."""
    out = tmp_path / "r"
    argv = [sys.executable, "-m", "experiments.cli", "learning", "--T", "20", "--trials", "500",
            "--jobs", str(jobs), "--learners", "tsallis_inf", "--quiet", "--out", str(out)]
    # a terminal delivers Ctrl-C to a foreground job even if our own parent ignores SIGINT
    proc = subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    helpers = []
    try:
        # generous: on a loaded machine the start (imports, the kernels compiled or loaded
        # from Numba's cache in each worker) had once taken longer than a minute
        deadline = time.monotonic() + 300
        while not (out / "summary.json").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"no trial saved: {proc.communicate()[1]}")
            time.sleep(0.05)
        helpers = _descendants(proc.pid)  # the workers, while the study runs
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        # the fork server and resource tracker end when they see the study gone: a moment
        deadline = time.monotonic() + 30
        while _alive(helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        leftover = _alive(helpers)
        for pid in leftover:  # never leave workers running, whatever failed
            os.kill(pid, signal.SIGKILL)
    assert leftover == []  # the workers were stopped with the study
    from experiments.offset_study import usable_cpus

    if jobs > 1 and usable_cpus() > 1:  # (a study caps its workers at the usable CPUs)
        assert len(helpers) >= 2  # (the check above saw the workers)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1
    assert stderr.startswith("relaxtune: interrupted: ") and f"saved in {out}" in stderr
    done = json.loads((out / "summary.json").read_text())["partial"]["finished"]
    assert 1 <= done < 500 and f"{done} of 500 trials finished" in stderr
    from experiments.cli import main

    assert main(["plot", str(out)]) == 0  # in this process: the subprocess path is tested above
    assert f"partial results: {done} of 500 trials finished" in capsys.readouterr().out
    assert (out / "figures" / "cumulative.png").is_file()


# === under mpiexec: one line, every rank exits non-zero, nothing hangs ========================
MPI_ENV = dict(ENV, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1")


def _mpiexec(*argv):
    cmd = ["mpiexec", "-n", "2", "--oversubscribe", sys.executable, *map(str, argv)]
    t0 = time.perf_counter()
    # (a hang guard: a refused two-rank start took 35-55 s on a core shared with a dozen
    # busy processes)
    proc = subprocess.run(cmd, env=MPI_ENV, capture_output=True, text=True, timeout=600)
    proc.seconds = time.perf_counter() - t0
    return proc


def _our_lines(proc):
    """Lines relaxtune itself printed on stderr (mpiexec adds its own notices)."""
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith("relaxtune")]


@pytest.mark.petsc
@pytest.mark.mpi
def test_mpi_bad_argument_reported_once():
    proc = _mpiexec("-m", "experiments.cli", "heat2d", "--backend", "petsc", "--nx", "0")
    assert proc.returncode == 2, proc.stderr
    assert _our_lines(proc) == ["relaxtune: error: argument --nx: must be an integer >= 2 "
                                "(intervals per side), got 0"]


@pytest.mark.petsc
@pytest.mark.mpi
def test_mpi_unknown_learner_reported_once():
    proc = _mpiexec("-m", "experiments.cli", "heat2d", "--backend", "petsc", "--methods",
                    "tsalis_inf")
    assert proc.returncode == 2, proc.stderr
    lines = _our_lines(proc)
    assert len(lines) == 1 and proc.stdout == ""
    assert lines[0].startswith("relaxtune: error: argument --methods: unknown learner "
                               "'tsalis_inf'; did you mean 'tsallis_inf'?")


@pytest.mark.mpi
def test_mpi_study_that_cannot_share_the_work_is_refused(tmp_path):
    """Under mpiexec a Numba study would run whole on every rank into the same folder."""
    proc = _mpiexec("-m", "experiments.cli", "heat2d", "--nx", "5", "--out", tmp_path / "r")
    assert proc.returncode == 2, proc.stderr
    assert _our_lines(proc) == ["relaxtune: error: heat2d runs in one process; under mpiexec "
                                "only heat2d and demo with --backend petsc share the work "
                                "between the ranks"]
    assert not (tmp_path / "r").exists()


@pytest.mark.mpi
@pytest.mark.parametrize("argv", [["plot", "RESULTS"], ["bench", "bandit", "--rounds", "10"]],
                         ids=["plot", "bench"])
def test_mpi_plot_and_bench_are_refused(argv, tmp_path):
    """plot would draw the same files from every rank at once, and a benchmark would time
    two copies of itself competing for the cores: refused like a study, nothing written."""
    results = tmp_path / "r"
    results.mkdir()
    (results / "summary.json").write_text('{"study": "learning", "methods": {}}')
    argv = [str(results) if a == "RESULTS" else a for a in argv]
    proc = _mpiexec("-m", "experiments.cli", *argv)
    assert proc.returncode == 2, proc.stderr
    assert _our_lines(proc) == [f"relaxtune: error: {argv[0]} runs in one process; under "
                                "mpiexec only heat2d and demo with --backend petsc share the "
                                "work between the ranks"]
    assert proc.stdout == "" and not (results / "figures").exists()


@pytest.mark.petsc
@pytest.mark.mpi
def test_mpi_unwritable_out_agreed_before_any_solve():
    """Only rank 0 writes the results folder, so only it checks; every rank stops with 2."""
    proc = _mpiexec("-m", "experiments.cli", "heat2d", "--backend", "petsc", "--nx", "8",
                    "--steps", "4", "--out", "/proc/relaxtune/out")
    assert proc.returncode == 2, proc.stderr
    assert _our_lines(proc) == ["relaxtune: error: --out /proc/relaxtune/out: cannot create the "
                                "folder (No such file or directory)"]
    assert proc.stdout == ""  # no run started


@pytest.mark.petsc
@pytest.mark.mpi
def test_mpi_error_on_every_rank_reported_once_by_rank_0(tmp_path):
    out = tmp_path / "r"
    proc = _mpiexec(ROOT / "tests" / "mpi_errors.py", "all", out)
    assert proc.returncode == 1, proc.stderr
    assert _our_lines(proc) == ["relaxtune: error: RuntimeError: injected failure on rank 0; "
                                "no task had finished, nothing was saved (rerun with --debug "
                                "for the traceback)"]
    assert "MPI_ABORT" not in proc.stderr  # the ranks agreed; nothing was killed
    assert not out.exists()  # created by rank 0 before the run, removed: nothing to keep


@pytest.mark.petsc
@pytest.mark.mpi
def test_mpi_failure_keeps_the_finished_tasks(tmp_path):
    """As on one rank: the tasks finished before the error are in the folder, and it says so."""
    out = tmp_path / "r"
    proc = _mpiexec(ROOT / "tests" / "mpi_errors.py", "late", out)
    assert proc.returncode == 1, proc.stderr
    assert _our_lines(proc) == [f"relaxtune: error: RuntimeError: injected failure on rank 0; "
                                f"2 of 3 tasks finished and saved in {out} (redraw: relaxtune "
                                f"plot {out}) (rerun with --debug for the traceback)"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] == {"finished": 2, "of": 3, "unit": "tasks"}
    assert summary["params"]["ranks"] == 2
    assert {"cg", "direct", "best_fixed"} <= set(summary["methods"])


@pytest.mark.petsc
@pytest.mark.mpi
def test_mpi_error_line_kept_when_another_rank_exits_first():
    """mpiexec ends the job at the first non-zero exit: a rank that reached the error before
    rank 0 had printed its line took the line with it; every rank now meets before exiting."""
    proc = _mpiexec(ROOT / "tests" / "mpi_slow_rank0.py")
    assert proc.returncode == 2, proc.stderr
    lines = _our_lines(proc)
    assert len(lines) == 1 and "tsalis_inf" in lines[0], proc.stderr


@pytest.mark.petsc
@pytest.mark.mpi
def test_mpi_error_on_one_rank_ends_every_rank(tmp_path):
    """Rank 1 fails while rank 0 waits for it inside a collective: the job is aborted after
    the grace period (1 s here) instead of hanging, with one line from the failed rank."""
    proc = _mpiexec(ROOT / "tests" / "mpi_errors.py", "rank1", tmp_path / "r")
    assert proc.returncode != 0
    lines = _our_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("relaxtune: error: rank 1: RuntimeError: injected failure on rank 1")
    assert proc.seconds < 300  # (a hang ends at _mpiexec's timeout)


def test_output_closed_early_keeps_the_study_and_says_nothing(tmp_path):
    """``relaxtune learning ... | head``: the reader closes standard output before the table
    is printed.  The study is saved whole before anything is printed, and the closed output
    is not a failed computation: no error line, the status of a death by SIGPIPE."""
    out = tmp_path / "run"
    read, write = os.pipe()
    os.close(read)  # every write to standard output now fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "experiments.cli", "learning", "--T", "20",
                               "--trials", "1", "--learners", "tsallis_inf", "--no-plots",
                               "--out", str(out)], env=ENV, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert "relaxtune:" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert "partial" not in summary and "tsallis_inf" in summary["methods"]
    with np.load(out / "rounds.npz") as z:
        assert z["iter__tsallis_inf"].shape == (1, 20)
