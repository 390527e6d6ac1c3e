"""FamilyCB: the family grouping, the reduction to the inner learner, the family choice on
synthetic costs, save/resume mid-run (policy state and tuner file), refused input."""
import json
import math

import numpy as np
import pytest

import bandit
from bandit import ChebCB, FamilyCB, JointCB, Policy, Tuner, arm_families, config_grid
from bandit._tunerfile import check_policy_state

OMEGAS = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
BOUNDS = (0.0, 1.0)


def ssor_cost(w, c):
    """SSOR-PCG-like cost: best ω moves from 1.4 to 1.8 with the context, 50–80 units."""
    return 50.0 + 30.0 * c + 400.0 * (w - 1.4 - 0.4 * c) ** 2


def grid_cost(arm, c):
    """Every other family at least twice the best SSOR-PCG arm (plain CG 3×, AMG 6×)."""
    if arm["method"] == "ssor_pcg":
        return ssor_cost(arm["omega"], c)
    best = 50.0 + 30.0 * c
    return best * {"none": 3.0, "jacobi": 2.0, "ic0": 2.5, "amg": 6.0}[arm["pc"]]


def play(p, T, cost, start=0, censor=None):
    """``T`` rounds of select/update at contexts of a golden-ratio sequence; ``censor(k, c)``
    returns a lower bound to report censored instead of the cost (or None)."""
    arms = []
    for t in range(start, start + T):
        c = (t * 0.618034) % 1.0
        k = p.select(c)
        lb = None if censor is None else censor(k, c)
        if lb is None:
            p.update(k, cost(k, c), context=c)
        else:
            p.update(k, lb, context=c, censored=True)
        arms.append(k)
    return arms


# --- the grouping ------------------------------------------------------------------------------
def test_families_of_the_default_grid():
    grid = config_grid(OMEGAS, ["none", "jacobi", "ic0", "amg"], reuse={"amg": [0, 20]})
    assert arm_families(grid) == [list(range(8)), [8], [9], [10], [11], [12]]
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=0)
    assert p.families == arm_families(grid)
    assert [q is None for q in p.inner_policies] == [False, True, True, True, True, True]
    assert isinstance(p.inner_policies[0], ChebCB)
    assert p.inner_policies[0].arms == grid[:8]


def test_families_follow_the_first_arm_and_ignore_the_sweep_order():
    arms = [{"method": "cg", "pc": "jacobi"}, {"method": "ssor_pcg", "omega": 1.5},
            {"method": "sor", "omega": 1.5}, {"method": "ssor_pcg", "omega": 1.7,
                                               "order": "textbook"},
            {"method": "cg", "pc": "ic0", "reuse": 5}, {"method": "sor", "omega": 1.8},
            {"method": "cg", "pc": "ic0"}, {"method": "cg", "pc": "ssor", "omega": 1.2}]
    # reuse is part of a family (a set-up kept is another cost); cg+ssor is SSOR-PCG
    assert arm_families(arms) == [[0], [1, 3, 7], [2, 5], [4], [6]]
    # float arms are ω of the solver: one family
    assert arm_families(OMEGAS, "sor") == [list(range(8))]
    assert arm_families([1.0, {"omega": 1.2}, {"method": "cg", "pc": "none"}]) == [[0, 1], [2]]


def test_families_of_a_custom_solver_group_by_the_settings_besides_omega():
    arms = [1.0, {"omega": 1.2, "k": 2}, 1.5, {"k": 2, "omega": 1.6}, {"omega": 1.2, "k": 3}]
    assert arm_families(arms, solver=None) == [[0, 2], [1, 3], [4]]


# --- one family: the inner learner itself ------------------------------------------------------
@pytest.mark.parametrize("inner, cls", [("chebcb", ChebCB), ("jointcb", JointCB)])
def test_one_family_makes_the_inner_learners_choices(inner, cls):
    def cost(k, c):
        return ssor_cost(OMEGAS[k], c)

    for seed in (0, 3):
        p = FamilyCB(OMEGAS, context_bounds=BOUNDS, inner=inner, seed=seed)
        q = cls(OMEGAS, context_bounds=BOUNDS, seed=seed)
        assert play(p, 300, cost) == play(q, 300, cost)
        c = 0.37
        np.testing.assert_array_equal(p.predict(c), q.predict(c))
        assert p.leader(c) == q.leader(c)
        assert p.randomised == q.randomised
        assert p.family_model.t == 0  # no family to choose: the model is never fed


def test_a_factory_gets_the_family_arms_and_the_seed():
    seen = []

    def factory(arms, seed):
        seen.append((list(arms), seed))
        return ChebCB(arms, context_bounds=BOUNDS, m=4, seed=seed)

    grid = config_grid([1.2, 1.6], ["jacobi"]) + [{"method": "sor", "omega": w}
                                                  for w in (1.5, 1.8)]
    p = FamilyCB(grid, context_bounds=BOUNDS, inner=factory, seed=11)
    assert [a for a, _ in seen] == [grid[:2], grid[3:]]
    assert seen[0][1] == 11 and seen[1][1] not in (None, 11)  # the first family: the seed
    assert p.inner_policies[1] is None and p.inner_policies[2].features.m == 4


# --- the family choice -------------------------------------------------------------------------
def _grid():
    return config_grid(OMEGAS, ["none", "jacobi", "ic0", "amg"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_dearer_family_stops_being_chosen(seed):
    grid = _grid()
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=seed)

    def cost(k, c):
        return grid_cost(grid[k], c)

    arms = np.array(play(p, 600, cost))
    other = arms >= 8
    # every family tried first, in the order of its first arm (SSOR-PCG, then the grid's)
    assert list(p.family_model.counts > 0) == [True] * 5
    assert arms[0] < 8 and list(arms[1:5]) == [8, 9, 10, 11]
    assert other.sum() <= 12, np.bincount(arms, minlength=12)
    assert not other[300:].any()
    # within SSOR-PCG it learns the ω that moves with the context (1.4 at 0, 1.8 at 1)
    for c in (0.0, 0.5, 1.0):
        k = p.leader(c)[0]
        assert ssor_cost(OMEGAS[k], c) <= 1.1 * ssor_cost(1.4 + 0.4 * c, c)
    # the dearer families' predictions are of their own level
    pred = p.predict(0.5)
    assert pred[11] == pytest.approx(grid_cost(grid[11], 0.5), rel=0.05)


def test_censored_lower_bounds_of_a_dearer_family_stop_it_too():
    """As the Tuner's guard reports them: a rival of another family stopped at 1.5 × the
    leader's cost, an AMG set-up refused at its lower bound."""
    grid = _grid()
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=0)

    def cost(k, c):
        return grid_cost(grid[k], c)

    def censor(k, c):
        if k < 8 or p.leader(c)[0] is None:
            return None
        return 1.5 * (50.0 + 30.0 * c)

    arms = np.array(play(p, 600, cost, censor=censor))
    assert (arms >= 8).sum() <= 15
    assert not (arms[300:] >= 8).any()


def test_the_cheaper_family_wins_where_it_is_cheaper():
    """Jacobi-CG beats every SSOR-PCG ω at small contexts, SSOR-PCG at large ones."""
    grid = config_grid(OMEGAS, ["jacobi"])

    def cost(k, c):
        if k == 8:
            return 40.0 + 80.0 * c
        return ssor_cost(grid[k]["omega"], c)

    p = FamilyCB(grid, context_bounds=BOUNDS, seed=0)
    arms = np.array(play(p, 800, cost))
    late = np.array([(t * 0.618034) % 1.0 for t in range(800)])[400:]
    jac = arms[400:] == 8
    assert jac[late < 0.1].mean() > 0.9 and not jac[late > 0.6].any()


def test_leader_is_a_converged_arm_at_its_predicted_cost():
    grid = _grid()
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=4)
    assert p.leader(0.5) == (None, None) or p.leader(0.5)[0] is None
    rng = np.random.default_rng(0)
    for t in range(200):
        c = float(rng.uniform())
        k = p.select(c)
        p.update(k, grid_cost(grid[k], c), context=c, converged=bool(rng.uniform() < 0.9))
        if t % 17 == 0:
            pred = p.predict(c)
            k_lead, cost = p.leader(c)
            assert p.converged_counts[k_lead] > 0 and cost == pytest.approx(pred[k_lead])
            # the inner learner's own leader within SSOR-PCG, the cheapest family here
            assert k_lead == p.inner_policies[0].leader(c)[0]


def test_a_family_tried_twice_is_not_the_leader_on_an_extrapolation():
    """Two cheap converged costs of plain CG at small contexts, falling: a line through them
    predicts it cheapest at large contexts, where SSOR-PCG is known to be cheaper; the
    leader, which runs to maxiter, stays SSOR-PCG there."""
    grid = config_grid([1.4, 1.6], ["none"])
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=0)
    for c in np.linspace(0.0, 1.0, 21):
        for k in (0, 1):
            p.update(k, ssor_cost(grid[k]["omega"], c), context=float(c))
    p.update(2, 60.0, context=0.0)
    p.update(2, 52.0, context=0.1)
    assert p.predict(1.0)[2] < min(p.predict(1.0)[:2])  # the extrapolation
    assert p.leader(1.0)[0] in (0, 1) and p.leader(0.05)[0] in (0, 1, 2)


def test_p_is_the_inner_distribution_on_the_chosen_family():
    grid = config_grid(OMEGAS, ["jacobi"])
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=0)
    for t in range(40):
        c = (t * 0.618034) % 1.0
        k = p.select(c)
        if k < 8:
            assert p.p.shape == (9,) and p.p[8] == 0.0 and p.p.sum() == pytest.approx(1.0)
            assert p.p[k] > 0
        else:
            assert p.p is None  # a family of one arm, chosen deterministically
        p.update(k, grid_cost(grid[k], c), context=c)


# --- save and resume ---------------------------------------------------------------------------
def test_state_dict_resumes_identically_mid_run():
    grid = _grid()

    def cost(k, c):
        return grid_cost(grid[k], c)

    p = FamilyCB(grid, context_bounds=BOUNDS, seed=5)
    play(p, 120, cost)
    state = json.loads(json.dumps(p.state_dict()))  # strict JSON on the way
    q = Policy.from_state_dict(state)
    assert type(q) is FamilyCB and q.families == p.families
    r = check_policy_state(state)  # what a tuner file's reader does
    assert play(p, 150, cost, start=120) == play(q, 150, cost, start=120) == \
        play(r, 150, cost, start=120)
    np.testing.assert_array_equal(p.predict(0.3), q.predict(0.3))


def test_a_factory_made_learner_saves_as_its_registry_class():
    grid = config_grid(OMEGAS[:4], ["jacobi"])
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=2,
                 inner=lambda arms, seed: JointCB(arms, context_bounds=BOUNDS, m_omega=3,
                                                  seed=seed))
    play(p, 50, lambda k, c: grid_cost(grid[k], c))
    q = Policy.from_state_dict(json.loads(json.dumps(p.state_dict())))
    assert isinstance(q.inner_policies[0], JointCB) and q.inner_policies[0].m_omega == 3
    cost = lambda k, c: grid_cost(grid[k], c)  # noqa: E731
    assert play(p, 50, cost, start=50) == play(q, 50, cost, start=50)


def test_tuner_file_resumes_identically(tmp_path):
    from solvers import gallery

    # no arm with a set-up: a tuner file keeps the policy and the costs per iteration, not
    # which set-ups were built (the guard's budget of a set-up arm may differ after a load)
    grid = config_grid([1.2, 1.5, 1.8], ["none"]) + [{"method": "sor", "omega": 1.5}]
    A0 = gallery.laplacian_2d(12)
    rng = np.random.default_rng(0)
    systems = [(A0 + s * np.eye(144), rng.standard_normal(144), s)
               for s in rng.uniform(0.0, 2.0, 40)]

    def run(tuner, part):
        return [tuner.solve(A, b, context=s).arm for A, b, s in part]

    t1 = Tuner(FamilyCB(grid, context_bounds=(0.0, 2.0), seed=3), cost="work")
    run(t1, systems[:20])
    t1.save(tmp_path / "t.json")
    t2 = Tuner.load(tmp_path / "t.json")
    assert type(t2.policy) is FamilyCB
    assert run(t1, systems[20:]) == run(t2, systems[20:])
    np.testing.assert_array_equal(t1.history["arm"], t2.history["arm"])


def test_a_tuner_with_familycb_converges_and_starts_with_the_first_family():
    from solvers import gallery

    grid = config_grid([1.2, 1.5, 1.8], ["none", "jacobi", "ic0", "amg"])
    t = Tuner(FamilyCB(grid, context_bounds=(0.0, 1.0), seed=0))
    A0 = gallery.laplacian_2d(16)
    res = [t.solve(A0 + c * np.eye(256), np.ones(256), context=c)
           for c in np.linspace(0.0, 1.0, 30)]
    assert all(r.converged for r in res)
    h = t.history
    assert h["arm"][0] in (0, 1, 2) and h["budget"][0] == t.maxiter  # no leader: unguarded


# --- refused input -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"inner": "nope"}, "inner must be a learner name"),
    ({"inner": "familycb"}, "inner must be a learner name"),
    ({"inner": 3}, "inner must be a learner name or a factory"),
    ({"inner": "tsallis_inf"}, "censored"),
    ({"inner_kwargs": [1]}, "inner_kwargs must be a dict"),
    ({"inner_kwargs": {"bogus": 1}}, "inner_kwargs are not valid for ChebCB"),
    ({"inner": lambda arms, seed: ChebCB(arms), "inner_kwargs": {"m": 3}}, "inner_kwargs apply"),
    ({"inner": lambda arms, seed: 3}, "must return a bandit Policy"),
    ({"inner": lambda arms, seed: ChebCB(arms[:1])}, "not over the family's arms"),
    ({"m": 0}, "m must be a positive integer"),
    ({"m": 1.5}, "m must be a positive integer"),
    ({"beta": -1.0}, "beta must be a non-negative number"),
    ({"ridge": 0.0}, "ridge must be a positive number"),
    ({"solver": 3}, "solver must be a solver name or None"),
    ({"seed": "x"}, "seed must be an int"),
])
def test_bad_settings_are_refused_by_name(kwargs, match):
    kwargs = {"context_bounds": BOUNDS, **kwargs}
    with pytest.raises(ValueError, match=match):
        FamilyCB(config_grid([1.2, 1.5], ["jacobi"]), **kwargs)


def test_bad_arms_are_refused_by_name():
    with pytest.raises(ValueError, match=r"arm 1 .*ssor_pcg needs omega"):
        FamilyCB([{"method": "cg", "pc": "jacobi"}, {"method": "ssor_pcg"}])
    with pytest.raises(ValueError, match="arms must be a non-empty"):
        FamilyCB([])
    p = FamilyCB(config_grid([1.2, 1.5], ["jacobi"]), context_bounds=BOUNDS, seed=0)
    with pytest.raises(ValueError, match="FamilyCB is contextual"):
        p.select(None)
    with pytest.raises(ValueError, match="arm index 3 outside"):
        p.update(3, 1.0, context=0.5)
    with pytest.raises(ValueError, match="cost must be >= 0"):
        p.update(0, -1.0, context=0.5)
    assert p.t == 0 and p.family_model.t == 0 and p.inner_policies[0].t == 0


def test_bad_saved_states_are_refused_by_name():
    grid = config_grid([1.2, 1.5], ["jacobi"])
    p = FamilyCB(grid, context_bounds=BOUNDS, seed=0)
    play(p, 10, lambda k, c: grid_cost(grid[k], c))
    good = json.loads(json.dumps(p.state_dict()))

    def broken(edit):
        s = json.loads(json.dumps(good))
        edit(s["state"])
        return s

    cases = [
        (lambda s: s["inner_states"].pop(), "inner_states must be a list of 2"),
        (lambda s: s["inner_states"].reverse(), r"inner_states\[0\] is missing"),
        (lambda s: s["inner_states"].__setitem__(1, s["inner_states"][0]),
         r"inner_states\[1\] must be null"),
        (lambda s: s["inner_states"][0]["state"].__setitem__("t", -1), "'t' must be an integer"),
        (lambda s: s["family_state"].__setitem__("class", "ChebLCB"), "family_state must be a "
         "ChebCB over 2 families"),
    ]
    for edit, match in cases:
        with pytest.raises(ValueError, match=match):
            Policy.from_state_dict(broken(edit))
        with pytest.raises(ValueError, match=match):
            check_policy_state(broken(edit))
    other = FamilyCB(config_grid([1.3, 1.5], ["jacobi"]), context_bounds=BOUNDS, seed=0)
    s = json.loads(json.dumps(good))
    s["state"]["inner_states"][0] = json.loads(json.dumps(other.state_dict()))["state"][
        "inner_states"][0]
    with pytest.raises(ValueError, match=r"inner_states\[0\] is over"):
        Policy.from_state_dict(s)
    assert math.isfinite(Policy.from_state_dict(good).predict(0.5)[0])


def test_context_dim_with_one_pair_of_bounds_reaches_the_inner_learners():
    # one (low, high) pair for a 2-entry context, as ChebCB accepts it: the family model and
    # the inner learner over the ω arms take the same contexts
    arms = bandit.config_grid([1.2, 1.6], ["jacobi", "amg"])
    p = bandit.FamilyCB(arms, context_bounds=(0.0, 1.0), context_dim=2, seed=0)
    for c in ([0.5, 0.5], [0.1, 0.9], [0.9, 0.2]):
        k = p.select(c)
        p.update(k, 10.0 + k, context=c)
    with pytest.raises(ValueError, match="2 entries"):
        p.select(0.5)
