"""How the tuner files of this folder were written: by the code before the tuner file kept
the arms' warm readings, set-up readings, set-up lifetimes and ``timed_work``'s paired prices
(its ``measured`` object held ``rate``, ``all``, ``per_work``, ``fit``, ``setup``,
``solve_floor``, ``served`` and ``latest_solve`` only).  Run from that tree:
``PYTHONPATH=. python tests/data/measured_before/make_measured_before.py OUTDIR``.  One file per cost
(``work``, ``time``, ``timed_work``), each a small configuration tuner (SSOR-PCG, plain CG and
IC(0)-CG kept for 2 rounds) after 8 solves of a 6 × 6 Laplacian whose values change every
other step."""
import pathlib
import sys

import numpy as np


def main(out):
    import bandit
    from solvers import gallery

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grid = bandit.config_grid([1.0, 1.5], ["none", "ic0"], reuse=[0, 2])
    A = gallery.laplacian_2d(6).tocsr()
    b = np.ones(A.shape[0])
    for cost in ("work", "time", "timed_work"):
        tuner = bandit.Tuner(bandit.JointCB(grid, m=3, seed=0), cost=cost)
        for k in range(8):
            M = A * (1.0 + 0.5 * (k // 2))
            tuner.solve(M, b * (1 + 0.1 * k), context=0.1 * (k % 3))
        tuner.save(out / f"{cost}.json")


if __name__ == "__main__":
    main(sys.argv[1])
