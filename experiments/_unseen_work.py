"""The unseen study without a clock: every fixed configuration of the study's grid
(:func:`experiments.precond_study.default_grid`) and the configuration learner
(``bandit.default_policy`` over it), each through a Tuner with ``cost="work"``
(matrix-pass equivalents, deterministic), on one unseen sequence, one method after another
(each along the sequence from its own states).  Every solve is checked on its true residual.

Run, untimed, on the core the timed runs do not use::

    taskset -c 0 python -m experiments._unseen_work --sequences const3d --seeds 3

prints, per method, its total work (every run of a guarded solve included) over the best
fixed configuration's, the solves that did not converge or whose true residual is above the
tolerance, the warnings and exceptions, the guarded solves (a stopped try and its fall-back)
and the set-ups each preconditioner built; ``--out FILE`` writes them and the per-step
records as JSON.
"""
from __future__ import annotations

import argparse
import collections
import json
import warnings
from pathlib import Path

import numpy as np


def label(arm: dict) -> str:
    """``"ssor ω=1.5"``, ``"cg ic0"``, ``"cg amg reuse=20"``."""
    if arm["method"] == "ssor_pcg":
        return f"ssor ω={arm['omega']}"
    return f"cg {arm['pc']}" + (f" reuse={arm['reuse']}" if arm.get("reuse") else "")


def run_method(seq, tuner, rtol: float = 1e-8) -> dict:
    """One method along ``seq`` from its own states: per step its work, arm and iterations,
    and the counts of what happened."""
    state = seq.initial_state()
    counts = collections.Counter()
    works, arms, its, caught = [], [], [], []
    worst = 0.0
    for t in range(seq.T):
        A, b, x0, ctx = seq.system(seq.shared(t), state)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                r = tuner.solve(A, b, x0=x0, context=ctx)
            except Exception as exc:  # recorded, not raised: the study goes on
                caught.append(f"step {t}: {type(exc).__name__}: {exc}")
                counts["exceptions"] += 1
                break
        caught += [f"step {t}: {x.category.__name__}: {x.message}" for x in w]
        bn = np.linalg.norm(b)
        res = np.linalg.norm(b - A @ r.x) / bn if bn > 0 else 0.0
        worst = max(worst, res / rtol)
        counts["unconverged"] += not r.converged
        counts["residual_above_rtol"] += res > 1.01 * rtol
        info = r.info
        if "explored" in info:
            counts["guarded"] += 1
        counts["already_solved"] += bool(info.get("already_solved"))
        counts["reused"] += bool(info.get("reused"))
        for key in ("unattainable", "all_arms_failed", "zero_start"):
            counts[key] += key in info
        counts["skipped tries"] += bool(info.get("explored", {}).get("skipped"))
        if info.get("setup"):
            counts[f"setups {info.get('pc_label')}"] += 1
        works.append(float(info["work"]))
        arms.append(int(r.arm))
        its.append(int(r.iterations))
        state = seq.advance(state, r.x)
    return {"work": float(np.sum(works)), "steps": len(works), "worst_residual_over_rtol": worst,
            "counts": {k: v for k, v in counts.items() if v}, "warnings": caught,
            "works": works, "arms": arms, "iterations": its}


def study(kind: str, size: int, seeds: int = 3) -> dict:
    import bandit
    from ._problems_unseen import make_unseen
    from .precond_study import default_grid

    seq = make_unseen(kind, size)
    grid = default_grid()
    labels = [label(a) for a in grid]
    methods = {}
    for k, lab in enumerate(labels):
        methods[lab] = run_method(seq, bandit.Tuner(bandit.FixedArm(grid, arm=k), cost="work"))
    for s in range(seeds):
        methods[f"learner seed {s}"] = run_method(seq, bandit.Tuner(bandit.default_policy(
            None, grid, context_bounds=seq.bounds, seed=s), cost="work"))
    return {"sequence": seq.name, "n": seq.n, "T": seq.T, "labels": labels,
            "methods": methods}


def report(out: dict) -> str:
    labels = out["labels"]
    m = out["methods"]
    best = min(labels, key=lambda k: m[k]["work"] if m[k]["steps"] == out["T"] else np.inf)
    lines = [f"{out['sequence']} (n = {out['n']}, {out['T']} systems): best fixed {best} "
             f"({m[best]['work']:.0f})"]
    for name, r in m.items():
        tail = collections.Counter(labels[a] for a in r["arms"][-(len(r["arms"]) // 4):])
        lines.append(f"  {name}: {r['work'] / m[best]['work']:.3f}  {r['counts']}  worst "
                     f"residual/rtol {r['worst_residual_over_rtol']:.4f}  warnings "
                     f"{len(r['warnings'])}" + (f"  last quarter {dict(tail.most_common(2))}"
                                                if name.startswith("learner") else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    from ._problems_unseen import UNSEEN
    from ._unseen_study import SIZES

    p = argparse.ArgumentParser(prog="python -m experiments._unseen_work",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--sequences", nargs="+", choices=sorted(UNSEEN), required=True)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--size", type=int, help="instead of the study's size (a quick check)")
    p.add_argument("--out", type=Path, help="a JSON file (one key per sequence)")
    args = p.parse_args(argv)
    done = {}
    for kind in args.sequences:
        done[kind] = study(kind, args.size or SIZES[kind], args.seeds)
        print(report(done[kind]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
