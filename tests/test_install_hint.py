"""An optional extra that is missing is named with the command that installs it from the
checkout, as docs/install.md installs relaxtune (``pip install -e '.[petsc]'``): relaxtune is
not on a package index, and the errors had said ``pip install 'relaxtune[petsc]'``, which
asks PyPI for a package of that name."""
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

import solvers
from solvers import _extras, gallery
from solvers._extras import install_hint

ROOT = Path(__file__).resolve().parents[1]


def test_no_message_or_page_asks_a_package_index_for_relaxtune():
    # every error and every page installs an extra from the checkout
    sources = [p for d in ("solvers", "bandit", "experiments") for p in (ROOT / d).rglob("*.py")]
    pages = [p for p in (ROOT / "docs").rglob("*.md") if p.name != "changelog.md"]
    pages += [ROOT / "README.md", ROOT / "docs" / "cli.rst"]
    found = [f"{p.relative_to(ROOT)}:{i}" for p in sources + pages
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"install\s+['\"]?relaxtune\[|pip install\s+['\"]\.\[", line)]
    assert found == []


def test_in_a_checkout_the_command_names_the_checkout():
    # the command works from any folder: pip install -e '<checkout>[petsc]'
    words = shlex.split(install_hint("petsc"))
    assert words[:3] == ["pip", "install", "-e"] and len(words) == 4
    assert words[3] == f"{ROOT}[petsc]"
    assert (Path(words[3][:-len("[petsc]")]) / "setup.cfg").is_file()


def test_an_installed_copy_says_where_to_run_the_command(tmp_path, monkeypatch):
    # a copy in site-packages has no relaxtune setup.cfg beside it (another project's is not
    # relaxtune's)
    monkeypatch.setattr(_extras, "_ROOT", tmp_path)
    assert install_hint("amg") == ("pip install -e '.[amg]' in the relaxtune checkout "
                                   "(docs/install.md)")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = other\n")
    assert install_hint("amg").endswith("in the relaxtune checkout (docs/install.md)")
    (tmp_path / "setup.cfg").write_bytes(b"\xff\xfe[meta")
    assert install_hint("amg").endswith("in the relaxtune checkout (docs/install.md)")


def test_a_checkout_in_a_folder_with_spaces_is_quoted(tmp_path, monkeypatch):
    root = tmp_path / "my code"
    root.mkdir()
    (root / "setup.cfg").write_text("[metadata]\nname = relaxtune\n")
    monkeypatch.setattr(_extras, "_ROOT", root)
    assert shlex.split(install_hint("petsc")) == ["pip", "install", "-e", f"{root}[petsc]"]


def test_the_amg_preconditioner_without_pyamg_names_the_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyamg", None)  # as if not installed
    with pytest.raises(ImportError) as err:
        solvers.pcg(gallery.laplacian_2d(5), np.ones(25), "amg")
    assert str(err.value) == f"pc='amg' needs pyamg: {install_hint('amg')}"


def test_the_command_line_without_petsc4py_names_the_command(monkeypatch, capsys):
    from experiments.cli import main

    monkeypatch.setitem(sys.modules, "petsc4py", None)
    assert main(["heat2d", "--backend", "petsc", "--nx", "4", "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err == (f"relaxtune: error: --backend petsc needs petsc4py and mpi4py: "
                   f"{install_hint('petsc')}\n")
