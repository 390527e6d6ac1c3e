"""The recommended learners: default_policy, the theory prior, exploration within a factor."""
import json
import math

import numpy as np
import pytest

import bandit
from bandit import DEFAULT_ARMS, JointCB, Policy, Tuner, default_policy, theory_costs
from experiments.problems import DiffusionMC3D
from solvers import gallery
from solvers.spectral import jacobi_spectral_radius, young_omega


def test_theory_costs_sor_minimum_is_the_grid_point_at_or_above_young():
    A = gallery.shifted_laplacian_2d(12, 0.05)
    arms = np.round(np.linspace(1.0, 1.95, 20), 10)
    c = theory_costs(A, arms, "sor")
    w_star = young_omega(jacobi_spectral_radius(A))
    k = int(np.argmin(c))
    assert arms[k] >= w_star - 1e-3 and arms[k] - 0.05 < w_star
    # Gauss–Seidel: log(1e8)/(-log ρ_J²)
    rho = jacobi_spectral_radius(A)
    assert c[0] == pytest.approx(math.log(1e8) / -math.log(rho ** 2), rel=1e-3)
    # SSOR-PCG gets a finite curve too; no theory for plain CG, ω-less arms or non-SPD input
    assert np.all(np.isfinite(theory_costs(A, arms, "ssor_pcg")))
    assert theory_costs(A, arms, "cg") is None
    assert theory_costs(A, [{"pc_type": "ilu"}, 1.2], "sor") is None
    assert theory_costs(gallery.random_diagonally_dominant(30, 0.2, seed=1), arms, "sor") is None


def test_default_policy_per_solver():
    sor, pcg = default_policy("sor", seed=0), default_policy("ssor_pcg", seed=0)
    assert isinstance(sor, JointCB) and sor.prior == "theory" and pcg.prior is None
    assert sor.arms == list(DEFAULT_ARMS) and sor.explore_within == pcg.explore_within
    custom = default_policy(None, [1.1, 1.5], context_dim=2, context_bounds=[(0, 1), (0, 5)])
    assert custom.n_arms == 2 and custom.features.context_bounds == [(0.0, 1.0), (0.0, 5.0)]
    assert default_policy("cg").prior is None


def test_prime_sets_the_curve_and_the_first_draw_plays_its_minimum():
    A = gallery.shifted_laplacian_2d(10, 0.02)
    p = default_policy("sor")
    p.prime(A, "sor")
    curve = p.prior_curve
    assert curve.min() == 0.0 and curve.argmin() == int(np.argmin(theory_costs(A, p.arms, "sor")))
    assert p.select(0.3) == int(curve.argmin())
    # the curve entered the model as differences: the shape is there, the level is not
    p.update(int(curve.argmin()), 40.0, context=0.3)
    pred = np.log(p.predict(0.3))
    far = int(np.argmax(curve))
    assert pred[far] - pred[int(curve.argmin())] > 0.5 * curve[far]
    # once costs were seen, prime is a no-op
    p.prime(gallery.laplacian_2d(4), "sor")
    np.testing.assert_array_equal(p.prior_curve, curve)


def test_prior_is_kept_across_save_and_resume():
    p = default_policy("sor", seed=1)
    p.prime(gallery.shifted_laplacian_2d(8, 0.1), "sor")
    k = p.select(0.1)
    q = Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))
    for pol in (p, q):
        pol.update(k, 30.0, context=0.1)
    assert [p.select(c) for c in (0.0, 0.2, 0.4)] == [q.select(c) for c in (0.0, 0.2, 0.4)]
    np.testing.assert_array_equal(p.prior_curve, q.prior_curve)


def test_explore_within_caps_the_optimism():
    """With explore_within=f the drawn arm is never predicted to cost more than f times the
    predicted best; without, the same model explores further."""
    rng = np.random.default_rng(0)
    arms = list(np.linspace(1.0, 1.95, 12))
    capped = JointCB(arms, explore_within=1.5, beta=3.0)
    free = JointCB(arms, beta=3.0)
    far = 0
    for t in range(150):
        c = float(rng.uniform(0, 1))
        for p in (capped, free):
            k = p.select(c)
            if p is capped and p.t > 0:
                mu = np.log(p.predict(c))
                assert mu[k] - mu.min() <= math.log(1.5) + 1e-9
            if p is free and p.t > 0:
                mu = np.log(p.predict(c))
                far += mu[k] - mu.min() > math.log(1.5)
            p.update(k, 20.0 * (1 + 30 * (arms[k] - 1.6 - 0.2 * c) ** 2), context=c)
    assert far > 0
    with pytest.raises(ValueError, match="explore_within"):
        JointCB(arms, explore_within=1.0)


def test_explore_radius_keeps_exploration_next_to_the_predicted_best():
    """With explore_radius=r the drawn arm lies within r grid steps of the model's predicted
    best; the same model without the radius draws far arms; unordered arms ignore it."""
    rng = np.random.default_rng(1)
    arms = list(np.linspace(1.0, 1.95, 12))
    step = arms[1] - arms[0]
    near = JointCB(arms, explore_radius=1, beta=3.0)
    free = JointCB(arms, beta=3.0)
    far = 0
    for t in range(150):
        c = float(rng.uniform(0, 1))
        for p in (near, free):
            k = p.select(c)
            if p.t > 0:
                best = int(np.argmin(p.predict(c)))
                if p is near:
                    assert abs(arms[k] - arms[best]) <= step * (1 + 1e-9)
                else:
                    far += abs(arms[k] - arms[best]) > 1.5 * step
            p.update(k, 20.0 * (1 + 30 * (arms[k] - 1.6 - 0.2 * c) ** 2), context=c)
    assert far > 0
    # a radius of 2 steps allows the second neighbours, not the third
    two = JointCB(arms, explore_radius=2)
    assert [len(n) for n in two._near][:4] == [3, 4, 5, 5]
    # arms without an ω have no order: no restriction
    cfg = [{"pc_type": "ilu"}, {"pc_type": "jacobi"}, {"pc_type": "sor", "pc_sor_omega": 1.2}]
    assert JointCB(cfg, explore_radius=1)._near is None
    for bad in (0, -1.0, math.inf, True, "1"):
        with pytest.raises(ValueError, match="explore_radius"):
            JointCB(arms, explore_radius=bad)
    assert default_policy("sor").explore_radius == default_policy("ssor_pcg").explore_radius == 1


class Spy(JointCB):
    """A JointCB that records what the Tuner shows it."""

    def prime(self, A, solver):
        self.primed = getattr(self, "primed", []) + [(A.shape, solver)]
        super().prime(A, solver)


def test_tuner_without_a_policy_uses_the_default_and_primes_it_once():
    seq = DiffusionMC3D(m=6, samples=12, seed=0)
    tuner = Tuner(solver="sor")
    assert isinstance(tuner.policy, JointCB) and tuner.policy.prior == "theory"
    for A, b, sigma in seq:
        r = tuner.solve(A, b, context=sigma)
        assert r.converged
    first = int(np.argmin(tuner.policy.prior_curve))
    assert tuner.history["arm"][0] == first
    spy = Spy(list(DEFAULT_ARMS), prior="theory")
    t2 = Tuner(spy, solver="ssor_pcg")
    for A, b, _ in seq:
        t2.solve(A, b)  # no context at all
    assert spy.primed == [((216, 216), "ssor_pcg")]
    assert spy.features.context_dim == 0


def test_default_learner_gains_on_a_short_monte_carlo_batch():
    """30 samples of a 3-D random-coefficient problem: the primed default starts near the
    best ω, where the unprimed JointCB first explores the grid."""
    seq = DiffusionMC3D(m=8, samples=30, seed=2)
    default, plain = Tuner(solver="sor"), Tuner(JointCB(list(DEFAULT_ARMS)), solver="sor")
    for A, b, sigma in seq:
        default.solve(A, b, context=sigma)
        plain.solve(A, b, context=sigma)
    assert default.summary()["total_iterations"] < 0.8 * plain.summary()["total_iterations"]


def test_context_free_default_saves_and_resumes():
    A = gallery.shifted_laplacian_2d(8, 0.1)
    costs = np.abs(np.linspace(-1, 1, 20)) * 30 + 20
    p = default_policy("sor", seed=3)
    p.prime(A, "sor")
    for _ in range(15):
        k = p.select()
        p.update(k, float(costs[k]))
    q = Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))
    assert q.features.context_dim == 0 and q.prior_curve is not None
    for pol in (p, q):
        for _ in range(20):
            k = pol.select()
            pol.update(k, float(costs[k]))
    assert p.counts.tolist() == q.counts.tolist()
    with pytest.raises(ValueError, match="without a context"):
        p.select(0.5)


@pytest.mark.parametrize("solver", ["SOR", "gmres", "ssor-pcg"])
def test_default_policy_refuses_an_unknown_solver_name(solver):
    # default_policy("SOR") was the solver-free learner: no theory prior, and no word
    with pytest.raises(ValueError, match=f"unknown solver {solver!r}; known: "):
        default_policy(solver)


def test_default_policy_of_plain_cg_has_one_arm():
    # plain CG takes no ω: the paper's 20-point ω grid would be 20 copies of the same solver
    # (arm counts spread over labels "1" … "1.95", audits spent on identical runs)
    import numpy as np

    from bandit import Tuner
    from solvers import cg, gallery

    assert default_policy("cg").n_arms == 1
    tuner = Tuner(solver="cg")
    A = gallery.laplacian_2d(8)
    b = np.ones(64)
    for _ in range(3):
        r = tuner.solve(A, b)
    assert r.iterations == cg(A, b).iterations
    assert tuner.summary()["regret"]["best_fixed"]["estimate"] == 0.0


def test_explore_radius_counts_steps_in_the_grid_s_sorted_omega():
    """On an uneven grid the radius reaches the nearest ω on either side however far: 1.0 on
    1.0, 1.2, 1.4, 1.5, ... (median step 0.1) has 1.2 as its neighbour.  By distance in
    median steps it had none, and a model that put the best at 1.0 stayed there: on a unimodal
    cost with its minimum at 1.25 the default learner played 1.0 in 199 of 200 rounds."""
    arms = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
    near = JointCB(arms, explore_radius=1)._near
    assert [sorted(arms[j] for j in n) for n in near][:3] == [[1.0, 1.2], [1.0, 1.2, 1.4],
                                                             [1.2, 1.4, 1.5]]
    # an even grid: the same neighbours as by distance in grid steps
    even = list(np.linspace(1.0, 1.95, 20))
    by_rank = JointCB(even, explore_radius=2)._near
    by_step = [np.flatnonzero(np.abs(np.subtract(even, w)) <= 2 * 0.05 * (1 + 1e-6)) for w in even]
    assert all(np.array_equal(a, b) for a, b in zip(by_rank, by_step))

    def cost(w):
        return 30.0 * (1 + 3 * abs(w - 1.25) ** 1.5)

    for seed in range(3):
        p, rng, paid = default_policy("sor", arms, seed=seed), np.random.default_rng(seed), 0.0
        for _ in range(200):
            k = p.select(None)
            paid += cost(arms[k])
            p.update(k, cost(arms[k]) * math.exp(0.05 * rng.standard_normal()))
        assert paid / (200 * cost(1.2)) < 1.1  # was 1.38: ω = 1.0 in 199 of 200 rounds
