"""Argument types and option groups of the ``relaxtune`` subcommands: every check happens
while the command line is parsed, before anything runs."""
from __future__ import annotations

import argparse
import difflib
import math
from pathlib import Path


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


def _double(text: str) -> float:
    """A number as the Tuner takes it, refused where the text's value is lost in double
    precision: ``1e-400`` is not 0 (the Tuner had said "got 0.0" of it), ``1e400`` is not
    inf (named by its text, not as "inf")."""
    v = _number(text)
    lost = (v == 0.0 and any(c in "123456789" for c in text.lower().split("e")[0])) or (
        math.isinf(v) and "inf" not in text.lower())
    if lost:
        raise argparse.ArgumentTypeError(
            f"must be a number within double precision's range, got {text} (it "
            f"{'underflows to 0' if v == 0.0 else 'overflows to inf'})")
    return v


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
    v = _number(text)
    if not (math.isfinite(v) and v > 1.0):  # (nan and -3 had been told "> 0")
        raise argparse.ArgumentTypeError(f"must be a finite number > 1, got {text}")
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
    return _learner(text, extra=("default", "default@line", "default@family", "default@omega"))


def _path(text: str) -> Path:
    # an empty argument (an unset shell variable) would otherwise mean the current folder
    if not text:
        raise argparse.ArgumentTypeError("must be a path, got an empty string")
    # ~ as the shell would (it does not in --out=~/x): a folder named "~" had been made
    return Path(text).expanduser()


def _json_path(text: str) -> Path | str:
    """``--json``: a file, or ``-`` (kept as the string) for standard output; ``./-`` names
    a file called ``-``."""
    return "-" if text == "-" else _path(text)


_count = _integer(1)
_seed = _integer(0, high=math.inf)
# sizes whose matrix has at most 2⁶³ − 1 entries (5 per row for heat2d's (nx − 1)² unknowns,
# 7 for mc3d's m³), the index range of the kernels
_NX_MAX = math.isqrt(_INT64_MAX // 5) + 1
_M_MAX = next(m for m in range(round((_INT64_MAX // 7) ** (1 / 3)), 0, -1)
              if 7 * m**3 <= _INT64_MAX)
_nx = _integer(2, " (intervals per side)", _NX_MAX)
# finadapt's 64 ny² cells, 5 entries a row, within the kernels' index range
_FIN_MAX = math.isqrt(_INT64_MAX // (5 * 64))


def _debug_flag(p: argparse.ArgumentParser, default):
    p.add_argument("--debug", action="store_true", default=default,
                   help="on an error, also print the Python traceback")


def _output_options(p: argparse.ArgumentParser, unit: str, name: str):
    """--out, --json, --no-plots, --quiet and --debug, the same for every study."""
    p.add_argument("--out", type=_path, default=None,
                   help=f"results folder, created before the study starts; every finished "
                        f"{unit} is saved there as it goes (default results/{name}-<timestamp>)")
    p.add_argument("--json", type=_json_path, default=None,
                   help="also write summary.json here; '-' prints it on standard output "
                        "instead of the table (and implies --quiet)")
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


def _heat_options(p: argparse.ArgumentParser, *, nx, steps, t_end, trials, jobs,
                  direct_every=1):
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
    p.add_argument("--direct-every", type=_count, default=direct_every, metavar="K",
                   help="time the sparse direct baseline (a factorisation per step, the "
                        "slowest row) on steps 0, K, 2K, ... only and scale its total up to "
                        "all steps (its row says so); the other steps of its run are carried "
                        "on by SSOR-PCG, untimed; 1: every step (default %(default)s)")
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

    p.add_argument("--sequences", choices=("heat2d", "heatadapt", "mc3d", "finadapt",
                                           "aniso2d", "heat3d", "rgg", "picard2d",
                                           "inclusion3d", "fem2d", "plgraph", "switch2d",
                                           "layers3d", "refine2d", "elast2d", "bratu2d",
                                           "scaled2d", "biharm2d", "const3d", "remesh2d",
                                           "jump2d"),
                   nargs="+", default=["heat2d", "mc3d"],
                   help="which sequences (default: heat2d mc3d; heatadapt: the heat "
                        "simulation with adaptive time steps; finadapt: a cooling fin with "
                        "adaptive time steps; aniso2d, heat3d, rgg, picard2d, inclusion3d, "
                        "fem2d, plgraph, switch2d, layers3d, refine2d, elast2d, bratu2d, "
                        "scaled2d, biharm2d, const3d, remesh2d, jump2d: the sequences "
                        "the learners were not designed on, each at its one size, n ≈ 4e3 to "
                        "9e4 (refine2d: its grid refined from n = 2 500 to 40 000); the "
                        "nonsymmetric convdiff2d and rotconv2d run by python -m "
                        "experiments._unseen_study only)")
    p.add_argument("--nx", type=_nx, nargs="+", default=[100],
                   help="heat2d and heatadapt sizes, intervals per side (default "
                        "%(default)s; the study's heat2d sizes are 100 200 400)")
    p.add_argument("--m", type=_integer(2, " (cells per side)", _M_MAX), nargs="+", default=[22],
                   help="mc3d sizes, cells per side, n = m³ (default %(default)s; 22 30 46 "
                        "give n = 1e4 to 1e5)")
    p.add_argument("--ny", type=_integer(1, " (cells across the fin)", _FIN_MAX), nargs="+",
                   default=[16],
                   help="finadapt sizes, cells across the fin; 64 × as many along it, "
                        "n = 64 ny² (default %(default)s: n = 16 384)")
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
    from solvers.precond import MAX_REUSE

    # a lag of k keeps a hierarchy for k - 1 later steps: the set-up reuse of an arm, bounded so
    p.add_argument("--lag", type=_integer(1, " (steps between set-ups)", MAX_REUSE + 1),
                   default=50,
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
