"""The results folder of a ``relaxtune`` run: checked writable and held before any
computation, and kept up to date as the run goes (:class:`_Keeper`)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .cli_common import UsageError


# --- checks made before any computation --------------------------------------------------------
#: Suffixes of the files relaxtune reads and writes: a new ``--out`` folder named with one is
#: taken for a slip (a file name where a folder is meant); an existing folder of that name
#: is used as it is.
_FILE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".json", ".csv", ".npz", ".npy",
                  ".mtx", ".gz", ".txt")


def _writable_folder(folder: Path, what: str) -> bool:
    """Create ``folder`` if needed and write a probe file into it; return whether it is new."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} {folder}: exists and is not a folder")
    if what == "--out" and not folder.exists() and folder.suffix.lower() in _FILE_SUFFIXES:
        # (``plot t.json --out fig.png`` had made a folder named fig.png holding three
        # figures, ``tune ... --out summary.json`` a folder of that name)
        raise UsageError(f"--out {folder}: names the folder to write into, and "
                         f"{folder.name} looks like a file name ({folder.suffix}): give a "
                         f"folder, e.g. --out {folder.with_suffix('')}")
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


def _written(name: str) -> bool:
    """Is ``name`` a file a run writes into its results folder (besides ``summary.json``)?"""
    return name in ("tuner.json", "history.csv") or (
        name.startswith("rounds") and Path(name).suffix in (".npz", ".csv"))


def _check_json_target(json_path, out, inputs=()) -> None:
    """``--json FILE`` must not name the results folder, a file the run writes there (its
    ``summary.json`` aside, which gets the same text; any other file there is fine), its
    ``figures`` folder, or one of the run's input files: the summary had been written over
    the folder's tuner file or history (the run then lost: ``relaxtune plot`` refused the
    folder), over the tuner file a ``--resume`` continues, or over a matrix; naming the
    folder itself had failed only after the whole run.  ``out`` ``None``: a fresh folder of
    the run's own (only the inputs are checked)."""
    if json_path is None or json_path == "-":
        return
    target = Path(os.path.realpath(json_path))  # (a symlink names the file it points to)
    folder = Path(os.path.realpath(out)) if out is not None else None
    if folder is None:
        pass
    elif target == folder:
        raise UsageError(f"--json {json_path}: is the results folder (--out); give a file "
                         f"name (the folder gets its own summary.json)")
    elif ((target.parent == folder and _written(target.name))
          or folder / "figures" in (target, *target.parents)):
        raise UsageError(f"--json {json_path}: the run writes its own "
                         f"{'figures' if target.parent != folder else target.name} there, in "
                         f"the results folder {out} (its summary is {out / 'summary.json'}); "
                         f"give another file")
    for given in inputs:
        if given is not None and Path(os.path.realpath(given)) == target:
            raise UsageError(f"--json {json_path}: is one of the run's input files ({given}); "
                             f"the summary would be written over it: give another file name")


def _check_out_not_inputs(out, inputs) -> None:
    """``--out`` must not be the folder that holds the run's input files (matrices,
    right-hand sides, contexts): the run's ``tuner.json``, ``history.csv``, ``summary.json``
    and ``figures/`` had been written among them, and a later ``relaxtune tune folder/*``
    picked up no result file only because their suffixes differ.  Refused before anything
    runs, naming an input there and a folder to give instead."""
    if out is None:
        return
    folder = Path(os.path.realpath(out))
    here = [given for given in inputs
            if given is not None and Path(os.path.realpath(given)).parent == folder]
    if here:
        more = f" and {len(here) - 1} more" if len(here) > 1 else ""
        raise UsageError(f"--out {out}: holds the run's input files ({here[0]}{more}); its "
                         f"results (tuner.json, history.csv, summary.json, figures/) would "
                         f"be mixed with them: give another folder, e.g. --out "
                         f"{Path(out) / 'tuned'}")


def _check_figures_folder(out: Path, no_plots: bool) -> None:
    """The run draws its figures into ``out/figures`` at its end: a file of that name there
    (or a folder it cannot write into) is refused before anything runs — it had failed with
    ``FileExistsError`` (status 1) once the whole run was done."""
    figures = Path(out) / "figures"
    if no_plots or not (figures.exists() or figures.is_symlink()):
        return
    if not figures.is_dir():
        raise UsageError(f"--out {out}: {figures} exists and is not a folder, where the "
                         f"run draws its figures; remove it, or give --no-plots or another "
                         f"--out")
    _writable_folder(figures, "figures folder")


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

    def __init__(self, folder: Path, what: str, busy: str | None = None):
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
            raise UsageError(busy or f"{what} {folder}: another relaxtune run is writing into "
                             f"it; choose another {what} or wait for that run to end") from None
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
