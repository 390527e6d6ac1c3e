"""The ``relaxtune`` command line.

Subcommands: ``learning``, ``contextual`` (SOR on offset-Laplacian sequences), ``heat2d``
(SSOR-PCG over the heat simulation), ``demo`` (heat2d at a size that runs in about 30 s on
2 idle cores; the README's first command), ``plot PATH`` (redraw from a results folder, or
draw a saved tuner file's run), ``precond`` (which solver configuration: fixed configurations,
learners over configurations and hand-picked anchors, timed) and ``bench {kernels,bandit,petsc,pcg,regret,tuner,overhead,learners,percall}`` (dispatch to the
benchmark scripts).  Every study writes
``summary.json``, per-round NPZ/CSV and PNG/PDF figures into ``--out`` (default
``results/<study>-<timestamp>``), saving each finished trial as it goes.  ``heat2d`` and
``demo`` with ``--backend petsc`` also run under ``mpiexec -n N``: the same study, options and
results, every rank taking part in every solve and rank 0 writing the folder and the table.

Errors: every argument is checked, and the results folder created and tried for writing,
before any computation.  An error is one line on standard error, ``relaxtune: error: ...``
(``--debug`` also prints the traceback).  Exit status: 0 done, 1 the computation failed,
2 bad input, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).  A study that fails or is
stopped keeps the trials it finished in its results folder (``relaxtune plot`` reads it) and
says where.

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
import codecs
import difflib
import importlib
import math
import os
import sys
import tempfile
import time
import traceback
import unicodedata
from pathlib import Path

__all__ = ["main", "build_parser", "DEMO", "UsageError", "OneLineParser", "print_error",
           "describe", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_TERMINATED",
           "EXIT_PIPE"]

#: Defaults of ``relaxtune demo``: the paper's heat2d protocol at nx = 50 (5000 steps on
#: [0, 5]) with the paper's learners, 2 trials; about 30 s on 2 idle cores (28 s measured).
DEMO = {"nx": [50], "steps": 5000, "t_end": 5.0, "trials": 2, "jobs": 2}

BENCHES = {"kernels": "experiments.bench_kernels", "bandit": "experiments.bench_bandit",
           "petsc": "experiments.bench_petsc", "pcg": "experiments.bench_pcg",
           "regret": "experiments.bench_regret", "tuner": "experiments.bench_tuner",
           "overhead": "experiments.bench_overhead",
           "learners": "experiments.bench_learners", "percall": "experiments.bench_percall"}

#: Exit statuses besides 0 (the last three as a shell reports a death by SIGINT / SIGTERM /
#: SIGPIPE).
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_PIPE = 1, 2, 130, 143, 141


# --- errors -----------------------------------------------------------------------------------
class UsageError(Exception):
    """Bad input found before any computation (exit status 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError` (one line, no usage dump)."""

    def error(self, message):
        raise UsageError(message)


def _env_rank() -> int:
    """This process's MPI rank from the launcher's environment (0 without mpiexec).

    Read before MPI is initialised, so a bad command line under ``mpiexec`` is reported once.
    """
    for key in ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "MV2_COMM_WORLD_RANK"):
        value = os.environ.get(key, "")
        if value.isdigit():
            return int(value)
    return 0


def _env_size() -> int:
    """Number of processes the MPI launcher started (1 without mpiexec)."""
    for key in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"):
        value = os.environ.get(key, "")
        if value.isdigit():
            return int(value)
    return 1


def print_error(message, *, kind: str = "error", force: bool = False) -> None:
    """``relaxtune: error: message`` as one line on stderr (rank 0 only, unless ``force``)."""
    if force or _env_rank() == 0:
        print(f"relaxtune: {kind}: {' '.join(str(message).split())}", file=sys.stderr, flush=True)


def describe(exc: BaseException) -> str:
    """One-line description of an error: its message, prefixed by its type when unexpected."""
    text = " ".join(str(exc).split()) or "(no message)"
    if isinstance(exc, UsageError):
        return text
    return f"{type(exc).__name__}: {text}"


# --- output in a terminal that is not UTF-8 ---------------------------------------------------
#: ASCII spellings of the symbols the tables and messages use (Greek letters by name).
_ASCII = {"−": "-", "–": "-", "—": "--", "×": "x", "·": "*", "≤": "<=", "≥": ">=", "≈": "~",
          "≠": "!=", "±": "+-", "→": "->", "←": "<-", "…": "...", "‖": "||", "√": "sqrt",
          "∞": "inf", "²": "^2", "³": "^3", "ᵀ": "^T", "µ": "u",
          "λ": "lambda", "Λ": "Lambda"}  # Unicode names them LAMDA


def _transliterate(exc: UnicodeError):
    """Codec error handler: ``ω`` -> ``omega``, ``≤`` -> ``<=``, anything else -> ``?``."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        name = unicodedata.name(ch, "")
        if ch in _ASCII:
            out.append(_ASCII[ch])
        elif name.startswith("GREEK ") and " LETTER " in name:
            word = name.rsplit(" ", 1)[-1].lower()
            out.append(word if "SMALL" in name else word.capitalize())
        else:
            out.append("?")
    return "".join(out), exc.end


codecs.register_error("relaxtune.ascii", _transliterate)


def _plain_text_streams() -> None:
    """Let standard output and error spell the symbols they cannot encode (ω, κ, ≤, ...) in
    ASCII: in a terminal that is not UTF-8 (``LANG=en_US.ISO-8859-1``) the first table with
    an ω had raised UnicodeEncodeError, after the study had run."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if not encoding or not hasattr(stream, "reconfigure"):
            continue
        try:
            "ωκ≤".encode(encoding)
        except UnicodeEncodeError:
            try:
                stream.reconfigure(errors="relaxtune.ascii")
            except (ValueError, OSError):  # a closed or detached stream: nothing to print to
                pass
        except LookupError:
            pass


def _writable_fd(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # not POSIX: trust the descriptor if it is open
        try:
            os.fstat(fd)
            return True
        except OSError:
            return False
    try:
        return fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY
    except OSError:  # closed
        return False


def _closed_streams() -> None:
    """Point a closed standard output or error at the null device, in this process and in the
    worker processes it starts: with ``relaxtune ... 2>&-`` (as some daemons and cron set-ups
    start programs) Python sets the stream to None, and started from a shell script the
    descriptor can even be the script, open for reading; the first progress bar had failed
    the study at once, status 1, with nowhere to say so."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if _writable_fd(fd):
            continue
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)  # inheritable, so the worker processes get it too
            os.close(null)
        else:
            os.set_inheritable(fd, True)
        try:
            setattr(sys, name, open(fd, "w", closefd=False))
        except OSError:
            pass


# --- argument types: each check happens while parsing, before anything runs -----------------
_INT64_MAX = 2**63 - 1


def _integer(low: int, what: str = "", high: int = _INT64_MAX):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}{what}, got {v}")
        if v > high:  # checked here, not once the study has started
            raise argparse.ArgumentTypeError(f"must be an integer in {low}..{high}{what}, "
                                             f"got {v}")
        return v

    parse.__name__ = "integer"
    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def _positive_float(text: str) -> float:
    v = _number(text)
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return v


def _omega(text: str) -> float:
    v = _number(text)
    if not 0.0 < v < 2.0:
        raise argparse.ArgumentTypeError(f"must lie in the open interval (0, 2), got {text}")
    return v


def _above_one(text: str) -> float:
    v = _positive_float(text)
    if v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number > 1, got {text}")
    return v


def _learner(text: str, extra=()) -> str:
    import bandit

    known = sorted([*bandit.POLICIES, *extra])
    if text in known:
        return text
    close = difflib.get_close_matches(text, known, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise argparse.ArgumentTypeError(f"unknown learner {text!r}; {hint}known: "
                                     f"{', '.join(known)}")


def _precond_learner(text: str) -> str:
    return _learner(text, extra=("default", "default@line", "default@family"))


def _path(text: str) -> Path:
    # an empty argument (an unset shell variable) would otherwise mean the current folder
    if not text:
        raise argparse.ArgumentTypeError("must be a path, got an empty string")
    # ~ as the shell would (it does not in --out=~/x): a folder named "~" had been made
    return Path(text).expanduser()


_count = _integer(1)
_seed = _integer(0, high=math.inf)
# sizes whose matrix has at most 2⁶³ − 1 entries (5 per row for heat2d's (nx − 1)² unknowns,
# 7 for mc3d's m³), the index range of the kernels
_NX_MAX = math.isqrt(_INT64_MAX // 5) + 1
_M_MAX = next(m for m in range(round((_INT64_MAX // 7) ** (1 / 3)), 0, -1)
              if 7 * m**3 <= _INT64_MAX)
_nx = _integer(2, " (intervals per side)", _NX_MAX)


def _debug_flag(p: argparse.ArgumentParser, default):
    p.add_argument("--debug", action="store_true", default=default,
                   help="on an error, also print the Python traceback")


def _output_options(p: argparse.ArgumentParser, unit: str, name: str):
    """--out, --json, --no-plots, --quiet and --debug, the same for every study."""
    p.add_argument("--out", type=_path, default=None,
                   help=f"results folder, created before the study starts; every finished "
                        f"{unit} is saved there as it goes (default results/{name}-<timestamp>)")
    p.add_argument("--json", type=_path, default=None, help="also write summary.json here")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bars or table")
    _debug_flag(p, argparse.SUPPRESS)


def _common(p: argparse.ArgumentParser, *, trials: int, jobs: int = 1):
    p.add_argument("--trials", type=_count, default=trials,
                   help="independent trials (default %(default)s)")
    p.add_argument("--seed", type=_seed, default=0, help="master seed (default %(default)s)")
    p.add_argument("--jobs", type=_count, default=jobs,
                   help="worker processes for trials (default %(default)s; at most the CPUs "
                        "this process may run on, so timings are not shared cores)")
    _output_options(p, "trial", "<study>")


def _heat_options(p: argparse.ArgumentParser, *, nx, steps, t_end, trials, jobs):
    p.add_argument("--nx", type=_nx, nargs="+", default=nx,
                   help="intervals per side, one or more sizes >= 2 (default %(default)s)")
    p.add_argument("--steps", type=_count, default=steps, help="time steps (default %(default)s)")
    p.add_argument("--t-end", type=_positive_float, default=t_end,
                   help="final time > 0 (default %(default)s)")
    p.add_argument("--methods", type=_learner, nargs="+", default=None,
                   help="learners to run (bandit.POLICIES names; default: the paper's "
                        "tsallis_inf tsallis_inf_cb chebcb); grid methods and CG always run")
    p.add_argument("--backend", choices=("numba", "petsc"), default="numba",
                   help="solver backend for every solve (default %(default)s)")
    p.add_argument("--no-direct", action="store_true", help="skip the sparse direct baseline")
    p.add_argument("--no-grid", action="store_true",
                   help="skip the 20-ω cost matrix (large nx): learners, plain CG and direct "
                        "only, no regret")
    p.add_argument("--baseline-every", type=_count, default=None, metavar="K",
                   help="time the baselines (plain CG, and direct unless --no-direct) on every "
                        "K-th step only, solving the learner's system from the same state "
                        "beside it, instead of on whole runs of their own (large nx: plain CG "
                        "over every step takes hours); 'vs CG' is then measured on those steps")
    p.add_argument("--no-golden", action="store_true",
                   help="skip the instance-optimal baseline's per-step golden-section search "
                        "over ω (experiments.costs.GOLDEN_EVALUATIONS more solves per step; "
                        "the grid minimum stays); implied by --no-grid")
    _common(p, trials=trials, jobs=jobs)


def _precond_options(p: argparse.ArgumentParser):
    from .precond_study import ANCHORS, LEARNER, OMEGAS

    p.add_argument("--sequences", choices=("heat2d", "mc3d"), nargs="+",
                   default=["heat2d", "mc3d"], help="which sequences (default: both)")
    p.add_argument("--nx", type=_nx, nargs="+", default=[100],
                   help="heat2d sizes, intervals per side (default %(default)s; the study's "
                        "sizes are 100 200 400)")
    p.add_argument("--m", type=_integer(2, " (cells per side)", _M_MAX), nargs="+", default=[22],
                   help="mc3d sizes, cells per side, n = m³ (default %(default)s; 22 30 46 "
                        "give n = 1e4 to 1e5)")
    p.add_argument("--steps", type=_count, default=1000,
                   help="heat2d time steps (default %(default)s: one period of κ)")
    p.add_argument("--t-end", type=_positive_float, default=1.0,
                   help="heat2d final time (default %(default)s)")
    p.add_argument("--samples", type=_count, default=100,
                   help="mc3d samples (default %(default)s)")
    p.add_argument("--seeds", type=_count, default=3,
                   help="rounds; round r runs the learners with seed r (default %(default)s)")
    p.add_argument("--learner", type=_precond_learner, default=LEARNER,
                   help="policy of the configuration and ω-only learners; 'default': the "
                        "library's recommended learner; 'familycb': FamilyCB over the "
                        "configurations, its inner learner (ChebCB) over ω "
                        "(default %(default)s)")
    p.add_argument("--omegas", type=_omega, nargs="+", default=list(OMEGAS),
                   help="ω of the SSOR-PCG arms (default %(default)s)")
    p.add_argument("--anchors", choices=ANCHORS, nargs="*", default=list(ANCHORS),
                   help="hand-picked anchors to run (default all; the PETSc ones need "
                        "petsc4py; give the option with no names for none)")
    p.add_argument("--lag", type=_count, default=50,
                   help="steps between set-ups of the lagged pyamg anchor (default %(default)s)")
    p.add_argument("--cap", type=_above_one, default=5.0,
                   help="stop a fixed configuration or anchor once it took this many times "
                        "the round's best fixed total (default %(default)s)")
    p.add_argument("--anchor-cap", type=_above_one, default=None,
                   help="the same for the anchors (default: --cap)")
    p.add_argument("--no-work-learner", action="store_true",
                   help="skip the configuration learners with cost='time' and 'work'")
    p.add_argument("--compare", type=_precond_learner, default=None,
                   help="also run this policy as a configuration learner (default cost), side "
                        "by side with --learner on the same sequences and seeds")
    p.add_argument("--block", type=_count, default=1,
                   help="steps each method runs in a row before the next one takes the same "
                        "steps: 1 alternates the methods step by step, a larger block keeps "
                        "each Tuner's data in the caches as a loop that calls one Tuner does "
                        "(default %(default)s)")
    p.add_argument("--seed", type=_seed, default=0, help="master seed (default %(default)s)")
    _output_options(p, "run", "precond")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    # the docstring's first paragraph without its reST quotes; none under python -OO, which
    # strips docstrings (every command had failed there with an AttributeError)
    ap = OneLineParser(prog="relaxtune",
                       description=(__doc__ or "").split("\n\n")[0].replace("``", ""))
    _debug_flag(ap, False)
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
    p = sub.add_parser("demo", help="the main job: heat2d at a moderate size (about 30 s on "
                                    "2 idle cores)")
    _heat_options(p, **DEMO)
    _precond_options(sub.add_parser(
        "precond", help="which solver configuration: fixed, learned and hand-picked, timed"))
    p = sub.add_parser("plot", help="redraw the figures of a results folder, or draw a saved "
                                     "tuner file's run (cost, regret with its interval, arms)")
    p.add_argument("results", type=_path, metavar="PATH",
                   help="a results folder, or a tuner file written by Tuner.save (a "
                        "relaxtune tune folder: its tuner.json)")
    p.add_argument("--out", type=_path, default=None,
                   help="folder for the figures (default: PATH/figures for a results folder, "
                        "the tuner file's folder for a tuner file)")
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
                        "numbers per line) for the contextual learners")
    p.add_argument("--solver", choices=("sor", "ssor_pcg"), default="ssor_pcg",
                   help="default %(default)s")
    p.add_argument("--learner", type=lambda t: _learner(t, extra=("default",)),
                   default="default", help="a bandit.POLICIES name, or the library's default "
                                           "learner (default)")
    p.add_argument("--omegas", type=_omega, nargs="+", default=None, metavar="OMEGA",
                   help="the ω grid the learner chooses from (default: 20 points from 1.0 to "
                        "1.95)")
    p.add_argument("--auto-context", action="store_true",
                   help="give the learner each system's ω from the theory (10 Lanczos steps "
                        "per system) as context, beside --contexts if given: for sequences of "
                        "varied systems without a context of their own")
    p.add_argument("--warm", action="store_true",
                   help="start each solve from the previous system's solution (as a time "
                        "loop does); every fixed ω starts from the same point")
    p.add_argument("--rtol", type=float, default=1e-8, help="default %(default)s")
    p.add_argument("--maxiter", type=_count, default=10_000, help="default %(default)s")
    p.add_argument("--audit-budget", type=float, default=0.05,
                   help="share of the solve time the Tuner may spend on audits for its own "
                        "regret interval; 0 for none (default %(default)s)")
    p.add_argument("--no-exact", action="store_true",
                   help="skip solving every system with every ω (then only the Tuner's own "
                        "regret estimate is reported)")
    p.add_argument("--seed", type=_seed, default=0, help="the learner's seed (default "
                                                         "%(default)s)")
    _output_options(p, "tuner", "tune")
    p = sub.add_parser("bench", help=f"benchmarks: {', '.join(sorted(BENCHES))}")
    p.add_argument("which", choices=sorted(BENCHES), nargs="?", metavar="NAME",
                   help=f"the benchmark: {', '.join(sorted(BENCHES))}")
    p.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
    return ap


def main(argv=None) -> int:
    """Entry point of the ``relaxtune`` console script; returns the exit status."""
    _closed_streams()
    _plain_text_streams()
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print_error(exc)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
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
            path = Path(args.results)
            if _tune_folder(path):  # its run is its tuner file (the summary has no study)
                if args.markdown:
                    raise UsageError(f"{path} holds a relaxtune tune run: no comparison tables "
                                     f"to print as Markdown, its table is in summary.json "
                                     f"(drop --markdown)")
                path = args.results = path / "tuner.json"
            if path.suffix.lower() == ".json" and not path.exists():
                # a tuner file's name: "no such folder" would send the user looking for one
                raise UsageError(f"{path}: no such file")
            if path.is_file() and _results_file(path):
                raise UsageError(f"{path} is a file of the results folder {path.parent}: give "
                                 f"the folder (relaxtune plot {path.parent})")
            with _SigtermAsInterrupt():
                if path.is_file():
                    if args.markdown:
                        raise UsageError("--markdown prints a results folder's comparison "
                                         "tables; a tuner file has none (drop --markdown)")
                    return _plot_tuner(args.results, args.out)
                return _plot(args.results, args.markdown, args.out)
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


def _tune_folder(path: Path) -> bool:
    """Is ``path`` a folder ``relaxtune tune`` wrote (a tuner file, and a summary that is not
    a study's)?"""
    import json

    if not (path.is_dir() and (path / "tuner.json").is_file()):
        return False
    try:
        summary = json.loads((path / "summary.json").read_text())
    except (OSError, ValueError):
        return True  # the tuner file is the run; its summary is a copy of its tables
    return not (isinstance(summary, dict) and "study" in summary)


def _results_file(path: Path) -> bool:
    """Is ``path`` one of the files a study writes into its results folder?"""
    return (path.parent / "summary.json").is_file() and (
        path.name == "summary.json" or (path.name.startswith("rounds")
                                        and path.suffix in (".npz", ".csv")))


def _output_closed() -> int:
    """Standard output was closed by its reader (``relaxtune ... | head``): quietly, as Unix
    tools do, with the status of a death by SIGPIPE; a study has saved everything by then
    (it prints last).  Standard output is pointed at /dev/null so the interpreter's final
    flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (e.g. replaced in tests)
        pass
    return EXIT_PIPE


def _trace(args, exc):
    if getattr(args, "debug", False):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def _bench(which: str, argv) -> int:
    try:
        mod = importlib.import_module(BENCHES[which])
    except ImportError as exc:
        raise UsageError(f"bench {which}: cannot import {BENCHES[which]} ({exc})") from None
    try:
        status = mod.main(list(argv))
    except SystemExit as exc:  # a benchmark's parser: its one-line error is already printed
        if isinstance(exc.code, str):  # SystemExit("message"): a refusal not yet printed
            raise UsageError(f"bench {which}: {exc.code}") from None
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    # an exit status, or None or the run's records (a finished run)
    return status if isinstance(status, int) and not isinstance(status, bool) else 0


# --- checks made before any computation --------------------------------------------------------
def _writable_folder(folder: Path, what: str) -> bool:
    """Create ``folder`` if needed and write a probe file into it; return whether it is new."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} {folder}: exists and is not a folder")
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{what} {folder}: cannot create the folder "
                         f"({exc.strerror or exc})") from None
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"{what} {folder}: cannot write into the folder "
                         f"({exc.strerror or exc})") from None
    return created


def _fresh_folder(base: Path) -> tuple[Path, bool]:
    """Create ``base`` — or ``base-2``, ``base-3``, ... if it exists — atomically (``mkdir``
    fails on an existing folder, so two runs never get the same one), checked writable."""
    for k in range(1, 1000):
        folder = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise UsageError(f"results folder {folder}: cannot create the folder "
                             f"({exc.strerror or exc})") from None
        try:
            _writable_folder(folder, "results folder")
        except UsageError:
            folder.rmdir()
            raise
        return folder, True
    raise UsageError(f"results folder {base}: 999 folders of that name exist; give --out")


class _FolderLock:
    """Hold a results folder for this run (``flock`` on the folder itself, released when the
    run ends or the process dies, no file left behind), so a second run given the same
    ``--out`` at the same time is refused instead of mixing its files with this one's.
    Where the file system has no such locks (some network mounts) the run goes on without."""

    def __init__(self, folder: Path, what: str):
        self.fd = None
        try:
            import fcntl
        except ImportError:  # not POSIX
            return
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"{what} {folder}: another relaxtune run is writing into it; "
                             f"choose another {what} or wait for that run to end") from None
        except OSError:
            os.close(fd)
            return
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    for p in (folder, *folder.absolute().parents):
        if p.exists():
            break
        missing.append(p)
    return missing


def _remove_empty(folders) -> None:
    """Remove the folders (deepest first) that are still empty: a refused run leaves none."""
    for p in folders:
        try:
            p.rmdir()
        except OSError:  # not empty (another run's files), or gone
            pass


def _figures_folder(folder: Path, out) -> None:
    """Check the folder ``relaxtune plot`` writes into; the default one (next to results that
    may be read-only, e.g. a colleague's) says how to draw elsewhere."""
    if out is not None:
        _writable_folder(folder, "--out")
        return
    try:
        _writable_folder(folder, "figures folder")
    except UsageError as exc:
        raise UsageError(f"{exc}; draw them elsewhere with --out FOLDER") from None


def _check_petsc():
    try:
        import petsc4py  # noqa: F401
    except ImportError:
        raise UsageError("--backend petsc needs petsc4py (pip install 'relaxtune[petsc]')") from None


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch system's time limit, ``kill``): handled like Ctrl-C."""


def _on_sigterm(signum, frame):
    raise Terminated()


class _Keeper:
    """Saves a study's finished work as it goes and says where it is if the study stops early."""

    def __init__(self, out: Path, created: bool, unit: str, *, writes: bool = True):
        self.out, self.created, self.unit = out, created, unit
        self.writes = writes  # False on the MPI ranks other than 0: they compute, rank 0 saves
        self.saved = False  # has this run written anything yet?
        self.lock = None  # the _FolderLock held while the study runs

    def release(self) -> None:
        """Let another run use the folder (the study is over)."""
        if self.lock is not None:
            self.lock.release()

    def save(self, summary: dict, per_tag: dict) -> None:
        """Every tag's arrays, then ``summary.json``: the summary never counts unsaved work."""
        from .results import save, write_json

        if not self.writes:
            return
        self.saved = True
        for tag, arrays in per_tag.items():
            save(self.out, None, arrays, tag=tag)
        write_json(self.out / "summary.json", summary)

    def where(self) -> str:
        """Where the work is, read back from the folder (an interrupt may have come at any
        point of a save); removes the folder if this run created it and saved nothing."""
        import json

        try:
            summary = json.loads((self.out / "summary.json").read_text())
        except (OSError, ValueError):
            summary = None
        if summary is not None and self.saved:
            partial = summary.get("partial")
            if not partial:
                return f"results were saved in {self.out}"
            return (f"{partial['finished']} of {partial['of']} {self.unit} finished and saved "
                    f"in {self.out} (redraw: relaxtune plot {self.out})")
        if self.created:  # nothing kept: leave no empty folder behind
            for f in self.out.iterdir():  # a save interrupted before its summary
                if f.is_file():
                    f.unlink()
            try:
                self.out.rmdir()
            except OSError:
                pass
        return f"no {self.unit[:-1]} had finished, nothing was saved"


#: refusal of a command that cannot share its work between MPI ranks
_ONE_PROCESS = ("{command} runs in one process; under mpiexec only heat2d and demo with "
                "--backend petsc share the work between the ranks")


def _tune(args) -> int:
    """``relaxtune tune``: a user's own sequence from files (experiments/user_files.py)."""
    from . import user_files as uf
    from .results import default_out

    if _env_size() > 1:
        raise UsageError(_ONE_PROCESS.format(command=args.command))
    if not (math.isfinite(args.rtol) and 0.0 < args.rtol < 1.0):
        raise UsageError(f"--rtol must be a number in (0, 1), got {args.rtol}")
    if not (math.isfinite(args.audit_budget) and 0.0 <= args.audit_budget <= 1.0):
        raise UsageError(f"--audit-budget must be a share in [0, 1], got {args.audit_budget}")
    try:  # every input is read and checked before anything is solved or written
        systems = uf.load_systems(args.matrices, args.rhs)
        contexts = None if args.contexts is None else uf.read_contexts(args.contexts,
                                                                       len(systems))
        import bandit

        arms = list(dict.fromkeys(args.omegas or bandit.DEFAULT_ARMS))  # each ω once
        policy = uf.make_policy(args.learner, args.solver, arms, args.seed)
        names = (args.matrices * len(systems) if len(args.matrices) == 1 else args.matrices)
        uf.check_systems(systems, args.solver, names,
                         "spectral" if args.auto_context else None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if contexts is None and not args.auto_context and uf.needs_context(policy):
        raise UsageError(f"--learner {args.learner} needs a context for every system: give "
                         f"--contexts FILE or --auto-context, or a learner that works without "
                         f"(the default)")
    if args.json is not None and args.json.is_dir():
        raise UsageError(f"--json {args.json}: is a folder; give a file name")
    if args.out is not None:
        for name in ("tuner.json", "summary.json"):  # another run's (of any study)
            if (args.out / name).exists():
                raise UsageError(f"--out {args.out}: already holds results ({name}); choose "
                                 f"another --out or remove it")
    if args.json is not None:  # the run's results would be written, then this refused
        _writable_folder(args.json.parent, "--json")
    if args.out is None:
        out, created = _fresh_folder(default_out("tune"))
    else:
        out = args.out
        created = _writable_folder(out, "--out")
    try:
        lock = _FolderLock(out, "--out")
        for name in ("tuner.json", "summary.json"):  # a run that ended since the check above
            if (out / name).exists():
                lock.release()
                raise UsageError(f"--out {out}: already holds results ({name}); choose "
                                 f"another --out or remove it")
    except UsageError:
        if created:
            out.rmdir()
        raise
    try:
        return _tune_run(args, uf, systems, contexts, arms, policy, names, out, created)
    finally:
        lock.release()


def _tune_run(args, uf, systems, contexts, arms, policy, names, out, created) -> int:
    """``relaxtune tune`` once its inputs are checked and its folder is held."""
    from .results import write_json

    try:
        with _SigtermAsInterrupt():  # a batch job's time limit keeps the systems finished
            result = uf.run(systems, solver=args.solver, arms=arms, policy=policy,
                            contexts=contexts, warm=args.warm, rtol=args.rtol,
                            maxiter=args.maxiter, exact=not args.no_exact,
                            audit_budget=args.audit_budget or None, progress=not args.quiet,
                            seed=args.seed, interruptible=True,
                            auto_context="spectral" if args.auto_context else None,
                            names=names)
    except ValueError as exc:  # a system the solver refuses once it ran (named by its file)
        if created and not any(out.iterdir()):  # nothing was written: leave no empty folder
            out.rmdir()
        raise UsageError(str(exc)) from None
    summary = uf.summarize(result)
    tuner = result["tuner"]
    tuner.save(out / "tuner.json")
    tuner.to_csv(out / "history.csv")
    summary["files"] = {"matrices": [str(p) for p in args.matrices],
                        "rhs": None if args.rhs is None else [str(p) for p in args.rhs],
                        "contexts": None if args.contexts is None else str(args.contexts)}
    write_json(out / "summary.json", summary)
    if args.json is not None:
        write_json(args.json, summary)
    if not args.no_plots:
        from .plots import draw_run

        draw_run(uf.figure_data(result), out / "figures")
    if not args.quiet:
        print(uf.format_report(summary))
        print(f"results: {out} (tuner.json, history.csv, summary.json"
              f"{'' if args.no_plots else ', figures/'})")
    if result["interrupted"] is not None:
        kind = "terminated" if isinstance(result.get("stop"), Terminated) else "interrupted"
        print_error(f"{result['interrupted']} of {len(systems)} systems finished and saved in "
                    f"{out}", kind=kind)
        return EXIT_TERMINATED if kind == "terminated" else EXIT_INTERRUPTED
    return 0


def _study(args) -> int:
    if _env_size() > 1 and not (args.command in ("heat2d", "demo") and args.backend == "petsc"):
        # every process would run the whole study on its own and write the same folder
        raise UsageError(_ONE_PROCESS.format(command=args.command))
    if args.command == "precond":
        _check_precond(args)
    rank, ranks = 0, 1
    if args.command in ("heat2d", "demo") and args.backend == "petsc":
        _check_petsc()
        rank, ranks = _petsc_ranks()
    if ranks > 1:
        return _study_mpi(args, rank, ranks)
    keeper, learners = _prepare(args)
    try:
        return _run_reporting(args, learners, keeper)
    finally:
        keeper.release()


def _prepare(args, *, writes: bool = True):
    """Check the output paths and create the results folder (only where ``writes``): the
    study's keeper and its learners (a name given twice runs once)."""
    from .results import default_out

    heat = args.command in ("heat2d", "demo")
    out = args.out or default_out(args.command)
    created = False
    if writes:
        if args.json is not None and args.json.is_dir():
            raise UsageError(f"--json {args.json}: is a folder; give a file name")
        made = _missing_folders(Path(out))  # removed again if the run is refused
        if args.out is None:
            # named after the second the run started: another run started in the same
            # second (a batch job array) has it already, so this one takes the next free name
            out, created = _fresh_folder(out)
        elif (out / "summary.json").exists():
            # a new study would leave the old one's files (rounds, figures) next to its own
            raise UsageError(f"--out {out}: already holds results (summary.json); choose "
                             "another --out or remove it")
        else:
            created = _writable_folder(out, "--out")
        try:
            lock = _FolderLock(out, "--out")
            if (out / "summary.json").exists():  # a run that ended since the check above
                lock.release()
                raise UsageError(f"--out {out}: already holds results (summary.json); choose "
                                 "another --out or remove it")
            if args.json is not None:
                try:
                    _writable_folder(args.json.parent, "--json")
                except UsageError:
                    lock.release()
                    raise
        except UsageError:
            if created:
                out.rmdir()
            _remove_empty(made)
            raise
    learners = None
    if heat:
        args.nx = list(dict.fromkeys(args.nx))  # a size given twice runs once
        learners = list(dict.fromkeys(args.methods)) if args.methods else None
    elif args.command != "precond":
        learners = list(dict.fromkeys(args.learners)) if args.learners else None
    unit = "runs" if args.command == "precond" else "tasks" if heat else "trials"
    keeper = _Keeper(out, created, unit, writes=writes)
    keeper.lock = lock if writes else None
    return keeper, learners


def _run(args, learners, keeper) -> None:
    if args.command == "precond":
        _precond(args, keeper)
    elif args.command in ("heat2d", "demo"):
        _heat(args, learners, keeper)
    else:
        _offset(args, learners, keeper)


class _SigtermAsInterrupt:
    """SIGTERM raises :class:`Terminated` inside the block (main thread only)."""

    def __enter__(self):
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, _on_sigterm)
        return self

    def __exit__(self, *exc):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _interrupted(exc, keeper) -> int:
    kind = "terminated" if isinstance(exc, Terminated) else "interrupted"
    print_error(keeper.where() if keeper.writes else "", kind=kind)
    return EXIT_TERMINATED if kind == "terminated" else EXIT_INTERRUPTED


def _run_reporting(args, learners, keeper) -> int:
    """Run the study in this process; an error or a stop is one line saying where the work is."""
    with _SigtermAsInterrupt():
        try:
            _run(args, learners, keeper)
        except KeyboardInterrupt as exc:
            return _interrupted(exc, keeper)
        except BrokenPipeError:
            raise  # output closed, not a failed computation (main says nothing)
        except Exception as exc:  # noqa: BLE001 - reported in one line with where the work is
            _trace(args, exc)
            print_error(f"{describe(exc)}; {keeper.where()} (rerun with --debug for the "
                        "traceback)")
            return EXIT_FAILED
    return 0


def _study_mpi(args, rank: int, ranks: int) -> int:
    """The same study on every rank of ``mpiexec``: rank 0 checks and writes the results
    folder, prints the table and draws the figures; the others compute quietly.  An error
    on any rank is agreed on and reported once, and every rank exits with the same status
    (:func:`experiments.heat2d_petsc.run_guarded`)."""
    from .heat2d_petsc import run_guarded

    if rank != 0:
        args.quiet = args.no_plots = True
    if args.jobs > 1 and rank == 0 and not args.quiet:
        print(f"{args.command}: on {ranks} MPI ranks the tasks run one after another on every "
              f"rank (--jobs {args.jobs} ignored)")
    ready = {}

    def prepare():
        ready["run"] = _prepare(args, writes=rank == 0)
        return 0

    status = run_guarded(prepare, debug=args.debug)  # paths checked by rank 0, agreed by all
    if status:
        return status
    keeper, learners = ready["run"]
    with _SigtermAsInterrupt():
        try:
            return run_guarded(lambda: _run(args, learners, keeper) or 0, debug=args.debug,
                               where=keeper.where)
        except KeyboardInterrupt as exc:
            return _interrupted(exc, keeper)
        finally:
            keeper.release()


def _finish(args, keeper, summary, per_tag: dict, draw_arrays, table=None) -> Path:
    """Save the study, draw its figures, then print its table (``table()``) and where it
    went: a standard output closed early (``| head``) can then only cut the printing."""
    from .plots import draw_all
    from .results import write_json

    keeper.save(summary, per_tag)
    out = keeper.out
    if args.json and keeper.writes:
        write_json(args.json, summary)
    if not args.no_plots:
        draw_all(summary, draw_arrays, out / "figures")
    if not args.quiet:
        if table is not None:
            table()
        print(f"results written to {out}")
    return Path(out)


def _offset(args, learners, keeper) -> None:
    from .offset_study import run_offset_study
    from .results import format_table

    summary, arrays = run_offset_study(args.command, T=args.T, trials=args.trials,
                                       variance=args.variance, seed=args.seed,
                                       learners=learners, jobs=args.jobs,
                                       progress=not args.quiet,
                                       checkpoint=lambda s, a: keeper.save(s, {"rounds": a}))
    def table():
        print(f"\n{args.command}: SOR iterations, T = {args.T}, {args.trials} trials, "
              f"{args.variance} variance")
        print(format_table(summary["methods"], reference=summary["reference"]))

    _finish(args, keeper, summary, {"rounds": arrays}, arrays, table)


def _petsc_ranks() -> tuple:
    """``(rank, size)`` of the MPI job PETSc runs in (``(0, 1)`` without mpiexec)."""
    from .heat_study import mpi_ranks

    return mpi_ranks("petsc")


def _heat(args, learners, keeper) -> None:
    from .heat_study import run_heat_study
    from .results import format_table

    t0 = time.perf_counter()

    def per_tag(arrays):
        return {f"rounds_nx{nx}": a for nx, a in arrays.items()}

    summary, arrays = run_heat_study(nx=args.nx, steps=args.steps, t_end=args.t_end,
                                     trials=args.trials, methods=learners, seed=args.seed,
                                     jobs=args.jobs, backend=args.backend,
                                     direct=not args.no_direct, grid=not args.no_grid,
                                     golden=not args.no_golden,
                                     baseline_every=args.baseline_every,
                                     progress=not args.quiet,
                                     study=args.command,
                                     checkpoint=lambda s, a: keeper.save(s, per_tag(a)))

    def table():
        ranks = summary["params"]["ranks"]
        where = (f", PETSc on {ranks} MPI rank{'s' if ranks > 1 else ''}"
                 if args.backend == "petsc" else "")
        for nx, size in summary["sizes"].items():
            clock = "CPU " if summary["params"].get("clock") == "cpu" else ""
            print(f"\nheat2d nx = {nx} (n = {size['n']}), {args.steps} steps, SSOR-PCG "
                  f"iterations and solve {clock}seconds ({args.trials} learner trials{where})")
            print(format_table(size["methods"], baseline="cg", reference=size["reference"]))
            sampled = size["methods"].get("cg", {}).get("sampled")
            if sampled:
                k = sampled["every"]
                taken = range(0, args.steps, k)  # the steps that exist
                shown = ", ".join(map(str, taken[:3])) + (", ..." if len(taken) > 3 else "")
                print(f"baselines sampled every {k} steps (steps {shown}: "
                      f"{sampled['steps']} of {args.steps}): plain CG"
                      f"{'' if args.no_direct else ' and the direct solve'} solved the "
                      "learner's system from the same state, beside it; their rows sum those "
                      "steps only, and a learner's 'vs CG' is its seconds on those steps over "
                      "CG's")

    out = _finish(args, keeper, summary, per_tag(arrays), arrays, table)
    if not args.quiet:
        print(_closing(t0, out, args.no_plots))


def _plot_tuner(path: Path, out: Path | None) -> int:
    """``relaxtune plot tuner.json``: the run's cost, regret and arm figures (PNG and PDF)
    next to the file (or into ``out``), named after it."""
    from bandit import Tuner, TunerFileError

    from .plots import FigureError, draw_run, run_data

    try:
        tuner = Tuner.load(path)
    except TunerFileError as exc:
        raise UsageError(str(exc)) from exc
    folder = Path(out) if out is not None else (Path(path).parent or Path("."))
    _figures_folder(folder, out)
    data = run_data(tuner)
    try:
        paths = draw_run(data, folder, f"{Path(path).stem}_")
    except FigureError as exc:
        _unwritable_figure(exc)
        raise
    print(f"{len(paths)} files written to {folder}")
    bf = data["regret"]["best_fixed"]
    if bf["rounds"].size:
        # iterations as whole numbers; seconds (microsecond solves) and work significant
        fmt = "{:,.0f}" if data["unit"] == "iterations" else "{:.4g}"
        band = (f", {data['level']:.0%} interval [{fmt.format(bf['low'][-1])}, "
                f"{fmt.format(bf['high'][-1])}]" if bf["unbiased"] else " (biased: no interval)")
        at_most = "at most " if bf.get("at_bound") else ""  # no point estimate, its bound
        print(f"{data['rounds'].size} solves, {fmt.format(data['cumulative'][-1])} "
              f"{data['unit']}; regret vs the best fixed arm {at_most}"
              f"{fmt.format(bf['estimate'][-1])}{band}")
    return 0


def _check_precond(args):
    """The preconditioner study's arguments beyond their types, before any computation."""
    args.nx = list(dict.fromkeys(args.nx))
    args.m = list(dict.fromkeys(args.m))
    args.sequences = list(dict.fromkeys(args.sequences))
    args.omegas = list(dict.fromkeys(args.omegas))
    if args.compare is not None and args.compare == args.learner:
        raise UsageError(f"--compare {args.compare} is the --learner itself: the two rows would "
                         f"be the same learner under the same label (give another policy)")
    try:
        import pyamg  # noqa: F401 - the grid's AMG arms and the pyamg anchors
    except ImportError:
        raise UsageError("precond needs pyamg (AMG arms and anchors): pip install "
                         "'relaxtune[amg]'") from None
    from .precond_study import _petsc_available

    wanted = [a for a in args.anchors if a.startswith("petsc")]
    if wanted and not _petsc_available() and not args.quiet:
        print(f"precond: {', '.join(wanted)} skipped (petsc4py is not installed)")


def _precond(args, keeper) -> None:
    from .precond_study import CONFIG_LEARNERS, format_precond_table, run_precond_study

    t0 = time.perf_counter()
    sequences = [(kind, size) for kind in args.sequences
                 for size in (args.nx if kind == "heat2d" else args.m)]

    def per_tag(arrays):
        return {f"rounds_{name}": a for name, a in arrays.items()}

    summary, arrays = run_precond_study(
        sequences=sequences, steps=args.steps, t_end=args.t_end, samples=args.samples,
        seeds=args.seeds, seed=args.seed, learner=args.learner, omegas=args.omegas,
        anchors=args.anchors, lag=args.lag, cap=args.cap, anchor_cap=args.anchor_cap,
        work_learner=not args.no_work_learner, compare=args.compare, block=args.block,
        progress=not args.quiet,
        checkpoint=lambda s, a: keeper.save(s, per_tag(a)))

    def table():
        for name, seq in summary["sequences"].items():
            t = seq["targets"]
            print(f"\n{name} (n = {seq['n']}, {seq['T']} systems, context {seq['context']}), "
                  f"seconds of the solve calls, mean over {args.seeds} rounds")
            print(format_precond_table(seq))
            print(f"best fixed: {t['best_fixed']}; best family changes with the context: "
                  f"{t['best_family_changes']}")
            for name in CONFIG_LEARNERS:
                if name in t:
                    print(f"{seq['methods'][name]['label']}: / best fixed "
                          f"{_fmt(t[name]['vs_best_fixed'])}, / ω-only learner "
                          f"{_fmt(t[name]['vs_omega_learner'])}")

    out = _finish(args, keeper, summary, per_tag(arrays), arrays, table)
    if not args.quiet:
        print(_closing(t0, out, args.no_plots))


def _markdown_tables(summary) -> list[str]:
    """The comparison tables of a results folder, as Markdown (``plot --markdown``)."""
    from .results import format_markdown

    if summary.get("study") == "precond":
        from .precond_study import format_precond_table

        return [f"\n{name}\n\n{format_precond_table(seq, markdown=True)}"
                for name, seq in summary["sequences"].items()]
    return [f"\n{summary['study']} {'nx = ' + nx if nx else ''}\n\n"
            + format_markdown(size["methods"], baseline="cg" if nx else None,
                              reference=size.get("reference"))
            for nx, size in (summary.get("sizes") or {"": summary}).items()]


def _closing(t0, out, no_plots) -> str:
    """The last line of a study: its wall-clock total and where its figures went."""
    where = "" if no_plots else f"; figures in {out / 'figures'}"
    return f"total {time.perf_counter() - t0:.0f} s{where}"


def _fmt(v):
    return "-" if v is None else f"{v:.3f}"


def _unwritable_figure(exc) -> None:
    """``relaxtune plot``: a figure file it cannot write (a full disk, a read-only file) is the
    user's to fix, a usage error of one line; a figure Matplotlib cannot draw stays a failure
    (:class:`~experiments.plots.FigureError`, status 1, --debug for the traceback)."""
    if isinstance(exc.__cause__, OSError):
        raise UsageError(str(exc)) from exc


def _plot(results: Path, markdown: bool = False, out: Path | None = None) -> int:
    from .plots import FigureError, draw_all
    from .results import ResultsError, load, load_arrays

    try:
        summary, _ = load(results)
        if summary.get("study") == "precond":
            arrays = {name: load_arrays(results, f"rounds_{name}")
                      for name in summary.get("sequences", {})}
        elif summary.get("sizes"):
            arrays = {int(nx): load_arrays(results, f"rounds_nx{nx}")
                      for nx in summary["sizes"]}
        else:
            arrays = load_arrays(results, "rounds")
    except ResultsError as exc:
        raise UsageError(str(exc)) from exc  # --debug shows where it came from
    figures = Path(out) if out is not None else Path(results) / "figures"
    _figures_folder(figures, out)
    try:  # the tables first, then the figures' data (nothing written yet if either is
        # malformed), then the figures
        tables = _markdown_tables(summary) if markdown else []
        paths = draw_all(summary, arrays, figures)
    except FigureError as exc:  # the data were read: one figure failed, named with its file
        _unwritable_figure(exc)
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise UsageError(
            f"{results}: its summary.json or per-round arrays do not have the layout this "
            f"relaxtune draws ({describe(exc)}); written by another version, or edited?"
        ) from exc  # --debug shows where it came from
    print(f"{len(paths)} files written to {figures}")
    partial = summary.get("partial")
    if partial:
        print(f"partial results: {partial.get('finished')} of {partial.get('of')} "
              f"{partial.get('unit', 'trials')} finished")
    for table in tables:
        print(table)
    return 0


if __name__ == "__main__":  # pragma: no cover
    # through the imported module, so ``python -m experiments.cli`` raises and catches the
    # same UsageError class as the modules that import it (one error class, not two)
    from experiments.cli import main as _main

    sys.exit(_main())
