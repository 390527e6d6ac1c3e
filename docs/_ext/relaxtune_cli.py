"""Sphinx directive ``relaxtune-help``: the ``--help`` text of a ``relaxtune`` command.

``.. relaxtune-help:: heat2d`` inserts what ``relaxtune heat2d --help`` prints, taken from the
parser in :mod:`experiments.cli` at build time, so the command-line page cannot drift from the
code.  When the build finishes, every subcommand of the parser and every benchmark must have
appeared on some page; a missing one is a warning (an error under ``-W``).
"""
from __future__ import annotations

import contextlib
import io
import os

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)
WIDTH = "96"  # argparse wraps to $COLUMNS: fix it so the page does not depend on the terminal


def help_text(command: str) -> str:
    """What ``relaxtune <command> --help`` prints (``command`` may be empty or ``bench NAME``)."""
    from experiments import cli

    argv = command.split() + ["--help"]
    out = io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                cli.main(argv)
            except SystemExit:  # a benchmark's own parser exits after printing its help
                pass
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    # descriptions come from module docstrings: drop their reST literal quotes on the page
    text = out.getvalue().rstrip().replace("``", "")
    if not text:
        raise ValueError(f"relaxtune {command} --help printed nothing")
    return text


def every_command() -> set[str]:
    """Every subcommand of the parser, benchmarks as ``bench NAME``."""
    import argparse

    from experiments import cli

    ap = cli.build_parser()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    names = {name for name in sub.choices if name != "bench"}
    return names | {f"bench {name}" for name in cli.BENCHES}


class RelaxtuneHelp(SphinxDirective):
    required_arguments = 0
    optional_arguments = 2  # "bench kernels"
    final_argument_whitespace = True

    def run(self):
        command = " ".join(self.arguments)
        try:
            text = help_text(command)
        except Exception as exc:  # noqa: BLE001 - reported as a build warning
            logger.warning("relaxtune-help %r: %s", command, exc, location=self.get_location())
            return []
        documented = self.env.domaindata.setdefault("relaxtune_cli", {})
        documented[command] = self.env.docname
        node = nodes.literal_block(text, text)
        node["language"] = "text"
        return [node]


def _check_all_documented(app, env):
    documented = env.domaindata.get("relaxtune_cli", {})
    missing = sorted(every_command() - set(documented))
    for command in missing:
        logger.warning("relaxtune %s is not on any page (add a relaxtune-help directive)", command)


def _purge(app, env, docname):
    documented = env.domaindata.get("relaxtune_cli", {})
    for command in [c for c, d in documented.items() if d == docname]:
        del documented[command]


def setup(app):
    app.add_directive("relaxtune-help", RelaxtuneHelp)
    app.connect("env-check-consistency", _check_all_documented)
    app.connect("env-purge-doc", _purge)
    return {"parallel_read_safe": False, "env_version": 1}
