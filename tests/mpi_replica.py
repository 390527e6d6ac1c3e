"""Launched by tests/test_mpi_replica.py as ``mpiexec -n 2 python tests/mpi_replica.py OUT
ONE_RANK_FILE``.

Every rank's Tuner must be the same learner: for every policy of the library (seeded by rank
on purpose, with a prior and without, ω arms and configuration arms, the default learner),
after a short contextual run with audits, each rank writes the policy's saved state and
pickle digests, its predictions and next draws (on a copy), the history, the audits, the
summary and the regret, a save by rank 0 read back on every rank, and:

* ``drift``: rank 1's generator changed mid-run (as arithmetic that differs between
  machines would): the next draw gives rank 1 a copy of rank 0's policy, with a warning;
* ``interrupted``: Ctrl-C in rank 0's draw alone: raised and undone on every rank;
* ``mixed``: learners of different classes on the two ranks: refused on every rank;
* ``time``: ``cost="time"``: the seconds every rank tells (rank 0's clock), the cold-time
  rule on every rank alike, and every solver run each rank made (an untimed pre-run is
  collective: the same runs on every rank, each accounted for by a round's attempts);
* ``from_one``: ``ONE_RANK_FILE`` (written by a one-rank run) loaded on both ranks and
  continued;
* ``to_one``: a file this two-rank run saves, which the test loads on one rank.

Each rank writes ``OUT/rank<r>.json``; a rank left waiting (a collective step one rank skips)
stops itself (``signal.alarm``), so a hang fails the test instead of stalling it.
"""
import copy
import hashlib
import json
import os
import pickle
import signal
import sys
import types
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import bandit  # noqa: E402
from solvers import gallery  # noqa: E402

OMEGAS = [1.0, 1.3, 1.6, 1.8]
CONFIGS = [{"omega": 1.2}, {"omega": 1.7}, {"method": "cg", "pc": "jacobi"}]
ROUNDS = 6


def policies(rank):
    """name -> (solver, policy or None for the Tuner's default); seeds differ per rank."""
    s = 10 + rank
    bounds = {"context_bounds": (0.0, 1.0)}
    return {
        "tsallis_inf": ("ssor_pcg", bandit.TsallisINF(OMEGAS, seed=s)),
        "tsallis_inf_cb": ("ssor_pcg", bandit.TsallisINFCB(OMEGAS, seed=s, **bounds)),
        "chebcb": ("ssor_pcg", bandit.ChebCB(OMEGAS, seed=s, **bounds)),
        "chebcb_learnt_range": ("sor", bandit.ChebCB(OMEGAS, seed=s)),
        "cheblcb": ("ssor_pcg", bandit.ChebLCB(OMEGAS, seed=s, **bounds)),
        "splinecb": ("ssor_pcg", bandit.SplineCB(OMEGAS, seed=s, **bounds)),
        "smooth_igw": ("ssor_pcg", bandit.SmoothIGW(OMEGAS, seed=s)),
        "squarecb": ("ssor_pcg", bandit.SquareCB(OMEGAS, seed=s, **bounds)),
        "uniform": ("ssor_pcg", bandit.UniformRandom(OMEGAS, seed=s)),
        "jointcb": ("ssor_pcg", bandit.JointCB(OMEGAS, seed=s)),
        "jointcb_prior": ("sor", bandit.JointCB(OMEGAS, seed=s, prior="theory")),
        "jointcb_configs": ("ssor_pcg", bandit.JointCB(CONFIGS, seed=s)),
        "familycb": ("ssor_pcg", bandit.FamilyCB(CONFIGS, seed=s, **bounds)),
        "default_sor": ("sor", None),  # the default learner: JointCB, theory prior
        "default_ssor_pcg": ("ssor_pcg", None),
    }


class InterruptedOnRoot(bandit.TsallisINF):
    """A learner whose third draw is interrupted on rank 0 alone (Ctrl-C reaching one rank)."""

    draws = 0  # (of the class: not part of the policy's state)

    def select(self, context=None):
        type(self).draws += 1
        if type(self).draws == 3 and PETSc.COMM_WORLD.getRank() == 0:
            raise KeyboardInterrupt("rank 0 alone")
        return super().select(context)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj, seen):
    """``obj`` as plain text, every attribute of every object in it (caches and what a save
    leaves out included), arrays by their bytes; the same on two ranks exactly when the two
    objects hold the same values (a pickle's bytes also say which objects are shared)."""
    if isinstance(obj, np.ndarray):
        return f"array({obj.dtype.str},{obj.shape},{digest(np.ascontiguousarray(obj).tobytes())})"
    if isinstance(obj, np.random.Generator):
        return f"rng({obj.bit_generator.state!r})"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{_canonical(k, seen)}:{_canonical(v, seen)}"
                              for k, v in sorted(obj.items(), key=lambda kv: repr(kv[0]))) + "}"
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        return f"{type(obj).__name__}(" + ",".join(_canonical(v, seen) for v in items) + ")"
    if isinstance(obj, (type, types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        return getattr(obj, "__qualname__", repr(obj))
    if hasattr(obj, "__dict__"):
        if id(obj) in seen:
            return "<cycle>"
        seen = seen | {id(obj)}
        return f"{type(obj).__qualname__}{_canonical(vars(obj), seen)}"
    return repr(obj)


def full_digest(policy) -> str:
    return digest(_canonical(policy, frozenset()).encode())


def state_digest(policy) -> str:
    return digest(json.dumps(policy.state_dict(), sort_keys=True).encode())


def system(i):
    """The i-th system of a run (the same on every rank): a shifted Laplacian, its shift the
    context."""
    c = i / ROUNDS
    A = gallery.laplacian_2d(8)
    return c, (A + c * sp.eye(A.shape[0])).tocsr(), np.cos(np.arange(A.shape[0]) * (i + 1))


def run(tuner, rounds=ROUNDS, start=0):
    for i in range(start, start + rounds):
        c, A, b = system(i)
        tuner.solve(A, b, context=c)


def describe(tuner):
    """What a rank's tuner holds, as JSON."""
    pol = tuner.policy
    nxt = copy.deepcopy(pol)
    draws = [int(nxt.select(c)) for c in (0.1, 0.5, 0.9)] if pol.contextual else [
        int(nxt.select()) for _ in range(3)]
    summ = tuner.summary()
    seconds = summ["regret"]["cost"].pop("report_seconds")  # per rank (not compared)
    reg = tuner.regret(n_boot=50)
    h = tuner.history
    return {
        "state": state_digest(pol), "full": full_digest(pol),
        "pickled": full_digest(pickle.loads(pickle.dumps(pol))),
        "seed": pol.seed, "t": int(pol.t),
        "predict": np.asarray(pol.predict(0.5 if pol.contextual else None)).tolist(),
        "next_draws": draws,
        "arms": h["arm"].tolist(), "cost": h["cost"].tolist(), "p": h["p"].tolist(),
        "audited": np.asarray(tuner.audits["round"]).tolist(),
        "audit_arms": np.asarray(tuner.audits["arm"]).tolist(),
        "summary": json.dumps(summ, sort_keys=True, default=repr),
        "report_seconds": seconds,
        "regret": repr((reg.best_fixed, reg.instance_optimal, reg.paid)),
    }


def main(out, one_rank_file):
    rank = PETSc.COMM_WORLD.getRank()
    report = {"rank": rank, "size": PETSc.COMM_WORLD.getSize(), "policies": {}}
    for name, (solver, policy) in policies(rank).items():
        tuner = bandit.Tuner(policy, solver=solver, backend="petsc", audit_budget=0.5,
                             audit_seed=rank)
        run(tuner)
        got = describe(tuner)
        path = os.path.join(out, f"{name}.json")
        tuner.save(path)  # rank 0 writes; every rank reads it back
        loaded = bandit.Tuner.load(path, comm=PETSc.COMM_WORLD)
        got["loaded_state"] = state_digest(loaded.policy)
        report["policies"][name] = got

    # a rank whose policy drifted from rank 0's is given a copy of it
    tuner = bandit.Tuner(bandit.TsallisINF(OMEGAS, seed=3), solver="ssor_pcg", backend="petsc")
    run(tuner, 3)
    if rank == 1:
        tuner.policy.rng = np.random.default_rng(99)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(tuner, 3, start=3)
    report["drift"] = {"state": state_digest(tuner.policy), "arms": tuner.history["arm"].tolist(),
                       "warnings": [str(w.message) for w in caught
                                    if issubclass(w.category, RuntimeWarning)]}

    # a draw interrupted on rank 0 alone: raised on every rank, undone on every rank
    tuner = bandit.Tuner(InterruptedOnRoot(OMEGAS, seed=rank), solver="ssor_pcg",
                         backend="petsc")
    calls = []
    for i in range(5):
        c, A, b = system(i)
        try:
            calls.append(["ok", int(tuner.solve(A, b, context=c).arm)])
        except KeyboardInterrupt as exc:
            calls.append([type(exc).__name__, str(exc)])
    report["interrupted"] = {"calls": calls, "state": state_digest(tuner.policy),
                             "full": full_digest(tuner.policy),
                             "arms": tuner.history["arm"].tolist()}

    # learners of different classes on the ranks: refused on every rank at the first solve
    other = (bandit.TsallisINF(OMEGAS, seed=0) if rank == 0
             else bandit.SmoothIGW(OMEGAS, seed=0))
    mixed = bandit.Tuner(other, solver="ssor_pcg", backend="petsc")
    c, A, b = system(0)
    try:
        mixed.solve(A, b, context=c)
        report["mixed"] = None
    except ValueError as exc:
        report["mixed"] = str(exc)
    report["mixed_rounds"] = len(mixed.history["arm"])

    # cost="time": rank 0's seconds on every rank; every solver run counted with its cap
    # (an untimed pre-run before an arm's first timed run would be one of _COLD_ITERATIONS:
    # collective, so every rank must run the same)
    timed = bandit.Tuner(bandit.ChebCB(OMEGAS, seed=rank, context_bounds=(0.0, 1.0)),
                         solver="ssor_pcg", backend="petsc", cost="time")
    caps = []

    def counted(fn):
        def call(*args, **kwargs):
            caps.append(kwargs.get("maxiter"))
            return fn(*args, **kwargs)
        return call

    timed._calls = [(counted(fn), kw) for fn, kw in timed._calls]
    runs = 0  # the runs the results account for: each round's attempts (1 without a fallback)
    for i in range(ROUNDS):
        c, A, b = system(i)
        runs += len(timed.solve(A, b, context=c).info.get("attempts", ())) or 1
    h = timed.history
    report["time"] = {"seconds": h["seconds"].tolist(), "cost": h["cost"].tolist(),
                      "arms": h["arm"].tolist(), "state": state_digest(timed.policy),
                      "caps": caps, "runs": runs}

    # a one-rank run's file, continued on two ranks
    loaded = bandit.Tuner.load(one_rank_file, comm=PETSc.COMM_WORLD)
    before = len(loaded.history["arm"])
    run(loaded, 3, start=before)
    report["from_one"] = {"before": before, "arms": loaded.history["arm"].tolist(),
                          "state": state_digest(loaded.policy)}
    # a two-rank run's file, for the test to continue on one rank
    two = bandit.Tuner(bandit.JointCB(OMEGAS, seed=7 + rank), solver="ssor_pcg",
                       backend="petsc")
    run(two, 4)
    two.save(os.path.join(out, "two_ranks.json"))
    report["to_one"] = {"state": state_digest(two.policy), "arms": two.history["arm"].tolist()}

    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(report, fh)


if __name__ == "__main__":
    signal.alarm(240)  # a rank left waiting ends here rather than at the launcher's timeout
    main(sys.argv[1], sys.argv[2])
