"""``JointCB(lone_prior="range")``: a never-played family's first try placed by the regime the
learner reads at the context — how far SSOR-PCG at ω = 1 sits above the best ω of its own
curve (``bandit/_joint_untried.py``, :func:`~bandit._joint_untried.regime_gamma`).

Checked against the relation's two limits by hand, and on a constructed sequence in counted
work where IC(0)-CG wins only at the end of the context range where ω = 1 is the best ω (few
iterations, as many as symmetric Gauss–Seidel-PCG's at less work each) and loses by two at the
other (ω = 1 2.5 × the best ω's iterations, IC(0)-CG 0.7 × ω = 1's): its first try must land
at the end where it wins, and it must be played there.  The fixed interval (the cheap end
``1/√8`` at every context) tries it first at the losing end, where the reading puts it dear
everywhere, in these seeds."""
import math

import numpy as np
import pytest

import bandit
from bandit._joint_untried import GAMMA_STRONG, regime_gamma
from test_joint_untried_family import AMG, ARMS, CG, FAMILY, IC0, W


def test_regime_gamma_is_the_relations_limits_and_their_mixture():
    for kind, strong in (("cg", math.sqrt(8.0)), ("ic0", 1.0 / math.sqrt(8.0))):
        assert GAMMA_STRONG[kind] == strong
        assert regime_gamma(0.0, strong) == 1.0  # ω = 1 the best: the few-iteration end
        assert regime_gamma(-0.3, strong) == 1.0  # (a gap below zero is no gap)
        assert regime_gamma(60.0, strong) == pytest.approx(strong, rel=1e-12)
        # ω = 1 four times the best ω: a quarter of its iterations at γ = 1, the rest at γ_s
        assert regime_gamma(math.log(4.0), strong) == pytest.approx(0.25 + 0.75 * strong)


def _cost(k, x, rng):
    """Counted cost ``(1.3 + iterations) · w``, 5 % noise.  ``x < 0.5``: 60 iterations at
    ω = 1, 24 at the best ω = 1.6; IC(0)-CG 0.7 × ω = 1's (twice the best SSOR-PCG's cost).
    ``x ≥ 0.5``: 4 iterations at ω = 1, the best; IC(0)-CG as many (0.85 × its cost)."""
    if x < 0.5:
        k1, kb, best = 60.0, 24.0, 1.6
        ks = lambda w: kb + (k1 - kb) * ((w - best) / (1.0 - best)) ** 2  # noqa: E731
        its = {CG: math.sqrt(8.0) * k1, IC0: 0.7 * k1}
    else:
        k1 = 4.0
        ks = lambda w: k1 * (1 + 1.5 * (w - 1.0))  # noqa: E731
        its = {CG: 2.0 * k1, IC0: k1}
    noise = math.exp(0.05 * rng.standard_normal())
    if k == AMG:
        return (40.0 + 5.3 * W["amg"]) * noise
    kind = "cg" if k == CG else "ic0" if k == IC0 else "sgs"
    return (1.3 + its.get(k, ks(ARMS[k].get("omega", 1.0)))) * W[kind] * noise


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ic0_is_first_tried_where_it_wins_and_played_there(seed):
    p = bandit.default_policy(None, ARMS, seed=seed, lone_prior="range")
    p.first_pick = False  # the option measured alone
    p.try_gate = True
    p.gate_tries((FAMILY, (1.5, 1.0)))  # a guarded Tuner's allowances (proven, first try)
    rng = np.random.default_rng(seed)
    xs, plays = [], []
    for t in range(120):
        x = (t * 0.618) % 1.0  # the contexts sweep both ends from the start
        k = p.select(x)
        p.update(k, _cost(k, x, rng), x)
        xs.append(x)
        plays.append(k)
    at = np.asarray(xs)[np.asarray(plays) == IC0]
    assert at.size and at[0] >= 0.5  # the first try at the end where it wins
    assert (at >= 0.5).sum() >= 5  # and its own readings keep it there
    assert (at < 0.5).sum() <= 5  # (the gate's tries at the other end stay few)
