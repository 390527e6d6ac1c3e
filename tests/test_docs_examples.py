"""The Python examples of the user guide run as written, so the pages cannot drift from the code.

Every ```` ```python ```` block of the pages below runs, in page order, in one namespace per
page (a later block may use what an earlier one made, as a reader does). Sizes are made small
by named substitutions, each of which must still find its text; fragments that continue the
reader's own loop (``assemble(step)``, ``systems``) get a small loop of the heat equation.
A failure names the page and the line of the block. Output the page shows as printed must
have the shape (everything but the numbers) of what the example prints today. The quick
start's block is the README's (``test_docs.test_quick_start_runs_the_readme_example``), which
``test_readme`` runs.
"""
import pathlib
import re
import textwrap
import traceback

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"

#: Blocks not run here: (page, a phrase of the block) -> why.
SKIP = {
    ("quickstart.md", "stands in for your simulation"): "the README's example (test_readme)",
    ("petsc.md", "mpiexec -n 2"): "a script for mpiexec (tests/test_petsc_mpi.py runs MPI)",
    ("guarantees.md", "run_simulation()"): "a pattern around the reader's own program",
}

#: Sizes made small: (page, text, replacement); each text must occur in the page.
SMALLER = [
    ("heat2d.md", "Heat2D(nx=50, steps=5000)", "Heat2D(nx=12, steps=30)"),
    ("heat2d.md", "Heat2DPetsc(nx=100, steps=500, t_end=1.0)",
     "Heat2DPetsc(nx=12, steps=10, t_end=1.0)"),
    ("regret.md", "Heat2D(nx=50, steps=5000)", "Heat2D(nx=16, steps=300)"),
    ("regret.md", "Heat2D(nx=20, steps=50)", "Heat2D(nx=12, steps=20)"),
    ("solvers.md", "gallery.laplacian_2d(100)", "gallery.laplacian_2d(30)"),
    ("preconditioners.md", "gallery.laplacian_2d(100)", "gallery.laplacian_2d(30)"),
    ("preconditioners.md", "for t in range(100):", "for t in range(30):"),
    # the work model's measurement scripts, on one small case of each kind
    ("preconditioners.md", '("2-D Laplacian 300²", gallery.laplacian_2d(300))', ""),
    ("preconditioners.md", "for m in (8, 16, 22, 30, 46)]", "for m in (8,)]"),
    ("preconditioners.md", "for m in (50, 100, 200, 400)]", "for m in (20,)]"),
    ("preconditioners.md", "for m in (10, 12, 16, 22, 30, 46)]", "for m in (8,)]"),
    ("preconditioners.md", "for m in (16, 22, 30, 46):", "for m in (8,):"),
    ("preconditioners.md", "for nx in (100, 200, 400):", "for nx in (20,):"),
    ("petsc.md", "crank_nicolson_2d(100, 1e-2)", "crank_nicolson_2d(30, 1e-2)"),
]

#: What a fragment takes from the reader's own program: (page, a phrase of the first block
#: that needs it) -> code run just before that block.
READER = {
    # a time loop: assemble(step) -> (A, b, context), n_steps steps, u the state
    ("bandit.md", "for step in range(n_steps)"): """
        import numpy as np
        from experiments.problems import Heat2D
        _sim = Heat2D(nx=12, steps=12)
        n_steps, u = _sim.steps, _sim.initial()
        def assemble(step):
            return _sim.system(step, u)
    """,
    # a loop that re-assembles one sparsity pattern: assemble(t) -> a new scipy matrix
    ("solvers.md", "prepare(assemble(0)"): """
        import numpy as np
        import solvers
        _K = solvers.gallery.laplacian_2d(12).tocsr()
        steps, u = 5, np.zeros(_K.shape[0])
        def assemble(t):
            return (_K * (1.0 + 0.01 * t)).tocsr()
        def b(u):
            return u + 1.0
    """,
    # systems: a list of (A, b)
    ("petsc.md", "for A, b in systems"): """
        import numpy as np
        import solvers
        _systems = [solvers.gallery.laplacian_2d(10 + t) for t in range(3)]
        systems = [(A, np.ones(A.shape[0])) for A in _systems]
    """,
    # a loaded tuner and its simulation, part way through
    ("guarantees.md", "signal.signal"): """
        import bandit
        from experiments.problems import Heat2D
        sim = Heat2D(nx=12, steps=12)
        tuner, u = bandit.Tuner(solver="ssor_pcg"), sim.initial()
    """,
}

#: The user guide, in the order index.md gives it.
PAGES = ["quickstart.md", "heat2d.md", "regret.md", "solvers.md", "bandit.md",
         "preconditioners.md", "petsc.md", "guarantees.md"]


def blocks(page):
    """``(line, code)`` of every Python block of ``page``, sizes already made small."""
    text = (DOCS / page).read_text(encoding="utf-8")
    for where, old, new in SMALLER:
        if where == page:
            assert old in text, f"docs/{page}: the example no longer says {old!r}"
            text = text.replace(old, new)
    return [(text.count("\n", 0, m.start()) + 2, m.group(1))
            for m in re.finditer(r"```python\n(.*?)```", text, flags=re.S)]


def shape(line):
    """A printed line with its numbers (signs, thousands separators, decimals) as ``#`` and
    the word after a number in the singular ("1 run", "120 runs")."""
    line = re.sub(r"[-−]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?", "#", line.rstrip())
    return re.sub(r"# (\w+?)s\b", r"# \1", line)


def printed(page):
    """``(line, text)`` of the output a page says its example printed: a ``text`` block right
    after a sentence ending in "printed"."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1))
            for m in re.finditer(r"printed\s*\n\s*```text\n(.*?)```", text, flags=re.S)]


def skipped(page, code):
    return next((why for (where, phrase), why in SKIP.items()
                 if where == page and phrase in code), None)


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # examples write run.png, tuner.json, figures/
    found = blocks(page)
    assert found, f"docs/{page} lost its Python examples"
    namespace = {"__name__": "__docs__"}
    ran = 0
    for line, code in found:
        if skipped(page, code):
            continue
        for (where, phrase), reader in READER.items():
            if where == page and phrase in code:
                exec(textwrap.dedent(reader), namespace)
        try:
            # blank lines before the block: a traceback gives the page's own line numbers
            exec(compile("\n" * (line - 1) + code, f"docs/{page}", "exec"), namespace)
        except Exception:  # noqa: BLE001 - reported with the page's line
            pytest.fail(f"docs/{page}: the example starting at line {line} failed:\n"
                        f"{traceback.format_exc(limit=-3)}")
        ran += 1
    assert ran or page == "quickstart.md"
    # the output shown on the page has the shape of today's output, line by line (the
    # figures are one run's on the machine the page names, at the page's own sizes)
    out = {shape(line) for line in capsys.readouterr().out.splitlines()}
    for line, shown in printed(page):
        for k, want in enumerate(shown.splitlines()):
            assert shape(want) in out, (
                f"docs/{page}:{line + k}: the page shows {want.strip()!r}, which today's "
                f"output does not print in that form")


def test_every_skip_and_reader_names_a_block():
    # a skip whose block was removed or rewritten would hide nothing; say so
    for (page, phrase) in [*SKIP, *READER]:
        assert any(phrase in code for _, code in blocks(page)), (page, phrase)


def test_the_history_table_lists_every_column():
    # docs/regret.md's table of tuner.history, against bandit.report.HISTORY_SCHEMA, in order
    from bandit.report import HISTORY_SCHEMA

    text = (DOCS / "regret.md").read_text(encoding="utf-8")
    table = text[text.index("| column | dtype | meaning |"):]
    table = table[:table.index("\n\n")]
    shown = [name for row in table.splitlines()[2:]
             for name in re.findall(r"`(\w+)`", row.split("|")[1])]
    assert shown == [name for name, _, _ in HISTORY_SCHEMA], "docs/regret.md: history table"


def test_the_installation_check_prints_what_the_install_page_says(capsys):
    # the first command of "Check the installation", run in this process
    import shlex

    text = (DOCS / "install.md").read_text(encoding="utf-8")
    section = text[text.index("## Check the installation"):]
    command = re.search(r"```bash\n(python -c .*)\n", section).group(1)
    code = shlex.split(command)[2]
    exec(code, {})
    said = re.search(r"The first command prints `(\w+)`", section).group(1)
    assert capsys.readouterr().out.strip() == said, "docs/install.md, Check the installation"
