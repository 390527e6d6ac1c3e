"""The command line of ``relaxtune bench NAME`` (part of :mod:`experiments._bench`, importable
from there): its parser, the argument types the benchmarks share (a time, the ``--json`` file,
the ``--cache`` folder) and the arrays a benchmark cached in that folder, read back."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np


class BenchParser(argparse.ArgumentParser):
    """Argument parser of ``relaxtune bench NAME``: a bad option is one line on standard error
    (``relaxtune: error: bench NAME: ...``, no usage dump) and exit status 2, before anything
    is measured, as for every other subcommand."""

    def __init__(self, name: str, **kwargs):
        super().__init__(prog=f"relaxtune bench {name}", **kwargs)
        self.bench = name

    def error(self, message):
        from .cli import print_error

        print_error(f"bench {self.bench}: {message}")
        raise SystemExit(2)


def seconds(text: str) -> float:
    """Argument type of a time in seconds: a finite number > 0 (``--target``)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return v


def output_file(text: str) -> Path:
    """Argument type of a file a benchmark writes at its end (``--json``): refused at once if
    it is a folder or its folder cannot be created and written, so no measured run is lost."""
    from .cli import UsageError
    from .cli_folders import _writable_folder

    if text == "-":  # a file named "-" had been written; its tables go to standard output
        raise argparse.ArgumentTypeError("'-' (standard output) is not taken here: the tables "
                                         "are printed there; give a file name")
    path = Path(text).expanduser()  # ~ in --json=~/x, which the shell leaves
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name")
    try:
        _writable_folder(path.parent, "folder")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def output_folder(text: str) -> Path:
    """Argument type of a folder a benchmark writes into (``--cache``), checked at once."""
    from .cli import UsageError
    from .cli_folders import _writable_folder

    path = Path(text).expanduser()  # ~ in --json=~/x, which the shell leaves
    try:
        _writable_folder(path, "")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).strip()) from None
    return path


def read_cache(path, keys=None) -> dict | None:
    """The arrays of a benchmark's cached NPZ file (all, or ``keys``), or None if there is
    none or it cannot be read — cut short, another program's file — in which case the caller
    computes it again and replaces it (a note on standard error names the file)."""
    import sys
    import zipfile
    import zlib

    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return {k: z[k] for k in (z.files if keys is None else keys)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        print(f"relaxtune: note: cache file {path} cannot be read ({type(exc).__name__}); "
              "computing it again", file=sys.stderr, flush=True)
        return None
