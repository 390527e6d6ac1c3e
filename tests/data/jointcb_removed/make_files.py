"""How the tuner files of this folder were written: by the code before JointCB's off settings
were removed (run from that tree: ``PYTHONPATH=. python make_files.py OUTDIR``).  Each
``<option>_on.json`` was saved with one of them switched on; ``config_default.json`` and
``omega_default.json`` by the default learners, every one of them off, and ``expected.json``
holds what those two tuners played and learnt over 15 more solves (P left out)."""
import json
import pathlib
import sys

import numpy as np


def main(out):
    import bandit
    from bandit import Tuner
    from solvers import gallery

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grid = bandit.config_grid([1.0, 1.3, 1.6], ["none", "jacobi"])
    A = gallery.laplacian_2d(6)
    b = np.ones(36)

    def run(t, start, n):
        for k in range(start, start + n):
            t.solve(A, b * (1 + 0.1 * k), context=0.1 * (k % 7))

    def small(**kw):  # a small model (m = 3): the file only has to say the option was on
        return bandit.JointCB(grid, m=3, explore_radius=1, target="auto", try_gate=True, **kw)

    on = {"smear": dict(smear=True),
          "noise_scale_standardised": dict(noise_scale="standardised"),
          "noise_scale_family": dict(noise_scale="family"),
          "family_gap_span": dict(arm_basis="omega", family_gap="span"),
          "lone_arms_offset": dict(arm_basis="omega", lone_arms="offset"),
          "lone_prior_work": dict(arm_basis="omega", lone_prior="work"),
          "lone_prior_range": dict(arm_basis="omega", lone_prior="range"),
          "arm_basis_base": dict(arm_basis="base"),
          "explore_within": dict(explore_within=2.5)}
    for name, kw in on.items():
        t = Tuner(small(**kw), cost="work")
        run(t, 0, 6)
        t.save(out / f"{name}_on.json")
    expected = {}
    for name, make, kw in (
            ("config_default", lambda: bandit.default_policy(None, grid, seed=0),
             dict(cost="work")),
            ("omega_default", lambda: bandit.default_policy("ssor_pcg", [1.0, 1.3, 1.6], seed=0),
             dict(solver="ssor_pcg"))):
        t = Tuner(make(), **kw)
        run(t, 0, 12)
        t.save(out / f"{name}.json")
        run(t, 12, 15)
        p = t.policy
        expected[name] = {"arms": [int(a) for a in t.history["arm"]],
                          "theta": p.theta.tolist(), "sq_err": p.sq_err,
                          "counts": p.counts.tolist()}
    (out / "expected.json").write_text(json.dumps(expected, indent=0))


if __name__ == "__main__":
    main(sys.argv[1])
