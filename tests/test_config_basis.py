"""JointCB's arm basis over configuration arms: one block per family of arms that differ only by
ω (a Chebyshev basis in the family's own ω), plain ω arms exactly as before, old states loading
as they were saved."""
import json

import numpy as np
import pytest
from numpy.polynomial import chebyshev as C

import bandit
from bandit import JointCB, Policy, Tuner, config_grid, default_policy
from bandit.smooth import arm_positions, family_positions
from solvers import gallery

# SSOR-PCG on an uneven ω grid, then CG plain / Jacobi / IC(0), then SOR on two ω
ARMS = config_grid([1.0, 1.2, 1.4, 1.5, 1.9], ["none", "jacobi", "ic0"], sor_omegas=[1.3, 1.6])


def test_family_positions_groups_arms_that_differ_only_by_omega():
    fam, pos, plain = family_positions(ARMS)
    assert fam.tolist() == [0, 0, 0, 0, 0, 1, 2, 3, 4, 4]
    # SSOR ω in units of the family's median step (0.15: steps 0.2, 0.2, 0.1, 0.4)
    np.testing.assert_allclose(pos[:5], (np.array([1.0, 1.2, 1.4, 1.5, 1.9]) - 1.0) / 0.2)
    np.testing.assert_allclose(pos[5:], [0, 0, 0, 0, 1])
    assert not plain
    # floats, {"omega": w} and PETSc pc_sor_omega dicts of one solver are plain ω arms
    for arms in ([1.0, 1.3, 1.9], [{"omega": 1.1}, 1.4],
                 [{"pc_type": "sor", "pc_sor_omega": w} for w in (1.2, 1.5)],
                 config_grid([1.0, 1.5], [])):
        fam, pos, plain = family_positions(arms)
        assert plain and fam.tolist() == [0] * len(arms)
        np.testing.assert_array_equal(pos, arm_positions(arms))
    # SOR and SSOR-PCG ω are two families; arms without an ω are one family each
    assert family_positions(config_grid([1.5], [], sor_omegas=[1.5]))[0].tolist() == [0, 1]
    assert family_positions([{"pc_type": "ilu"}, {"pc_type": "ilu"}])[0].tolist() == [0, 1]


def test_family_basis_is_a_shared_column_and_a_chebyshev_block_per_family():
    p = JointCB(ARMS, context_bounds=(0, 1), m=3, arm_basis="family")
    X = p._X
    # shared | SSOR: T_0..T_4, 5 arm levels | CG, Jacobi, IC(0) | SOR: T_0, T_1, 2 arm levels
    assert X.shape == (10, 1 + 10 + 3 + 4)
    np.testing.assert_array_equal(X[:, 0], 1.0)  # shared by every arm
    u = 2 * (np.array([1.0, 1.2, 1.4, 1.5, 1.9]) - 1.0) / 0.9 - 1  # ω of the family → [-1, 1]
    np.testing.assert_allclose(X[:5, 1:6], C.chebvander(u, 4), atol=1e-12)
    np.testing.assert_array_equal(X[:5, 6:11], np.eye(5))  # each ω's own level
    assert not X[5:, 1:11].any() and not X[:5, 11:].any()  # no column crosses families
    np.testing.assert_array_equal(X[5:8, 11:14], np.eye(3))  # CG's families: indicators
    np.testing.assert_allclose(X[8:, 14:16], C.chebvander([-1.0, 1.0], 1))
    np.testing.assert_array_equal(X[8:, 16:], np.eye(2))
    assert not X[:8, 14:].any()
    # penalty: λ (i + 1)² (j + 1)², j the degree within the family (0 for an arm's level),
    # and a family's own dependence on the context (i > 0, not the shared column)
    # FAMILY_CONTEXT_PENALTY times more
    deg = np.array([0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    i = np.arange(3)[:, None]
    want = 0.01 * (i + 1.0) ** 2 * (deg + 1.0) ** 2
    want[1:, 1:] *= JointCB.FAMILY_CONTEXT_PENALTY
    np.testing.assert_allclose(p._penalty_diag(), want.ravel())
    with pytest.raises(ValueError, match="arm_basis"):
        JointCB(ARMS, arm_basis="index")


def test_one_slow_first_reading_per_omega_does_not_condemn_the_family():
    """Every SSOR-PCG ω read once at twice its cost (a cold first solve of each arm), plain CG
    (listed after ω = 1.9) read often at 1.2 times the best ω's cost: the arms' own levels
    keep each once-read ω as uncertain as an arm alone, so the family is tried again and its
    best ω found.  With one level for the whole family (or the index line) the slow readings
    made SSOR-PCG look dearer than CG for good."""
    arms = ARMS[:8]
    wins = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        p = JointCB(arms, explore_radius=1.0, target="auto", arm_basis="family", seed=seed)
        seen, played = set(), []
        for _ in range(200):
            c = float(rng.uniform())
            k = p.select(c)
            cost = _costs(rng, c)[k] * (2.0 if k not in seen else 1.0)
            seen.add(k)
            p.update(k, float(cost), context=c)
            played.append(k)
        wins += np.isin(played[100:], [1, 2, 3]).mean() >= 0.8
    assert wins == 4


def test_families_do_not_share_through_the_list_order():
    """Rounds of plain CG only (listed right after SSOR-PCG ω = 1.9) teach nothing about
    SSOR-PCG's shape in ω: every SSOR ω is predicted alike.  The index line made ω = 1.9,
    CG's neighbour in the list, look like CG and ω = 1.0 unlike it."""
    rng = np.random.default_rng(0)
    cg = 5
    for basis, shared in (("family", True), ("line", False)):
        p = JointCB(ARMS, context_bounds=(0, 1), arm_basis=basis)
        p.update(9, 100.0, context=0.5)  # one round of SOR ω 1.6 sets the unit
        for _ in range(30):
            c = float(rng.uniform())
            p.update(cg, 40.0 * (1 + c), context=c)
        pred = p.predict(0.5)
        assert np.allclose(pred[:5], pred[0], rtol=1e-12) == shared
        if not shared:  # the line: ω 1.9 next to CG, ω 1.0 four places away
            assert abs(pred[4] - pred[cg]) < abs(pred[0] - pred[cg])


def test_radius_keeps_exploration_next_to_the_best_in_its_family():
    p = JointCB(ARMS, explore_radius=1, arm_basis="family")
    near = [set(n.tolist()) for n in p._near]
    others = set(range(5, 10))
    # ω 1.0's neighbour is 1.2 (the next ω of the family, not one median step)
    assert near[0] == {0, 1} | others
    assert near[3] == {2, 3, 4} | others  # ω 1.5: 1.4 and 1.9
    assert near[5] == set(range(10))  # plain CG best: every other family open to the width
    assert near[8] == set(range(8)) | {8, 9}  # SOR 1.3: SOR 1.6 and every other family
    two = JointCB(ARMS, explore_radius=2, arm_basis="family")
    assert set(two._near[0].tolist()) == {0, 1, 2} | others
    # the drawn arm honours it
    rng = np.random.default_rng(1)
    q = JointCB(ARMS, explore_radius=1, beta=3.0, context_bounds=(0, 1), arm_basis="family")
    for _ in range(120):
        c = float(rng.uniform())
        k = q.select(c)
        if q.t:
            assert k in near[int(np.argmin(q.predict(c)))]
        w = bandit.arm_omega(ARMS[k])
        cost = 50 * (1 + 4 * (w - 1.4) ** 2) if k < 5 else 70.0 if k < 8 else 200.0
        q.update(k, float(cost * (1 + c)), context=c)


def _run(p, arms, rng, T=120, context=True):
    for _ in range(T):
        c = float(rng.uniform()) if context else None
        k = p.select(c)
        w = bandit.arm_omega(arms[k]) or 1.8  # an arm without ω: as dear as ω 1.8
        p.update(k, float(30 * (1 + 20 * (w - 1.4 - 0.3 * (c or 0)) ** 2)
                          * np.exp(0.1 * rng.standard_normal())), context=c)
    return p


@pytest.mark.parametrize("arms", [
    list(np.linspace(1.0, 1.95, 20)),
    [1.0, 1.2, 1.25, 1.5, 1.7, 1.9],
    [{"method": "ssor_pcg", "omega": w} for w in (1.0, 1.2, 1.4, 1.6, 1.8)],
    [{"pc_type": "sor", "pc_sor_omega": w} for w in (1.1, 1.4, 1.6, 1.8)],
])
@pytest.mark.parametrize("context", [True, False])
def test_plain_omega_arms_are_learnt_exactly_as_on_one_line(arms, context):
    """Plain ω arms: the family basis is the line in ω, bit for bit (arms, model, state)."""
    fam = JointCB(arms, explore_radius=1.0, target="auto", arm_basis="family", seed=0)
    a = _run(fam, arms, np.random.default_rng(3), context=context)
    cfg = {**a._config(), "arm_basis": "line"}
    b = _run(JointCB(arms, seed=0, **cfg), arms, np.random.default_rng(3), context=context)
    assert a._degree is None
    x = arm_positions(arms)
    np.testing.assert_allclose(a._X, C.chebvander(2 * x / x.max() - 1, min(12, len(arms)) - 1),
                               atol=1e-9)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa["config"].pop("arm_basis") == "family" and sb["config"].pop("arm_basis") == "line"
    assert json.dumps(sa, sort_keys=True) == json.dumps(sb, sort_keys=True)


def _costs(rng, c):
    """SSOR-PCG best at ω 1.4, plain CG (listed after ω 1.9) 1.2 times that, the others dearer."""
    cost = []
    for a in ARMS[:8]:
        if a["method"] == "ssor_pcg":
            cost.append(1 + 4 * (a["omega"] - 1.4) ** 2)
        else:
            cost.append({"none": 1.2, "jacobi": 1.5, "ic0": 1.35}[a["pc"]])
    return 100 * (1 + c) * np.array(cost) * np.exp(0.1 * rng.standard_normal(8))


@pytest.mark.parametrize("context", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_learner_settles_on_the_best_family_and_omega(context, seed):
    arms = ARMS[:8]
    p = JointCB(arms, explore_radius=1.0, target="auto", arm_basis="family", seed=seed)
    rng = np.random.default_rng(seed)
    played = []
    for _ in range(200):
        c = float(rng.uniform()) if context else None
        k = p.select(c)
        p.update(k, float(_costs(rng, c or 0.0)[k]), context=c)
        played.append(k)
    # ω 1.4 or its neighbours in the family (1.2, 1.5)
    assert np.isin(played[100:], [1, 2, 3]).mean() >= 0.8


def test_a_state_saved_before_the_family_basis_loads_as_it_was(tmp_path):
    """A policy or Tuner file from before ``arm_basis`` (no such key in its config) keeps the
    line layout it was learnt with, and continues as the original would have."""
    rng = np.random.default_rng(0)
    old = JointCB(ARMS, context_bounds=(0, 1), explore_radius=1.0, target="auto",
                  arm_basis="line", seed=0)
    _run(old, ARMS, rng, T=40)
    state = old.state_dict()
    del state["config"]["arm_basis"]
    back = Policy.from_state_dict(json.loads(json.dumps(state)))
    assert back.arm_basis == "line" and back.P.shape == old.P.shape
    np.testing.assert_array_equal(back._X, old._X)
    assert [back.select(c) for c in (0.1, 0.5, 0.9)] == [old.select(c) for c in (0.1, 0.5, 0.9)]
    # the same through a Tuner file
    t = Tuner(JointCB(ARMS[:8], explore_radius=1.0, target="auto", arm_basis="family", seed=0),
              maxiter=500)
    A = gallery.laplacian_2d(6)
    for k in range(3):
        t.solve(A * (1 + k), np.ones(36), context=float(k))
    path = tmp_path / "t.json"
    t.save(path)
    payload = json.loads(path.read_text())
    assert payload["policy"]["config"]["arm_basis"] == "family"
    line = JointCB(ARMS[:8], seed=0, **{**t.policy._config(), "arm_basis": "line"})
    payload["policy"]["config"].pop("arm_basis")
    # a file of the old layout: the line model's shape (same rounds' counts, fresh model)
    fresh = line.state_dict()["state"]
    for key in ("P", "theta"):
        payload["policy"]["state"][key] = json.loads(json.dumps(fresh[key]))
    path.write_text(json.dumps(payload))
    loaded = Tuner.load(path)
    assert loaded.policy.arm_basis == "line"
    assert loaded.policy.P.shape == line.P.shape != t.policy.P.shape
    loaded.solve(A, np.ones(36), context=1.0)


def test_the_default_learner_places_each_family_by_its_omega_over_configuration_arms():
    # the index line and the family layout are options: the default learner's layout is
    # the measured one; JointCB's own default stays the line (saved states load as they were)
    assert default_policy(None, ARMS).arm_basis == "omega"
    assert JointCB(ARMS).arm_basis == "line"


def test_the_default_learner_takes_any_layout():
    # default_policy(arm_basis=...) is the default learner with that layout, nothing else
    fam = default_policy(None, ARMS, seed=0, arm_basis="family")
    line = default_policy(None, ARMS, seed=0, arm_basis="line")
    default = default_policy(None, ARMS, seed=0)
    assert fam.arm_basis == "family" and line.arm_basis == "line"
    assert default.arm_basis == bandit.defaults.ARM_BASIS == "omega"
    assert {**fam._config(), "arm_basis": "omega"} == default._config()
    assert {**line._config(), "arm_basis": "omega"} == default._config()
    assert fam._X.shape[1] > line._X.shape[1] == default._X.shape[1]  # a block per family
    with pytest.raises(ValueError, match="arm_basis"):
        default_policy(None, ARMS, arm_basis="index")
    # the preconditioner study's names for it
    from experiments.precond_study import _policy

    assert _policy("default@family", ARMS, 0, (0.0, 1.0)).arm_basis == "family"
    assert _policy("default@line", ARMS, 0, (0.0, 1.0)).arm_basis == "line"
    assert _policy("default@omega", ARMS, 0, (0.0, 1.0)).arm_basis == "omega"
    assert _policy("default", ARMS, 0, (0.0, 1.0))._config() == default_policy(
        None, ARMS, context_bounds=(0.0, 1.0), seed=0)._config()


def test_omega_layout_places_each_family_by_its_omega_on_one_line():
    """``arm_basis="omega"``: the families end to end, one family step apart, a family of
    several ω at its ω (in units of its median step), the line's Chebyshev basis."""
    p = JointCB(ARMS, context_bounds=(0, 1), m=3, arm_basis="omega")
    # SSOR ω 1.0 1.2 1.4 1.5 1.9 (median step 0.2) at 0 1 2 2.5 4.5, CG / Jacobi / IC(0)
    # at 5.5 6.5 7.5, SOR ω 1.3 1.6 (one step) at 8.5 9.5
    x = np.array([0, 1, 2, 2.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5])
    np.testing.assert_allclose(p._X, C.chebvander(2 * x / 9.5 - 1, 9), atol=1e-12)
    np.testing.assert_allclose(p._penalty_diag(),
                               0.01 * np.outer(np.arange(1, 4.0) ** 2,
                                               np.arange(1, 11.0) ** 2).ravel())
    # the same radius as the family layout: within the predicted best's family
    q = JointCB(ARMS, explore_radius=1, arm_basis="omega")
    fam = JointCB(ARMS, explore_radius=1, arm_basis="family")
    np.testing.assert_array_equal(q._near_mask, fam._near_mask)
    assert not JointCB(ARMS, arm_basis="omega")._near_mask.size  # no radius: no mask
    # plain ω arms: the line, bit for bit
    for arms in (list(np.linspace(1.0, 1.95, 20)), [1.0, 1.2, 1.25, 1.5, 1.7, 1.9]):
        a = _run(JointCB(arms, explore_radius=1.0, target="auto", arm_basis="omega", seed=0),
                 arms, np.random.default_rng(3))
        b = _run(JointCB(arms, explore_radius=1.0, target="auto", arm_basis="line", seed=0),
                 arms, np.random.default_rng(3))
        np.testing.assert_array_equal(a.P, b.P)
        np.testing.assert_array_equal(a.theta, b.theta)


def _sweep(policy, omegas, seed, T=300):
    """``policy`` over SSOR-PCG at ``omegas`` (then plain, Jacobi- and IC(0)-CG, dearer) on
    costs unimodal in ω whose best moves from 1.5 to 1.7 with the context; returns the draws
    of ω at the grid's ends (ω ≤ 1.2 or 1.9: three or more ranks from every best) and the
    total over the best ω's total."""
    rng = np.random.default_rng(seed)
    far, total, best = 0, 0.0, 0.0
    for _ in range(T):
        c = float(rng.uniform())
        shape = [1 + 6 * (w - 1.5 - 0.2 * c) ** 2 for w in omegas]
        cost = 40 * (1 + c) * np.array(shape + [2.5, 3.0, 1.8]) * np.exp(
            0.05 * rng.standard_normal(len(omegas) + 3))
        k = policy.select(c)
        policy.update(k, float(cost[k]), context=c)
        total += cost[k]
        best += 40 * (1 + c) * min(shape)
        far += bool(k < len(omegas) and (omegas[k] <= 1.2 or omegas[k] >= 1.9))
    return far, total / best


def test_default_learner_over_configurations_explores_the_far_omega_as_rarely_as_over_omega():
    """Over configuration arms the default learner had every arm on one line by its index:
    SSOR-PCG's 1.0, 1.2, 1.4, 1.5, ... evenly spaced and continued by plain CG, and no
    exploration radius, so the ends of the ω grid, where the widths are largest, drew 4-8 of
    300 draws (23 over these three seeds; 1.06-1.07 × the best ω's total).  Placed by their
    ω with the radius within the family they draw about as often as the ω-only learner over
    the same ω (7 against 10 over the seeds; 1.04-1.05 × the best ω's total), which has no
    other family to try."""
    omegas = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
    arms = config_grid(omegas, ["none", "jacobi", "ic0"])
    far, ratio = zip(*[_sweep(default_policy(None, arms, seed=s), omegas, s) for s in range(3)])
    alone = [_sweep(default_policy("ssor_pcg", omegas, seed=s), omegas, s)[0]
             for s in range(3)]
    assert sum(far) <= sum(alone)
    assert max(ratio) < 1.06


def test_the_default_omega_learners_save_the_layout_they_always_had():
    """Plain ω arms have one model whatever the layout; the default learners over them keep
    ``arm_basis="line"`` in their config, so their files are what they were (and load in a
    version without ``"omega"``)."""
    for solver, arms in (("sor", None), ("ssor_pcg", [1.0, 1.4, 1.8]), (None, [1.1, 1.5])):
        assert default_policy(solver, arms).arm_basis == "line"
    assert default_policy(None, ARMS).arm_basis == "omega"
