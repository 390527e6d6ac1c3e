"""Versioned strict-JSON files written atomically, and read back with clear errors.

:func:`write_atomic` writes the whole file to a temporary file next to the target, flushes it
to disk and renames it over the target in one step, so a reader (or a crash, or a ``kill -9``)
sees either the old file or the new one, never a mix.  The temporary file is named after the
target, this machine and the writing process (``.NAME.HOST.PID.RANDOM.tmp``); one left behind
by a writer that died is removed by the next save of the same target.  The new file keeps the
permission bits of the file it replaces where the file system allows it (a new file gets the
usual ``0o666`` minus the umask).
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import stat

__all__ = ["TunerFileError", "write_atomic", "write_bytes_atomic", "read_versioned",
           "stale_temporaries", "gzip_name", "gunzip"]


class TunerFileError(ValueError):
    """A saved tuner file is missing, unreadable, corrupt, inconsistent, of another kind or of
    an unsupported version; the message names the file and the problem.

    Examples
    --------
    >>> import os, tempfile, bandit
    >>> path = os.path.join(tempfile.mkdtemp(), "tuner.json")
    >>> with open(path, "w") as f:
    ...     _ = f.write("{not json")
    >>> try:
    ...     bandit.Tuner.load(path)
    ... except bandit.TunerFileError as exc:
    ...     print(str(exc).replace(path, "tuner.json")[:42])
    tuner.json: corrupt or truncated file (not
    """


def _host() -> str:
    return socket.gethostname().replace(os.sep, "_").replace(".", "_") or "host"


def _tmp_prefix(name: str) -> str:
    return f".{name}."


def stale_temporaries(path) -> list[str]:
    """Temporary files of ``path`` left by writers on this machine that no longer run.

    A temporary file of a live process (another save in progress) is never listed; neither
    is one written on another machine (a shared file system), whose process cannot be
    checked from here.
    """
    target = os.path.realpath(os.fspath(path))
    folder, name = os.path.split(target)
    prefix, host = _tmp_prefix(name), _host()
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        parts = entry[len(prefix):-len(".tmp")].rsplit(".", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if not _alive(int(parts[1])):
            stale.append(os.path.join(folder, entry))
    return stale


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be saving right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: the process exists under another user
        return True
    return True


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write fewer)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_atomic(path, payload: dict) -> None:
    """Write ``payload`` as strict JSON (no NaN/Infinity) to ``path``, atomically.

    Raises
    ------
    ValueError
        If ``payload`` holds a non-finite float or a non-JSON object (nothing is written).
    IsADirectoryError, FileNotFoundError, PermissionError
        If ``path`` is a folder, its folder does not exist or cannot be written.
    """
    data = (json.dumps(payload, allow_nan=False) + "\n").encode("utf-8")  # fails before any I/O
    write_bytes_atomic(path, data)


def check_path(path, reading: bool = False) -> None:
    """Raise ``TypeError`` unless ``path`` is a file name (``str``, ``bytes`` or
    ``os.PathLike``): an open file (pandas' ``to_csv`` takes one) had met ``os.fsdecode``'s
    "expected str, bytes or os.PathLike object, not TextIOWrapper"."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        name = getattr(path, "name", None)
        hint = f" (this one's is {name!r})" if isinstance(name, str) else ""
        why = ("the file's first bytes say how it is compressed, and its name is given in "
               "every refusal" if reading else
               "the file is written beside its place and renamed over it, which an open file "
               "or a stream cannot take")
        raise TypeError(f"cannot {'read from' if reading else 'save to'} a "
                        f"{type(path).__name__}: give the file's name (a str or a "
                        f"pathlib.Path){hint}; {why}")


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (see the module notes); a ``path``
    that is a device or a named pipe (``/dev/null``, ``/dev/stdout``) is written into instead.

    Raises
    ------
    IsADirectoryError, FileNotFoundError, PermissionError
        If ``path`` is a folder, its folder does not exist or cannot be written.
    """
    check_path(path)
    path = os.fsdecode(path)  # a bytes path too, as open() takes (the names below are str)
    if not path:  # realpath would make it the working folder
        raise FileNotFoundError("cannot save to an empty path; give a file name")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        # a device or named pipe (/dev/null, /dev/stdout, a FIFO a reader waits on) is
        # written into: a file renamed over it would replace the device itself
        with open(path, "wb") as fh:
            fh.write(data)
        return
    target = os.path.realpath(path)  # a symbolic link stays a link to the new file
    folder, name = os.path.split(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"cannot save to {path}: it is a folder; give a file name")
    if not os.path.isdir(folder):
        if os.path.exists(folder):  # (it had said "does not exist" of a file in the way)
            raise NotADirectoryError(f"cannot save to {path}: {folder} is a file, not a folder")
        raise FileNotFoundError(f"cannot save to {path}: folder {folder} does not exist")
    for old in stale_temporaries(target):
        try:
            os.unlink(old)
        except FileNotFoundError:
            pass  # removed by a concurrent save
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not os.access(target, os.W_OK):  # as open(path, "w") would refuse
        raise PermissionError(f"cannot save to {path}: the file is read-only")
    tmp = os.path.join(folder, f"{_tmp_prefix(name)}{_host()}.{os.getpid()}."
                               f"{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # mode minus the umask
    except PermissionError:  # the message had named the temporary file, not the folder
        raise PermissionError(f"cannot save to {path}: folder {folder} is not writable") from None
    except OSError as exc:  # a read-only file system, /proc, ...: named the temporary file too
        raise _named(exc, f"cannot save to {path}: cannot create a file in folder {folder} "
                          f"({exc.strerror or exc})") from None
    try:
        try:
            if st is not None:
                # best effort: keep mode, owner and group (file systems without permissions,
                # such as vfat or some network mounts, refuse fchmod: the save had failed)
                with contextlib.suppress(OSError):
                    os.fchmod(fd, stat.S_IMODE(st.st_mode))
                with contextlib.suppress(OSError):
                    os.fchown(fd, st.st_uid, st.st_gid)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)  # atomic on POSIX and Windows
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not str(path) in str(exc):
            # a full disk or a quota: "[Errno 28] No space left on device" named no file
            raise _named(exc, f"cannot save to {path}: {exc.strerror or exc}; the file "
                              "is unchanged") from None
        raise
    _sync_folder(folder)


def _named(exc: OSError, message: str) -> OSError:
    """``exc``'s class with ``message`` (the path the caller gave) and its errno kept."""
    new = type(exc)(message)
    new.errno = exc.errno  # (strerror left unset: str() would print it instead of message)
    return new


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_bytes(path, what: str, error=TunerFileError) -> bytes:
    """The bytes of the file ``path``, or ``error`` naming it and the problem (an empty
    path, missing, a folder, unreadable); ``what`` says what the file should be."""
    path = os.fspath(path)
    if not path:
        raise error(f"an empty path is no {what}; give the file's name")
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None


#: The first bytes of files a tuner file is mistaken for (the inputs of ``relaxtune tune``,
#: its figures), and what they are.
_OTHER_KINDS = ((b"%%matrixmarket", "a Matrix Market file (a matrix or a vector)"),
                (b"pk\x03\x04", "a zip archive (such as scipy's .npz of a matrix)"),
                (b"\x93numpy", "a NumPy .npy array"),
                (b"\x1f\x8b", "a gzip-compressed file (such as a .mtx.gz matrix)"),
                (b"\x89png", "a PNG image"), (b"%pdf-", "a PDF document"),
                # the history beside a saved tuner (``history.csv``), its header's first names
                (b"round,arm,", "a run's history as CSV (Tuner.to_csv, a relaxtune tune "
                                "folder's history.csv); the tuner itself is the file "
                                "Tuner.save wrote (the folder's tuner.json)"))


def _other_kind(raw: bytes):
    """What a file that is not JSON holds, from its first bytes, or ``None``."""
    head = raw[:16].lower()
    return next((kind for magic, kind in _OTHER_KINDS if head.startswith(magic)), None)


def gzip_name(path) -> bool:
    """Is ``path`` named as a gzip file (``.gz``, in any case)?  :meth:`bandit.Tuner.save` and
    :meth:`bandit.Tuner.to_csv` compress what they write to such a name."""
    return os.fsdecode(os.fspath(path)).lower().endswith(".gz")


def gunzip(path, raw: bytes):
    """``(content, compressed)``: ``raw`` decompressed when it starts with gzip's magic bytes
    (whatever the file's name: a tuner file saved to ``t.json.gz``, or one saved there as
    plain JSON before save compressed such a name), else ``raw`` itself."""
    if raw[:2] != b"\x1f\x8b":
        return raw, False
    import gzip
    import zlib

    try:
        return gzip.decompress(raw), True
    except (OSError, EOFError, zlib.error) as exc:
        raise TunerFileError(f"{path}: corrupt or truncated file (a damaged gzip file: "
                             f"{exc})") from None


def read_versioned(path, fmt: str, version: int, *, oldest: int = 1) -> dict:
    """Load a JSON file with ``{"format": fmt, "version": v}``, ``oldest <= v <= version``.

    Raises
    ------
    TunerFileError
        Naming the file and the problem: missing, a folder, unreadable, not JSON, of another
        format, or of a version this code does not read.
    """
    path = os.fspath(path)
    raw = read_bytes(path, f"{fmt} file")
    raw, zipped = gunzip(path, raw)
    if not raw.strip():
        raise TunerFileError(f"{path}: empty file (corrupt or truncated)")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors, and so is Python's limit on
        # the digits of an integer (a run of 5,000 digits in a corrupted file had escaped
        # as a bare ValueError naming no file)
        kind = _other_kind(raw)
        how = ", gzip-compressed" if zipped else ""
        if kind is not None:  # "corrupt or truncated" had blamed a whole file of another kind
            raise TunerFileError(f"{path}: not a {fmt} file: it is {kind}{how} "
                                 f"(not JSON)") from None
        raise TunerFileError(f"{path}: corrupt or truncated file "
                             f"({'gzip-compressed, ' if zipped else ''}not JSON: {exc})") from None
    except RecursionError:
        raise TunerFileError(f"{path}: corrupt file (JSON nested too deeply)") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise TunerFileError(f"{path}: not a {fmt} file (no format tag {fmt!r})")
    v = payload.get("version")
    if type(v) is not int:
        raise TunerFileError(f"{path}: file version {v!r} is not an integer")
    if v > version:
        raise TunerFileError(f"{path}: written by a newer relaxtune (file version {v}; this "
                             f"relaxtune reads versions {oldest} to {version})")
    if v < oldest:
        raise TunerFileError(f"{path}: file version {v} is not supported (this relaxtune "
                             f"reads versions {oldest} to {version})")
    return payload
