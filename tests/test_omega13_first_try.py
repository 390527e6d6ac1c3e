"""JointCB over configuration arms with ``spread_first_tries`` (off by default): the error of
a family's first try enters the noise scale σ̂ in units of its own predictive spread
(``JointCB._first_try``), so the first tries of dear rival families do not widen every width
of the leading family for the rest of the run.
"""
import math

import numpy as np
import pytest

import bandit

OMEGAS = (1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9)
ARMS = bandit.config_grid(OMEGAS, ("none", "jacobi"))  # SSOR-PCG ω, plain CG, Jacobi-CG


def _cost(k, c):
    """SSOR-PCG's cost a smooth curve in ω whose best moves with the context; plain CG and
    Jacobi-CG 30 and 10 times dearer than SSOR-PCG's best."""
    a = ARMS[k]
    if a["method"] == "ssor_pcg":
        return 20.0 * (1.0 + 3.0 * (a["omega"] - 1.5 - 0.2 * c) ** 2) * (1.0 + c)
    return {"none": 600.0, "jacobi": 200.0}[a["pc"]] * (1.0 + c)


def _contexts(n):
    return [float((t * 0.618) % 1.0) for t in range(n)]


def _reference_scale(rounds, p, first_in_spread):
    """σ̂ from dense ridge fits, round by round: the one-step error of each round against the
    batch fit of the rounds before it (``(λΛ + Σ φφᵀ) θ = Σ φ y``), clipped at three
    predictive standard deviations as the learner clips, a family's first try (another
    family played before it) counted as ``r²/(1 + φᵀPφ)`` or whole."""
    pen = np.diag(p._penalty_diag())
    family = bandit.smooth.family_positions(ARMS)[0]
    G, b = pen.copy(), np.zeros(pen.shape[0])
    sq, unit, seen = 0.0, None, set()
    for t, (k, c, cost) in enumerate(rounds):
        phi = p.phi(c, k)
        unit = cost if unit is None else unit
        y = math.log(cost / unit + 0.01)
        P = np.linalg.inv(G)
        theta = P @ b
        h = float(phi @ P @ phi)
        r = y - float(theta @ phi)
        bound = 3.0 * math.sqrt((sq + 0.1) / (t + 1)) * math.sqrt(1.0 + h)
        r = max(-bound, min(bound, r))
        first = int(family[k]) not in seen and bool(seen)
        sq += r * r / (1.0 + h) if (first and first_in_spread) else r * r
        seen.add(int(family[k]))
        G += np.outer(phi, phi)
        b += phi * (float(theta @ phi) + r)
    return math.sqrt((sq + 0.1) / (len(rounds) + 1))


def _learner(one_call):
    p = bandit.JointCB(ARMS, context_bounds=(0.0, 1.0), target="log", arm_basis="omega",
                       explore_radius=1, detect_changes=False)
    p.spread_first_tries = True
    p.one_call = one_call  # the compiled round, or the general path
    return p


@pytest.mark.parametrize("one_call", [True, False])
def test_first_tries_of_rival_families_enter_the_noise_scale_in_units_of_their_spread(one_call):
    p = _learner(one_call)
    rounds = []
    for c in _contexts(60):
        k = p.select(c)
        cost = _cost(k, c)
        p.update(k, cost, context=c)
        rounds.append((k, c, cost))
    families = {bandit.smooth.family_positions(ARMS)[0][k] for k, _, _ in rounds}
    assert len(families) == 3  # both rivals were tried
    spread = _reference_scale(rounds, p, True)
    whole = _reference_scale(rounds, p, False)
    assert p._scale() == pytest.approx(spread, rel=1e-8)
    # counted whole, the two first tries alone would make σ̂ more than twice as large
    assert whole > 2.0 * spread


def test_a_dear_rival_is_not_drawn_again_for_the_noise_its_first_try_made():
    """The learner's choices on a constructed history: plain CG and Jacobi-CG are each tried
    once (a family never played has the widest band) and, 30 and 10 times dearer than the
    best SSOR-PCG ω, never again in 40 rounds; counted whole, their first errors tripled σ̂
    and Jacobi-CG was drawn three more times."""
    p = bandit.default_policy(None, ARMS, seed=0)
    p.spread_first_tries = True
    drawn = []
    for c in _contexts(40):
        k = p.select(c)
        p.update(k, _cost(k, c), context=c)
        drawn.append(k)
    cg, jacobi = len(OMEGAS), len(OMEGAS) + 1
    assert drawn.count(cg) == 1 and drawn.count(jacobi) == 1


def test_the_rule_is_off_by_default():
    assert not bandit.default_policy(None, ARMS, seed=0).spread_first_tries


def test_plain_omega_arms_have_one_family_and_learn_as_before():
    """One family: no round is a rival's first try, the rule never applies (the ω-only
    learner's numbers are unchanged, bit for bit)."""
    runs = []
    for spread in (True, False):
        p = bandit.default_policy("ssor_pcg", list(OMEGAS), seed=0)
        p.spread_first_tries = spread
        for c in _contexts(50):
            k = p.select(c)
            p.update(k, _cost(k, c), context=c)
        runs.append((p.sq_err, p.theta.tobytes(), p.P.tobytes()))
    assert runs[0] == runs[1]
