"""``relaxtune tune``: a user's own sequence of systems from files, tuned against every
fixed ω (:mod:`experiments.user_files` does the work)."""
from __future__ import annotations

import math

from .cli_common import (EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, UsageError,
                         _env_size, _ONE_PROCESS, _print_summary, _progress_bars, _SigtermAsInterrupt,
                         print_error)
from .cli_folders import _FolderLock, _fresh_folder, _writable_folder


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
                            audit_budget=args.audit_budget or None, progress=_progress_bars(args),
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
    if args.json_stdout:
        _print_summary(summary)
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
