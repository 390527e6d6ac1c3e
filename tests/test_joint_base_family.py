"""Configuration arms against a learner over SSOR-PCG's ω alone (an option of JointCB, off by
default; docs/studies/precond_rules.md, *Adaptive time steps*):
``arm_basis="base"``: the family of most arms has the columns a learner over it alone has
(Chebyshev in its ω, the same penalty), every other family an offset from its level.  The
invariant: while no other family is played, the configuration learner's predictions of the
base family, and so its draws, are the ω-only learner's, bit for bit.

Checked against the ω-only learner itself and dense quadratic forms of ``P``."""
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


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="arm_basis"):
        JointCB(GRID, arm_basis="bases")
