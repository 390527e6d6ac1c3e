"""The unseen study: the preconditioner study's machinery (:func:`experiments.precond_study.
run_precond_study`) on the sequences of :mod:`experiments._problems_unseen` and
:mod:`experiments._problems_unseen2`, plus a reading of where the learners' choices differ from
the best configuration of each context bin.  A nonsymmetric sequence (:data:`SOR_SEQUENCES`)
runs the same lockstep over SOR instead (:func:`run_sor_study`: every fixed ω against the
default SOR learner).

Run one sequence at a time, pinned::

    python -m experiments._unseen_study --sequences aniso2d --seeds 3 --out DIR

writes ``DIR/<sequence>/summary.json`` and ``rounds_<name>.npz`` (the study's arrays: per
method and round the CPU seconds, iterations and arm of every step) and prints the table,
the targets and the diagnosis (:func:`diagnose`).  ``--read DIR/<sequence>`` prints the
diagnosis of a saved run again.
"""
from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path

import numpy as np

from ._problems_unseen import UNSEEN

#: The sizes measured (n ≈ 10⁴ each; inclusion3d 3.3·10⁴, fem2d 8.9·10⁴; plgraph 2·10⁴,
#: switch2d 1.6·10⁴, layers3d 3·10⁴; refine2d 24 steps on each of its five grids, n = 2 500
#: … 40 000; rotconv2d 2 401, where SOR takes thousands of sweeps a solve; elast2d 6 384;
#: bratu2d and scaled2d 9 801; biharm2d 3 969, where κ grows like h⁻⁴; const3d 10 648, one
#: matrix; remesh2d and jump2d 10 000).
SIZES = {"aniso2d": 100, "heat3d": 22, "rgg": 10_000, "picard2d": 100, "convdiff2d": 100,
         "inclusion3d": 32, "fem2d": 300, "plgraph": 20_000, "switch2d": 128, "layers3d": 32,
         "refine2d": 24, "rotconv2d": 50, "elast2d": 56, "bratu2d": 100, "scaled2d": 100,
         "biharm2d": 64, "const3d": 22, "remesh2d": 100, "jump2d": 100}

#: The nonsymmetric sequences (their class's ``solver`` is ``"sor"``): run by
#: :func:`run_sor_study`, not by the preconditioner study's CG configurations.
SOR_SEQUENCES = ("convdiff2d", "rotconv2d")

#: A SOR sequence's iteration cap (Gauss–Seidel takes 18 000 sweeps from zero on
#: convdiff2d's first system, more than the study's default 10 000).
SOR_MAXITER = 50_000


def sor_labels(omegas) -> list:
    """The fixed-ω labels of a SOR sequence (``"sor ω=1.05"``)."""
    return [f"sor ω={w:.2f}" for w in omegas]


def run_sor_study(kind, size, *, seeds=3, seed=0, omegas=None, cap=5.0, prune=1.5,
                  rtol=1e-8, maxiter=SOR_MAXITER):
    """The preconditioner study's lockstep on a nonsymmetric sequence (``seq.solver ==
    "sor"``): every fixed ω of the SOR learner's grid (default :data:`bandit.DEFAULT_ARMS`,
    ω = 1 being Gauss–Seidel), each through a Tuner with a FixedArm, against the library's
    default SOR learner (``Tuner(default_policy("sor", omegas), solver="sor")``, its default
    cost), side by side, with the same rounds, caps and pruning as
    :func:`experiments.precond_study.run_precond_study`.

    Returns ``(summary, arrays)`` in that function's layout; the learner is method
    ``learner`` and the fixed ω are the labels :func:`sor_labels`.
    """
    import time

    import bandit
    from .learners import derive_seed
    from .precond_study import _lockstep, _Run, _split, _tuner_method, make_sequence
    from ._precond_scoring import _score_sequence

    omegas = [float(w) for w in (bandit.DEFAULT_ARMS if omegas is None else omegas)]
    labels = sor_labels(omegas)
    seq = make_sequence(kind, size)
    if getattr(seq, "solver", None) != "sor":
        raise ValueError(f"{kind!r} is not a SOR sequence")
    params = dict(study="unseen_sor", sequences=[[kind, int(size)]], seeds=int(seeds),
                  seed=int(seed), learner="default", solver="sor", grid=omegas, labels=labels,
                  omegas=omegas, cap=float(cap), prune=float(prune), rtol=float(rtol),
                  maxiter=int(maxiter), learners=["learner"], lag=0,
                  learner_costs={"learner": "work", "learner_timed": "time",
                                 "learner_work": "work"}, clock="cpu", block=1)
    settings = dict(solver="sor", rtol=rtol, maxiter=maxiter)

    def method(key, sq, r):
        kind_, arg = _split(key)
        if kind_ == "fixed":
            return _tuner_method(lambda: bandit.Tuner(bandit.FixedArm(omegas, arm=arg),
                                                      cost="time", **settings))
        s = derive_seed(seed, r, 101)
        return _tuner_method(lambda: bandit.Tuner(bandit.default_policy(
            "sor", omegas, context_bounds=sq.bounds, seed=s), **settings))

    keys0 = [f"fixed/{k}" for k in range(len(omegas))] + ["learner"]
    tiny = seq.tiny()  # warm-up: no timed call pays a compilation
    _lockstep(tiny, [_Run(k, method(k, tiny, 0), tiny.T) for k in keys0], rtol=rtol)
    done, t0 = {}, time.perf_counter()
    for r in range(seeds):
        keys = keys0
        if r > 0:
            first = done[0]
            best = min(v.total_cpu for k, v in first.items()
                       if _split(k)[0] == "fixed" and not v.capped)
            keys = [k for k in keys0 if k == "learner" or (
                not first[k].capped and first[k].total_cpu <= prune * best)]
        runs = [_Run(k, method(k, seq, r), seq.T, cap if k != "learner" else math.inf)
                for k in keys]
        _lockstep(seq, runs, rtol=rtol, seed=derive_seed(seed, r, 103))
        done[r] = {run.key: run for run in runs}
    entry, arrays = _score_sequence(seq, done, labels, params)
    entry["methods"]["learner"]["label"] = "SOR learner (default_policy(\"sor\"), iterations)"
    summary = {"study": "unseen_sor", "params": params, "methods": entry["methods"],
               "sequences": {seq.name: entry}, "elapsed_seconds": time.perf_counter() - t0}
    return summary, {seq.name: arrays}


def _bins(ctx: np.ndarray, bins: int):
    order = np.argsort(ctx, kind="stable")
    return np.array_split(order, min(bins, ctx.size))


def diagnose(arrays: dict, labels, omegas, bins: int = 4) -> dict:
    """Per context bin (equal counts of steps): the best fixed configuration and its family,
    each fixed family's best seconds, the learners' seconds and their most used arms.

    Seconds are each step's median over the rounds that ran it; a fixed configuration that
    stopped at the cap is left out of the bins it did not finish.

    Returns
    -------
    dict
        ``bins`` (one entry per bin), ``oracle`` (the per-bin best configurations' total and the
        per-step best's, both over the best fixed configuration's), ``best_fixed``.
    """
    from .precond_study import family

    ctx = np.asarray(arrays["contexts"], dtype=float)
    cols = [lab for lab in labels if f"cpu/{lab}" in arrays]
    with warnings.catch_warnings():  # a step a capped configuration never reached: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        S = np.stack([np.nanmedian(arrays[f"cpu/{lab}"], axis=0) for lab in cols], axis=1)
    complete = ~np.isnan(S).any(axis=0)
    totals = np.where(complete, np.nansum(S, axis=0), np.inf)
    best = int(np.argmin(totals))
    learners = {k: np.nanmedian(arrays[f"cpu/{k}"], axis=0)
                for k in ("learner", "learner_compare", "omega_learner") if f"cpu/{k}" in arrays}
    out = []
    per_bin_best = 0.0
    for part in _bins(ctx, bins):
        tot = S[part].sum(axis=0)
        tot[np.isnan(tot)] = np.inf
        k = int(np.argmin(tot))
        per_bin_best += tot[k]
        fam = {}
        for j, lab in enumerate(cols):
            fam[family(lab)] = min(fam.get(family(lab), math.inf), float(tot[j]))
        row = {"context": [float(ctx[part].min()), float(ctx[part].max())], "steps": part.size,
               "best": cols[k], "best_seconds": float(tot[k]),
               "best_fixed_seconds": float(tot[best]), "family_seconds": fam}
        for name, sec in learners.items():
            arms = np.asarray(arrays[f"arms/{name}"])[:, part].ravel()
            arms = arms[np.isfinite(arms)].astype(int)
            names = [labels[a] if name != "omega_learner" else f"ω={omegas[a]:.2f}"
                     for a in arms if a >= 0]
            used, counts = np.unique(names, return_counts=True)
            top = np.argsort(-counts)[:3]
            row[name] = {"seconds": float(np.nansum(sec[part])),
                         "arms": {str(used[i]): round(counts[i] / len(names), 2) for i in top}}
        out.append(row)
    per_step = float(np.nanmin(np.where(complete, S, np.nan), axis=1).sum())
    # what each learner's arms cost when run as fixed configurations at the same steps
    # (the steps' medians), against what the learner's calls took: the rest is its own
    # overhead and its guarded attempts (a censored try and the fall-back after it).  A step
    # whose arm has no fixed seconds there (its fixed run was stopped before it) cannot be
    # priced: such steps are counted (``unpriced_steps``, the mean over the rounds) and the
    # first figure is then a lower bound, the second an upper one
    choices = {}
    at = {lab: j for j, lab in enumerate(cols)}
    for name in learners:
        arms = np.asarray(arrays[f"arms/{name}"])
        secs = np.asarray(arrays[f"cpu/{name}"])
        chosen, taken, unpriced = [], [], []
        for r in range(arms.shape[0]):
            if not np.isfinite(secs[r]).all():
                continue
            idx = [at.get(labels[int(a)] if name != "omega_learner" else
                          f"ssor_pcg ω={omegas[int(a)]:.2f}") if a >= 0 else None
                   for a in arms[r]]
            cost = np.array([S[t, j] if j is not None else np.nan
                             for t, j in enumerate(idx)])
            chosen.append(float(np.nansum(cost)))
            taken.append(float(secs[r].sum()))
            unpriced.append(int(np.isnan(cost).sum()))
        if chosen:
            choices[name] = {"arms_as_fixed_vs_best_fixed": np.mean(chosen) / totals[best],
                             "calls_vs_arms_as_fixed": np.mean(taken) / np.mean(chosen),
                             "unpriced_steps": float(np.mean(unpriced))}
    return {"best_fixed": cols[best], "bins": out, "choices": choices,
            "oracle": {"per_bin_vs_best_fixed": per_bin_best / totals[best],
                       "per_step_vs_best_fixed": per_step / totals[best]}}


def format_diagnosis(d: dict, context_name: str) -> str:
    lines = [f"best fixed: {d['best_fixed']}; oracle / best fixed: per bin "
             f"{d['oracle']['per_bin_vs_best_fixed']:.3f}, per step "
             f"{d['oracle']['per_step_vs_best_fixed']:.3f}"]
    for name, c in d.get("choices", {}).items():
        missing = c.get("unpriced_steps", 0.0)
        lo, hi = ("≥ ", "≤ ") if missing else ("", "")
        lines.append(f"{name}: its arms' fixed-configuration seconds / best fixed "
                     f"{lo}{c['arms_as_fixed_vs_best_fixed']:.3f}; its calls / those "
                     f"{hi}{c['calls_vs_arms_as_fixed']:.3f}" + (
                         f" ({missing:.3g} steps a round on configurations whose fixed run was "
                         "stopped before them: not priced)" if missing else ""))
    for b in d["bins"]:
        fam = ", ".join(f"{k} {v:.3f}" for k, v in sorted(b["family_seconds"].items(),
                                                           key=lambda kv: kv[1]))
        lines.append(f"{context_name} in [{b['context'][0]:.2f}, {b['context'][1]:.2f}] "
                     f"({b['steps']} steps): best {b['best']} {b['best_seconds']:.3f} s, best "
                     f"fixed {b['best_fixed_seconds']:.3f} s; families: {fam}")
        for name in ("learner", "learner_compare", "omega_learner"):
            if name in b:
                arms = ", ".join(f"{k} {v:.0%}" for k, v in b[name]["arms"].items())
                lines.append(f"    {name}: {b[name]['seconds']:.3f} s; arms {arms}")
    return "\n".join(lines)


def diagnosis_markdown(d: dict, context_name: str) -> str:
    """The per-bin diagnosis as a Markdown table (the docs page's)."""
    names = [n for n in ("learner", "learner_compare", "omega_learner") if n in d["bins"][0]]
    head = ([context_name, "steps", "best configuration (s)", "best fixed (s)",
             "best of each family (s)"] + [f"{n} (s): arms" for n in names])
    out = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for b in d["bins"]:
        fam = ", ".join(f"{k} {v:.3f}" for k, v in sorted(b["family_seconds"].items(),
                                                           key=lambda kv: kv[1])
                        if math.isfinite(v))
        row = [f"[{b['context'][0]:.2f}, {b['context'][1]:.2f}]", str(b["steps"]),
               f"{b['best']} ({b['best_seconds']:.3f})", f"{b['best_fixed_seconds']:.3f}", fam]
        for n in names:
            arms = ", ".join(f"{k} {v:.0%}" for k, v in b[n]["arms"].items())
            row.append(f"{b[n]['seconds']:.3f}: {arms}")
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments._unseen_study",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--sequences", nargs="+", choices=sorted(UNSEEN), default=sorted(UNSEEN))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0, help="master seed (one round: --seeds 1 "
                   "--seed S)")
    p.add_argument("--anchors", nargs="*", default=[])
    p.add_argument("--compare", help="another policy run beside the default, as precond's "
                   "--compare (e.g. default@family)")
    p.add_argument("--size", type=int, help="instead of SIZES (a quick check)")
    p.add_argument("--out", type=Path)
    p.add_argument("--read", type=Path, help="a saved DIR/<sequence>: print its diagnosis")
    args = p.parse_args(argv)
    sor = [k for k in args.sequences if k in SOR_SEQUENCES] if not args.read else []
    given = [f"--{name}" for name in ("compare", "anchors") if getattr(args, name)]
    if sor and given:  # run_sor_study takes neither: an option ignored is a trap
        p.error(f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} to the "
                f"preconditioner study's CG configurations; {', '.join(sor)} (nonsymmetric) "
                f"runs every fixed SOR ω against the default SOR learner and takes "
                f"{'neither' if len(given) > 1 else 'none'}: leave {', '.join(sor)} out of "
                f"--sequences ({'they are' if len(sor) > 1 else 'it is'} in them by default) "
                f"or run {'them' if len(sor) > 1 else 'it'} without {' and '.join(given)}")
    from .precond_study import run_precond_study
    from .results import _array_name, save, write_json

    if args.read:
        summary = json.loads((args.read / "summary.json").read_text())
        for name, seq in summary["sequences"].items():
            with np.load(args.read / f"rounds_{name}.npz") as f:
                arrays = {_array_name(k): f[k] for k in f.files}
            _print(seq, arrays, summary["params"])
        return 0
    for kind in args.sequences:
        size = args.size or SIZES[kind]
        if kind in SOR_SEQUENCES:
            summary, arrays = run_sor_study(kind, size, seeds=args.seeds, seed=args.seed)
        else:
            summary, arrays = run_precond_study(
                sequences=[(kind, size)], seeds=args.seeds, seed=args.seed,
                learner="default", anchors=args.anchors, work_learner=False,
                compare=args.compare, progress=False)
        for name, seq in summary["sequences"].items():
            if args.out:
                where = args.out / kind
                save(where, None, arrays[name], tag=f"rounds_{name}")
                write_json(where / "summary.json", summary)
            _print(seq, arrays[name], summary["params"])
        print(f"elapsed {summary['elapsed_seconds']:.0f} s", flush=True)
    return 0


def _print(seq, arrays, params):
    from .precond_study import format_precond_table

    t = seq["targets"]
    print(f"\n{seq['name']} (n = {seq['n']}, {seq['T']} systems, context {seq['context']})")
    print(format_precond_table(seq, markdown=True))
    lrn = t.get("learner", {})
    if params.get("solver") == "sor":
        gs = seq["methods"].get(sor_labels([1.0])[0], {})
        print(f"SOR learner / best fixed {lrn.get('vs_best_fixed')}; per round "
              f"{seq['methods']['learner']['vs_best_fixed']}; Gauss–Seidel (ω = 1) / best "
              f"fixed {_ratio(gs, seq)}")
    else:
        print(f"configuration learner / best fixed {lrn.get('vs_best_fixed')}, / ω-only "
              f"{lrn.get('vs_omega_learner')}; per round "
              f"{seq['methods']['learner']['vs_best_fixed']}")
    if "learner_compare" in t:
        c = t["learner_compare"]
        print(f"{seq['methods']['learner_compare']['label']}: / best fixed "
              f"{c.get('vs_best_fixed')}, / ω-only {c.get('vs_omega_learner')}; per round "
              f"{seq['methods']['learner_compare']['vs_best_fixed']}")
    om = seq["methods"].get("omega_learner")
    if om:
        print(f"ω-only learner / best fixed {om['vs_best_fixed_mean']}; per round "
              f"{om['vs_best_fixed']}")
    print(f"best family changes: {t['best_family_changes']} (gain {t['family_switch_gain']:.3f})")
    d = diagnose(arrays, params["labels"], params["omegas"])
    print(format_diagnosis(d, seq["context"]))
    print(diagnosis_markdown(d, seq["context"]))


def _ratio(method: dict, seq: dict):
    """A fixed method's mean seconds over the best fixed's (``"> r"`` if it was stopped)."""
    if not method:
        return None
    if method.get("lower_bound"):
        return f"> {method['ratio_when_stopped']:.3f} (stopped at step {method['stopped_at']})"
    return round(method["seconds"] / seq["methods"][seq["best_fixed"]]["seconds"], 3)


if __name__ == "__main__":
    raise SystemExit(main())
