"""The studies of the ``relaxtune`` command line (``learning``, ``contextual``, ``heat2d``,
``demo``, ``precond``): checked, run in this process or on every MPI rank, saved as they go,
then their tables printed."""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

from .cli_common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated,
                         UsageError, _env_size, _ONE_PROCESS, _print_summary, _progress_bars,
                         _SigtermAsInterrupt, _trace, describe, print_error)
from .cli_folders import (_check_figures_folder, _check_json_target, _FolderLock, _Keeper,
                          _fresh_folder, _missing_folders, _remove_empty, _writable_folder)


def _study(args) -> int:
    if _env_size() > 1 and not (args.command in ("heat2d", "demo") and args.backend == "petsc"):
        # every process would run the whole study on its own and write the same folder
        raise UsageError(_ONE_PROCESS.format(command=args.command))
    if args.command == "precond":
        _check_precond(args)
    _check_memory(args)  # before the results folder is made or anything is built
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
        _check_json_target(args.json, args.out)
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
            try:
                if args.json is not None:
                    _writable_folder(args.json.parent, "--json")
                _check_figures_folder(out, args.no_plots)
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
    if args.json_stdout and keeper.writes:
        _print_summary(summary)
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
                                       progress=_progress_bars(args),
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


#: What the heat2d/demo table's columns are, printed under it.
_HEAT_COLUMNS = (
    "columns: iterations = solver iterations summed over all steps (learners: their real "
    "runs, mean over trials); seconds = {clock} of the solves summed over all steps "
    "(learners: whole Tuner.solve calls); vs CG = seconds / plain CG's; regret/X = "
    "iterations above X (negative: fewer), X = the best fixed ω in hindsight, the best ω of "
    "the 20-point grid at each step, or the golden-section optimum at each step; a learner's "
    "regret scores its chosen ω on the grid's cost matrix, so it can differ from its "
    "iterations minus X's (e.g. a guard-stopped ω finished by another); reference = the total "
    "of an independent re-implementation of the paper's code")


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
                                     direct_every=args.direct_every,
                                     progress=_progress_bars(args),
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
            print(textwrap.fill(_HEAT_COLUMNS.format(clock="CPU seconds" if clock else
                                                     "seconds"), width=100))
            ext = size["methods"].get("direct", {}).get("extrapolated")
            if ext:
                taken = range(0, args.steps, ext["every"])
                shown = ", ".join(map(str, taken[:3])) + (", ..." if len(taken) > 3 else "")
                print(textwrap.fill(
                    f"direct (splu): factor + solve timed on steps {shown} ({ext['steps']} of "
                    f"{args.steps}; {1e3 * ext['seconds_per_step']:.1f} ms each, sd "
                    f"{1e3 * ext['seconds_per_step_std']:.1f}); its seconds are their mean "
                    f"times {args.steps} (--direct-every 1 times every step)", width=100))

    out = _finish(args, keeper, summary, per_tag(arrays), arrays, table)
    if not args.quiet:
        print(_closing(t0, out, args.no_plots))


#: Peak resident memory of a study per byte of one system's matrix
#: (:func:`experiments._bench.memory_needed`), measured as the benchmarks' factors are: the
#: growth of the peak (``VmHWM``) between sizes over the growth of the count, each run in a
#: fresh process, rounded up.  On the AMD EPYC Zen 3 machine (CPU family 25, model 1):
#: ``heat2d --steps 2 --trials 1`` nx = 150 → 300 → 450 (n = 22 201 → 89 401 → 201 601;
#: peaks 222 → 349 → 595 MB) 29.4 and 34.3 (the sparse direct factor grows faster than n),
#: with ``--no-direct`` nx = 150 → 450 9.6; ``precond --steps 3 --seeds 1 --sequences heat2d``
#: nx = 150 → 300 (436 → 1 054 MB) 143.5 — every method's tuner, set-ups and anchors held
#: at once —; ``precond --samples 3 --seeds 1 --sequences mc3d`` m = 16 → 28 (n = 4 096 →
#: 21 952; 290 → 750 MB) 292.  The steps, samples and seeds add rows, not systems.
STUDY_PEAK_FACTORS = {"heat2d": 36.0, "heat2d-no-direct": 10.0, "precond-heat2d": 150.0,
                      "precond-mc3d": 300.0}


def _study_refusal(args, available=None) -> str | None:
    """The refusal of a study size whose systems cannot fit in memory (the largest size each
    kind runs, times the workers running at once for ``heat2d``/``demo``), or None."""
    from ._bench import too_big

    if args.command in ("heat2d", "demo"):
        nx = max(args.nx)
        key = "heat2d-no-direct" if args.no_direct else "heat2d"
        workers = max(1, args.jobs)
        jobs = f" --jobs {workers}" if workers > 1 else ""  # (each worker holds its own)
        return too_big(f"--nx {nx}{jobs}", f"heat2d nx = {nx}", (nx - 1) ** 2, 5,
                       matrices=workers, peak=STUDY_PEAK_FACTORS[key], available=available)
    if args.command != "precond":
        return None  # learning and contextual take no system size
    from ._unseen_study import SIZES as UNSEEN_SIZES

    for kind in args.sequences:
        if kind in UNSEEN_SIZES:
            continue  # one size each, n ≈ 1e4: nothing a machine that runs the CLI lacks
        if kind == "mc3d":
            m = max(args.m)
            refusal = too_big(f"--m {m}", f"mc3d m = {m}", m ** 3, 7,
                              peak=STUDY_PEAK_FACTORS["precond-mc3d"], available=available)
        elif kind == "finadapt":  # (a five-point matrix as heat2d's: its factor)
            ny = max(args.ny)
            refusal = too_big(f"--ny {ny}", f"finadapt ny = {ny}", 64 * ny ** 2, 5,
                              peak=STUDY_PEAK_FACTORS["precond-heat2d"], available=available)
        else:
            nx = max(args.nx)
            refusal = too_big(f"--nx {nx}", f"{kind} nx = {nx}", (nx - 1) ** 2, 5,
                              peak=STUDY_PEAK_FACTORS["precond-heat2d"], available=available)
        if refusal:
            return refusal
    return None


def _check_memory(args) -> None:
    if _env_size() > 1:  # (under MPI each rank holds its part: the factors are one process's,
        return  # and a refusal read on one rank's memory alone would leave the others waiting)
    refusal = _study_refusal(args)
    if refusal:
        raise UsageError(refusal)


def _check_petsc():
    try:
        import petsc4py  # noqa: F401
    except ImportError:
        from solvers._extras import install_hint

        raise UsageError(f"--backend petsc needs petsc4py and mpi4py: "
                         f"{install_hint('petsc')}") from None


def _check_precond(args):
    """The preconditioner study's arguments beyond their types, before any computation."""
    args.nx = list(dict.fromkeys(args.nx))
    args.m = list(dict.fromkeys(args.m))
    args.ny = list(dict.fromkeys(args.ny))
    args.sequences = list(dict.fromkeys(args.sequences))
    args.omegas = list(dict.fromkeys(args.omegas))
    if args.compare is not None and args.compare == args.learner:
        raise UsageError(f"--compare {args.compare} is the --learner itself: the two rows would "
                         f"be the same learner under the same label (give another policy)")
    try:
        import pyamg  # noqa: F401 - the grid's AMG arms and the pyamg anchors
    except ImportError:
        from solvers._extras import install_hint

        raise UsageError(f"precond needs pyamg (AMG arms and anchors): "
                         f"{install_hint('amg')}") from None
    from .precond_study import _petsc_available

    wanted = [a for a in args.anchors if a.startswith("petsc")]
    if wanted and not _petsc_available() and not args.quiet:
        print(f"precond: {', '.join(wanted)} skipped (petsc4py is not installed)")


def _precond(args, keeper) -> None:
    from .precond_study import CONFIG_LEARNERS, format_precond_table, run_precond_study

    t0 = time.perf_counter()
    from ._unseen_study import SIZES as UNSEEN_SIZES

    sizes = {"mc3d": args.m, "finadapt": args.ny,
             **{kind: [size] for kind, size in UNSEEN_SIZES.items()}}
    sequences = [(kind, size) for kind in args.sequences for size in sizes.get(kind, args.nx)]

    def per_tag(arrays):
        return {f"rounds_{name}": a for name, a in arrays.items()}

    summary, arrays = run_precond_study(
        sequences=sequences, steps=args.steps, t_end=args.t_end, samples=args.samples,
        seeds=args.seeds, seed=args.seed, learner=args.learner, omegas=args.omegas,
        anchors=args.anchors, lag=args.lag, cap=args.cap, anchor_cap=args.anchor_cap,
        work_learner=not args.no_work_learner, compare=args.compare, block=args.block,
        progress=_progress_bars(args),
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


def _closing(t0, out, no_plots) -> str:
    """The last line of a study: its wall-clock total and where its figures went."""
    where = "" if no_plots else f"; figures in {out / 'figures'}"
    return f"total {time.perf_counter() - t0:.0f} s{where}"


def _fmt(v):
    return "-" if v is None else f"{v:.3f}"
