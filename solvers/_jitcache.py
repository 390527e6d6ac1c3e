"""Where Numba keeps the compiled kernels (every kernel is ``numba.njit(cache=True)``).

Numba stores a cached kernel in ``$NUMBA_CACHE_DIR`` if that is set, else in the
``__pycache__`` folder next to the source, else in the user's cache folder
(``~/.cache/numba``).  When none of these can be written — a read-only installation run by a
user whose home is read-only or missing, as in a container started with another user id —
Numba refuses to *define* a cached function, so ``import solvers`` itself failed with
"cannot cache function ...: no locator available".  :func:`ensure_cache_dir` checks this once
per package, before its kernels are defined, and then points Numba at a private folder in the
temporary directory (``relaxtune-numba-<uid>``, or a folder of the process's own if that name
is taken by someone else); if even that cannot be written, the import fails with an error that
says what to set.

It also keeps Ctrl-C working while Numba compiles a kernel (the first call of each, when it is
not cached yet): see :func:`_redeliver_interrupt`.
"""
from __future__ import annotations

import _thread
import atexit
import os
import shutil
import signal
import sys
import tempfile
import threading
import types

import numba

try:  # Numba's own locator search (an internal module: without it, Numba decides alone)
    from numba.core.caching import FunctionCache
except ImportError:  # pragma: no cover - another Numba layout
    FunctionCache = None


def _probe():  # a function whose source file stands for a package's kernel modules
    pass


def _cacheable(source_file: str) -> bool:
    """Whether Numba finds a writable cache location for a function defined in ``source_file``."""
    if FunctionCache is None:
        return True  # nothing to ask: the kernels' own definitions will say
    probe = types.FunctionType(_probe.__code__.replace(co_filename=source_file), {}, "_probe")
    try:
        FunctionCache(probe)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return False
    return True


def _private_folder(parent: str) -> str | None:
    """``parent/relaxtune-numba-<uid>``, created for this user only, or None if unusable."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    path = os.path.join(parent, f"relaxtune-numba-{uid if uid is not None else 'cache'}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return None
    # in a shared temporary directory, use only a real folder of our own
    if not os.path.isdir(path) or os.path.islink(path) or (uid is not None and st.st_uid != uid):
        return None
    try:
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return None
    return path


def ensure_cache_dir(source_file: str) -> None:
    """Make sure Numba can cache the kernels of the package that contains ``source_file``.

    Does nothing when Numba's own search finds a writable place (the usual case), so a user's
    ``NUMBA_CACHE_DIR``, a writable installation or a writable home are used as Numba would.

    Raises
    ------
    ImportError
        When neither those nor the temporary directory can be written; the message names
        ``NUMBA_CACHE_DIR``.
    """
    if _cacheable(source_file):
        return
    try:
        parent = tempfile.gettempdir()
    except OSError:  # gettempdir raises FileNotFoundError when no candidate is writable
        parent = None
    folder = _private_folder(parent) if parent is not None else None
    if folder is None and parent is not None:
        # the shared name is taken (another user's folder, a link): a folder for this process
        # alone, removed at exit
        try:
            folder = tempfile.mkdtemp(prefix="relaxtune-numba-", dir=parent)
        except OSError:
            folder = None
        else:
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
    if folder is not None:
        # the environment too: Numba re-reads it when it changes, and child processes (MPI
        # ranks, multiprocessing workers) then share the folder
        os.environ["NUMBA_CACHE_DIR"] = numba.config.CACHE_DIR = folder
        if _cacheable(source_file):
            return
    raise ImportError(
        f"Numba cannot cache relaxtune's compiled kernels: {os.path.dirname(source_file)}, "
        f"the user cache folder and the temporary directory are not writable; set "
        f"NUMBA_CACHE_DIR to a writable folder")


def _redeliver_interrupt(unraisable) -> None:
    """``sys.unraisablehook``: raise again, in the main thread, a ``KeyboardInterrupt`` that
    Python swallowed inside one of llvmlite's callbacks.

    Numba compiles a kernel through LLVM, which calls back into Python (llvmlite's object
    cache hooks) to hand over the machine code.  A Ctrl-C whose handler runs inside such a
    callback raises there, and Python cannot propagate an exception out of a ``ctypes``
    callback: it printed "Exception ignored on calling ctypes callback function" and went on,
    so the Ctrl-C was lost, or Numba then failed with ``RuntimeError: no compiled object yet
    for <Library ...>`` (the callback had not stored the code) — a solve interrupted by the
    user ended with an error that looked like a bug, and ``relaxtune`` exited with status 1
    instead of 130.  Here the exception is raised again (by a one-shot SIGINT handler) at the
    main thread's first step outside the callback, so the interrupted call raises it as at
    any other moment.  Every other unraisable exception goes to the hook installed before.
    """
    exc = unraisable.exc_value
    if not (isinstance(exc, KeyboardInterrupt)
            and str(getattr(unraisable.object, "__module__", "")).startswith("llvmlite")
            and threading.current_thread() is threading.main_thread()):
        _previous_hook(unraisable)
        return
    handler, profiler = signal.getsignal(signal.SIGINT), sys.getprofile()

    def reraise(signum, frame):
        signal.signal(signal.SIGINT, handler)
        raise exc

    def watch(frame, event, arg):
        # every call and return of the main thread until it has left this hook, which ctypes
        # calls inside the callback (a signal handler run there would be lost again)
        while frame is not None:
            if frame.f_code is _HOOK_CODE:
                return
            frame = frame.f_back
        sys.setprofile(profiler)
        _thread.interrupt_main(signal.SIGINT)

    try:
        if handler is None:  # installed outside Python: it could not be put back
            raise TypeError
        signal.signal(signal.SIGINT, reraise)
    except (ValueError, OSError, TypeError):  # no Python signal handling here: as before
        _previous_hook(unraisable)
        return
    sys.setprofile(watch)


_HOOK_CODE = _redeliver_interrupt.__code__
_previous_hook = sys.unraisablehook
sys.unraisablehook = _redeliver_interrupt
