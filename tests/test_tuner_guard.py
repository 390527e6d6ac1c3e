"""The Tuner's guard: a tuned solve converges whenever some arm converges on the system.

Nonsymmetric sequences on which SOR diverges for large ω, checked against brute force (every
arm run on every system with the plain solver); stand-in solvers with scripted outcomes for the
fallback order, the last resort and what the policy is told.
"""
import functools
import math

import numpy as np
import pytest
import scipy.sparse as sp

import bandit
import solvers
from bandit import POLICIES, Tuner
from bandit.tuner import GUARD_DTOL
from solvers import SolveResult

PAPER_GRID = np.linspace(1.0, 1.95, 20)
DAMPED_GRID = np.linspace(0.4, 1.9, 16)  # under-relaxed arms rescue non-dominant matrices
MAXITER = 2000
SEEDS = (0, 1, 2, 3)
STEPS = 20


def make_policy(name, arms, bounds, seed):
    """Every registry policy; FixedArm always plays the *largest* ω (the worst on these)."""
    cls = POLICIES[name]
    if name == "fixed":
        return cls(arms, arm=len(arms) - 1, seed=seed)
    if name == "squarecb":
        return cls(arms, context_dim=1, context_bounds=[bounds], seed=seed)
    if cls.contextual:
        return cls(arms, context_bounds=bounds, seed=seed)
    return cls(arms, seed=seed)


def rel_res(A, b, x):
    return np.linalg.norm(b - A @ x) / np.linalg.norm(b)


# --- nonsymmetric sequences ------------------------------------------------------------------
def issue_matrix(coupling=0.05):
    """``kron(I_40, [[1, 0.8], [-0.8, 1]])`` plus a small symmetric off-diagonal coupling."""
    block = np.array([[1.0, 0.8], [-0.8, 1.0]])
    off = coupling * np.ones(79)
    return sp.csr_array(sp.kron(sp.eye(40), block) + sp.diags([off, off], [-1, 1]))


def convection_diffusion(m, peclet, angle):
    """Upwind 5-point ``−Δu + Pe v·∇u`` (``v = (cos θ, sin θ)``) on an m×m grid, times h²."""
    h = 1.0 / (m + 1)
    vx, vy = peclet * h * math.cos(angle), peclet * h * math.sin(angle)
    n = m * m
    rows, cols, vals = [], [], []
    for j in range(m):
        for i in range(m):
            k = j * m + i
            rows.append(k), cols.append(k), vals.append(4.0 + abs(vx) + abs(vy))
            for di, dj, upwind in ((-1, 0, max(vx, 0.0)), (1, 0, max(-vx, 0.0)),
                                   (0, -1, max(vy, 0.0)), (0, 1, max(-vy, 0.0))):
                if 0 <= i + di < m and 0 <= j + dj < m:
                    rows.append(k), cols.append(k + di + m * dj), vals.append(-1.0 - upwind)
    return sp.csr_array((vals, (rows, cols)), shape=(n, n))


def dominant(n, s, rng, density=0.15):
    """Random nonsymmetric matrix with diagonal ``s ×`` its row's off-diagonal absolute sum."""
    M = sp.random(n, n, density=density, random_state=rng,
                  data_rvs=lambda k: rng.uniform(-1.0, 1.0, k)).tocsr()
    M.setdiag(0.0)
    M.eliminate_zeros()
    d = np.asarray(abs(M).sum(axis=1)).ravel()
    return sp.csr_array(M + sp.diags(s * np.maximum(d, 0.1)))


@functools.lru_cache(maxsize=None)
def sequence(family, seed):
    """``(arms, context bounds, [(A, b, context, converges)])``: ``converges[k]`` is brute force,
    plain SOR with arm k from x0 = 0 (the solvers' default divergence tolerance)."""
    rng = np.random.default_rng(1000 + seed)
    steps = []
    for _ in range(STEPS):
        if family == "convection":
            arms, bounds = PAPER_GRID, (0.0, 4.5)
            c = rng.uniform(0.0, 4.5)  # log10 of the Péclet number
            A = convection_diffusion(8, 10.0 ** c, rng.uniform(0.0, 2.0 * math.pi))
        else:
            arms, bounds = DAMPED_GRID, (0.3, 1.6)
            c = rng.uniform(0.3, 1.6)  # diagonal dominance factor (< 1: not dominant)
            A = dominant(60, c, rng)
        b = rng.standard_normal(A.shape[0])
        ok = tuple(solvers.sor(A, b, w, maxiter=MAXITER).converged for w in arms)
        steps.append((A, b, c, ok))
    return arms, bounds, steps


def violations(name, family, seed):
    """Steps where the guarded Tuner breaks its promise (empty list: it kept it)."""
    arms, bounds, steps = sequence(family, seed)
    tuner = Tuner(make_policy(name, arms, bounds, seed), solver="sor", maxiter=MAXITER)
    bad = []
    for t, (A, b, c, ok) in enumerate(steps):
        r = tuner.solve(A, b, context=c)
        if any(ok):
            if not (r.converged and rel_res(A, b, r.x) <= 1e-8):
                bad.append((t, r.reason, r.iterations))
        elif r.converged or not r.info.get("all_arms_failed"):
            bad.append((t, "claimed", r.reason))
    return bad


def test_sequences_are_hard_and_varied():
    """The property below is not vacuous: arms fail on many steps, and some steps have no
    converging arm at all (where the Tuner must say so)."""
    fails = [sum(not k for k in ok) for fam in ("convection", "dominant") for s in SEEDS
             for *_, ok in sequence(fam, s)[2]]
    assert sum(f > 0 for f in fails) > 0.4 * len(fails)
    nothing = [fam for fam in ("convection", "dominant") for s in SEEDS
               for *_, ok in sequence(fam, s)[2] if not any(ok)]
    assert nothing  # a step where every arm fails


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_property_converged_whenever_some_arm_converges(name):
    for family in ("convection", "dominant"):
        for seed in SEEDS:
            assert violations(name, family, seed) == [], (family, seed)


def test_property_fails_without_the_fallback_chain(monkeypatch):
    """The property test has teeth: with the chain removed (only the chosen arm is ever
    retried) it finds broken steps."""
    monkeypatch.setattr(Tuner, "fallback_order", lambda self, arm, best, context=None: [arm])
    found = {name: sum(len(violations(name, fam, s)) for fam in ("convection", "dominant")
                       for s in SEEDS) for name in POLICIES}
    assert all(v > 0 for v in found.values()), found


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_issue_example_every_step_converges(name):
    """SOR on a nonsymmetric block matrix, paper grid: ω >= 1.15 diverges, 1.0–1.1 converge."""
    A = issue_matrix()
    ok = [solvers.sor(A, np.ones(80), w).converged for w in PAPER_GRID]
    assert ok[:3] == [True] * 3 and not any(ok[3:])
    tuner = Tuner(make_policy(name, PAPER_GRID, (0.0, 1.0), 0), solver="sor")
    rng = np.random.default_rng(0)
    reasons = []
    for t in range(100):
        b = rng.standard_normal(80)
        r = tuner.solve(A, b, context=(t % 10) / 10)
        assert r.converged and rel_res(A, b, r.x) <= 1e-8, t
        assert r.omega in PAPER_GRID[:3] and r.settings == {"omega": r.omega}
        reasons.append(r.info["explored"]["reason"] if "explored" in r.info else "converged")
    h = tuner.history
    assert h["converged"].all()
    # every divergence was told as maxiter iterations, more than any converged solve costs
    diverged = np.array(reasons) == "diverged"
    assert diverged.any()
    assert np.all(h["cost"][diverged] >= 10_000) and np.all(h["cost"][~diverged] < 10_000)
    # the leader is an arm that converged (FixedArm plays ω = 1.95 only: it has none; a bin
    # of Tsallis-INF-CB may have none yet)
    p = tuner.policy
    leads = {p.leader(c / 10)[0] for c in range(10)}
    assert leads <= {None, 0, 1, 2}
    assert all(p.converged_counts[k] > 0 for k in leads - {None})
    assert (leads == {None}) == (name == "fixed")


def test_round_zero_without_leader_falls_back_to_the_conservative_arm():
    A = issue_matrix()
    b = np.ones(80)
    tuner = Tuner(bandit.FixedArm(PAPER_GRID, arm=19), solver="sor")
    assert tuner.conservative_arm == 0
    r = tuner.solve(A, b)
    assert r.converged and r.arm == 0 and rel_res(A, b, r.x) <= 1e-8
    first, second = r.info["attempts"]
    # the attempt stopped at the guard's divergence tolerance, long before 1e12
    plain = solvers.sor(A, b, PAPER_GRID[19])
    assert first["reason"] == "diverged" and first["dtol"] == GUARD_DTOL
    assert first["iterations"] < plain.iterations
    assert second == {**second, "arm": 0, "start": "x0", "reason": "converged"}
    assert second["iterations"] == solvers.sor(A, b, 1.0).iterations
    assert r.iterations == first["iterations"] + second["iterations"]
    assert r.info["explored"]["arm"] == 19 and r.info["explored"]["restarted"]
    p = tuner.policy
    assert p.cost_sums[19] == 10_000 and p.converged_counts.sum() == 0
    assert p.leader() == (None, pytest.approx(math.nan, nan_ok=True))


def test_guard_none_means_no_fallback():
    A = issue_matrix()
    calls = []

    def counting_sor(*args, **kwargs):
        calls.append(kwargs)
        return solvers.sor(*args, **kwargs)

    tuner = Tuner(bandit.FixedArm(PAPER_GRID, arm=19), solver=counting_sor, guard=None)
    r = tuner.solve(A, np.ones(80))
    assert not r.converged and r.reason == "diverged" and r.arm == 19
    assert len(calls) == 1 and "dtol" not in calls[0]  # the solver's own default (1e12)
    assert r.iterations == solvers.sor(A, np.ones(80), PAPER_GRID[19]).iterations
    assert "explored" not in r.info and "all_arms_failed" not in r.info
    assert tuner.policy.cost_sums[19] == 10_000 and tuner.policy.converged_counts[19] == 0


def test_all_arms_failed_says_so_and_returns_the_smallest_residual():
    A = issue_matrix(coupling=0.0)
    A = sp.csr_array(A - 1.5 * sp.eye(80))  # diagonal -0.5: every SOR sweep diverges
    b = np.ones(80)
    tuner = Tuner(bandit.UniformRandom([1.0, 1.5, 1.9], seed=0), solver="sor", maxiter=300)
    r = tuner.solve(A, b)
    assert not r.converged and r.info["all_arms_failed"]
    assert "every arm failed on this system: 3 of 3 arms" in r.info["failure"]
    runs = r.info["attempts"]
    # guarded runs first (3), then every arm again with the default tolerance (3)
    assert [a["dtol"] for a in runs] == [GUARD_DTOL] * 3 + [None] * 3
    assert r.iterations == sum(a["iterations"] for a in runs)
    every = [solvers.sor(A, b, w, maxiter=300, dtol=d) for w in (1.0, 1.5, 1.9)
             for d in (GUARD_DTOL, 1e12)]
    assert r.residual_norm == min(p.residual_norm for p in every)
    assert rel_res(A, b, r.x) == pytest.approx(r.relative_residual, rel=1e-10)


class Scripted:
    """Stand-in solver: ``plan[ω] = (iterations to converge from x0 = None, transient growth,
    warm)``; the residual grows by ``growth`` in the first iteration, so a run with
    ``dtol < growth`` stops there as diverged; ``None`` iterations means it never converges
    (maxiter); from a warm x0 it needs ``warm`` iterations (default: as from None)."""

    def __init__(self, plan):
        self.plan, self.calls = plan, []

    def __call__(self, A, b, omega=None, *, x0=None, rtol, atol, maxiter, backend,
                 dtol=1e12):
        need, growth, warm = self.plan[omega]
        if x0 is not None and warm is not None:
            need = warm
        self.calls.append((omega, maxiter, x0 is not None, dtol))
        if growth > dtol:
            its, reason = 1, "diverged"
        elif need is not None and need <= maxiter:
            its, reason = need, "converged"
        else:
            its, reason = maxiter, "maxiter"
        return SolveResult(x=np.full(3, float(its)), iterations=its,
                           converged=reason == "converged",
                           residual_norm=0.0 if reason == "converged" else growth,
                           omega=omega, solver="scripted", reason=reason, seconds=1e-3 * its,
                           maxiter=maxiter)


def test_last_resort_runs_arms_stopped_by_the_guard_again():
    # ω = 1.2 converges in 40 iterations after its residual grew 1e8-fold (stopped by
    # GUARD_DTOL); 1.0 and 1.5 never converge
    fake = Scripted({1.0: (None, 1.0, None), 1.2: (40, 1e8, None), 1.5: (None, 1.0, None)})
    tuner = Tuner(bandit.FixedArm([1.0, 1.2, 1.5], arm=2), solver=fake, maxiter=100)
    r = tuner.solve(None, None)
    assert r.converged and r.arm == 1 and r.iterations == 100 + 100 + 1 + 40
    assert fake.calls == [(1.5, 100, False, GUARD_DTOL), (1.0, 100, False, GUARD_DTOL),
                          (1.2, 100, False, GUARD_DTOL), (1.2, 100, False, 1e12)]
    assert [a["start"] for a in r.info["attempts"]] == ["x0"] * 4
    assert tuner.history["fallback_arm"].tolist() == [1]


def test_budget_stopped_attempt_warm_starts_the_leader_and_is_retried_if_that_fails():
    # leader 1.0 converges from x0 in 30 but never from the stopped attempt's iterate;
    # 1.5 needs 120 (> budget 3·30) and never converges from a warm start
    fake = Scripted({1.0: (30, 1.0, 10**6), 1.5: (120, 1.0, 10**6)})
    p = bandit.FixedArm([1.0, 1.5], arm=0)
    tuner = Tuner(p, solver=fake, maxiter=1000)
    tuner.solve(None, None)
    p.arm = 1
    r = tuner.solve(None, None)
    assert fake.calls[1:] == [(1.5, 90, False, GUARD_DTOL), (1.0, 1000, True, GUARD_DTOL),
                              (1.0, 1000, False, 1e12)]
    assert r.converged and r.arm == 0 and r.iterations == 90 + 1000 + 30
    assert [a["start"] for a in r.info["attempts"]] == ["x0", "warm", "x0"]
    assert not r.info["explored"]["restarted"]
    # the chosen arm was only stopped by its budget: a lower bound, not a failure
    assert p.cost_sums[1] == 90.0 and p.converged_counts.tolist() == [1, 0]


@pytest.mark.parametrize("round_cost", [False, True])
def test_chosen_arm_converging_in_the_last_resort_is_a_converged_observation(round_cost):
    fake = Scripted({1.0: (None, 1.0, None), 1.5: (25, 1e7, None)})
    p = bandit.FixedArm([1.0, 1.5], arm=1)
    p.report_round_cost = round_cost
    tuner = Tuner(p, solver=fake, maxiter=100)
    r = tuner.solve(None, None)
    assert r.converged and r.arm == 1 and r.iterations == 1 + 100 + 25
    assert tuner.history["fallback_arm"].tolist() == [1]
    assert p.converged_counts.tolist() == [0, 1]
    assert p.cost_sums[1] == (126.0 if round_cost else 25.0)


@pytest.mark.parametrize("name", ["tsallis_inf", "smooth_igw", "tsallis_inf_cb", "uniform"])
def test_diverged_attempt_never_told_cheaper_than_the_converging_fallback(name):
    """Round-cost policies: a quick divergence plus a short fallback must not score below
    the arm that converged (the leader would become an arm that only ever diverged)."""
    fake = Scripted({1.0: (60, 1.0, None), 1.9: (None, 1e9, None)})
    p = make_policy(name, [1.0, 1.9], (0.0, 1.0), 0)
    fed = []
    update = p.update
    p.update = lambda *a: (fed.append(a), update(*a))
    tuner = Tuner(p, solver=fake, maxiter=500)
    for _ in range(30):
        assert tuner.solve(None, None, context=0.5).converged
    told = {0: [], 1: []}
    for arm, cost, _, censored, converged in fed:
        told[arm].append((cost, converged))
    assert told[0] and told[1]
    assert all(c == 60.0 and ok for c, ok in told[0])
    assert all(c >= 500.0 and not ok for c, ok in told[1])  # 1 + 60 iterations of work
    assert tuner.policy.leader(0.5)[0] == 0


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_leader_is_always_an_arm_with_a_converged_observation(name):
    p = make_policy(name, PAPER_GRID[:6], (0.0, 1.0), 0)
    rng = np.random.default_rng(1)
    for t in range(60):
        c = float(rng.uniform(0.0, 1.0))
        k = p.select(c)
        failed = k >= 3  # arms 3–5 only ever fail, and are told a tiny cost
        p.update(k, 1.0 if failed else 50.0 + 10 * k, context=c, censored=failed,
                 converged=not failed)
        lead, cost = p.leader(c)
        if p.converged_counts.sum() == 0 or lead is None:
            # none yet (Tsallis-INF-CB: none in this context's bin)
            assert lead is None and math.isnan(cost)
            assert name == "tsallis_inf_cb" or p.converged_counts.sum() == 0
        else:
            assert lead in (0, 1, 2) and p.converged_counts[lead] > 0
    # and it is the lowest prediction among those arms
    pred = np.where(p.converged_counts > 0, p.predict(0.5), np.nan)
    if not np.isnan(pred).all():
        assert p.leader(0.5)[0] == int(np.nanargmin(pred))
    # the count survives a save and restore
    q = bandit.Policy.from_state_dict(p.state_dict())
    np.testing.assert_array_equal(q.converged_counts, p.converged_counts)


def test_fallback_order_and_conservative_arms():
    p = bandit.FixedArm([1.6, 1.0, 1.3, 1.9, 0.8], arm=3)
    sor = Tuner(p, solver="sor")
    assert sor.conservative_arm == 4 and sor.fallback_order(3, None) == [4, 1, 2, 0, 3]
    ssor = Tuner(bandit.FixedArm([1.6, 1.0, 1.3, 1.9, 0.8]), solver="ssor_pcg")
    assert ssor.conservative_arm == 1 and ssor.fallback_order(0, None) == [1, 4, 2, 0, 3]
    cg = Tuner(bandit.FixedArm([{"omega": 1.5}]), solver="cg")  # plain CG: one ω arm
    assert cg.conservative_arm == 0
    # proven arms (a converged observation) by predicted cost, the leader first, then the
    # conservative arm, then the rest from the most conservative on
    p.update(0, 30.0)
    p.update(2, 20.0)
    p.update(3, 5.0, censored=True, converged=False)
    p.update(1, 40.0)
    assert p.leader() == (2, 20.0)
    assert sor.fallback_order(3, 2) == [2, 0, 1, 4, 3]


def test_failure_cost_in_seconds_is_maxiter_times_the_running_seconds_per_iteration():
    fake = Scripted({1.0: (50, 1.0, None), 1.9: (None, 1e9, None)})
    p = bandit.FixedArm([1.0, 1.9], arm=0)
    tuner = Tuner(p, solver=fake, cost="time", maxiter=400)
    tuner.solve(None, None)
    p.arm = 1
    tuner.solve(None, None)
    per_it = tuner._work[0] / tuner._work[1]
    assert per_it == pytest.approx(1e-3)
    assert p.cost_sums[1] == pytest.approx(400 * per_it)
    assert tuner.history["cost"][1] == pytest.approx(0.4)


def test_petsc_backend_guard_converges_on_the_issue_example():
    pytest.importorskip("petsc4py")
    A = solvers.prepare(issue_matrix())
    tuner = Tuner(bandit.TsallisINF(PAPER_GRID, seed=0), solver="sor", backend="petsc")
    rng = np.random.default_rng(0)
    for _ in range(15):
        b = rng.standard_normal(80)
        r = tuner.solve(A, b)
        assert r.converged and r.backend == "petsc" and rel_res(A.matrix, b, r.x) <= 1e-8
    assert tuner.history["censored"].any()  # some attempts diverged and were rescued


def test_simulate_reports_failures_as_the_tuner_does():
    C = np.array([[30.0, np.inf, 50.0], [35.0, 8.0, 45.0], [np.nan, 9.0, 60.0]])
    p = bandit.FixedArm([1.0, 1.5, 1.9], arm=1)
    assert bandit.simulate(p, C, cap=1000.0).tolist() == [1, 1, 1]
    assert p.cost_sums.tolist() == [0.0, 1000.0 + 8.0 + 9.0, 0.0]
    assert p.converged_counts.tolist() == [0, 2, 0] and p.counts.tolist() == [0, 3, 0]


def test_state_without_converged_counts_loads_with_none():
    """A policy state written before converged observations were counted: no arm is trusted
    until it converges again (the first solves after loading run without a budget)."""
    p = bandit.SmoothIGW(PAPER_GRID, seed=0)
    for k in range(5):
        p.update(k, 40.0 + k)
    state = p.state_dict()
    del state["state"]["converged_counts"]
    q = bandit.Policy.from_state_dict(state)
    assert q.converged_counts.tolist() == [0] * 20
    assert q.leader() == (None, pytest.approx(math.nan, nan_ok=True))
    q.update(2, 30.0)
    assert q.leader()[0] == 2
