"""Versioned JSON files written atomically (temp file + rename), with clear errors on load."""
from __future__ import annotations

import json
import os
import tempfile

__all__ = ["TunerFileError", "write_atomic", "read_versioned"]


class TunerFileError(ValueError):
    """A saved tuner file is missing, corrupt, of another kind or of an unsupported version."""


def write_atomic(path, payload: dict) -> None:
    """Write ``payload`` as JSON to ``path`` so a crash never leaves a half-written file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_versioned(path, fmt: str, version: int) -> dict:
    """Load a file written by :func:`write_atomic` and check its format tag and version."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            payload = json.load(fh)
    except FileNotFoundError:
        raise TunerFileError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TunerFileError(f"{path}: corrupt or truncated file ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise TunerFileError(f"{path}: not a {fmt} file")
    if payload.get("version") != version:
        raise TunerFileError(f"{path}: file version {payload.get('version')!r} is not supported "
                             f"(this relaxtune reads version {version})")
    return payload
