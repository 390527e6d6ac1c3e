"""How to install an optional extra, as the errors of a missing one say it."""
from __future__ import annotations

import configparser
import shlex
from pathlib import Path

#: the folder holding ``solvers/``, ``bandit/`` and ``experiments/``: the relaxtune checkout
#: when relaxtune runs from one (``pip install -e``, or the repository on ``PYTHONPATH``)
_ROOT = Path(__file__).resolve().parent.parent


def _checkout():
    """The relaxtune checkout this code runs from, or ``None`` (an installed copy, whose
    folder holds other packages' files, not relaxtune's ``setup.cfg``)."""
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read(_ROOT / "setup.cfg", encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None
    return _ROOT if cfg.get("metadata", "name", fallback=None) == "relaxtune" else None


def install_hint(extra: str) -> str:
    """The command that installs relaxtune's optional ``extra`` (``"petsc"``, ``"amg"``).

    relaxtune is installed from its checkout, not from a package index (``docs/install.md``):
    the extra of the package name would send pip to look for relaxtune on PyPI.  Running
    from a checkout, the command names it, so it works from any folder; otherwise it says
    where to run it.

    >>> install_hint("amg").startswith("pip install -e '")
    True
    """
    root = _checkout()
    if root is None:
        return f"pip install -e '.[{extra}]' in the relaxtune checkout (docs/install.md)"
    return f"pip install -e {shlex.quote(f'{root}[{extra}]')}"
