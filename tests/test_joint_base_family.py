"""Configuration arms against a learner over SSOR-PCG's ω alone (options of JointCB, off by
default; docs/studies/precond_rules.md, *Adaptive time steps*):

* ``arm_basis="base"``: the family of most arms has the columns a learner over it alone has
  (Chebyshev in its ω, the same penalty), every other family an offset from its level.  The
  invariant: while no other family is played, the configuration learner's predictions of the
  base family, and so its draws, are the ω-only learner's, bit for bit.
* ``noise_scale="family"``: each family's squared errors kept apart as well; the leader's
  family is explored at its own noise scale, every other family at the common one; over plain
  ω arms the same as ``"raw"``, bit for bit.

Checked against the ω-only learner itself, dense quadratic forms of ``P`` and sums of the
errors fed to the fit."""
import json
import math

import numpy as np
import pytest

import bandit
from bandit import JointCB
from bandit._tunerfile_policy import check_policy_state
from bandit.smooth import family_positions

OMEGAS = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
GRID = bandit.config_grid(OMEGAS, ["none", "jacobi", "ic0", "amg"],
                          reuse={"ic0": (0,), "amg": (0, 20)})
BOUNDS = (-2.0, 2.0)


def _iterations(w, c, u):
    """SSOR-PCG iterations on a heat step of log10 r = c: few and flat in ω at small steps,
    more and least at a larger ω at large ones (the best ω from 1.2 to 1.8), 5 % noise."""
    best = 1.5 + 0.15 * c
    return (3.0 + 20.0 * 10 ** (0.4 * c)) * (1.0 + 3.0 * (w - best) ** 2) * math.exp(0.05 * u)


def _family():
    return family_positions(GRID)[0]


def _gated(policy, allow):
    policy.gate_tries((_family(), np.array(allow, dtype=float)))
    return policy


@pytest.mark.parametrize("seed", [0, 1])
def test_base_layout_is_the_omega_learner_while_no_rival_is_played(seed):
    """The default learners (``bandit.default_policy``), the configuration one with
    ``arm_basis="base"`` and a gate no rival's try can pay (an allowance of inf), each told
    the cost of its own choice: every draw is the ω-only learner's and the base family's
    means are its means, bit for bit, over 300 rounds (the first, leaderless draw included);
    σ̂ agrees to rounding."""
    rng = np.random.default_rng(seed)
    ctx = rng.uniform(*BOUNDS, 300)
    noise = rng.standard_normal(300)
    cfg = _gated(bandit.default_policy(None, GRID, context_bounds=BOUNDS, arm_basis="base"),
                 [math.inf, math.inf])
    om = bandit.default_policy("ssor_pcg", OMEGAS, context_bounds=BOUNDS)
    for t in range(ctx.size):
        c = float(ctx[t])
        k, j = cfg.select(c), om.select(c)
        assert k == j, f"round {t}: {k} against {j}"
        if t:
            assert np.array_equal(cfg._mu[:len(OMEGAS)], om._mu), t
        cost = _iterations(OMEGAS[k], c, noise[t])
        cfg.update(k, cost, context=c)
        om.update(j, cost, context=c)
    # (the fit's one-step prediction is np.dot's over 130 features against 80, summed in
    # other blocks: σ̂ agrees to rounding, and nothing it decides differs)
    assert cfg.sq_err == pytest.approx(om.sq_err, rel=1e-12)


def test_base_layout_draws_the_base_family_before_a_leader():
    """With no cost seen every prediction is the same; the widest prior is another family's
    (its offset on top of the shared level), but the first draw is the base family's, as the
    ω-only learner's; without the rule it would be plain CG."""
    cfg = bandit.default_policy(None, GRID, context_bounds=BOUNDS, arm_basis="base")
    om = bandit.default_policy("ssor_pcg", OMEGAS, context_bounds=BOUNDS)
    assert cfg.select(0.3) == om.select(0.3)
    # what the scores alone say: a rival of the widest prior
    assert _family()[int(np.argmin(cfg._score))] != 0


def test_base_layout_columns_and_penalty():
    """The base family's block is the ω-only learner's line (same columns, same penalty); every
    arm shares its level; another family's offset touches none of its arms, and its context
    dependence is penalised FAMILY_CONTEXT_PENALTY times more."""
    cfg = JointCB(GRID, context_bounds=BOUNDS, arm_basis="base")
    om = JointCB(OMEGAS, context_bounds=BOUNDS)
    n, mw = len(OMEGAS), om._X.shape[1]
    assert np.array_equal(cfg._X[:n, :mw], om._X)
    assert not cfg._X[:n, mw:].any()
    assert np.all(cfg._X[n:, 0] == 1.0) and not cfg._X[n:, 1:mw].any()
    d = cfg._X.shape[1]
    pen, pen_om = cfg._penalty_diag().reshape(-1, d), om._penalty_diag().reshape(-1, mw)
    assert np.array_equal(pen[:, :mw], pen_om)
    ratio = pen[1:, mw:] / pen[:1, mw:]
    base_ratio = pen_om[1:, :1] / pen_om[:1, :1]
    assert np.allclose(ratio, JointCB.FAMILY_CONTEXT_PENALTY * base_ratio)


def test_family_noise_over_plain_arms_is_raw_bit_for_bit():
    """One family: ``noise_scale="family"`` keeps nothing apart and learns as ``"raw"``."""
    rng = np.random.default_rng(3)
    a = JointCB(OMEGAS, context_bounds=BOUNDS, explore_radius=1.0, noise_scale="raw")
    b = JointCB(OMEGAS, context_bounds=BOUNDS, explore_radius=1.0, noise_scale="family")
    for t in range(150):
        c, u = float(rng.uniform(*BOUNDS)), float(rng.standard_normal())
        k = a.select(c)
        assert b.select(c) == k
        a.update(k, _iterations(OMEGAS[k], c, u), context=c)
        b.update(k, _iterations(OMEGAS[k], c, u), context=c)
    assert np.array_equal(a.theta, b.theta) and a.sq_err == b.sq_err
    assert not b.family_sq_err.any()


def _widths(policy, c):
    """sqrt(φ_kᵀPφ_k) of every arm at context c, from dense products."""
    return np.array([math.sqrt(max(float(f @ policy.P @ f), 0.0))
                     for f in (policy.phi(c, k) for k in range(policy.n_arms))])


@pytest.mark.parametrize("layout", ["omega", "base"])
def test_family_noise_keeps_each_family_apart_and_scores_the_leader_s_family_by_it(layout):
    """SSOR-PCG rounds with 5 % noise, then plain CG tried three times at 6 × SSOR-PCG's cost
    (a first try off by its whole level): each family's row of ``family_sq_err`` holds the
    squared errors its rounds fed (the sum of the common ``sq_err``'s increments), and the
    draw's scores are ``μ_k − β σ_k sqrt(φ_kᵀPφ_k)`` with the leader's (SSOR-PCG's) own
    scale for its arms, the common ``σ̂`` for the rest — the leader's bands no wider than
    without plain CG's rounds."""
    fam = _family()
    cg = int(np.flatnonzero(fam == 1)[0])
    p = _gated(JointCB(GRID, context_bounds=BOUNDS, explore_radius=1.0, arm_basis=layout,
                       noise_scale="family"), [1.5, 1.0])
    rng = np.random.default_rng(4)
    fed = np.zeros(fam.max() + 1)
    rounds = np.zeros(fam.max() + 1)
    for t in range(80):
        c = float(rng.uniform(*BOUNDS))
        k = int(rng.integers(0, len(OMEGAS))) if t not in (30, 50, 70) else cg
        cost = _iterations(OMEGAS[k] if k < len(OMEGAS) else 1.5, c, rng.standard_normal())
        before = p.sq_err
        p.select(c)
        p.update(k, cost * (6.0 if k == cg else 1.0), context=c)
        fed[fam[k]] += p.sq_err - before
        rounds[fam[k]] += 1
    assert np.allclose(p.family_sq_err[0], fed, rtol=1e-12, atol=1e-15)
    assert np.array_equal(p.family_sq_err[1], rounds)
    own = math.sqrt((fed[0] + 0.1) / (rounds[0] + 1))
    common = p._scale()
    assert own < common  # plain CG's errors are in the common scale, not SSOR-PCG's
    c = 0.7
    p.select(c)
    lead = int(np.argmin(np.where(p.converged_counts > 0, p._mu, np.inf)))
    assert fam[lead] == 0
    sig = np.where(fam == 0, own, common)
    ref = p._mu - p.beta * sig * _widths(p, c)
    assert np.allclose(p._score, ref, rtol=1e-9, atol=1e-12)


def test_family_noise_clips_a_round_at_its_family_s_scale():
    """A round's Huber bound is three of its family's own noise scales (the common one while
    the family has no round): a wild SSOR-PCG reading after plain CG's dear rounds is fed as
    three SSOR-PCG standard deviations, not three of the common scale."""
    fam = _family()
    cg = int(np.flatnonzero(fam == 1)[0])
    p = JointCB(GRID, context_bounds=BOUNDS, noise_scale="family", detect_changes=False)
    rng = np.random.default_rng(5)
    for t in range(60):
        c = float(rng.uniform(*BOUNDS))
        k = cg if t % 10 == 5 else int(rng.integers(0, len(OMEGAS)))
        cost = _iterations(OMEGAS[k] if k < len(OMEGAS) else 1.5, c, rng.standard_normal())
        p.select(c)
        p.update(k, cost * (6.0 if k == cg else 1.0), context=c)
    c, k = 0.2, 4
    own = p._family_scale(k, p._scale())
    assert own < p._scale()
    pred, quad = p.theta @ p.phi(c, k), p.phi(c, k) @ p.P @ p.phi(c, k)
    before = p.family_sq_err[0, 0]
    p.select(c)
    p.update(k, 50.0 * p.unit * math.exp(pred), context=c)  # a reading 50 × the prediction
    bound = 3.0 * own * math.sqrt(1.0 + quad)
    assert p.family_sq_err[0, 0] - before == pytest.approx(bound ** 2, rel=1e-9)


def test_family_noise_state_round_trip_and_older_states():
    """The families' sums are part of the saved state (through JSON and the file checks); a
    state saved before the option (no ``family_sq_err``) loads with one noise scale."""
    fam = _family()
    p = _gated(JointCB(GRID, context_bounds=BOUNDS, noise_scale="family"), [1.5, 1.0])
    rng = np.random.default_rng(6)
    for t in range(40):
        c = float(rng.uniform(*BOUNDS))
        k = p.select(c)
        p.update(k, _iterations(OMEGAS[k] if fam[k] == 0 else 1.5, c, 0.0)
                 * (1.0 if fam[k] == 0 else 4.0), context=c)
    state = json.loads(json.dumps(p.state_dict()))
    check_policy_state(state)
    q = bandit.Policy.from_state_dict(state)
    assert q.noise_scale == "family" and np.array_equal(q.family_sq_err, p.family_sq_err)
    q.gate_tries((fam, np.array([1.5, 1.0])))
    for c in (-1.5, 0.0, 1.7):
        assert q.select(c) == p.select(c)
    old = JointCB(GRID, context_bounds=BOUNDS).state_dict()
    del old["state"]["family_sq_err"]
    old = json.loads(json.dumps(old))
    check_policy_state(old)
    r = bandit.Policy.from_state_dict(old)
    assert r.noise_scale == "raw" and not r.family_sq_err.any()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="noise_scale"):
        JointCB(GRID, noise_scale="per-family")
    with pytest.raises(ValueError, match="arm_basis"):
        JointCB(GRID, arm_basis="bases")
