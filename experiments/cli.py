"""The ``relaxtune`` command line.

Subcommands: ``learning``, ``contextual`` (SOR on offset-Laplacian sequences), ``heat2d``
(SSOR-PCG over the heat simulation), ``demo`` (heat2d at a size that runs in about two
minutes; the README's first command), ``plot RESULTS`` (redraw from a results folder) and
``bench {kernels,bandit,petsc,learners}`` (dispatch to the benchmark scripts).  Every study writes
``summary.json``, per-round NPZ/CSV and PNG/PDF figures into ``--out`` (default
``results/<study>-<timestamp>``).

Examples
--------
>>> main(["learning", "--T", "20", "--trials", "1", "--learners", "tsallis_inf",
...       "--no-plots", "--quiet", "--out", "/tmp/relaxtune-doctest"])
0
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser", "DEMO"]

#: Defaults of ``relaxtune demo``: the paper's heat2d protocol at nx = 50 (5000 steps on
#: [0, 5]) with the paper's learners, 2 trials; under a minute on 2 cores (36 s measured).
DEMO = {"nx": [50], "steps": 5000, "t_end": 5.0, "trials": 2, "jobs": 2}

BENCHES = {"kernels": "experiments.bench_kernels", "bandit": "experiments.bench_bandit",
           "petsc": "experiments.bench_petsc", "learners": "experiments.bench_learners"}


def _common(p: argparse.ArgumentParser, *, trials: int, jobs: int = 1):
    p.add_argument("--trials", type=int, default=trials, help="independent trials (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="master seed (default %(default)s)")
    p.add_argument("--jobs", type=int, default=jobs,
                   help="worker processes for trials (default %(default)s)")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default results/<study>-<timestamp>)")
    p.add_argument("--json", type=Path, default=None, help="also write summary.json here")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bars or table")


def _heat_options(p: argparse.ArgumentParser, *, nx, steps, t_end, trials, jobs):
    from .costs import GOLDEN_EVALUATIONS

    p.add_argument("--nx", type=int, nargs="+", default=nx,
                   help="intervals per side, one or more sizes (default %(default)s)")
    p.add_argument("--steps", type=int, default=steps, help="time steps (default %(default)s)")
    p.add_argument("--t-end", type=float, default=t_end, help="final time (default %(default)s)")
    p.add_argument("--methods", nargs="+", default=None,
                   help="learners to run (bandit.POLICIES names; default: the paper's "
                        "tsallis_inf tsallis_inf_cb chebcb); grid methods and CG always run")
    p.add_argument("--backend", choices=("numba", "petsc"), default="numba",
                   help="solver backend for every solve (default %(default)s)")
    p.add_argument("--no-direct", action="store_true", help="skip the sparse direct baseline")
    p.add_argument("--no-grid", action="store_true",
                   help="skip the 20-ω cost matrix (large nx): learners, plain CG and direct "
                        "only, no regret")
    p.add_argument("--no-golden", action="store_true",
                   help="skip the instance-optimal baseline's per-step golden-section search "
                        f"over ω ({GOLDEN_EVALUATIONS} more solves per step; the grid minimum "
                        "stays); implied by --no-grid")
    _common(p, trials=trials, jobs=jobs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    ap = argparse.ArgumentParser(prog="relaxtune", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for study, helptext in (("learning", "SOR: fixed ω vs non-contextual learners"),
                            ("contextual", "SOR: contextual learners vs Young's ω*")):
        p = sub.add_parser(study, help=helptext)
        p.add_argument("--variance", choices=("high", "low"), default="high")
        p.add_argument("--T", type=int, default=5000, help="instances (default %(default)s)")
        p.add_argument("--learners", nargs="+", default=None,
                       help="bandit.POLICIES names (default: all of the study's kind)")
        _common(p, trials=10)
    p = sub.add_parser("heat2d", help="SSOR-PCG over the heat simulation")
    _heat_options(p, nx=[50], steps=5000, t_end=5.0, trials=3, jobs=1)
    p = sub.add_parser("demo", help="the main job: heat2d at a moderate size (~2 min)")
    _heat_options(p, **DEMO)
    p = sub.add_parser("plot", help="redraw the figures of a results folder")
    p.add_argument("results", type=Path)
    p.add_argument("--markdown", action="store_true",
                   help="also print the comparison table(s) as Markdown (for docs/)")
    p = sub.add_parser("bench", help="benchmarks: kernels, bandit, petsc or learners")
    p.add_argument("which", choices=sorted(BENCHES))
    p.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    return ap


def main(argv=None) -> int:
    """Entry point of the ``relaxtune`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        return _bench(args.which, args.args)
    if args.command == "plot":
        return _plot(args.results, args.markdown)
    if args.command in ("learning", "contextual"):
        return _offset(args)
    return _heat(args)


def _bench(which: str, argv) -> int:
    try:
        mod = importlib.import_module(BENCHES[which])
    except ImportError as exc:
        print(f"relaxtune bench {which}: cannot import {BENCHES[which]} ({exc})", file=sys.stderr)
        return 2
    return int(mod.main(list(argv)) or 0)


def _finish(args, summary, per_tag: dict, draw_arrays) -> Path:
    from .plots import draw_all
    from .results import default_out, save, write_json

    out = args.out or default_out(summary["study"])
    for tag, arr in per_tag.items():
        save(out, summary, arr, tag=tag)
    if args.json:
        write_json(args.json, summary)
    if not args.no_plots:
        draw_all(summary, draw_arrays, out / "figures")
    if not args.quiet:
        print(f"results written to {out}")
    return Path(out)


def _offset(args) -> int:
    from .offset_study import run_offset_study
    from .results import format_table

    summary, arrays = run_offset_study(args.command, T=args.T, trials=args.trials,
                                       variance=args.variance, seed=args.seed,
                                       learners=args.learners, jobs=args.jobs,
                                       progress=not args.quiet)
    if not args.quiet:
        print(f"\n{args.command}: SOR iterations, T = {args.T}, {args.trials} trials, "
              f"{args.variance} variance")
        print(format_table(summary["methods"], reference=summary["reference"]))
    _finish(args, summary, {"rounds": arrays}, arrays)
    return 0


def _petsc_ranks() -> int:
    """Number of MPI ranks PETSc runs on (1 without mpiexec)."""
    from petsc4py import PETSc

    return PETSc.COMM_WORLD.getSize()


def _heat_mpi(args) -> int:
    """``mpiexec -n N relaxtune heat2d --backend petsc``: the simulation assembled as a
    distributed PETSc Mat (``experiments/heat2d_petsc.py``), one Tuner run per size and learner;
    rank 0 decides and prints a JSON summary line per run."""
    from .heat2d_petsc import main as heat2d_petsc_main
    from .heat_study import PAPER_LEARNERS

    for nx in args.nx:
        for method in args.methods or PAPER_LEARNERS:
            argv = ["--nx", str(nx), "--steps", str(args.steps), "--t-end", str(args.t_end),
                    "--policy", str(method), "--seed", str(args.seed)]
            heat2d_petsc_main(argv)
    return 0


def _heat(args) -> int:
    if args.backend == "petsc" and _petsc_ranks() > 1:
        return _heat_mpi(args)
    from .heat_study import run_heat_study
    from .results import format_table

    t0 = time.perf_counter()
    summary, arrays = run_heat_study(nx=args.nx, steps=args.steps, t_end=args.t_end,
                                     trials=args.trials, methods=args.methods, seed=args.seed,
                                     jobs=args.jobs, backend=args.backend,
                                     direct=not args.no_direct, grid=not args.no_grid,
                                     golden=not args.no_golden,
                                     progress=not args.quiet,
                                     study=args.command)
    if not args.quiet:
        for nx, size in summary["sizes"].items():
            print(f"\nheat2d nx = {nx} (n = {size['n']}), {args.steps} steps, SSOR-PCG "
                  f"iterations and solve seconds ({args.trials} learner trials)")
            print(format_table(size["methods"], baseline="cg", reference=size["reference"]))
    out = _finish(args, summary, {f"rounds_nx{nx}": a for nx, a in arrays.items()}, arrays)
    if not args.quiet:
        print(f"total {time.perf_counter() - t0:.0f} s; figures in {out / 'figures'}")
    return 0


def _plot(results: Path, markdown: bool = False) -> int:
    from .plots import draw_all
    from .results import format_markdown, load

    summary, arrays = load(results, tag="rounds")
    if summary.get("sizes"):
        arrays = {int(nx): load(results, tag=f"rounds_nx{nx}")[1] for nx in summary["sizes"]}
    paths = draw_all(summary, arrays, Path(results) / "figures")
    print(f"{len(paths)} files written to {Path(results) / 'figures'}")
    if markdown:
        for nx, size in (summary.get("sizes") or {"": summary}).items():
            print(f"\n{summary['study']} {'nx = ' + nx if nx else ''}\n")
            print(format_markdown(size["methods"], baseline="cg" if nx else None,
                                  reference=size.get("reference")))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
