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

Numba decides whether a cached kernel is still fresh from the source of the one file that
defines it.  A relaxtune kernel also depends on other files: module constants it reads
(``solvers._kernels.STALL_CHECKS`` in the SSOR-PCG and PCG kernels), helper kernels inlined
into it (``stalled``, ``gap_check``, ``_row``), functions it calls.  After an edit, a
``git pull`` or a checkout that changed only such a file, an editable installation had loaded
the old machine code of every kernel that uses it.  So the
kernels of relaxtune's packages (:data:`KERNEL_PACKAGES`) are found through
:class:`PackageLocator`: Numba's own locators choose the folder as before, and the freshness
stamp Numba keeps in each cache index gets a digest of the source of every module of those
packages.  Any change to any of them makes every cached kernel stale, and Numba compiles it again
on its first call as it does for an edit of the kernel's own file.  The digest is in the cache
files' names as well, so the entries of one source are never read for another, even by a process
that starts while another is writing them (pytest-xdist workers, MPI ranks: Numba writes an
entry's index before its data); files of another source are removed once they have not been
written for an hour (:func:`_prune`).  Read-only installations and concurrent writers are
handled by Numba's own atomic writes.  (A list of locators set
in ``NUMBA_CACHE_LOCATOR_CLASSES`` replaces Numba's own and this one with it.)

It also keeps Ctrl-C working while Numba compiles a kernel (the first call of each, when it is
not cached yet): see :func:`_redeliver_interrupt`; and holds Ctrl-C while Numba fills its
compiler's tables (the first step of a process's first solve): see
:func:`_hold_signals_in_refresh`.
"""
from __future__ import annotations

import _thread
import atexit
import contextlib
import hashlib
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import types

import numba

try:  # Numba's own locator search (an internal module: without it, Numba decides alone)
    from numba.core import caching as _caching
    from numba.core.caching import FunctionCache
except ImportError:  # pragma: no cover - another Numba layout
    _caching = FunctionCache = None

#: The packages whose kernels are stamped with :func:`source_digest` (siblings of this one).
KERNEL_PACKAGES = ("solvers", "bandit")
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGE_DIRS = frozenset(os.path.normcase(os.path.join(_ROOT, name)) for name in KERNEL_PACKAGES)
_digest = None


def source_digest() -> str:
    """A digest of every ``.py`` file of :data:`KERNEL_PACKAGES` (names and contents).

    Computed once per process, at the first kernel definition (1.3 ms for the two packages on
    the machine of the benchmarks, most of it reading the files).  Every module is included,
    not only those that define kernels: a kernel sees the constants and functions of whatever
    its module imports, and a list of "kernel modules" kept by hand would drift.
    """
    global _digest
    if _digest is None:
        h = hashlib.blake2b(digest_size=16)
        for name in KERNEL_PACKAGES:
            folder = os.path.join(_ROOT, name)
            try:
                entries = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".py"))
            except OSError:
                entries = []
            for entry in entries:
                try:
                    with open(os.path.join(folder, entry), "rb") as f:
                        data = f.read()
                except OSError:  # a file removed meanwhile: its absence is the state
                    continue
                h.update(f"{name}/{entry}\0{len(data)}\0".encode())
                h.update(data)
        _digest = h.hexdigest()
    return _digest


if _caching is not None and hasattr(_caching, "_CacheLocator"):
    # the implementation class whose locator list Numba searches for a cache=True function
    _CacheImpl = FunctionCache._impl_class

    class PackageLocator(_caching._CacheLocator):
        """Numba's locator for a relaxtune kernel, with the packages' digest in its stamp.

        Wraps the locator Numba would choose without it (so ``NUMBA_CACHE_DIR``, the
        ``__pycache__`` folder or the user cache are used exactly as before); only
        :meth:`get_source_stamp` differs: ``(Numba's stamp of the file, source_digest())``.
        Numba stores the stamp in each index file and ignores (then overwrites) an index whose
        stamp differs.  Functions outside :data:`KERNEL_PACKAGES` are left to Numba.
        """

        def __init__(self, inner):
            self._inner = inner

        def ensure_cache_path(self):
            self._inner.ensure_cache_path()
            _prune(self._inner.get_cache_path())

        def get_cache_path(self):
            return self._inner.get_cache_path()

        def get_source_stamp(self):
            return (self._inner.get_source_stamp(), source_digest())

        def get_disambiguator(self):
            # the digest in the file names too, not only in the stamp: Numba writes a new
            # entry's index before its data file, and after a stale index it numbers the data
            # files from 1 again, so a process starting in between (another MPI rank, an
            # xdist worker) read the fresh index and loaded the *old* machine code from the
            # data file of that name; with the digest in the name no file of one source is
            # ever read for another
            return f"{self._inner.get_disambiguator()}-{source_digest()[:DIGEST_TAG]}"

        @classmethod
        def from_function(cls, py_func, py_file):
            folder = os.path.normcase(os.path.dirname(os.path.abspath(py_file)))
            if folder not in _PACKAGE_DIRS:
                return None
            for other in _CacheImpl._locator_classes:
                if other.__name__ == cls.__name__:  # this class (or its copy of a reload)
                    continue
                inner = other.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner)
            return None

    # first, so that it sees every function; once, even if this module is loaded again
    if not any(c.__name__ == "PackageLocator" for c in _CacheImpl._locator_classes):
        _CacheImpl._locator_classes.insert(0, PackageLocator)
else:  # pragma: no cover - another Numba layout: Numba's per-file stamps alone
    PackageLocator = None


#: Hex digits of :func:`source_digest` in a cached kernel's file names.
DIGEST_TAG = 12
#: Cache files of another source older than this (seconds) are removed (:func:`_prune`).
STALE_AFTER = 3600.0
# (a name without the digest is from a version before it was in the names)
_STAMPED = re.compile(r"-\d+(?:-([0-9a-f]{%d}))?\.py\d+.*\.nb[ci]$" % DIGEST_TAG)
_pruned = set()


def _prune(folder: str) -> None:
    """Remove, once per folder and process, the cache files of the packages' kernels compiled
    from another source (another digest in the name) and not written for an hour.

    With the digest in the file names an edit no longer overwrites the previous files, so
    without this every edit (every ``git pull``) would leave a full set of compiled kernels
    behind (about 15 MB).  The hour spares a process of another source that is still running
    (a job started before the pull); if it loses a file anyway, Numba compiles that kernel again
    (a missing index or data file is a cache miss).  Only names of this module's pattern are
    touched, in the folder Numba chose for the packages' own kernels.
    """
    if folder in _pruned:
        return
    _pruned.add(folder)
    tag = source_digest()[:DIGEST_TAG]
    cutoff = time.time() - STALE_AFTER
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = _STAMPED.search(entry.name)
        if m is None or m.group(1) == tag:
            continue
        try:
            if entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
        except OSError:  # removed by another process meanwhile, or not ours to remove
            pass


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


def raise_interrupt(exc: SystemError) -> None:
    """Raise the ``KeyboardInterrupt`` (Ctrl-C, or the command line's SIGTERM) behind ``exc``,
    if there is one; return otherwise.

    A signal's handler runs at the first step of Python code after the signal arrives; in a
    kernel's :func:`solvers._kernels.look_for_signals` that can be inside Numba's own Python
    helpers for the object-mode block (seen: ``numba.core.serialize._numba_unpickle``), whose
    exception the compiled code does not pass on: the kernel's call then fails with
    ``SystemError: ... returned a result with an exception set``, the ``KeyboardInterrupt``
    as its cause — a user's Ctrl-C read as an internal error.  The solvers' wrappers call this on any
    ``SystemError`` of a kernel's call, so Ctrl-C leaves a solve as ``KeyboardInterrupt``
    wherever in the look it was handled.

    Examples
    --------
    >>> try:
    ...     try:
    ...         raise KeyboardInterrupt
    ...     except KeyboardInterrupt as ki:
    ...         raise SystemError("returned a result with an exception set") from ki
    ... except SystemError as exc:
    ...     try:
    ...         raise_interrupt(exc)
    ...     except KeyboardInterrupt:
    ...         print("KeyboardInterrupt")
    KeyboardInterrupt
    """
    cause = exc.__cause__ if exc.__cause__ is not None else exc.__context__
    if isinstance(cause, KeyboardInterrupt):
        raise cause.with_traceback(cause.__traceback__) from None


@contextlib.contextmanager
def signals_held():
    """Ctrl-C and SIGTERM wait until the block ends (main thread only; a handler installed
    outside Python is left alone), then reach the handler they would have reached."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    previous = {s: signal.signal(s, lambda signum, frame: held.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(s) is not None}  # None: set outside Python, kept
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if held:
            handler = previous[held[0]]
            if callable(handler):
                # called here rather than re-raised as a signal: a handler run later, at a
                # step of the interpreter's choosing, may run inside a finaliser, which
                # swallows its KeyboardInterrupt
                handler(held[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(held[0])


def _hold_signals_in_refresh() -> None:
    """Make Numba's CPU contexts fill and refresh their tables with Ctrl-C and SIGTERM held.

    Numba refreshes its target and typing contexts before it loads or compiles any kernel;
    the first refresh of a process fills their tables (0.2-0.5 s of a process's first solve:
    importing modules, walking registries through generators), and nothing there survives an
    exception.  A Ctrl-C landing in it (4 of 60 Ctrl-Cs pressed at a random moment of a
    process's first solve) left a generator closed or a module half imported, and every later
    solve of the process failed with ``RuntimeError: generator raised StopIteration`` or
    ``KeyError: duplicate registration for ...`` until Python was restarted.  The two
    contexts' ``refresh`` (on these objects only: their class, and other targets, are left
    alone) now run inside :func:`signals_held`, so the Ctrl-C is raised once the tables are
    whole and the next solve works.  A later refresh takes ~0.1 ms; holding costs two handler
    swaps per kernel load, none per solve.
    """
    try:
        from numba.core.registry import cpu_target

        contexts = (cpu_target.target_context, cpu_target.typing_context)
    except (ImportError, AttributeError):  # pragma: no cover - another Numba layout
        return
    for ctx in contexts:
        refresh = ctx.refresh
        if getattr(refresh, "signals_held", False):  # this module loaded again
            continue

        def held(refresh=refresh):
            with signals_held():
                refresh()

        held.signals_held = True
        ctx.refresh = held


_hold_signals_in_refresh()

_HOOK_CODE = _redeliver_interrupt.__code__
_previous_hook = sys.unraisablehook
sys.unraisablehook = _redeliver_interrupt
