"""The Tuner used the way a new user uses it: problems, inputs and call sequences outside the
gallery, each checked against what the documentation promises."""
import json
import math
import pickle
import re

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import bandit.joint
import solvers
from bandit import FixedArm, Tuner
from bandit.features import _exponents
from bandit.report import HISTORY_SCHEMA, read_csv
from experiments.problems import DiffusionMC3D
from solvers import gallery


def mc_sequence(T, m=8, seed=0):
    """Matrices of one sparsity pattern whose values change (3-D random diffusion)."""
    seq = DiffusionMC3D(m, T, seed=seed)
    return [seq[t] for t in range(T)]


def test_a_reused_set_up_is_capped_in_the_fallback_chain_too():
    # the leader keeps an AMG hierarchy of the previous random-coefficient sample; when an
    # exploratory attempt is stopped by its budget the chain runs the leader, on that stale
    # hierarchy — which must be capped like any run on a reused set-up (4 × the iterations of
    # the solve that built it, at least 20), not left to run thousands of iterations
    systems = mc_sequence(2)
    stale = solvers.preconditioner("amg", reuse=20)
    solvers.pcg(*systems[0][:2], stale)
    assert solvers.pcg(*systems[1][:2], stale, maxiter=10_000).iterations > 1000
    arms = [{"method": "cg"}, {"method": "cg", "pc": "amg", "reuse": 20}]
    p = FixedArm(arms, arm=1)
    t = Tuner(p, cost="work")
    first = t.solve(*systems[0][:2])
    assert first.converged and first.info["setup"]
    p.arm = 0  # plain CG: stopped by its budget, then the leader's stale hierarchy
    res = t.solve(*systems[1][:2])
    cap = max(20, 4 * first.iterations)
    runs = res.info["attempts"]
    assert runs[0]["arm"] == 0 and runs[0]["reason"] == "maxiter"
    leader_runs = [r for r in runs if r["arm"] == 1]
    assert leader_runs[0]["budget"] == cap and leader_runs[0]["iterations"] <= cap
    # the arm rebuilt its hierarchy for the repeat: the solve converged, and cheaply
    assert res.converged and res.iterations < 1000
    A, b = systems[1][:2]
    assert np.linalg.norm(b - A @ res.x) <= 1e-8 * np.linalg.norm(b)


def test_a_one_arm_tuner_with_an_audit_budget_saves_and_loads(tmp_path):
    # Tuner(solver="cg") has one arm, so there is nothing to audit (every cost is observed);
    # its file, with no auditor state, must load — before and after solves
    A = gallery.laplacian_2d(6)
    b = np.ones(A.shape[0])
    t = Tuner(solver="cg", audit_budget=0.1)
    t.save(tmp_path / "t.json")
    assert Tuner.load(tmp_path / "t.json").summary()["rounds"] == 0
    first = t.solve(A, b)
    t.save(tmp_path / "t.json")
    u = Tuner.load(tmp_path / "t.json")
    assert u.audit_budget == 0.1 and u.summary()["rounds"] == 1
    assert u.solve(A, b).iterations == first.iterations
    assert u.regret().rounds == 2


def test_a_matrix_refused_for_configuration_arms_names_the_arm_that_needs_it():
    # a nonsymmetric (convection–diffusion-like) matrix with SOR among configuration arms:
    # the refusal says which arm cannot run on it, in a sentence that reads
    arms = [{"method": "sor", "omega": 1.2}, {"method": "cg", "pc": "jacobi"},
            {"method": "ssor_pcg", "omega": 1.5}]
    t = Tuner(bandit.ChebCB(arms, seed=0))
    A = gallery.laplacian_2d(5).tolil()
    A[0, 1] = -3.0
    with pytest.raises(ValueError, match=r"A is not symmetric .*; arm 1 \(cg\+jacobi\), like 1 "
                                         r"other arm, needs a symmetric positive definite"):
        t.solve(A.tocsr(), np.ones(25), context=1.0)
    A = gallery.laplacian_2d(5).tolil()
    A[2, 2] = 0.0
    with pytest.raises(ValueError, match=r"zero or missing diagonal entry in row 2 .*; arm 1 "
                                         r"\(cg\+jacobi\), like 1 other arm, divides by a_ii"):
        t.solve(A.tocsr(), np.ones(25), context=1.0)
    sor_only = Tuner(bandit.ChebCB(arms[:1] + [{"method": "cg"}], seed=0))
    with pytest.raises(ValueError, match=r"; arm 0 \(sor ω=1.20\) divides by a_ii"):
        sor_only.solve(A.tocsr(), np.ones(25), context=1.0)
    assert t.policy.t == 0 and len(t.history["arm"]) == 0  # refused before the draw


def _steady_state_run(policy, context, steps=300):
    """An implicit heat step ``(I + L/2) u' = u + f/2`` run to its steady state: the first
    ~145 solves cost a few iterations, the rest none (``x0`` is already the solution). Returns
    the tuner and the cost matrix of every arm alone on every system."""
    A = (sp.eye(100) + 0.5 * gallery.laplacian_2d(10)).tocsr()
    tuner = Tuner(policy, solver="ssor_pcg", rtol=1e-6, audit_budget=0.2, audit_seed=0)
    u, C = np.zeros(100), []
    for _ in range(steps):
        b = u + 0.5
        C.append([solvers.ssor_pcg(A, b, w, x0=u, rtol=1e-6).iterations
                  for w in policy.arms])
        u = tuner.solve(A, b, x0=u, context=context).x
    return tuner, np.array(C, dtype=float)


def test_regret_of_a_run_whose_context_never_changes_follows_the_rounds():
    # a context that never changes tells the rounds apart no more than none: the cost model
    # must follow the round, or it cannot see the costs drop to 0 at the steady state and
    # (with one smearing factor for every arm) overpredicts a rarely played arm several
    # times over — its doubly robust total went negative and the interval missed the regret
    arms = [1.0, 1.2, 1.4, 1.6, 1.8]
    tuner, C = _steady_state_run(bandit.ChebCB(arms, seed=0), 0.0)
    assert (C[-100:] == 0).all() and C[:100].min() > 0
    report = tuner.regret()
    exact = report.paid - C.sum(axis=0).min()
    assert report.paid == tuner.history["iterations"].sum()
    bf = report.best_fixed
    assert bf.low <= exact <= bf.high
    # over audit seeds 0-11 the error is 0.3-10 % of what the run paid (median 4 %): which
    # rounds the audits draw moves it that much
    assert abs(bf.estimate - exact) < 0.15 * report.paid
    assert (bandit.estimate.column_totals(tuner._run_data()) > 0).all()


def test_the_cost_model_follows_a_vector_contexts_first_varying_coordinate():
    t = Tuner(bandit.ChebCB([1.2, 1.5], seed=0), solver="ssor_pcg")
    A = gallery.laplacian_2d(4)
    for k in range(4):
        t.solve(A * (1 + k), np.ones(16), context=[2.0, 1.0 + k, 5.0 - k])
    np.testing.assert_array_equal(t._run_data().x, [1.0, 2.0, 3.0, 4.0])
    t = Tuner(bandit.ChebCB([1.2, 1.5], seed=0), solver="ssor_pcg")
    for k in range(4):
        t.solve(A * (1 + k), np.ones(16), context=[2.0, 1.0])
    np.testing.assert_array_equal(t._run_data().x, np.arange(4.0))


@pytest.mark.parametrize("kw, message", [
    ({"omegas": "1.2"}, r"omegas must be a sequence of numbers \(ω\), got '1.2'$"),
    ({"omegas": 1.2}, r"omegas must be a sequence of numbers \(ω\), got 1.2 \(one ω: \[1.2\]\)"),
    ({"omegas": [1.2, "1.4"]}, r"omegas must be a sequence of numbers \(ω\), got the entry '1.4'"),
    ({"sor_omegas": [True]}, r"sor_omegas must be a sequence of numbers \(ω\), got the entry True"),
])
def test_config_grid_refuses_omegas_that_are_not_a_sequence_of_numbers(kw, message):
    with pytest.raises(ValueError, match=message):
        bandit.config_grid(**kw)


def test_config_grid_takes_numpy_omegas():
    arms = bandit.config_grid(omegas=np.array([1.2, 1.5], dtype=np.float32), pcs=["jacobi"],
                              sor_omegas=range(1, 2))
    assert [a.get("omega") for a in arms] == [pytest.approx(1.2), pytest.approx(1.5), None, 1.0]
    assert all(type(a.get("omega", 0.0)) is float for a in arms)


@pytest.mark.parametrize("name", sorted(bandit.POLICIES))
@pytest.mark.parametrize("cost", ["5", b"5", True, np.bool_(False), [5.0], None])
def test_every_policy_refuses_a_cost_that_is_not_a_number(name, cost):
    p = bandit.POLICIES[name]([1.0, 1.5], seed=0)
    ctx = 0.5 if p.contextual else None
    p.select(ctx)
    state = json.dumps(p.state_dict())
    with pytest.raises(ValueError, match="cost must be a number"):
        p.update(0, cost, ctx)
    assert json.dumps(p.state_dict()) == state  # nothing changed
    for good in (5, np.float32(5.0), np.int64(5), np.array(5.0)):
        p.update(0, good, ctx)
    assert p.cost_sums[0] == 20.0 and p.t == 4


def test_the_sor_prior_stays_out_where_the_jacobi_iteration_diverges():
    # an SPD matrix with large off-diagonals (λ_max(D⁻¹A) = 2.8): SOR converges for every ω,
    # cheapest near 1.25, but Young's curve (clipped ρ_J) put its minimum at the grid's top;
    # the default SOR learner then played ω = 1.95 on every solve (1258 iterations, 12 × the
    # best) — its constant costs never showed it that a neighbour could be cheaper
    A = sp.csr_matrix(np.array([[1.0, 0.9, 0.9], [0.9, 1.0, 0.9], [0.9, 0.9, 1.0]]))
    b = np.array([1.0, -2.0, 0.5])
    arms = np.linspace(1.0, 1.95, 20)
    assert np.linalg.eigvalsh(A.toarray()).max() >= 2.0  # D = I: D⁻¹A = A
    assert bandit.theory_costs(A, arms, "sor") is None
    grid = np.array([solvers.sor(A, b, w).iterations for w in arms])
    t = Tuner(solver="sor")
    its = [t.solve(A, b).iterations for _ in range(20)]
    assert np.mean(its[-10:]) <= 1.5 * grid.min() < grid[-1] / 5
    # where the theory applies the prior is kept, and its minimum is the grid's (aniso 2-D)
    A = gallery.anisotropic_2d(12, 1e-3)
    b = np.ones(A.shape[0])
    grid = [solvers.sor(A, b, w).iterations for w in arms]
    assert np.argmin(bandit.theory_costs(A, arms, "sor")) == np.argmin(grid)


def test_ctrl_c_during_an_audit_keeps_the_round_and_the_file_loads(tmp_path):
    # the policy is told before the audits run: a Ctrl-C in a long audit run (the user's
    # loop then saves in a `finally:`) must leave the round in the history, with the audits
    # it finished — not a policy one round ahead of the history, audit records of a round
    # the history does not hold, and a file that Tuner.load refuses
    A, b = gallery.laplacian_2d(6), np.ones(36)
    t = Tuner(bandit.TsallisINF([1.0, 1.3, 1.6, 1.9], seed=0), solver="sor", audit_budget=0.5,
              audit_seed=0)
    run = t._run
    audit_runs = []

    def interrupted(*args, tally=True, **kw):
        if not tally:  # an audit run: the second one is interrupted
            audit_runs.append(len(t._log))
            if len(audit_runs) == 2:
                raise KeyboardInterrupt
        return run(*args, tally=tally, **kw)

    t._run = interrupted
    rounds = 0
    with pytest.raises(KeyboardInterrupt):
        for k in range(20):
            rounds += 1
            t.solve(A * (1 + 0.1 * k), b)
    del t._run
    T = len(t.history["arm"])
    assert T == rounds == t.policy.t  # the interrupted round is recorded
    assert t.audits["round"].max() == T - 1 == audit_runs[-1]
    t.save(tmp_path / "t.json")
    u = Tuner.load(tmp_path / "t.json")
    assert len(u.history["arm"]) == T and u.policy.t == T
    assert u.solve(A, b).converged and len(u.history["arm"]) == T + 1
    assert np.isfinite(u.regret().best_fixed.estimate)


@pytest.mark.parametrize("context", [["1", "2"], [True, False], np.array(["1.0"]), [1.0, None]])
def test_a_context_of_strings_or_bools_is_refused_before_the_draw(context):
    t = Tuner(bandit.ChebCB([1.2, 1.5], seed=0), solver="sor")
    A = gallery.laplacian_2d(4)
    with pytest.raises(ValueError, match="context must be a number or a sequence of numbers"):
        t.solve(A, np.ones(16), context=context)
    assert t.policy.t == 0 and len(t.history["arm"]) == 0
    t.solve(A, np.ones(16), context=[1, 2.5])  # mixed ints and floats are numbers
    np.testing.assert_array_equal(t.history["context"], [[1.0, 2.5]])


@pytest.mark.parametrize("backend", ["numba", "petsc"])
def test_several_omega_arms_of_plain_cg_are_refused(backend):
    # CG takes no ω: [1.2, 1.5] were two copies of the same solve, labelled as two ω
    if backend == "petsc":
        pytest.importorskip("petsc4py")
    for arms in ([1.2, 1.5], [1.0, {"omega": 1.3}] if backend == "numba" else [1.0, 1.0]):
        with pytest.raises(ValueError, match=r"solver='cg' takes no ω: arm 0 \(1\.\d\) and "
                                             r"arm 1 .* would both run plain CG"):
            if arms[0] == arms[1]:  # the same ω twice: the policy warns before the Tuner refuses
                with pytest.warns(bandit.RepeatedArmWarning, match="arms 0 and 1 are the same"):
                    policy = bandit.ChebCB(arms, seed=0)
            else:
                policy = bandit.ChebCB(arms, seed=0)
            Tuner(policy, solver="cg", backend=backend)
    # one arm (the default) and configuration arms next to one ω arm are fine
    assert Tuner(solver="cg", backend=backend).arm_labels == ["cg"]  # not "1": no ω
    if backend == "numba":
        t = Tuner(bandit.ChebCB([{"pc": "jacobi"}, 1.3], seed=0), solver="cg")
        assert t.arm_labels == ["cg+jacobi", "cg"]


def test_a_tuner_with_a_lambda_callback_and_a_progress_bar_pickles(capsys):
    # a copy keeps neither the progress bar nor the callback (like save): a lambda callback
    # made pickle (multiprocessing) fail, and a copy claimed a callback it never called
    A, b = gallery.laplacian_2d(5), np.ones(25)
    seen = []
    t = Tuner(bandit.ChebCB([1.2, 1.5, 1.8], seed=0), solver="sor", audit_budget=0.3,
              audit_seed=0, progress=True, callback=lambda r: seen.append(r.iterations))
    for k in range(3):
        t.solve(A * (1 + k), b, context=float(k))
    u = pickle.loads(pickle.dumps(t))
    assert u.callback is None and u.progress is False
    for k in range(3, 8):
        assert t.solve(A * (1 + k), b, context=float(k)).arm == u.solve(
            A * (1 + k), b, context=float(k)).arm
    assert len(seen) == 8
    np.testing.assert_array_equal(t.history["iterations"], u.history["iterations"])


@pytest.mark.parametrize("kw, message", [
    ({"level": "0.9"}, "level must be a number strictly between 0 and 1, got '0.9'"),
    ({"level": True}, "level must be a number strictly between 0 and 1, got True"),
    ({"level": 1.0}, "level must be a number strictly between 0 and 1, got 1.0"),
    ({"n_boot": 50.5}, "n_boot must be an integer >= 10, got 50.5"),
    ({"n_boot": 5}, "n_boot must be an integer >= 10, got 5"),
])
def test_regret_refuses_its_settings_by_name(kw, message):
    t = Tuner(solver="sor")
    t.solve(gallery.laplacian_2d(4), np.ones(16))
    with pytest.raises(ValueError, match=re.escape(message)):
        t.regret(**kw)
    assert t.regret(level=np.float32(0.8), n_boot=np.int64(20)).rounds == 1


def test_read_csv_names_the_file_row_and_column_of_a_bad_entry(tmp_path):
    t = Tuner(bandit.ChebCB([1.2, 1.5], seed=0), solver="sor", audit_budget=0.5, audit_seed=0)
    for k in range(4):
        t.solve(gallery.laplacian_2d(4) * (1 + k), np.ones(16), context=[float(k), 2.0])
    path = tmp_path / "h.csv"
    t.to_csv(path)
    h = read_csv(path)
    for name, _, _ in HISTORY_SCHEMA:
        np.testing.assert_array_equal(h[name], t.history[name])
    text = path.read_text()
    cases = [(text[:-20], r"row 4 has \d+ fields, the header \d+ \(truncated"),
             (text.replace("true", "yes", 1), r"row 1, column 'converged': 'yes' is not true "
                                              r"or false"),
             (text.replace("\n1,", "\n1.5,", 1), r"row 2, column 'round': '1.5' is not an "
                                                 r"integer"),
             (text.replace("\n0,", "\n0,x", 1), r"row 1, column 'arm': 'x\d' is not an integer")]
    for bad, message in cases:
        path.write_text(bad)
        with pytest.raises(ValueError, match=re.escape(str(path)) + ": " + message):
            read_csv(path)
    path.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(ValueError, match="not a relaxtune history"):
        read_csv(path)


def test_a_policy_class_or_name_instead_of_a_policy_says_how_to_make_one():
    with pytest.raises(ValueError, match=r"got the class ChebCB; pass an instance, e\.g\. "
                                         r"ChebCB\(arms, seed=0\)"):
        Tuner(bandit.ChebCB)
    with pytest.raises(ValueError, match=r"got the name 'chebcb'; make one with "
                                         r"bandit\.POLICIES\['chebcb'\]\(arms, seed=0\)"):
        Tuner("chebcb")
    with pytest.raises(ValueError, match=r"policy must be a bandit Policy, got int$"):
        Tuner(3)


def test_an_integer_beyond_the_float_range_is_refused_as_not_finite():
    # float(10**400) raises OverflowError: refused by name, with its size (not its digits)
    big = 10 ** 400
    t = Tuner(bandit.ChebCB([1.2, 1.5], seed=0), solver="sor")
    for ctx in (big, [big, 1], -big):
        with pytest.raises(ValueError, match=r"context holds an integer of 401 digits \(about "
                                             r"-?1e400\), beyond the double range"):
            t.solve(gallery.laplacian_2d(4), np.ones(16), context=ctx)
    assert t.policy.t == 0
    with pytest.raises(ValueError, match="rtol must be finite"):
        Tuner(solver="sor", rtol=big)
    with pytest.raises(ValueError, match="guard must be None or a finite number"):
        Tuner(solver="sor", guard=big)
    with pytest.raises(ValueError, match="cost is infinite"):
        bandit.ChebCB([1.2, 1.5], seed=0).update(0, big, 1.0)


def test_the_regret_never_exceeds_what_was_paid():
    # solves that cost almost nothing, alternately 0 (b = 0) and one residual check (x0 the
    # solution): the cost model fits them badly, and a doubly robust column total went below
    # 0, which put the interval's upper end at 1.4e6 against 28.6 paid — but every cost is
    # >= 0, so the comparator's total is too, and the regret at most what was paid
    A = gallery.laplacian_2d(6)
    xs = np.linalg.solve(A.toarray(), np.ones(36))
    t = Tuner(bandit.UniformRandom([1.0, 1.2, 1.5, 1.7, 1.9], seed=0), solver="ssor_pcg",
              cost="work", audit_budget=0.2, audit_seed=0)
    for k in range(12):
        odd = k % 2
        t.solve(A, np.zeros(36) if odd else np.ones(36), x0=None if odd else xs,
                context=float(k))
    assert t.history["iterations"].sum() == 0
    r = t.regret()
    for e in (r.best_fixed, r.instance_optimal):
        assert e.estimate <= r.paid and np.all(e.curve <= np.cumsum(t._paid)[e.rounds - 1])
        assert not e.high > r.paid  # (NaN without an interval)
    assert r.best_fixed.low <= 0.0 <= r.best_fixed.high  # every arm costs the same here


class _Greedy(bandit.Policy):
    """A user's own learner: the cheapest arm so far, every arm once first."""

    randomised = False

    def _select(self, context):
        means = self.cost_sums / np.maximum(self.counts, 1)
        return int(np.argmin(np.where(self.counts == 0, -np.inf, means)))


def test_a_tuner_with_a_policy_of_the_users_own_class_is_not_saved_unloadable(tmp_path):
    # load rebuilds the policy by its class name among bandit.POLICIES: save must refuse, as
    # for a custom solver function, rather than write a file load refuses
    A, b = gallery.laplacian_2d(5), np.ones(25)
    t = Tuner(_Greedy([1.0, 1.4, 1.8]), solver="sor", audit_budget=0.2, audit_seed=0)
    for _ in range(4):
        assert t.solve(A, b).converged
    with pytest.raises(ValueError, match=r"policy is a _Greedy, not a bandit\.POLICIES class, "
                                         r"cannot be saved"):
        t.save(tmp_path / "t.json")
    assert not (tmp_path / "t.json").exists() and not list(tmp_path.iterdir())
    u = pickle.loads(pickle.dumps(t))  # what the message offers
    assert u.solve(A, b).arm == t.solve(A, b).arm


def test_a_vector_context_builds_the_vector_basis_at_once(monkeypatch):
    # the default learner (JointCB) built the scalar default's basis (total degree < 10) for a
    # vector context before switching to the vector one (< 4), filtering all 10^D degree
    # tuples: 9 s for an 8-number context, a hang for 10
    import time

    import bandit.features

    A, b = gallery.laplacian_2d(4), np.ones(16)
    t = Tuner(solver="sor")
    # the mechanism, counted (a bound on the wall clock, 5 s, flaked on a loaded machine):
    # only the vector basis is enumerated, and its tuples one by one
    built = []
    enumerate_exponents = bandit.features._exponents

    def recorded(D, m, kind):
        out = enumerate_exponents(D, m, kind)
        built.append((D, m, kind, len(out)))
        return out

    monkeypatch.setattr(bandit.features, "_exponents", recorded)
    start = time.perf_counter()
    assert t.solve(A, b, context=np.linspace(0.0, 1.0, 8)).converged
    assert time.perf_counter() - start < 120  # (a hang guard only)
    assert built and {(D, m) for D, m, _, _ in built} == {(8, 4)}
    assert all(count == 165 for *_, count in built)
    assert t.policy.features.m == 4 and t.policy.features.n_features == 165  # C(11, 8)
    t = Tuner(bandit.ChebCB([1.2, 1.5], seed=0), solver="sor")
    for k in range(3):  # the range widens: the model is refitted in the new coordinates
        assert t.solve(A, b, context=np.linspace(0.0, 1.0 + k, 10)).converged
    assert t.policy.features.m == 3 and t.policy.features.n_features == 66  # C(12, 10)
    assert len(_exponents(20, 4, "chebyshev")) == 1771  # C(23, 20), not 4^20 filtered


def test_a_context_too_long_for_the_learners_model_is_refused_before_the_draw():
    # a tensor-product model grows like m^D (hats) or C(m - 1 + D, D), and is refitted in
    # O(d³) whenever the context range widens: past a limit the first context is refused by
    # name — not a hang, a MemoryError or minutes per widening — and the policy is as before
    # (another context length then works)
    A, b = gallery.laplacian_2d(4), np.ones(16)
    family = bandit.FamilyCB(bandit.config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"]),
                             seed=0)
    for policy, D in ((None, 9), (bandit.SplineCB([1.2, 1.5], seed=0), 5),
                      (bandit.ChebCB([1.2, 1.5], seed=0), 400), (family, 60)):
        t = Tuner(policy) if policy is family else Tuner(policy, solver="sor")
        with pytest.raises(ValueError, match=rf"a context of {D} numbers needs [\d,]+ "
                                             rf"features, a model .* too large to refit"):
            t.solve(A, b, context=np.linspace(0.0, 1.0, D))
        models = [t.policy] if policy is not family else [family.family_model, *[
            p for p in family.inner_policies if p is not None]]
        assert t.policy.t == 0 and all(p.features.context_dim is None for p in models)
        assert t.solve(A, b, context=[0.5, 1.0]).converged
        assert all(p.features.context_dim == 2 for p in models)
    with pytest.raises(ValueError, match=r"a context of 30 numbers needs"):
        bandit.JointCB([1.2, 1.5], context_dim=30)


@pytest.mark.parametrize("cls", [bandit.ChebCB, bandit.ChebLCB, bandit.JointCB])
def test_a_widening_vector_context_refits_to_the_batch_fit(cls, monkeypatch):
    # the range starts at the first context (a point in every coordinate) and widens, one
    # coordinate late: the model re-expressed coordinate by coordinate equals the batch ridge
    # fit of every row with the final range's features (Chebyshev features: exact); the
    # batch fit takes the targets as they are, so JointCB's clip of outlying errors is off
    monkeypatch.setattr(bandit.joint, "_CLIP", math.inf)
    rng = np.random.default_rng(0)
    arms = [1.0, 1.3, 1.6, 1.9]
    p = cls(arms, seed=1, ridge=0.3)
    rows = []
    for t in range(160):
        c = [rng.uniform(-1, 1) * (1 + t / 40), 2.0 if t < 60 else rng.uniform(1, 5), 0.5]
        k = p.select(c)
        y = 10 + 30 * (1 + math.sin(c[0] + 0.3 * c[1] + k)) + rng.normal()
        p.update(k, y, context=c)
        rows.append((c, k, math.log(y / p.unit + 0.01)))
    lo, hi = (np.array(b) for b in zip(*p.features.context_bounds))
    assert hi[0] - lo[0] > 6 and hi[1] - lo[1] > 3 and lo[2] == hi[2]  # widened; a point
    if cls is bandit.JointCB:
        X = np.array([p.phi(c, k) for c, k, _ in rows])
        y = np.array([v for *_, v in rows])
        Lam = np.diag(p._penalty_diag())
        np.testing.assert_allclose(p.theta, np.linalg.solve(Lam + X.T @ X, X.T @ y),
                                   rtol=1e-6, atol=1e-8)
        return
    Lam = p.ridge * p.features.penalty
    for k in range(len(arms)):
        mine = [(c, v) for c, a, v in rows if a == k]
        X = np.array([p.features(c) for c, _ in mine]).reshape(len(mine), -1)
        y = np.array([v for _, v in mine])
        np.testing.assert_allclose(p.theta[k], np.linalg.solve(Lam + X.T @ X, X.T @ y),
                                   rtol=1e-6, atol=1e-8)


def test_tsallis_inf_cb_refuses_a_context_with_too_many_cells_before_the_draw():
    # bins^D cells per arm: a 12-number context needed 5^12 · 20 entries per array (a
    # MemoryError after the draw); refused by name, and another length then works
    A, b = gallery.laplacian_2d(4), np.ones(16)
    t = Tuner(bandit.TsallisINFCB(list(np.linspace(1.0, 1.9, 20)), seed=0), solver="sor")
    with pytest.raises(ValueError, match=r"TsallisINFCB: a context of 12 numbers needs 5\^12 = "
                                         r"244,140,625 cells of 20 arms"):
        t.solve(A, b, context=np.linspace(0.0, 1.0, 12))
    assert t.policy.t == 0 and t.policy.L is None and t.policy._grid.dim is None
    assert t.solve(A, b, context=[0.5, 1.0]).converged and t.policy.L.shape == (5, 5, 20)
    with pytest.raises(ValueError, match="a context of 12 numbers"):
        bandit.TsallisINFCB([1.0, 1.5], context_dim=12)
