"""Long runs: checkpoint with ``save``, restart with ``load``, several tuners and threads.

A simulation that checkpoints its tuner every few steps, is killed and restarts from the file
must continue exactly as the uninterrupted run (same arms, costs, history, policy and audit
state); a tuner's settings cannot drift from what its solves use; one tuner used from several
threads solves one system at a time; and a save from inside a solve (a signal handler) is
refused rather than written half done.
"""
import copy
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
from bandit import Tuner
from bandit._base import to_jsonable
from solvers import gallery

OMEGAS = [1.0, 1.2, 1.4, 1.6, 1.8]


def system(k, n=10):
    """Step ``k`` of a drifting sequence: the model Laplacian plus a shift ``c`` (the context)."""
    c = 0.05 + 0.5 * ((k * 0.37) % 1.0)
    A = sp.csr_matrix(gallery.laplacian_2d(n)) + c * sp.identity(n * n, format="csr")
    return A.tocsr(), np.random.default_rng(1000 + k).standard_normal(n * n), c


def make(kind, audit=0.1):
    if kind == "chebcb":
        pol = bandit.ChebCB(OMEGAS, context_bounds=(0.0, 0.6), seed=0)
        return Tuner(pol, solver="ssor_pcg", audit_budget=audit, audit_seed=1)
    if kind == "default":
        return Tuner(bandit.default_policy("sor", seed=0), solver="sor", audit_budget=audit,
                     audit_seed=1)
    if kind == "tsallis":
        return Tuner(bandit.TsallisINF(OMEGAS, seed=0), solver="sor", audit_budget=audit,
                     audit_seed=1)
    if kind == "familycb":
        arms = bandit.config_grid(omegas=[1.2, 1.6], pcs=["none", "jacobi", "ic0"])
        return Tuner(bandit.FamilyCB(arms, context_bounds=(0.0, 0.6), seed=0), cost="work",
                     audit_budget=audit, audit_seed=1)
    if kind == "fixed":
        return Tuner(bandit.FixedArm(OMEGAS, arm=2, seed=0), solver="sor", audit_budget=audit,
                     audit_seed=1)
    raise KeyError(kind)


def run(tuner, k0, k1):
    for k in range(k0, k1):
        A, b, c = system(k)
        tuner.solve(A, b, context=c)


def state(tuner):
    """Everything a continued run must reproduce, as JSON text (the clock's readings left out:
    no two runs measure the same seconds)."""
    h = tuner.history
    hist = {k: np.asarray(v).tolist() for k, v in h.items()
            if k not in ("seconds", "tuner_seconds")}
    aud = None
    if tuner._auditor is not None:
        aud = dict(tuner._auditor.state_dict())
        aud["records"] = {k: v for k, v in aud["records"].items() if k != "seconds"}
        for k in ("seconds", "planning", "plan_cost", "plan_floor", "plan"):
            aud.pop(k, None)
    return json.dumps(to_jsonable({"history": hist, "policy": tuner.policy.state_dict(),
                                   "audits": aud}), sort_keys=True)


# --- checkpoint and restart --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["chebcb", "default", "tsallis", "familycb", "fixed"])
def test_a_restarted_run_continues_exactly_as_the_uninterrupted_one(kind, tmp_path):
    whole = make(kind)
    run(whole, 0, 24)
    part = make(kind)
    run(part, 0, 11)
    part.save(tmp_path / "t.json")
    again = Tuner.load(tmp_path / "t.json")
    run(again, 11, 24)
    assert state(again) == state(whole)
    reg, ref = again.regret(), whole.regret()
    assert reg.best_fixed.estimate == ref.best_fixed.estimate
    assert again.summary()["total_iterations"] == whole.summary()["total_iterations"]


def test_a_run_killed_after_a_checkpoint_in_its_callback_restarts_in_a_new_process(tmp_path):
    """The usual checkpoint: every 5 solves in the callback; the process is then killed
    with SIGKILL (no clean-up runs) and a new process loads the file and goes on."""
    path = tmp_path / "t.json"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_restart import make, run
        tuner = make("tsallis")
        def checkpoint(result):
            n = len(tuner.history["arm"])
            if n % 5 == 0:
                tuner.save({str(path)!r})
            if n == 13:
                os.kill(os.getpid(), signal.SIGKILL)
        tuner.callback = checkpoint
        run(tuner, 0, 30)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    again = Tuner.load(path)
    done = len(again.history["arm"])
    assert done == 10  # the last checkpoint before the kill
    run(again, done, 20)
    whole = make("tsallis")
    run(whole, 0, 20)
    assert state(again) == state(whole)


def test_copies_continue_as_the_original(tmp_path):
    tuner = make("tsallis")
    run(tuner, 0, 8)
    copies = [copy.deepcopy(tuner), pickle.loads(pickle.dumps(tuner))]
    for t in [tuner, *copies]:
        run(t, 8, 16)
    assert state(copies[0]) == state(tuner) == state(copies[1])


# --- settings fixed at construction ------------------------------------------------------------
@pytest.mark.parametrize("name, value", [
    ("rtol", 1e-3), ("atol", 1.0), ("maxiter", 5), ("guard", None), ("cost", "time"),
    ("backend", "petsc"), ("solver", "cg"), ("audit_budget", 0.5), ("audit_seed", 7),
    ("policy", bandit.FixedArm(OMEGAS))])
def test_a_setting_cannot_be_changed_after_construction(name, value, tmp_path):
    """The solves are built from the settings when the tuner is made: an assignment had
    reached some runs and not others (``maxiter`` capped the attempt but not the fallback,
    ``rtol`` reached no solve), and ``save`` wrote it, so the loaded tuner solved otherwise."""
    tuner = make("chebcb", audit=0.0)
    run(tuner, 0, 2)
    before = getattr(tuner, name)
    with pytest.raises(AttributeError, match=f"Tuner.{name} is fixed when the tuner is made"):
        setattr(tuner, name, value)
    assert getattr(tuner, name) is before
    A, b, c = system(2)
    r = tuner.solve(A, b, context=c)
    assert r.converged and r.rtol == 1e-8
    tuner.save(tmp_path / "t.json")
    again = Tuner.load(tmp_path / "t.json")
    assert (again.rtol, again.maxiter, again.guard) == (1e-8, 10_000, 3.0)


def test_a_callback_set_on_a_loaded_or_copied_tuner_is_called(tmp_path):
    """``load`` and copies start without a callback; one set afterwards must be called (it
    was stored and silently never called)."""
    tuner = make("chebcb", audit=0.0)
    run(tuner, 0, 3)
    tuner.save(tmp_path / "t.json")
    for t in (Tuner.load(tmp_path / "t.json"), copy.deepcopy(tuner)):
        seen = []
        t.callback = seen.append
        run(t, 3, 5)
        assert [r.iterations for r in seen] == t.history["iterations"][3:].tolist()
        t.callback = None
        run(t, 5, 6)
        assert len(seen) == 2
    with pytest.raises(ValueError, match="callback must be a function or None"):
        tuner.callback = "print"
    with pytest.raises(ValueError, match="progress must be True, False or a description"):
        tuner.progress = 1


# --- threads and signal handlers ---------------------------------------------------------------
def _stop_in_first_run(tuner, action):
    """Make ``action()`` run inside the tuner's next solve, after its first solver run (as a
    signal handler or another thread would interleave), once."""
    inner = tuner._run
    fired = []

    def run_and_act(*args, **kwargs):
        res = inner(*args, **kwargs)
        if not fired:
            fired.append(True)
            action()
        return res

    tuner._run = run_and_act
    return fired


def test_one_tuner_used_from_two_threads_solves_one_system_at_a_time():
    """A second thread's solve during a solve had refreshed the Tuner's working copy of A
    under the running solve (a result reported converged with a relative residual of 0.06)
    or been refused as a solve from inside the solver function; it now waits its turn."""
    tuner = make("chebcb", audit=0.0)
    run(tuner, 0, 2)
    A1, b1, c1 = system(2)
    A2, b2, c2 = system(3)
    out, errors = {}, []

    def second():
        try:
            out[2] = tuner.solve(A2, b2, context=c2)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    other = threading.Thread(target=second)

    def start_other():
        other.start()
        other.join(0.5)  # it must wait for this solve, not run inside it

    _stop_in_first_run(tuner, start_other)
    out[1] = tuner.solve(A1, b1, context=c1)
    other.join(60)
    del tuner._run
    assert not errors, errors
    for (A, b), r in ((system(2)[:2], out[1]), (system(3)[:2], out[2])):
        assert r.converged
        assert np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-9)
    assert tuner.history["context"].tolist()[2:] == [c1, c2]
    assert tuner.policy.t == 4


def test_one_tuner_hammered_by_threads_returns_only_right_answers():
    from concurrent.futures import ThreadPoolExecutor

    tuner = make("chebcb", audit=0.0)
    systems = [system(k, n=16) for k in range(60)]

    def solve(k):
        A, b, c = systems[k]
        r = tuner.solve(A, b, context=c)
        return np.linalg.norm(b - A @ r.x) / np.linalg.norm(b), r.converged

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(solve, range(60)))
    assert all(conv and rel <= 1e-8 * (1 + 1e-9) for rel, conv in results)
    assert len(tuner.history["arm"]) == tuner.policy.t == 60


@pytest.mark.parametrize("where", ["attempt", "audit"])
def test_a_save_from_inside_a_solve_is_refused_and_writes_nothing(where, tmp_path):
    """A signal handler that checkpoints (``signal.signal(SIGTERM, lambda *_:
    tuner.save(path))``) runs in the middle of a solve: the policy may have drawn or been
    told and the history not yet written.  Such a file had loaded with the policy one round
    ahead of the history, for the rest of the run."""
    path = tmp_path / "t.json"
    tuner = make("tsallis", audit=0.5)
    run(tuner, 0, 6)
    tuner.save(path)
    before = path.read_bytes()
    errors = []

    def handler():
        try:
            tuner.save(path)
        except RuntimeError as exc:
            errors.append(str(exc))

    inner = tuner._run

    def run_and_save(op, b, arm, x0, maxiter, guarded, tally=True):
        res = inner(op, b, arm, x0, maxiter, guarded, tally)
        if not errors and (where == "attempt" or not tally):
            handler()
        return res

    tuner._run = run_and_save
    run(tuner, 6, 12)
    del tuner._run
    assert errors and "save was called while a solve of this tuner is running" in errors[0]
    assert path.read_bytes() == before
    tuner.save(path)  # between solves
    again = Tuner.load(path)
    assert again.policy.t == len(again.history["arm"]) == 12


def test_a_save_from_another_thread_waits_for_the_running_solve(tmp_path):
    path = tmp_path / "t.json"
    tuner = make("tsallis", audit=0.5)
    run(tuner, 0, 4)
    saver = threading.Thread(target=tuner.save, args=(path,))

    def start_saver():
        saver.start()
        saver.join(0.5)

    _stop_in_first_run(tuner, start_saver)
    run(tuner, 4, 5)
    saver.join(60)
    del tuner._run
    again = Tuner.load(path)
    assert again.policy.t == len(again.history["arm"]) == 5
    assert state(again) == state(tuner)


@pytest.mark.parametrize("kind", ["tsallis", "familycb"])
def test_ctrl_c_just_after_the_policy_is_told_still_records_the_round(kind, tmp_path):
    """Ctrl-C between the policy's update and the history's record had left the policy one
    round ahead of the history (1 of 115 random interrupts of a loop of small TsallisINF
    solves), which a save wrote and a load accepted: out of step for the rest of the run."""
    whole = make(kind, audit=0.0)
    run(whole, 0, 8)
    tuner = make(kind, audit=0.0)
    run(tuner, 0, 5)
    real = tuner.tell

    def tell_then_interrupt(*args):
        real(*args)
        raise KeyboardInterrupt

    tuner.tell = tell_then_interrupt
    A, b, c = system(5)
    with pytest.raises(KeyboardInterrupt):
        tuner.solve(A, b, context=c)
    del tuner.tell
    assert tuner.policy.t == len(tuner.history["arm"]) == 6
    tuner.save(tmp_path / "t.json")
    again = Tuner.load(tmp_path / "t.json")
    run(again, 6, 8)
    assert state(again) == state(whole)
    if again._paid is not None:
        assert len(again._paid) == 8


def test_ctrl_c_right_after_the_tuner_is_taken_leaves_no_hold_behind():
    """An interruption between taking the tuner's lock and noting its owner must neither
    hang this thread's next solve nor another thread's."""
    tuner = make("chebcb", audit=0.0)
    run(tuner, 0, 2)
    lock = tuner._lock

    class Interrupted:
        def _is_owned(self):
            return lock._is_owned()

        def acquire(self, *args):
            lock.acquire(*args)
            raise KeyboardInterrupt

    tuner._lock = Interrupted()
    A, b, c = system(2)
    with pytest.raises(KeyboardInterrupt):
        tuner.solve(A, b, context=c)
    tuner._lock = lock
    run(tuner, 2, 3)  # this thread: not blocked by its own hold, which it then drops
    other = threading.Thread(target=run, args=(tuner, 3, 4))
    other.start()
    other.join(60)
    assert not other.is_alive()
    assert tuner.policy.t == len(tuner.history["arm"]) == 4


def test_load_names_what_it_refuses_in_the_callers_arguments(tmp_path):
    """A bad ``callback`` given to ``load`` had been reported as a problem of the file
    (``PATH: config: callback must be ...``), and ``rtol=`` as Python's bare "unexpected
    keyword argument"."""
    tuner = make("chebcb", audit=0.0)
    run(tuner, 0, 2)
    tuner.save(tmp_path / "t.json")
    with pytest.raises(ValueError, match="^callback must be a function or None") as err:
        Tuner.load(tmp_path / "t.json", callback="print")
    assert not isinstance(err.value, bandit.TunerFileError)
    with pytest.raises(TypeError, match="Tuner.load takes only progress, callback and comm, got "
                                        "maxiter, rtol: a loaded tuner continues with the "
                                        "settings it was saved with"):
        Tuner.load(tmp_path / "t.json", rtol=1e-10, maxiter=50)
    assert Tuner.load(tmp_path / "t.json", callback=print).callback is print


def _refining(tuner, k0, k1):
    """A mesh refined every 4 steps, and a pattern that changes every step in between (an
    adaptive mesh: an off-diagonal pair dropped at a moving place)."""
    for k in range(k0, k1):
        A, b, c = system(k, n=6 + 2 * (k // 4))
        i = k % (A.shape[0] - 1)
        A = A.tolil()
        A[i, i + 1] = A[i + 1, i] = 0.0
        A = A.tocsr()
        A.eliminate_zeros()
        r = tuner.solve(A, b, context=c)
        assert r.converged and np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * (
            1 + 1e-9)


@pytest.mark.parametrize("kind", ["chebcb", "familycb"])
def test_a_restart_in_the_middle_of_a_mesh_refinement_continues_exactly(kind, tmp_path):
    whole = make(kind)
    _refining(whole, 0, 16)
    part = make(kind)
    _refining(part, 0, 7)
    part.save(tmp_path / "t.json")
    again = Tuner.load(tmp_path / "t.json")
    _refining(again, 7, 16)
    assert state(again) == state(whole)
