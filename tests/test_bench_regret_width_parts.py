"""``relaxtune bench regret --decompose``: what the best-fixed interval's width is made of
(``experiments.bench_regret.width_parts``), checked against the report's own interval."""
import numpy as np

from bandit import estimate
from experiments import bench_regret
from experiments.costs import OMEGA_GRID
from experiments.problems import OFFSET_CONTEXT_BOUNDS


def synthetic(T=300, seed=0):
    """A cost matrix of the offset study's shape (20 ω, contexts in its bounds): a bowl in
    ω whose bottom moves with the context, costs that grow with it, 10 % noise."""
    rng = np.random.default_rng(seed)
    lo, hi = OFFSET_CONTEXT_BOUNDS
    x = lo + (hi - lo) * rng.random(T)
    u = (x - lo) / (hi - lo)
    best = 1.3 + 0.5 * u
    C = np.round(20.0 * (1.0 + u[:, None]) * (1.0 + 8.0 * (OMEGA_GRID[None] - best[:, None])
                                               ** 2)
                 * np.exp(0.1 * rng.standard_normal((T, OMEGA_GRID.size)))).astype(np.int64)
    return {"C": C, "S": C * 1e-6, "contexts": x, "omegas": OMEGA_GRID}


def test_the_parts_add_up_to_the_reported_interval(tmp_path):
    data = synthetic()
    run = bench_regret.replay("chebcb", "offset_low", data, 0, n_boot=100, decompose=True,
                              compare=True)
    parts = run["parts"]
    exact = run["exact_bf"]
    _, low, high = run["bf"]
    # the half-width is the report's, relative to the exact regret
    assert np.isclose(parts["half_width"], 0.5 * (high - low) / abs(exact))
    shares = np.array([parts["up"], parts["gap"], parts["low"]])
    assert np.isclose(shares.sum(), 1.0)
    assert parts["up"] >= 0 and parts["low"] >= 0
    kinds = ("boot", "floor", "unreached", "certain")
    # the noise floor holds upper ends only: a kind of the top arm's, never the low arm's
    assert parts["top_kind"] in kinds + ("noise",) and parts["low_kind"] in kinds
    assert parts["candidates"] >= 1
    # the trace is handed back (the next estimate is not traced), the compared switch on
    assert estimate.TRACE is None and estimate.NOISE_FLOOR is True
    # the previous estimator on the same run (--compare)
    assert run["bf_prev"] is not None and np.all(np.isfinite(run["bf_prev"]))


def test_the_table_prints(tmp_path, capsys):
    # the cached matrix stands in for the study's (which takes minutes to compute)
    np.savez(tmp_path / "offset_low_0_T300.npz", **synthetic())
    assert bench_regret.main(["--studies", "offset_low", "--policies", "chebcb", "--seeds",
                              "1", "--T", "300", "--decompose",
                              "--compare", "--cache",
                              str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "top arm: boot/floor/unreached/noise/certain" in out
    assert "offset_low" in out.split("top arm: boot/floor/unreached/noise/certain")[1]
