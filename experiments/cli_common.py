"""What every part of the ``relaxtune`` command line shares: the exit statuses, the usage
error and its one-line report, standard streams that cannot print everything (a terminal
that is not UTF-8, a closed descriptor, a reader that went away) and SIGTERM as an interrupt.

The subcommands live in :mod:`experiments.cli` (the parser and the entry point),
:mod:`experiments.cli_studies`, :mod:`experiments.cli_tune`, :mod:`experiments.cli_plot`
and :mod:`experiments.cli_bench`.
"""
from __future__ import annotations

import argparse
import codecs
import os
import sys
import time
import traceback
import unicodedata


#: Exit statuses besides 0 (the last three as a shell reports a death by SIGINT / SIGTERM /
#: SIGPIPE).
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_PIPE = 1, 2, 130, 143, 141
#: ``relaxtune tune`` ran to its end and saved everything, but the tuned run left some
#: systems unsolved (not converged): a script must not take the results for solutions.
EXIT_UNSOLVED = 3


# --- errors -----------------------------------------------------------------------------------
class UsageError(Exception):
    """Bad input found before any computation (exit status 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError` (one line, no usage dump)."""

    def parse_known_args(self, args=None, namespace=None):
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        # a file whose name starts with '-' is taken for an option: the error had been
        # "the following arguments are required: MATRIX", the file given in plain sight
        dashed = [a for a in getattr(self, "_argv", ()) if isinstance(a, str)
                  and a.startswith("-") and a != "-" and os.path.isfile(a)]
        if dashed:
            message += (f" ({dashed[0]} is a file, but a name that starts with '-' is taken "
                        f"for an option: give it as ./{dashed[0]}, or put -- before the file "
                        f"names)")
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


def ranks_meet(timeout: float = 10.0) -> None:
    """Under a launcher with several ranks, wait (at most ``timeout`` seconds) until every rank
    has reached its error exit.

    mpiexec ends the whole job at the first non-zero exit: a rank that got there before rank 0
    had printed the one error line it alone prints took the line with it (seen on a loaded
    machine).  The wait is a non-blocking barrier polled against the clock, so an error that
    only some ranks reach costs ``timeout`` and never hangs.
    """
    if _env_size() <= 1:
        return
    try:
        from mpi4py import MPI
        if MPI.Is_finalized():
            return
        request = MPI.COMM_WORLD.Ibarrier()
    except Exception:  # noqa: BLE001 - no MPI to meet through: exit as before
        return
    end = time.monotonic() + timeout
    while not request.Test():
        if time.monotonic() > end:
            return
        time.sleep(0.005)


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


def shown(text: str) -> str:
    """``text`` as standard output prints it: spelled in ASCII (``ω`` -> ``omega``) where the
    command line set standard output to spell what it cannot encode, else unchanged.

    Tables measure their columns on it, so they stay aligned in a terminal that is not UTF-8
    (the columns had been measured for ``ω`` and printed with ``omega``).

    >>> import contextlib, io
    >>> ascii_terminal = io.TextIOWrapper(io.BytesIO(), "ascii", "relaxtune.ascii")
    >>> with contextlib.redirect_stdout(ascii_terminal):
    ...     text = shown("fixed ω=1.4")
    >>> text
    'fixed omega=1.4'
    """
    stream = sys.stdout
    if getattr(stream, "errors", None) != "relaxtune.ascii":
        return text
    return text.encode(stream.encoding, "relaxtune.ascii").decode(stream.encoding)


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


def _progress_bars(args) -> bool:
    """Draw progress bars?  Not with ``--quiet``, and only on a terminal: into a file or a
    pipe (a batch job's log) every redraw of a bar is one more line of carriage-return
    frames, about a kilobyte a run that nobody sees animated."""
    if args.quiet:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def _summary_on_stdout(args) -> None:
    """``--json -``: the summary is all that standard output gets, for a pipe to read (the
    table, the closing lines and the progress bars are left out, as with --quiet); a file
    named ``-`` had been written instead."""
    args.json_stdout = getattr(args, "json", None) == "-"
    if args.json_stdout:
        args.json, args.quiet = None, True


def _print_summary(summary: dict) -> None:
    """The summary on standard output, as ``summary.json`` holds it."""
    import json

    from .results import _json_default

    sys.stdout.write(json.dumps(summary, indent=2, default=_json_default) + "\n")
    sys.stdout.flush()


def _trace(args, exc):
    if getattr(args, "debug", False):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a batch system's time limit, ``kill``): handled like Ctrl-C."""


def _on_sigterm(signum, frame):
    raise Terminated()


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


#: refusal of a command that cannot share its work between MPI ranks
_ONE_PROCESS = ("{command} runs in one process; under mpiexec only heat2d and demo with "
                "--backend petsc share the work between the ranks")
