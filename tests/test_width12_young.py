"""Young's theory as a per-round predictor of SOR's iterations (experiments.bench_regret):
the rate against dense eigenvalues, the prediction and its calibration against exact
references built from the same law, and the residual analysis on a known matrix."""
from types import SimpleNamespace

import numpy as np
import pytest

from experiments.bench_regret import (covariate_residuals, fit_young, young_prediction,
                                      young_rate)
from solvers import gallery
from solvers.spectral import sor_rate

OMEGAS = np.linspace(1.0, 1.95, 20)


def _dense_sor_radius(A, w):
    A = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
    D = np.diag(np.diag(A))
    L, U = np.tril(A, -1), np.triu(A, 1)
    G = np.linalg.solve(D / w + L, (1.0 / w - 1.0) * D - U)
    return float(np.max(np.abs(np.linalg.eigvals(G))))


@pytest.mark.parametrize("shift", [0.0, 0.3, 1.5])
def test_rate_matches_dense_eigenvalues_of_consistently_ordered_matrices(shift):
    # the 5-point Laplacian in natural order (consistently ordered) plus shift·I: Jacobi
    # radius μ from dense eigenvalues, SOR radius from the dense iteration matrix
    A = gallery.laplacian_2d(5).toarray() + shift * np.eye(25)
    J = np.eye(25) - A / np.diag(A)[:, None]
    mu = float(np.max(np.abs(np.linalg.eigvals(J))))
    for w in (1.0, 1.2, 1.5, 1.7, 1.9):
        want = _dense_sor_radius(A, w)
        # at the kink the iteration matrix has a Jordan block: eigenvalues to √eps only
        assert np.exp(-young_rate(w, mu)) == pytest.approx(want, rel=2e-6)
        assert np.exp(-young_rate(w, mu)) == pytest.approx(float(sor_rate(w, mu)), rel=1e-12)


def _young_matrix(a, b, T=300, seed=0):
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0.5, 0.995, T)
    return a + b / young_rate(OMEGAS[None, :], mu[:, None]), mu


def test_prediction_from_an_identified_play_reproduces_the_round():
    C, mu = _young_matrix(4.0, 17.0)
    T = C.shape[0]
    arm = np.zeros(T, dtype=int)  # ω = 1: Gauss–Seidel's count always fixes μ
    P, ident = young_prediction(OMEGAS, arm, C[:, 0], 4.0, 17.0)
    assert ident.all()
    np.testing.assert_allclose(P, C, rtol=1e-8)


def test_a_play_at_or_above_the_kink_leaves_the_smaller_omegas_open():
    C, mu = _young_matrix(4.0, 17.0, seed=1)
    T = C.shape[0]
    arm = np.full(T, 19)  # ω = 1.95 is above Young's ω* for every μ here
    P, ident = young_prediction(OMEGAS, arm, C[:, 19], 4.0, 17.0)
    assert not ident.any()
    # ω ≥ the played ω: rate ln 1/(ω − 1), whatever μ — known; the others are not
    np.testing.assert_allclose(P[:, 19], C[:, 19], rtol=1e-10)
    assert np.isnan(P[:, :19]).all()
    # above its own ω*, an arm's count is that of the kink: a play of ω = 1.95 with μ below
    # the kink of every smaller ω still fixes nothing about them
    kink = OMEGAS[None, :] >= 2.0 / (1.0 + np.sqrt(1.0 - mu[:, None] ** 2))
    assert kink[:, 19].all()


def test_fit_recovers_the_calibration_from_a_few_entries():
    C, _ = _young_matrix(6.0, 15.0, seed=2)
    T = C.shape[0]
    rng = np.random.default_rng(3)
    arm = rng.integers(0, 12, T)  # small ω: mostly below the kink, μ identified
    rounds = rng.integers(0, T, 40)
    arms = rng.integers(0, 20, 40)
    a, b = fit_young(OMEGAS, arm, C[np.arange(T), arm], rounds, arms, C[rounds, arms])
    assert a == pytest.approx(6.0, abs=1e-3)
    assert b == pytest.approx(15.0, rel=1e-4)


def test_residuals_are_those_of_the_law_and_of_the_oracles():
    # costs that follow Young's law exactly, and μ a function of the context: the Young
    # prediction (calibrated on the audits) and the context oracle are exact; a constant
    # model is not
    T = 2000
    rng = np.random.default_rng(4)
    x = rng.uniform(0.0, 1.0, T)
    mu = 0.6 + 0.39 * x
    C = 3.0 + 16.0 / young_rate(OMEGAS[None, :], mu[:, None])
    arm = rng.integers(0, 10, T)
    aud_r = rng.integers(0, T, 60)
    aud_k = rng.integers(0, 20, 60)
    data = SimpleNamespace(arm=arm, played=C[np.arange(T), arm],
                           audits={"round": aud_r, "arm": aud_k,
                                   "converged": np.ones(60, bool), "row": np.zeros(60, bool)})
    m = np.broadcast_to(C.mean(axis=0), C.shape)
    out = covariate_residuals(C, x, data, m, OMEGAS)
    assert out["young"] < 1e-6
    # μ_t is fixed by the rounds whose played count exceeds the count at its kink (rate
    # ln 1/(ω − 1)) by more than 3 iterations, and by every play of ω = 1
    w_p = OMEGAS[arm]
    kink = 3.0 + 16.0 / -np.log(np.maximum(w_p - 1.0, 1e-300))
    want = np.mean((w_p == 1.0) | (C[np.arange(T), arm] > kink + 3.0))
    assert 0.3 < want < 0.9
    assert out["identified"] == pytest.approx(want)
    assert out["model"] > 0.05
    # 200 quantile bins of a function of the context: better than a constant, not exact
    # (the count rises steeply as μ nears 1, within a bin)
    assert 0.0 < out["context"] < out["model"] / 2
    assert out["covariate"] <= out["context"] + 1e-12
    # with each round's exact Jacobi radius the law is fitted from the observed entries alone
    exact = covariate_residuals(C, x, data, m, OMEGAS, mu=mu)
    assert exact["exact_mu"] < 1e-8
    # the near-best arms (large ω) sit at or above Young's ω* on the rounds of small μ: the
    # share of the constant model's squared error there, checked for ω = 1.95 alone
    assert 0.0 <= exact["saturated"] <= 1.0
    one = covariate_residuals(C, x, data, m, OMEGAS, mu=mu, near=1.0)  # the best arm alone
    j = int(np.argmin(C.sum(axis=0)))
    u = arm != j
    e2 = (C[u, j] - m[u, j]) ** 2
    at_kink = mu[u] <= 2.0 * np.sqrt(OMEGAS[j] - 1.0) / OMEGAS[j]
    assert one["saturated"] == pytest.approx(e2[at_kink].sum() / e2.sum())


def test_bench_prints_the_residual_table(tmp_path, capsys):
    """``--residuals`` adds one row per cell, Young's columns on the SOR study only."""
    from experiments.bench_regret import main

    assert main(["--studies", "offset_low", "heat2d_25", "--policies", "tsallis_inf",
                 "--seeds", "1", "--T", "40", "--cache", str(tmp_path / "c"),
                 "--residuals"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("model / young"):].splitlines()
    offset = next(r for r in table if r.split()[0] == "offset_low").split()
    heat = next(r for r in table if r.split()[0] == "heat2d_25").split()
    assert len(offset) == len(heat) == 12
    assert offset[4].endswith("%") and heat[4] == "-"    # Young: SOR only
    assert all(c.endswith("%") for c in heat[9:11])      # the oracles: every study
