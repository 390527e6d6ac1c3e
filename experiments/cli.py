"""The ``relaxtune`` command line.

Subcommands: ``learning``, ``contextual`` (SOR on offset-Laplacian sequences), ``heat2d``
(SSOR-PCG over the heat simulation), ``demo`` (heat2d at a size that runs in about a minute
on 2 idle cores, more on busy ones; the README's first command), ``plot PATH`` (redraw
from a results folder, or draw a saved tuner file's run), ``precond`` (which solver
configuration: fixed configurations, learners over configurations and hand-picked anchors,
timed) and ``bench {kernels,bandit,petsc,pcg,regret,tuner,overhead,learners,percall,
refit}``
(dispatch to the benchmark scripts).  Every study writes ``summary.json``, per-round NPZ/CSV and PNG/PDF figures into ``--out`` (default
``results/<study>-<timestamp>``), saving each finished trial as it goes.  ``heat2d`` and
``demo`` with ``--backend petsc`` also run under ``mpiexec -n N``: the same study, options and
results, every rank taking part in every solve and rank 0 writing the folder and the table.

Errors: every argument is checked, and the results folder created and tried for writing,
before any computation.  An error is one line on standard error, ``relaxtune: error: ...``
(``--debug`` also prints the traceback).  Exit status: 0 done, 1 the computation failed,
2 bad input or usage, 3 ``tune`` finished but left systems unsolved (not converged), 130
interrupted (Ctrl-C), 143 terminated (SIGTERM).  A study that fails or is
stopped keeps the trials it finished in its results folder (``relaxtune plot`` reads it) and
says where.

This module holds the parser and the entry point; the subcommands' code is in
:mod:`experiments.cli_studies` (the studies), :mod:`experiments.cli_tune`,
:mod:`experiments.cli_plot` and :mod:`experiments.cli_bench`, what they share in
:mod:`experiments.cli_common` (errors, exit statuses, standard streams, signals),
:mod:`experiments.cli_options` (argument types and option groups) and
:mod:`experiments.cli_folders` (the results folder).

Examples
--------
>>> import tempfile
>>> out = tempfile.mkdtemp()
>>> main(["learning", "--T", "20", "--trials", "1", "--learners", "tsallis_inf",
...       "--no-plots", "--quiet", "--out", out])
0
>>> main(["learning", "--T", "0"])     # prints "relaxtune: error: argument --T: ..." on stderr
2
"""
from __future__ import annotations

import argparse
import sys

from .cli_bench import BENCHES, _bench
from .cli_common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_TERMINATED,
                         EXIT_UNSOLVED, EXIT_USAGE, OneLineParser, Terminated, UsageError,
                         _closed_streams,
                         _env_size, _ONE_PROCESS, _output_closed, _plain_text_streams,
                         _SigtermAsInterrupt, _summary_on_stdout, _trace, describe,
                         print_error, ranks_meet)
from .cli_options import (_common, _count, _debug_flag, _double, _heat_options, _learner, _omega,
                          _path, _precond_options, _seed, _output_options)
from .cli_plot import plot
from .cli_studies import _study
from .cli_tune import _tune


__all__ = ["main", "build_parser", "DEMO", "UsageError", "OneLineParser", "print_error",
           "describe", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_TERMINATED",
           "EXIT_PIPE", "EXIT_UNSOLVED"]


#: Defaults of ``relaxtune demo``: the paper's heat2d protocol at nx = 50 (5000 steps on
#: [0, 5]) with the paper's learners, 2 trials, and the sparse direct baseline timed on every
#: 50th step (100 steps, scaled up: within 1 % of timing all 5000, which took 40 % of the
#: run's CPU time).  On an Intel Xeon (family 6 model 207) the tasks take about 70 s of CPU
#: time, the longest (the 20-ω cost matrix) 50 s, so about a minute on 2 idle cores; measured
#: with the 2 cores shared (load ≈ 4): 99 s, and 128 s on a first run (kernels compiling).
DEMO = {"nx": [50], "steps": 5000, "t_end": 5.0, "trials": 2, "jobs": 2, "direct_every": 50}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    # the docstring's first paragraph without its reST quotes; none under python -OO, which
    # strips docstrings (every command had failed there with an AttributeError)
    ap = OneLineParser(prog="relaxtune",
                       description=(__doc__ or "").split("\n\n")[0].replace("``", ""))
    _debug_flag(ap, False)
    ap.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                    help="print relaxtune's version and exit")
    sub = ap.add_subparsers(dest="command")  # none given: main lists them
    for study, helptext in (("learning", "SOR: fixed ω vs non-contextual learners"),
                            ("contextual", "SOR: contextual learners vs Young's ω*")):
        p = sub.add_parser(study, help=helptext)
        p.add_argument("--variance", choices=("high", "low"), default="high")
        p.add_argument("--T", type=_count, default=5000, help="instances (default %(default)s)")
        p.add_argument("--learners", type=_learner, nargs="+", default=None,
                       help="bandit.POLICIES names (default: all of the study's kind)")
        _common(p, trials=10)
    p = sub.add_parser("heat2d", help="SSOR-PCG over the heat simulation")
    _heat_options(p, nx=[50], steps=5000, t_end=5.0, trials=3, jobs=1)
    p = sub.add_parser("demo", help="the main job: heat2d at a moderate size (about a minute "
                                    "on 2 idle cores, more on busy ones or a first run)")
    _heat_options(p, **DEMO)
    _precond_options(sub.add_parser(
        "precond", help="which solver configuration: fixed, learned and hand-picked, timed"))
    p = sub.add_parser("plot", help="redraw the figures of a results folder, or draw a saved "
                                     "tuner file's run (cost, regret with its interval, arms)")
    p.add_argument("results", type=_path, metavar="PATH",
                   help="a results folder, or a tuner file written by Tuner.save (a "
                        "relaxtune tune folder: its tuner.json)")
    p.add_argument("--out", type=_path, default=None,
                   help="folder for the figures (default: PATH/figures for a results folder "
                        "or a relaxtune tune folder, whose tuner file's figures are named "
                        "tuner_*; the tuner file's folder for a tuner file saved elsewhere)")
    p.add_argument("--markdown", action="store_true",
                   help="also print the comparison table(s) as Markdown (for docs/); "
                        "results folders only")
    _debug_flag(p, argparse.SUPPRESS)
    p = sub.add_parser("tune", help="your own systems from files (Matrix Market, .npz): tuned "
                                     "against every fixed ω, with exact regret and figures")
    p.add_argument("matrices", type=_path, nargs="+", metavar="MATRIX",
                   help="the systems' matrices in order (.mtx, .mtx.gz or scipy .npz); one "
                        "matrix with several --rhs files solves it for each")
    p.add_argument("--rhs", type=_path, nargs="+", default=None, metavar="FILE",
                   help="right-hand sides (.mtx, .npy or .txt), one per matrix "
                        "(default: b = (1, ..., 1))")
    p.add_argument("--contexts", type=_path, default=None, metavar="FILE",
                   help="a text file with one context per system (a number or a row of "
                        "numbers per line), or a .npy array (a vector, or one row per "
                        "system), for the contextual learners")
    p.add_argument("--resume", type=_path, default=None, metavar="TUNER_FILE",
                   help="continue the tuner saved in this file (a tune folder's tuner.json, "
                        "or Tuner.save's file) on these systems, and save it back there "
                        "(with --out: in that folder instead, the file kept); the settings "
                        "below are the file's, and one given that differs is refused")
    p.add_argument("--solver", choices=("sor", "ssor_pcg"), default=None,
                   help="default ssor_pcg")
    p.add_argument("--learner", type=lambda t: _learner(t, extra=("default",)),
                   default=None, help="a bandit.POLICIES name, or the library's default "
                                      "learner (default)")
    p.add_argument("--omegas", type=_omega, nargs="+", default=None, metavar="OMEGA",
                   help="the ω grid the learner chooses from (default: 20 points from 1.0 to "
                        "1.95; each ω once, a repeat is dropped); with --resume, the file's ω "
                        "in any order")
    p.add_argument("--auto-context", action="store_true",
                   help="give the learner each system's ω from the theory (10 Lanczos steps "
                        "per system) as context, beside --contexts if given: for sequences of "
                        "varied systems without a context of their own")
    p.add_argument("--warm", action="store_true",
                   help="start each solve from the previous system's solution (as a time "
                        "loop does; from zero where the size changes); every fixed ω starts "
                        "from the same point")
    p.add_argument("--rtol", type=_double, default=None, help="default 1e-08")
    p.add_argument("--maxiter", type=_count, default=None, help="default 10000")
    p.add_argument("--audit-budget", type=_double, default=None,
                   help="share of the solves' cost (their iterations) the Tuner aims to "
                        "spend on audits for its own regret interval (more on short runs of "
                        "cheap solves); 0 for none (default 0.05)")
    p.add_argument("--no-exact", action="store_true",
                   help="skip solving every system with every ω (then only the Tuner's own "
                        "regret estimate is reported)")
    p.add_argument("--seed", type=_seed, default=None, help="the learner's seed (default 0)")
    _output_options(p, "tuner", "tune")
    p = sub.add_parser("bench", help=f"benchmarks: {', '.join(sorted(BENCHES))}")
    p.add_argument("which", choices=sorted(BENCHES), nargs="?", metavar="NAME",
                   help=f"the benchmark: {', '.join(sorted(BENCHES))}")
    p.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    return ap


def _version() -> str:
    """The installed package's version (its metadata: ``setup.cfg``'s ``version``), or a
    line saying there is none for a checkout run without installing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("relaxtune")
    except PackageNotFoundError:
        return "(version unknown: relaxtune is not installed; pip install -e . sets it)"


def main(argv=None) -> int:
    """Entry point of the ``relaxtune`` console script; returns the exit status."""
    import signal

    from . import _interrupted_at_start

    if signal.getsignal(signal.SIGINT) is _interrupted_at_start:
        # the imports are done: Ctrl-C is a KeyboardInterrupt again, which _main reports
        signal.signal(signal.SIGINT, signal.default_int_handler)
    status = _main(argv)
    if status:  # every rank's error exit after rank 0 has printed the line (cli_common)
        ranks_meet()
    return status


def _main(argv) -> int:
    _closed_streams()
    _plain_text_streams()
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print_error(exc)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    _summary_on_stdout(args)
    try:
        if args.command is None:
            names = next(a for a in build_parser()._actions if a.dest == "command").choices
            raise UsageError(f"name a subcommand: {', '.join(names)} (relaxtune --help says "
                             "what each does)")
        if args.command in ("bench", "plot") and _env_size() > 1:
            # every rank would draw the same files at once; a benchmark would time copies of
            # itself competing for the cores
            raise UsageError(_ONE_PROCESS.format(command=args.command))
        if args.command == "bench":
            if args.which is None:
                raise UsageError(f"bench: name a benchmark ({', '.join(sorted(BENCHES))}); "
                                 "relaxtune bench NAME --help lists its options")
            with _SigtermAsInterrupt():  # a batch job's time limit: one line and 143
                return _bench(args.which, args.args)
        if args.command == "tune":
            return _tune(args)
        if args.command == "plot":
            return plot(args)
        return _study(args)
    except UsageError as exc:
        _trace(args, exc)
        print_error(exc)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        if isinstance(exc, Terminated):
            print_error("stopped", kind="terminated")
            return EXIT_TERMINATED
        print_error("stopped", kind="interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _output_closed()
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback (--debug shows it)
        _trace(args, exc)
        print_error(f"{describe(exc)} (rerun with --debug for the traceback)")
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
