"""JointCB's ``noise_scale="standardised"`` (an option, off by default): each one-step error
enters ``σ̂`` over its predictive spread ``1 + φᵀPφ`` (the standardised recursive residual),
checked against a dense ridge refit, and a constructed history whose first rounds are told
at a clock's busy price (5 ×): counted whole they keep ``σ̂`` — and every width — three to
six times the costs' own noise for the rest of the run; standardised, ``σ̂`` is the noise's.
(On that history the standardised learner settles on ω = 1.4 or 1.5 where 1.6 is best: the
wide bands of the raw count are also what lets the learner leave what the busy rounds
taught it — docs/studies/precond_rules.md, the Monte Carlo sequence's noise scale.)"""
import math

import numpy as np
import pytest

import bandit
from bandit import JointCB

OMEGAS = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]


def _cost(w, c):
    """Iterations-like cost of SSOR-PCG at ω = w and context c in [0, 1]: least at ω = 1.6."""
    return 40.0 * (1.0 + 0.5 * c) * (1.0 + 3.0 * (w - 1.6) ** 2)


def _history(T, seed):
    rng = np.random.default_rng(seed)
    ctx = rng.uniform(0.0, 1.0, T)
    arms = rng.integers(0, len(OMEGAS), T)
    noise = np.exp(rng.normal(0.0, 0.05, T))
    return ctx, arms, noise


def test_standardised_sigma_matches_dense_recursive_residuals():
    """σ̂² · (t + 1) − 0.1 is Σ r_t²/(1 + φ_tᵀP_{t−1}φ_t), r_t clipped at three predictive
    standard deviations — every quantity from a dense ridge refit of the rounds before."""
    T = 40
    ctx, arms, noise = _history(T, 1)
    p = JointCB(OMEGAS, context_bounds=(0, 1), detect_changes=False, noise_scale="standardised")
    p.select(0.5)  # allocates the model: P is the penalty's inverse, before any data
    A0 = np.linalg.inv(p.P.copy())
    rows, ys, total, unit = [], [], 0.0, None
    for t in range(T):
        c, k = float(ctx[t]), int(arms[t])
        cost = _cost(OMEGAS[k], c) * noise[t] * (5.0 if t < 4 else 1.0)
        unit = cost if unit is None else unit
        y = math.log(cost / unit + 0.01)
        phi = p.phi(c, k)
        A = A0 + sum(np.outer(f, f) for f in rows) if rows else A0
        theta = np.linalg.solve(A, sum(f * v for f, v in zip(rows, ys))) if rows else 0 * phi
        w = phi @ np.linalg.solve(A, phi)
        sigma = math.sqrt((total + 0.1) / (t + 1))
        r = y - phi @ theta
        bound = 3.0 * sigma * math.sqrt(1.0 + w)
        r = max(-bound, min(bound, r))
        total += r * r / (1.0 + w)
        rows.append(phi)
        ys.append(phi @ theta + r)  # the target the fit takes (clipped)
        p.select(c)
        p.update(k, cost, context=c)
        assert p.sq_err == pytest.approx(total, rel=1e-7, abs=1e-12)
    assert p._scale() == pytest.approx(math.sqrt((total + 0.1) / (T + 1)), rel=1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_busy_first_rounds_do_not_set_the_noise_scale(seed):
    """The first 8 costs told at 5 × (a clock-priced cost before its price settles), then the
    costs with 5 % noise, the learner choosing: standardised, σ̂ ends within 1.5 × the
    costs' own noise (0.05); counted whole it stays near 3 × it or more."""
    ends = {}
    for scale in ("raw", "standardised"):
        p = JointCB(OMEGAS, context_bounds=(0, 1), explore_radius=1.0, noise_scale=scale)
        r = np.random.default_rng(seed)
        for t in range(300):
            c = float(r.uniform())
            k = p.select(c)
            busy = 5.0 if t < 8 else 1.0
            p.update(k, _cost(OMEGAS[k], c) * busy * math.exp(r.normal(0.0, 0.05)), context=c)
        ends[scale] = p._scale()
    assert ends["standardised"] < 0.075
    assert ends["raw"] > 0.14


def test_option_checked_saved_and_defaulted():
    with pytest.raises(ValueError, match="noise_scale"):
        JointCB(OMEGAS, noise_scale="robust")
    p = JointCB(OMEGAS, noise_scale="standardised")
    assert p._config()["noise_scale"] == "standardised"
    assert JointCB._saved_config({"arm_basis": "line"})["noise_scale"] == "raw"
    assert bandit.default_policy("ssor_pcg").noise_scale == "raw"
    grid = bandit.config_grid()
    assert bandit.default_policy(None, grid).noise_scale == bandit.defaults.NOISE_SCALE
    assert bandit.default_policy(None, grid, noise_scale="standardised").noise_scale == (
        "standardised")


def test_state_keeps_the_noise_scale():
    """A learner saved with the option reads back with it and goes on as the original."""
    p = JointCB(OMEGAS, context_bounds=(0, 1), noise_scale="standardised")
    for i in range(30):
        c = (i * 0.37) % 1.0
        k = p.select(c)
        p.update(k, _cost(OMEGAS[k], c) * (5.0 if i < 4 else 1.0), context=c)
    q = JointCB.from_state_dict(p.state_dict())
    assert q.noise_scale == "standardised" and q.sq_err == p.sq_err
    for i in range(10):
        c = (i * 0.61) % 1.0
        k = p.select(c)
        assert q.select(c) == k
        p.update(k, _cost(OMEGAS[k], c), context=c)
        q.update(k, _cost(OMEGAS[k], c), context=c)
    assert q.sq_err == p.sq_err
