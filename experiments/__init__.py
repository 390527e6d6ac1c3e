"""Experiments of the relaxtune paper reproduction and the ``relaxtune`` command line.

Modules: :mod:`experiments.problems` (offset-Laplacian generator, the Heat2D simulation),
:mod:`experiments.costs` (full cost matrices C[t, k]), :mod:`experiments.learners` (which
learners each study runs), :mod:`experiments.offset_study` (``learning``/``contextual``),
:mod:`experiments.heat_study` (``heat2d``/``demo``), :mod:`experiments.results` (scoring,
summary.json, tables), :mod:`experiments.plots` (figures from saved data) and
:mod:`experiments.cli` (the ``relaxtune`` console script).
"""
import os as _os
import sys as _sys


def _interrupted_at_start(signum, frame):  # pragma: no cover - exits the process
    """Ctrl-C while the ``relaxtune`` command is still importing (NumPy, SciPy, Numba and the
    kernels: a second or more): the one line and exit status 130 of an interrupted run, not
    a traceback through the imports."""
    _os.write(2, b"relaxtune: interrupted: stopped\n")
    _os._exit(130)


def _quiet_start() -> None:
    """Install :func:`_interrupted_at_start` when this package is imported by the
    ``relaxtune`` console script (not by a program or notebook, which keep Python's own
    Ctrl-C); :func:`experiments.cli.main` puts Python's handler back as it starts, and
    reports an interrupted run itself from there on."""
    import signal

    main = _sys.modules.get("__main__")
    name = _os.path.basename(_sys.argv[0]) if _sys.argv and _sys.argv[0] else ""
    if (name.removesuffix(".exe") != "relaxtune" or getattr(main, "__spec__", None) is not None
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        return
    try:
        signal.signal(signal.SIGINT, _interrupted_at_start)
    except ValueError:  # not the main thread
        pass


_quiet_start()

from solvers._jitcache import ensure_cache_dir as _ensure_cache_dir  # noqa: E402

_ensure_cache_dir(__file__)  # before any kernel is defined (read-only installs)
