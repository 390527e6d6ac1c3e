"""``relaxtune plot PATH``: redraw a results folder's figures (and print its tables as
Markdown), or draw the run of a tuner file written by :meth:`bandit.Tuner.save`."""
from __future__ import annotations

import contextlib
import math
from pathlib import Path

from .cli_common import UsageError, _SigtermAsInterrupt, describe
from .cli_folders import _missing_folders, _remove_empty, _writable_folder


def plot(args) -> int:
    """``relaxtune plot PATH``: a results folder, a tune folder (its tuner file) or a tuner
    file; a file of a results folder is refused with the command to type instead."""
    path = Path(args.results)
    if _tune_summary(path) and not (path / "tuner.json").exists():
        # its summary is a copy of the tables, not a study's: "no 'study' entry" had blamed it
        raise UsageError(f"{path}: a relaxtune tune folder without its tuner file: plot draws "
                         f"a tune run from {path / 'tuner.json'} (the run writes it with "
                         f"Tuner.save), which is missing; copy it back, or give the tuner "
                         f"file's path")
    if _tune_folder(path):  # its run is its tuner file (the summary has no study)
        if args.markdown:
            raise UsageError(f"{path} holds a relaxtune tune run: no comparison tables "
                             f"to print as Markdown, its table is in summary.json "
                             f"(drop --markdown)")
        path = args.results = path / "tuner.json"
    if path.name.lower().endswith((".json", ".json.gz")) and not path.exists():
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


def _tune_summary(path: Path) -> bool:
    """Is ``path/summary.json`` the summary ``relaxtune tune`` writes (its tuned run's table,
    no study)?"""
    import json

    try:
        summary = json.loads((path / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and "study" not in summary and "tuned" in summary


def _results_file(path: Path) -> bool:
    """Is ``path`` one of the files a study writes into its results folder?  A tuner file
    saved as ``summary.json`` is not (it had been refused, sent to its folder, and refused
    there as "not a relaxtune results summary": no way to draw it)."""
    if path.name == "summary.json":
        return not _tuner_format(path)
    return (path.parent / "summary.json").is_file() and (
        path.name.startswith("rounds") and path.suffix in (".npz", ".csv"))


def _tuner_format(path: Path) -> bool:
    """Does ``path`` hold a JSON object tagged as a tuner file (:meth:`bandit.Tuner.save`)?"""
    import json

    from bandit._tuner_persist import FORMAT

    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(payload, dict) and payload.get("format") == FORMAT


@contextlib.contextmanager
def _figures_folder(folder: Path, out):
    """Check the folder ``relaxtune plot`` writes into, for the block that draws there; the
    default one (next to results that may be read-only, e.g. a colleague's) says how to draw
    elsewhere.  A block that fails or is interrupted before drawing anything leaves none of
    the folders it created (an empty one had been left)."""
    made = _missing_folders(folder)
    if out is not None:
        _writable_folder(folder, "--out")
    else:
        try:
            _writable_folder(folder, "figures folder")
        except UsageError as exc:
            raise UsageError(f"{exc}; draw them elsewhere with --out FOLDER") from None
    try:
        yield
    except BaseException:
        _remove_empty(made)
        raise


def _plot_tuner(path: Path, out: Path | None) -> int:
    """``relaxtune plot tuner.json``: the run's cost, regret and arm figures (PNG and PDF)
    next to the file (or into ``out``), named after it."""
    from bandit import Tuner, TunerFileError
    from bandit._regretdata import format_interval, no_minus_zero
    from bandit._tuner_persist import load_to_read

    from .plots import FigureError, draw_run, run_data

    try:
        tuner = load_to_read(Tuner, path)  # (a PETSc run's file without PETSc too)
    except TunerFileError as exc:
        what = ""
        if "not JSON" in str(exc) and _history_csv(path):
            # "corrupt or truncated" had blamed a file that is whole, just of another kind
            raise UsageError(f"{path} is a history CSV (Tuner.to_csv), not a tuner file: it "
                             f"holds each solve's arm and cost but not the learner's state "
                             f"the regret figures are estimated from; pass the saved tuner "
                             f"file (Tuner.save, relaxtune tune's tuner.json), or read the "
                             f"CSV with bandit.report.read_csv") from exc
        if "not JSON" in str(exc) or "not a relaxtune.tuner file" in str(exc):
            # a matrix or any other file given by mistake: "corrupt or truncated" alone
            # had suggested a damaged tuner file
            what = ("; relaxtune plot draws a results folder or a tuner file (Tuner.save, "
                    "relaxtune tune's tuner.json)")
        raise UsageError(f"{exc}{what}") from exc
    if not len(tuner.history["arm"]):
        # six empty figures and exit status 0 had passed for a drawn run (a tuner saved
        # before its first solve, or a loop that never reached it)
        raise UsageError(f"{path}: the tuner holds no solve (saved before its first one): "
                         f"nothing to draw; save it after the loop has solved")
    folder = Path(out) if out is not None else _tuner_figures(Path(path))
    with _figures_folder(folder, out):
        data = run_data(tuner)
        try:
            paths = draw_run(data, folder, f"{_figure_stem(Path(path))}_")
        except FigureError as exc:
            _unwritable_figure(exc)
            raise
    print(f"{len(paths)} files written to {folder}")
    bf = data["regret"]["best_fixed"]
    if bf["rounds"].size:
        # iterations as whole numbers; seconds (microsecond solves) and work significant
        fmt = no_minus_zero("{:,.0f}" if data["unit"] == "iterations" else "{:.4g}")
        band = (f", {data['level']:.0%} interval "
                f"{format_interval(bf['low'][-1], bf['high'][-1], fmt)}"
                if bf["unbiased"] else " (biased: no interval)")
        at_most = "at most " if bf.get("at_bound") else ""  # no point estimate, its bound
        regret = f"{at_most}{fmt(bf['estimate'][-1])}{band}"
        if not math.isfinite(bf["estimate"][-1]):  # had printed "nan (biased: no interval)"
            regret = bf.get("method") or "undefined"  # "undefined: <why>"
        solves = data["rounds"].size
        # a failed solve is in the cost and the regret, but neither says it failed
        failed = int(len(data["converged"]) - sum(map(bool, data["converged"])))
        unsolved = f" ({failed} did not converge)" if failed else ""
        print(f"{solves} solve{'s' if solves != 1 else ''}{unsolved}, "
              f"{fmt(data['cumulative'][-1])} "
              f"{data['unit']}; regret vs the best fixed arm {regret}")
    return 0


def _figure_stem(path: Path) -> str:
    """A tuner file's name without its suffixes: ``t`` for ``t.json`` and ``t.json.gz`` (a
    gzipped tuner file's figures were not to be named ``t.json_cost.png``)."""
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem or name


def _tuner_figures(path: Path) -> Path:
    """Where ``relaxtune plot`` draws a tuner file's run by default: the ``figures`` folder of
    a ``relaxtune tune`` folder (the file is its ``tuner.json``), as for a study's results
    folder and as ``tune`` itself draws, named ``tuner_*`` beside the run's own figures (which
    also hold the exact comparison a tuner file cannot give); the file's folder for a tuner
    file saved elsewhere.  (A tune folder's figures had been drawn into the folder itself.)"""
    parent = path.parent
    return parent / "figures" if _tune_folder(parent) else parent


def _history_csv(path) -> bool:
    """Does ``path`` start with the header :meth:`bandit.Tuner.to_csv` writes (the history
    schema's names; a vector context as ``context_0``, ``context_1``, ...)?"""
    import csv

    from bandit.report import HISTORY_SCHEMA

    import gzip

    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"  # a .csv.gz, as to_csv writes it
        with (gzip.open if gz else open)(path, "rt", encoding="utf-8", newline="") as f:
            header = next(csv.reader([f.readline(1 << 16)]), [])
    except (OSError, EOFError, UnicodeDecodeError, csv.Error):
        return False
    names = {n for n, _, _ in HISTORY_SCHEMA}
    found = {"context" if h.startswith("context_") else h for h in header}
    return found == names


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


def _unwritable_figure(exc) -> None:
    """``relaxtune plot``: a figure file it cannot write (a full disk, a read-only file) is the
    user's to fix, a usage error of one line; a figure Matplotlib cannot draw stays a failure
    (:class:`~experiments.plots.FigureError`, status 1, --debug for the traceback)."""
    if isinstance(exc.__cause__, OSError):
        raise UsageError(str(exc)) from exc


def _plot(results: Path, markdown: bool = False, out: Path | None = None) -> int:
    from .plots import FigureError, draw_all
    from .cli_arrays import check_parts
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
    with _figures_folder(figures, out):
        try:  # the tables first, then the figures' data (nothing written yet if either is
            # malformed), then the figures
            tables = _markdown_tables(summary) if markdown else []
            # a rounds file cut or edited by hand, named by its key (after the summary's
            # tables and the folder's check, which say what is wrong with those first)
            check_parts(results, summary, arrays)
            paths = draw_all(summary, arrays, figures)
        except FigureError as exc:  # the data were read: a figure failed, named with its file
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
