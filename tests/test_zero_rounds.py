"""A system whose start already meets the stopping rule (0 iterations, e.g. a warm start on a
repeated system) is recorded but teaches the learner nothing: every arm would have cost 0
there, so it says nothing about ω.  It is not told to the policy (its draw is undone), not
audited, and the regret counts it as a round on which every arm costs what it paid."""
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from bandit import FixedArm, JointCB, SmoothIGW, Tuner, TsallisINF, config_grid
from experiments import user_files as uf
from solvers import gallery

L = sp.csr_matrix(gallery.laplacian_2d(12))
N = L.shape[0]


def _systems(shifts, seed=0):
    rng = np.random.default_rng(seed)
    return [((L + c * sp.eye(N)).tocsr(), rng.standard_normal(N)) for c in shifts]


def _repeat(systems, at):
    """The sequence with system ``at`` given twice in a row."""
    return systems[:at + 1] + [systems[at]] + systems[at + 1:]


def test_tune_warm_repeated_system_does_not_distort_the_next_one():
    # relaxtune tune --warm: the repeat starts from its own solution (0 iterations); before,
    # the learner was told "this ω cost 0", its prediction and the guard's budget fell, and
    # the next systems' attempts were stopped and finished by a fallback (15 iterations where
    # the attempted ω alone takes 13)
    systems = _systems([0.0, 0.05, 0.1, 0.15, 0.2, 0.25])
    with_rep = uf.run(_repeat(systems, 2), warm=True, audit_budget=None)
    plain = uf.run(systems, warm=True, audit_budget=None)
    h, h0 = with_rep["tuner"].history, plain["tuner"].history
    assert h["iterations"][3] == 0 and h["converged"][3]
    # every other round is the run without the repeat: same arms, same iterations, and
    # every attempt converged at the cost of its ω alone (the exact costs, an independent
    # reference: the solver run with that ω from the same start)
    rest = np.r_[0:3, 4:7]
    np.testing.assert_array_equal(h["arm"][rest], h0["arm"])
    np.testing.assert_array_equal(h["iterations"][rest], h0["iterations"])
    C = with_rep["C"]
    np.testing.assert_array_equal(h["iterations"], C[np.arange(7), h["arm"]])
    assert not h["censored"].any() and (h["fallback_arm"] == -1).all()
    # the learner is exactly the one of the run without the repeat
    assert with_rep["tuner"].policy.t == 6
    assert with_rep["tuner"].policy.state_dict() == plain["tuner"].policy.state_dict()
    # the exact regret is the same: the repeat costs 0 for the run and for every ω
    s, s0 = uf.summarize(with_rep), uf.summarize(plain)
    assert s["exact_regret"] == s0["exact_regret"]
    assert s["systems"] == 7 and s0["systems"] == 6


@pytest.mark.parametrize("make", [
    lambda arms: TsallisINF(arms, seed=3),  # randomised: its generator's draw is undone
    lambda arms: SmoothIGW(arms, seed=3),
    lambda arms: JointCB(arms, seed=3, prior="theory"),  # the prior's first draw
])
def test_learner_and_arms_as_without_the_round(make):
    arms = np.linspace(1.0, 1.9, 10)
    systems = _systems(np.linspace(0.0, 0.3, 8), seed=1)
    runs = []
    for seq, first in ((systems, None), (systems, 0), (systems, 4)):
        t = Tuner(make(arms), solver="sor")
        x = None
        for i, (A, b) in enumerate(seq):
            if i == first:  # a repeat of this system, from its own solution
                r0 = t.solve(A, b)
                r = t.solve(A, b, x0=r0.x)
                assert r.iterations == 0 and r.converged and r.info["already_solved"]
                x = r.x
                continue
            x = t.solve(A, b).x
        runs.append(t)
    base = runs[0]
    for t, at in zip(runs[1:], (0, 4)):
        h = t.history
        assert len(h["arm"]) == 9 and h["iterations"][at + 1] == 0
        keep = np.delete(np.arange(9), at + 1)
        np.testing.assert_array_equal(h["arm"][keep], base.history["arm"])
        np.testing.assert_array_equal(h["iterations"][keep], base.history["iterations"])
        assert t.policy.state_dict() == base.policy.state_dict()
        # recorded: counts and totals include it, the policy was not told
        s = t.summary()
        assert s["rounds"] == 9 and sum(s["arm_counts"].values()) == 9
        assert s["total_iterations"] == int(base.history["iterations"].sum())
        assert t.policy.t == 8 and int(t.policy.counts.sum()) == 8


def test_zero_rounds_are_not_audited_and_cost_no_regret():
    arms = np.linspace(1.0, 1.9, 10)
    systems = _systems(np.linspace(0.0, 0.3, 40), seed=2)
    t = Tuner(SmoothIGW(arms, seed=0), solver="sor", audit_budget=1.0, audit_seed=0)
    zero = []
    for i, (A, b) in enumerate(systems):
        x = t.solve(A, b).x
        if i % 3 == 0:  # the same system again, from its solution
            zero.append(len(t.history["arm"]))
            assert t.solve(A, b, x0=x).iterations == 0
    h, a = t.history, t.audits
    assert len(a["round"]) > 0
    assert not np.isin(a["round"], zero).any()
    assert (h["audit_runs"][zero] == 0).all()
    # the regret of the run is that of the run without its zero rounds (same arms, costs
    # and audits): no audit run would have shown a cost other than 0 there
    rep = t.regret()
    assert rep.rounds == len(h["arm"])
    assert rep.best_fixed.rounds[-1] == rep.rounds
    assert rep.paid == h["iterations"].sum()


def test_regret_is_that_of_the_run_without_the_zero_rounds():
    arms = np.linspace(1.0, 1.9, 10)
    systems = _systems(np.linspace(0.0, 0.3, 30), seed=4)
    tuners = []
    for repeat in (False, True):
        t = Tuner(TsallisINF(arms, seed=5), solver="sor")
        for i, (A, b) in enumerate(systems):
            x = t.solve(A, b).x
            if repeat and i % 4 == 1:
                t.solve(A, b, x0=x)
        tuners.append(t)
    plain, rep = tuners
    zero = rep.history["iterations"] == 0
    assert zero.sum() == 8
    np.testing.assert_array_equal(rep.history["arm"][~zero], plain.history["arm"])
    r0, r1 = plain.regret(), rep.regret()
    for name in ("best_fixed", "instance_optimal"):
        e0, e1 = getattr(r0, name), getattr(r1, name)
        for f in ("estimate", "low", "high"):
            assert getattr(e1, f) == pytest.approx(getattr(e0, f), nan_ok=True)
        # the curves: the same values, at the rounds of the run with them; a run that ends
        # in zero rounds holds the last value to T (the last kept round keeps its point)
        kept = np.flatnonzero(~zero)
        at, curve = kept[e0.rounds - 1] + 1, e0.curve
        assert zero[-1] and at[-1] < len(zero)  # (this run ends in a zero round)
        np.testing.assert_array_equal(e1.rounds, np.append(at, len(zero)))
        np.testing.assert_allclose(e1.curve, np.append(curve, curve[-1]))
    assert (r1.paid, r1.rounds) == (r0.paid, len(zero))


def test_cost_time_zero_round_is_recorded_at_its_seconds_and_costs_no_regret():
    systems = _systems([0.0, 0.1, 0.2], seed=6)
    t = Tuner(FixedArm([1.5], arm=0), solver="sor", cost="time")
    for A, b in systems:
        x = t.solve(A, b).x
        r = t.solve(A, b, x0=x)
        assert r.iterations == 0 and r.seconds > 0
    h = t.history
    assert t.policy.t == 3 and len(h["arm"]) == 6
    assert h["cost"][1] == h["seconds"][1] > 0  # what it cost, though not told
    rep = t.regret()
    # one arm: every cost observed, exact, and the zero rounds cost that arm what they paid
    assert rep.best_fixed.estimate == 0.0 and rep.best_fixed.method.startswith("exact")
    assert rep.paid == pytest.approx(h["seconds"].sum())


def test_every_round_already_solved():
    A, b = _systems([0.1])[0]
    x = solvers.sor(A, b, 1.5, rtol=1e-10).x
    t = Tuner(TsallisINF(np.linspace(1.0, 1.9, 5), seed=0), solver="sor", audit_budget=0.5)
    for _ in range(3):
        assert t.solve(A, b, x0=x).iterations == 0
    t.solve(A, np.zeros(N))  # b = 0: x = 0, 0 iterations, for every arm
    assert t.policy.t == 0 and len(t.history["arm"]) == 4
    rep = t.regret()
    assert rep.rounds == 4 and rep.paid == 0.0
    for e in (rep.best_fixed, rep.instance_optimal):
        assert (e.estimate, e.low, e.high) == (0.0, 0.0, 0.0)
        assert e.rounds[-1] == 4
    assert t.summary()["regret"]["best_fixed"]["estimate"] == 0.0


def test_configuration_arms_zero_round_builds_no_set_up():
    # the preconditioned solver tests the start before it builds a set-up: a round that x0
    # already solves costs no arm its set-up, so it is as uninformative as for ω arms
    arms = config_grid(omegas=[1.2, 1.6], pcs=["jacobi", "ic0"], reuse={"ic0": [3]})
    t = Tuner(SmoothIGW(arms, seed=0))
    A, b = _systems([0.1])[0]
    x = t.solve(A, b).x
    for _ in range(3):
        r = t.solve(A, b, x0=x)
        assert r.iterations == 0 and not r.info.get("setup")
    assert t.policy.t == 1 and len(t.history["arm"]) == 4


def test_save_and_load_after_a_zero_round_continue_identically(tmp_path):
    arms = np.linspace(1.0, 1.9, 10)
    systems = _systems(np.linspace(0.0, 0.3, 10), seed=7)
    a = Tuner(TsallisINF(arms, seed=1), solver="sor", audit_budget=0.2, audit_seed=1)
    for A, b in systems[:5]:
        x = a.solve(A, b).x
        a.solve(A, b, x0=x)
    a.save(tmp_path / "t.json")
    b_ = Tuner.load(tmp_path / "t.json")
    for A, b in systems[5:]:
        assert a.solve(A, b).arm == b_.solve(A, b).arm
    np.testing.assert_array_equal(a.history["iterations"], b_.history["iterations"])
    assert a.regret().best_fixed.estimate == pytest.approx(b_.regret().best_fixed.estimate)


@pytest.mark.parametrize("prior", [None, "theory"])
def test_first_round_already_solved(prior):
    # the very first round: a learner with a prior takes it at its first draw, which is
    # undone with the rest of the draw
    arms = np.linspace(1.0, 1.9, 10)
    systems = _systems(np.linspace(0.0, 0.3, 6), seed=8)
    A, b = systems[0]
    x = solvers.sor(A, b, 1.5, rtol=1e-10).x
    runs = []
    for first in (False, True):
        t = Tuner(JointCB(arms, seed=0, prior=prior), solver="sor")
        if first:
            assert t.solve(A, b, x0=x).iterations == 0
        for A_, b_ in systems:
            t.solve(A_, b_)
        runs.append(t)
    np.testing.assert_array_equal(runs[1].history["arm"][1:], runs[0].history["arm"])
    assert runs[1].policy.state_dict() == runs[0].policy.state_dict()



def test_a_custom_solver_that_counts_no_iterations_is_told_its_seconds():
    # a solver function of the user's that counts no iterations (a direct solve reports 0):
    # with cost="time" its seconds are what the arms cost, so every round is told as before;
    # 0 iterations means "the start already met the rule" only for the library's solvers or
    # a cost in iterations
    import scipy.sparse.linalg as spla

    def direct(A, b, omega=None, *, x0=None, rtol, atol, maxiter, backend):
        res = solvers.cg(A, b, rtol=rtol, atol=atol, maxiter=maxiter)
        x = spla.spsolve(sp.csc_matrix(A), b)
        return res.replace(x=x, iterations=0, seconds=1e-3 * (1 + omega))

    t = Tuner(TsallisINF([1.0, 1.5], seed=0), solver=direct, cost="time", guard=None)
    systems = _systems([0.0, 0.1, 0.2, 0.3], seed=11)
    for A, b in systems:
        assert t.solve(A, b).iterations == 0
    assert t.policy.t == 4
    rep = t.regret()
    assert rep.rounds == 4 and rep.paid == pytest.approx(t.history["seconds"].sum())
    from bandit.report import estimator_data

    assert estimator_data(t).T == 4  # every round read
