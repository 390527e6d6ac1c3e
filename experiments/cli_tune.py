"""``relaxtune tune``: a user's own sequence of systems from files, tuned against every
fixed ω (:mod:`experiments.user_files` does the work)."""
from __future__ import annotations

import math
import os
from pathlib import Path

from .cli_common import (EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_UNSOLVED, EXIT_USAGE,
                         Terminated,
                         UsageError, _env_size, _ONE_PROCESS, _print_summary, _progress_bars,
                         _SigtermAsInterrupt, print_error)
from .cli_folders import (_check_figures_folder, _check_json_target, _check_out_not_inputs,
                          _FolderLock,
                          _fresh_folder, _writable_folder)


#: The defaults of ``relaxtune tune``'s settings: the parser leaves them ``None`` so that
#: ``--resume`` knows which were given (and must agree with the tuner file's).
TUNE_DEFAULTS = {"solver": "ssor_pcg", "learner": "default", "rtol": 1e-8, "maxiter": 10_000,
                 "audit_budget": 0.05, "seed": 0}


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _gs(values) -> str:
    """ω to 12 digits: as ``{:g}`` prints them (1, 1.05), but two values that differ in the
    10th digit are not both printed as 1.8."""
    return " ".join(f"{w:.12g}" for w in values)


def _resume_settings(args):
    """``--resume FILE``: the saved tuner, with ``args``' settings taken from it; a setting
    given on the command line that differs from the file's is refused, naming both values
    (the same value may be repeated)."""
    import bandit

    from . import user_files as uf

    try:
        tuner = bandit.Tuner.load(args.resume)
    except ValueError as exc:  # TunerFileError: missing, corrupt, another format or version
        inside = Path(args.resume) / "tuner.json"
        hint = (f"; a relaxtune tune folder's tuner is its tuner file: --resume {inside}"
                if Path(args.resume).is_dir() and inside.is_file() else "")
        if ": it is a " in str(exc):  # an input file (a matrix, ...) given as the tuner
            hint = ("; --resume takes a saved tuner (a relaxtune tune folder's tuner.json, or "
                    "a file written by Tuner.save), the systems go in MATRIX ... and --rhs")
        raise UsageError(f"--resume: {exc}{hint}") from None
    why = uf.unresumable(tuner)
    if why is not None:
        raise UsageError(f"--resume {args.resume}: {why} (continue it in Python with "
                         f"Tuner.load)")
    names = {cls: name for name, cls in bandit.POLICIES.items()}
    saved = {"solver": tuner.solver, "rtol": tuner.rtol, "maxiter": tuner.maxiter,
             "audit_budget": tuner.audit_budget, "seed": tuner.audit_seed,
             "learner": names.get(type(tuner.policy), type(tuner.policy).__name__)}
    arms = list(tuner.policy.arms)
    conflicts = []
    for dest, value in saved.items():
        given = getattr(args, dest)
        if given is None:
            continue
        if dest == "learner":
            if given == "default":
                same = type(tuner.policy) is type(bandit.default_policy(tuner.solver, arms))
            else:
                same = bandit.POLICIES[given] is type(tuner.policy)
        elif dest == "audit_budget":  # 0 is "no audits", as the tune run saved it
            same = float(given) == float(value or 0.0)
        else:
            same = given == value
        if not same:
            conflicts.append(f"{_option(dest)} {given} (the file's: {value})")
    # the ω are compared as a set: the run continues with the file's arms in the file's
    # order, so a saved arm index keeps naming the same ω whatever order (or repeats) the
    # command line gives them in; a reordered list had been refused as "other settings"
    if args.omegas is not None and set(args.omegas) != set(arms):
        extra = [w for w in dict.fromkeys(args.omegas) if w not in arms]
        lack = [w for w in arms if w not in args.omegas]
        conflicts.append(f"--omegas {_gs(args.omegas)} (the file's: {_gs(arms)}; "
                         + "; ".join(filter(None, [extra and f"not in the file: {_gs(extra)}",
                                                   lack and f"missing: {_gs(lack)}"]))
                         + ")")
    if args.auto_context and tuner.auto_context is None:
        conflicts.append("--auto-context (the file's tuner has no automatic context)")
    if conflicts:
        raise UsageError(f"--resume {args.resume}: the tuner was saved with other settings: "
                         f"{'; '.join(conflicts)}; leave these options out to continue with "
                         f"the file's (a change would part the learner from the run it "
                         f"continues)")
    for dest, value in saved.items():
        setattr(args, dest, value)
    args.audit_budget = args.audit_budget or 0.0
    args.auto_context = tuner.auto_context is not None
    args.omegas = arms
    return tuner


def _where_to_resume(args, result, count, out) -> str:
    """Where a stopped ``tune`` run continues: its ``tuner.json`` holds the rounds the Tuner
    solved — the system being compared at the stop too — so the next run starts after that
    one (given again, it would be a second round on the same system)."""
    solved = len(result["tuner"].history["arm"]) - result.get("start", 0)
    if not 0 < solved < count:
        return ""
    labels = (args.rhs if args.rhs is not None and len(args.matrices) == 1
              else args.matrices)
    also = (f"; {out}/tuner.json has also solved system {solved} ({labels[solved - 1]})"
            if solved > result["interrupted"] else "")
    return (f"{also}; continue with --resume {out}/tuner.json from system {solved + 1} "
            f"({labels[solved]})")


def _tune(args) -> int:
    """``relaxtune tune``: a user's own sequence from files (experiments/user_files.py)."""
    if _env_size() > 1:
        raise UsageError(_ONE_PROCESS.format(command=args.command))
    held = None
    resume = getattr(args, "resume", None)
    if resume is not None and args.out is None and Path(resume).is_file():
        # the file is replaced at the end: held from before it is read until then, so a
        # second run continuing it at the same time is refused (both had read the same
        # tuner and each replaced the file: the first to finish lost its rounds, exit 0)
        held = _FolderLock(Path(resume), "--resume", busy=(
            f"--resume {resume}: another relaxtune run is continuing this tuner file and "
            f"will replace it; wait for that run to end, or give --out FOLDER to continue a "
            f"copy there"))
    try:
        return _tune_held(args)
    finally:
        if held is not None:
            held.release()


def _tune_held(args) -> int:
    """``relaxtune tune`` once a ``--resume`` file it replaces is held."""
    from . import user_files as uf
    from .results import default_out

    tuner = None
    if getattr(args, "resume", None) is not None:
        tuner = _resume_settings(args)
    for dest, value in TUNE_DEFAULTS.items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, value)
    # (a resumed tuner's own rtol, which the Tuner accepted — 0 with an atol — is not this
    # run's option: it had been refused as "--rtol must be a number in (0, 1), got 0.0")
    if tuner is None and not (math.isfinite(args.rtol) and 0.0 < args.rtol < 1.0):
        raise UsageError(f"--rtol must be a number in (0, 1), got {args.rtol}")
    if not (math.isfinite(args.audit_budget) and 0.0 <= args.audit_budget <= 1.0):
        raise UsageError(f"--audit-budget must be a share in [0, 1], got {args.audit_budget}")
    try:  # every input is read and checked before anything is solved or written
        systems = uf.load_systems(args.matrices, args.rhs)
        contexts = None if args.contexts is None else uf.read_contexts(args.contexts,
                                                                       len(systems))
        import bandit

        arms = list(dict.fromkeys(args.omegas or bandit.DEFAULT_ARMS))  # each ω once
        policy = (uf.make_policy(args.learner, args.solver, arms, args.seed) if tuner is None
                  else tuner.policy)
        names = (args.matrices * len(systems) if len(args.matrices) == 1 else args.matrices)
        uf.check_systems(systems, args.solver, names,
                         "spectral" if args.auto_context else None,
                         rtol=tuner.rtol if tuner is not None else args.rtol,
                         atol=tuner.atol if tuner is not None else 0.0)
        try:
            uf.check_contexts(policy, contexts, args.contexts,
                              "spectral" if args.auto_context else None)
        except ValueError as exc:
            if tuner is not None and "started without a context" in str(exc):
                # (had been the library's "this policy was started without a context: pass
                # none", which names no option)
                raise ValueError(f"--contexts {args.contexts}: the learner of --resume "
                                 f"{args.resume} was run without contexts, and a learner "
                                 f"that starts without one works without one throughout: "
                                 f"leave --contexts out") from None
            if tuner is None or "context must have" not in str(exc):
                raise
            # the length is the resumed learner's, not a rule of the file format: say whose
            raise ValueError(f"{exc}: the learner of --resume {args.resume} was given "
                             f"contexts of that length in its earlier runs; give as many "
                             f"numbers on each line (row) of --contexts") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if (contexts is not None or args.auto_context) and not getattr(policy, "contextual", True):
        # a learner without a context model ignores it: the automatic one's Lanczos steps
        # would be paid (and counted in the run's cost) for nothing
        given = ("--auto-context (10 Lanczos steps a system, counted in the run's cost)"
                 if args.auto_context else f"--contexts {args.contexts}")
        who = (f"--resume {args.resume}: its learner" if tuner is not None
               else f"--learner {args.learner}")
        raise UsageError(f"{who} ({type(policy).__name__}) takes no context and would ignore "
                         f"{given}: leave it out, or choose a learner that uses one (the "
                         f"default, chebcb, ...)")
    if contexts is None and not args.auto_context and uf.needs_context(policy):
        if tuner is not None:
            raise UsageError(f"--resume {args.resume}: its learner ({args.learner}) needs a "
                             f"context for every system: give --contexts FILE")
        raise UsageError(f"--learner {args.learner} needs a context for every system: give "
                         f"--contexts FILE or --auto-context, or a learner that works without "
                         f"(the default)")
    if args.json is not None and args.json.is_dir():
        raise UsageError(f"--json {args.json}: is a folder; give a file name")
    _check_json_target(args.json, args.out,
                       [*args.matrices, *(args.rhs or ()), args.contexts, args.resume])
    _check_out_not_inputs(args.out, [*args.matrices, *(args.rhs or ()), args.contexts])
    if args.out is not None:
        for name in ("tuner.json", "summary.json"):  # another run's (of any study)
            if (args.out / name).exists():
                raise UsageError(f"--out {args.out}: already holds results ({name}); choose "
                                 f"another --out or remove it")
    if args.json is not None:  # the run's results would be written, then this refused
        _writable_folder(args.json.parent, "--json")
    if args.resume is not None and args.out is None:
        _writable_resume(args.resume)
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
        try:
            _check_figures_folder(out, args.no_plots)
        except UsageError:
            lock.release()
            raise
    except UsageError:
        if created:
            out.rmdir()
        raise
    try:
        return _tune_run(args, uf, systems, contexts, arms, policy, names, out, created, tuner)
    finally:
        lock.release()


def _writable_resume(path: Path) -> None:
    """``--resume FILE`` without ``--out``: the continued tuner replaces FILE at the end (a
    file written beside it, then renamed), so FILE and its folder must be writable — checked
    before anything is solved (a read-only file or folder had failed only once every system
    and the whole comparison had run, with the run's results lost)."""
    path = Path(path)
    why = None
    try:  # the folder first: on a read-only file system it says so
        _writable_folder(path.parent, "--resume")
    except UsageError as exc:
        why = str(exc).split(": ", 1)[-1]
    if why is None and not os.access(path, os.W_OK):
        why = "the file is read-only"
    if why:
        raise UsageError(f"--resume {path}: the continued tuner cannot replace it ({why}); "
                         "give --out FOLDER to write it there and keep the file")


def _stopped_before_one(args, result, count, out, created) -> int:
    """A run stopped before its first system finished in full: no table, no figures and no
    summary — they had been written all the same, a table of 0 systems ("best fixed ω = 1
    (hindsight)", every count 0, all converged), six empty figures and a summary.json that
    a rerun into the same ``--out`` then tripped over.  The tuner is saved (with its
    history) only if it solved the first system (it can be continued); otherwise nothing is
    written and a folder the run created is removed."""
    tuner = result["tuner"]
    kind = "terminated" if isinstance(result.get("stop"), Terminated) else "interrupted"
    if len(tuner.history["arm"]) > result.get("start", 0):
        tuner.save(out / "tuner.json")
        tuner.to_csv(out / "history.csv")
        kept = ("" if args.resume is None or args.out is not None
                else f" ({args.resume} is kept as it was)")
        said = (f"0 of {count} systems finished in full; the tuner was saved in {out} "
                f"(tuner.json, history.csv){kept}{_where_to_resume(args, result, count, out)}")
    else:
        if created:
            try:
                out.rmdir()
            except OSError:  # something else was written there since: left as it is
                pass
        kept = "" if args.resume is None else f" ({args.resume} is kept as it was)"
        said = f"no system had finished, nothing was saved{kept}"
    print_error(said, kind=kind)
    return EXIT_TERMINATED if kind == "terminated" else EXIT_INTERRUPTED


def _tune_run(args, uf, systems, contexts, arms, policy, names, out, created,
              tuner=None) -> int:
    """``relaxtune tune`` once its inputs are checked and its folder is held."""
    import warnings

    import bandit

    try:
        # the library's TunerCostWarning names Python calls: the table says it in the
        # command line's words instead (format_report, "own time")
        with _SigtermAsInterrupt(), warnings.catch_warnings():
            warnings.simplefilter("ignore", bandit.TunerCostWarning)
            result = uf.run(systems, solver=args.solver, arms=arms, policy=policy,
                            contexts=contexts, warm=args.warm, rtol=args.rtol,
                            maxiter=args.maxiter, exact=not args.no_exact,
                            audit_budget=args.audit_budget or None, progress=_progress_bars(args),
                            seed=args.seed, interruptible=True,
                            auto_context="spectral" if args.auto_context else None,
                            names=names, tuner=tuner)
    except ValueError as exc:  # a system the solver refuses once it ran (named by its file)
        if created and not any(out.iterdir()):  # nothing was written: leave no empty folder
            out.rmdir()
        if isinstance(exc, uf.UnreadSystem):  # before the first system finished
            raise UsageError(f"{exc} (read again to solve it: its files changed after the run "
                             f"had checked them); nothing was saved") from None
        raise UsageError(str(exc)) from None
    if result["interrupted"] == 0:
        return _stopped_before_one(args, result, len(systems), out, created)
    written = []
    try:
        with _SigtermAsInterrupt():  # one line and 143, not a half-drawn figure and no word
            return _write_results(args, uf, result, systems, out, written)
    except KeyboardInterrupt as exc:
        return _stopped_while_writing(args, result, systems, exc, out, written)
    except BrokenPipeError:  # standard output closed by its reader: cli.main's status 141
        raise
    except Exception as exc:  # noqa: BLE001 - a full disk, a --json device, a figure
        return _failed_while_writing(args, result, systems, exc, out, written)


#: What a finished ``tune`` run writes into its folder, in this order (``figures/`` last).
_RESULTS = ("tuner.json", "history.csv", "summary.json")


def _stopped_while_writing(args, result, systems, exc, out, written) -> int:
    """Ctrl-C or SIGTERM once the systems were solved, while their results were written or
    the report printed: one line saying what is in ``out`` and what is not (it had been
    "interrupted: stopped", naming neither the folder nor what it held), and that a
    ``--resume`` file not yet replaced is kept as it was."""
    kind = "terminated" if isinstance(exc, Terminated) else "interrupted"
    print_error(_what_was_written(args, result, systems, out, written, "stopped"), kind=kind)
    return EXIT_TERMINATED if kind == "terminated" else EXIT_INTERRUPTED


def _failed_while_writing(args, result, systems, exc, out, written) -> int:
    """A write that failed once the systems were solved (a full disk, ``--json /dev/full``,
    a figure Matplotlib could not save): one line with the error and, as after Ctrl-C, what
    ``out`` holds and what is missing, exit status 1.  It had been the error alone
    (``OSError: [Errno 28] No space left on device``, or ``FigureError: cannot write
    OUT/figures/cost.png``), naming neither the results saved nor those lost, and the table
    of a run whose figures failed was not printed."""
    from .cli_common import EXIT_FAILED, _trace, describe

    if all(f in written for f in _RESULTS) and (args.json is None or "--json" in written) \
            and (args.no_plots or "figures/" in written):
        raise exc  # the folder is whole: the --resume file's replacement says where it is
    _trace(args, exc)
    said = _what_was_written(args, result, systems, out, written, "failed")
    if "figures/" not in written and not args.no_plots and "summary.json" in written:
        said += f"; draw the run's figures with: relaxtune plot {out}"
    print_error(f"{describe(exc)}; {said}")
    return EXIT_FAILED


def _what_was_written(args, result, systems, out, written, verb) -> str:
    """What ``out`` holds and what is missing once writing the results stopped or failed."""
    done = [f for f in written if f in _RESULTS]
    missing = [f for f in _RESULTS if f not in done]
    if args.json is not None and "--json" not in written:
        missing.append(f"--json {args.json}")
    if not args.no_plots and "figures/" not in written:
        missing.append("figures/ (those drawn are whole)" if "figures/ started" in written
                       else "figures/")
    if not missing:
        said = f"{verb} after the results were saved in {out}"
    else:
        held = f"{out} holds {', '.join(done)}" if done else f"nothing was saved in {out}"
        said = f"{verb} while writing the results: {held}; not written: {', '.join(missing)}"
    if args.resume is not None and args.out is None and "resume" not in written:
        said += (f"; {args.resume} is kept as it was"
                 + (f" (the continued tuner is {out}/tuner.json)" if "tuner.json" in done
                    else ""))
    if result["interrupted"] is None and "summary.json" in done:
        said += (" (the system was solved)" if len(systems) == 1
                  else f" (all {len(systems)} systems were solved)")
    elif result["interrupted"] is not None and "tuner.json" in done:
        said += _where_to_resume(args, result, len(systems), out)
    return said


def _write_results(args, uf, result, systems, out, written) -> int:
    """The results of a run that solved at least one system in full: each file's name is
    appended to ``written`` once it is whole (``figures/ started``, then ``figures/``;
    ``resume`` once the continued tuner replaced the ``--resume`` file)."""
    from .results import write_json

    summary = uf.summarize(result)
    _cli_hints(summary)
    tuner = result["tuner"]
    tuner.save(out / "tuner.json")
    written.append("tuner.json")
    tuner.to_csv(out / "history.csv")
    written.append("history.csv")
    summary["files"] = {"resumed": None if args.resume is None else str(args.resume),
                        "matrices": [str(p) for p in args.matrices],
                        "rhs": None if args.rhs is None else [str(p) for p in args.rhs],
                        "contexts": None if args.contexts is None else str(args.contexts)}
    write_json(out / "summary.json", summary)
    written.append("summary.json")
    if args.json is not None:
        write_json(args.json, summary)
        written.append("--json")
    if args.json_stdout:
        _print_summary(summary)
    if not args.no_plots:
        from .plots import draw_run

        written.append("figures/ started")
        draw_run(uf.figure_data(result), out / "figures")
        written.append("figures/")
    if args.resume is not None and args.out is None and result["interrupted"] is None:
        # the continued tuner replaces the file (written aside and renamed, as every save:
        # a failed run leaves the file as it was; an interrupted one too, its finished
        # systems are in the folder's copy); last, so a failure here keeps the run's folder
        try:
            tuner.save(args.resume)
            written.append("resume")
        except OSError as exc:  # (checked writable before the run: it changed since)
            raise type(exc)(f"--resume {args.resume}: {exc}; the continued tuner is "
                            f"{out}/tuner.json") from None
    if not args.quiet:
        print(uf.format_report(summary))
        failures = uf.format_failures(summary)
        if failures:
            print(failures)
        print(f"results: {out} (tuner.json, history.csv, summary.json"
              f"{'' if args.no_plots else ', figures/'})")
        if args.resume is not None and args.out is None and result["interrupted"] is None:
            print(f"continued tuner: {args.resume} (replaced; {len(tuner.history['arm'])} "
                  f"rounds)")
    if result["interrupted"] is not None:
        stop = result.get("stop")
        kept = ("" if args.resume is None or args.out is not None else
                f" ({args.resume} is kept as it was; the continued tuner is {out}/tuner.json)")
        said = (f"{result['interrupted']} of {len(systems)} systems finished and saved in "
                f"{out}{kept}{_where_to_resume(args, result, len(systems), out)}")
        if isinstance(stop, uf.UnreadSystem):  # a file changed during the run
            print_error(f"{stop} (read again to solve it: its files changed after the run had "
                        f"checked them); {said}")
            return EXIT_USAGE
        kind = "terminated" if isinstance(stop, Terminated) else "interrupted"
        print_error(said, kind=kind)
        return EXIT_TERMINATED if kind == "terminated" else EXIT_INTERRUPTED
    unsolved = _unsolved_line(summary, out)
    if unsolved:
        print_error(unsolved, kind="unsolved")
        return EXIT_UNSOLVED
    return 0


def _cli_hints(summary) -> None:
    """The failure messages as the command line says them: the library's advice to add ω
    below 1 names the Tuner's arm list, which here is ``--omegas``."""
    from bandit._tuner_guard_diagnosis import UNDER_RELAX_CLI, UNDER_RELAX_HINT

    for failure in summary.get("failures") or ():
        failure["why"] = failure["why"].replace(UNDER_RELAX_HINT, UNDER_RELAX_CLI)


#: at most this many unsolved systems are named on the closing line (all are in summary.json)
_NAMED = 10


def _unsolved_line(summary, out) -> str:
    """The closing line of a run whose tuned solves left systems unsolved (exit status 3):
    how many and which (``""`` if every system converged)."""
    count = summary["tuned"].get("not_converged", 0)
    if not count:
        return ""
    failures = summary.get("failures") or ()
    names = [f"system {f['system']}" + (f" ({f['name']})" if f["name"] else "")
             for f in failures[:_NAMED]]
    more = f", and {len(failures) - _NAMED} more" if len(failures) > _NAMED else ""
    which = f": {', '.join(names)}{more}" if names else ""
    total = summary["systems"]
    systems = "system" if total == 1 else "systems"
    return (f"{count} of {total} {systems} not solved (not converged) by the tuned "
            f"run{which}; results saved in {out} (why: summary.json, \"failures\"); "
            f"exit status {EXIT_UNSOLVED}")
