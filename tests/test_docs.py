"""The documentation stands alone and every page is on the site.

The pages (docs/, README.md) and the docstrings and comments of the three packages must read as
a library's documentation: no issue numbers, work sessions, sections of an internal reference
document or commit hashes, which no reader of the repository can look up.  The site itself is
built by ``make docs`` (warnings are errors); these checks are the fast part of that contract.
"""
import io
import pathlib
import re
import sys
import tokenize

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGES = ("solvers", "bandit", "experiments")

#: What a page or docstring must not say, with the reason shown on failure.
FORBIDDEN = {
    "an issue number": re.compile(r"\bissues?\s*(#\s*)?\d+|\bissue-\d+|(?<![\w&#])#\d+\b", re.I),
    "a work session": re.compile(r"\bsessions?\b", re.I),
    "the internal reference document": re.compile(r"REFERENCE\s*§|REFERENCE\.md|§\s*\d"),
    "a commit hash": re.compile(r"\bcommit\s+`?[0-9a-f]{7,40}\b"
                                r"|`(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}`"
                                r"|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{12,40}\b"),
    "the project's lead": re.compile(r"\bthe lead\b(?! ?-)", re.I),
}


def pages():
    """Every hand-written page of the site, the README and the Sphinx configuration."""
    found = [ROOT / "README.md", DOCS / "conf.py", *sorted((DOCS / "_ext").glob("*.py"))]
    found = [p for p in found if p.exists()]
    for path in sorted(DOCS.rglob("*")):
        rel = path.relative_to(DOCS).parts
        # (_templates: Sphinx's templates of the generated API pages, not pages)
        if path.suffix in (".md", ".rst") and rel[0] not in ("_build", "_templates") and (
                "generated" not in rel):
            found.append(path)
    return found


def python_text(path):
    """The docstrings, other string literals and comments of a module, with their lines."""
    out = []
    with open(path, "rb") as f:
        for tok in tokenize.tokenize(f.readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING):
                out.append((tok.start[0], tok.string))
            elif sys.version_info >= (3, 12) and tok.type == tokenize.FSTRING_MIDDLE:
                out.append((tok.start[0], tok.string))
    return out


def texts():
    for path in pages():
        if path.suffix == ".py":
            yield path, python_text(path)
        else:
            yield path, [(1, path.read_text(encoding="utf-8"))]
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, python_text(path)


def violations(chunks):
    """``(line, what, match)`` for every forbidden mention in ``[(first_line, text), ...]``."""
    found = []
    for first, text in chunks:
        for what, pattern in FORBIDDEN.items():
            for m in pattern.finditer(text):
                found.append((first + text.count("\n", 0, m.start()), what, m.group(0)))
    return found


@pytest.mark.parametrize("sample, what", [
    ("as asked in issue 5", "an issue number"),
    ("see #12 for the plan", "an issue number"),
    ("at the start of this session", "a work session"),
    ("the stopping rule of REFERENCE §1", "the internal reference document"),
    ("measured at commit `b0a5ebd`", "a commit hash"),
    ("(commit 6ecbd39, one core)", "a commit hash"),
    ("ask the lead", "the project's lead"),
])
def test_the_check_finds_each_kind_of_mention(sample, what):
    assert [v[1] for v in violations([(1, sample)])] == [what]


@pytest.mark.parametrize("sample", [
    "the leader's predicted cost", "reference totals of the paper's code", "ω = 1.5604",
    "1.6448536269514722", "colour #1f77b4", "## 5. Benchmark", "regret/best-fixed 764324",
    "results/learning-20250101-120000", "a deadline", "the issue of scaling",
])
def test_the_check_leaves_ordinary_text_alone(sample):
    assert violations([(1, sample)]) == []


def test_docs_and_docstrings_stand_alone():
    bad = [f"{path.relative_to(ROOT)}:{line}: {what}: {text!r}"
           for path, chunks in texts() for line, what, text in violations(chunks)]
    assert not bad, "the documentation must stand alone:\n" + "\n".join(bad)


def toctree_entries(path):
    """Documents listed by the toctrees of one page, as paths relative to docs/ without suffix."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        blocks = re.findall(r"```\{toctree\}\n(.*?)```", text, flags=re.S)
    else:
        blocks = re.findall(r"\.\. toctree::\n((?:[ \t]+.*\n|\s*\n)*)", text)
    base = path.parent.relative_to(DOCS)
    entries = set()
    for block in blocks:
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(":"):
                entries.add((base / re.sub(r"\.(md|rst)$", "", line)).as_posix())
    return entries


def test_every_page_is_reachable_from_the_index():
    site = {p.relative_to(DOCS).with_suffix("").as_posix(): p
            for p in pages() if p.suffix in (".md", ".rst") and p.is_relative_to(DOCS)}
    reached, todo = {"index"}, ["index"]
    while todo:
        for entry in toctree_entries(site[todo.pop()]):
            assert entry in site, f"a toctree lists {entry}, which is not a page"
            if entry not in reached:
                reached.add(entry)
                todo.append(entry)
    assert sorted(set(site) - reached) == []


def test_quick_start_runs_the_readme_example():
    # the README's example is executed by test_readme; the quick start must show the same code
    block = re.compile(r"```python\n(.*?)```", flags=re.S)
    readme = block.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    quick = block.findall((DOCS / "quickstart.md").read_text(encoding="utf-8"))
    assert quick and quick[0] == readme[0]


def test_command_line_page_lists_every_subcommand():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import relaxtune_cli
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    text = (DOCS / "cli.rst").read_text(encoding="utf-8")
    shown = {m.strip() for m in re.findall(r"^\.\. relaxtune-help::(.*)$", text, flags=re.M)}
    assert relaxtune_cli.every_command() <= shown
    # and the directive really prints the parser's help
    assert "--nx" in relaxtune_cli.help_text("heat2d")
    assert "--sizes" in relaxtune_cli.help_text("bench kernels")


def api_entries():
    """Names listed by the API pages' autosummary tables, as ``package.name``."""
    found = set()
    for path in sorted((DOCS / "api").glob("*.rst")):
        text = path.read_text(encoding="utf-8")
        current = re.search(r"^\.\. currentmodule:: (\w+)$", text, flags=re.M)
        for block in re.findall(r"\.\. autosummary::\n((?:[ \t]+.*\n|\s*\n)*)", text):
            for line in block.splitlines():
                line = line.strip()
                if line and not line.startswith(":") and current:
                    found.add(f"{current.group(1)}.{line}")
        found.update(re.findall(r"^\.\. py:data:: ([\w.]+)$", text, flags=re.M))
    return found


def test_api_pages_list_every_public_name_and_module():
    # a name a package exports, or a public module of it, has a page of its own or is on its
    # module's page (the preconditioners and the spectral formulas, importable from solvers
    # itself, are on solvers.precond's and solvers.spectral's pages)
    import importlib
    import pkgutil

    listed = api_entries()
    missing = []
    for package in PACKAGES:
        mod = importlib.import_module(package)
        modules = {f"{package}.{info.name}": importlib.import_module(f"{package}.{info.name}")
                   for info in pkgutil.iter_modules(mod.__path__) if not info.name.startswith("_")}

        def on_a_page(name, obj):
            # its own entry, or the page of a module that defines or exports it
            return (f"{package}.{name}" in listed
                    or getattr(obj, "__module__", None) in listed
                    or any(name in getattr(m, "__all__", ()) for full, m in modules.items()
                           if full in listed))

        for name in getattr(mod, "__all__", []):
            if not on_a_page(name, getattr(mod, name)):
                missing.append(f"{package}.{name}")
        for full, m in modules.items():
            # a module without a page of its own is fine when everything it exports has one
            exported = getattr(m, "__all__", None)
            if full not in listed and (not exported or not all(
                    f"{package}.{n}" in listed or f"{full}.{n}" in listed for n in exported)):
                missing.append(full)
    assert missing == [], "not on any API page (docs/api/*.rst): " + ", ".join(missing)
    # and the hand-written entries name something that exists
    for path in sorted((DOCS / "api").glob("*.rst")):
        for full in re.findall(r"^\.\. py:data:: ([\w.]+)$", path.read_text(encoding="utf-8"),
                               flags=re.M):
            module, _, name = full.rpartition(".")
            assert hasattr(importlib.import_module(module), name), f"{path.name}: {full}"


def documented_commands():
    """``(page:line, argv)`` of every ``relaxtune`` command in the pages' shell blocks."""
    import shlex

    found = []
    for path in pages():
        if path.suffix == ".py" or path.name == "changelog.md":
            continue
        text = path.read_text(encoding="utf-8")
        blocks = [(m.start(), m.group(1)) for m in
                  re.finditer(r"```(?:bash|console|sh)\n(.*?)```", text, flags=re.S)]
        blocks += [(m.start(), m.group(1)) for m in re.finditer(
            r"\.\. code-block:: (?:bash|console)\n\n((?:[ \t]+.*\n|\s*\n)*)", text)]
        for start, body in blocks:
            line = text.count("\n", 0, start) + 1
            for command in re.sub(r"\\\n\s*", " ", body).splitlines():
                command = re.sub(r"^\s*\$ ", "", command).split(" #")[0].strip()
                m = re.search(r"(?:^|\s)relaxtune (.*)$", command)
                # placeholders (<folder>, [--markdown], A | B, ...) are not commands to run
                if not m or re.search(r"[<\[|]|\.\.\.|\$|[A-Z]{4,}", m.group(1)):
                    continue
                found.append((f"{path.relative_to(ROOT)}:{line}", shlex.split(m.group(1))))
    return found


def test_documented_commands_parse():
    # every relaxtune command shown in a shell block is accepted by today's parser (and a
    # benchmark's options by that benchmark's parser): a renamed or removed option fails here
    import argparse
    import contextlib
    import importlib

    from experiments import cli

    class Parsed(Exception):
        pass

    commands = documented_commands()
    assert len(commands) > 30 and any(argv[0] == "bench" for _, argv in commands)
    original = argparse.ArgumentParser.parse_args
    bad = []
    for where, argv in commands:
        def parse_only(self, args=None, namespace=None):
            original(self, args, namespace)
            raise Parsed  # parsed: nothing runs

        err = io.StringIO()
        try:
            argparse.ArgumentParser.parse_args = parse_only
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                if argv[0] == "bench":  # straight to the benchmark: cli.main reports errors
                    importlib.import_module(cli.BENCHES[argv[1]]).main(argv[2:])
                else:
                    cli.build_parser().parse_args(argv)
            bad.append(f"{where}: relaxtune {' '.join(argv)}: ran past its parser")
        except Parsed:
            pass
        except SystemExit:
            bad.append(f"{where}: relaxtune {' '.join(argv)}: {err.getvalue().strip()}")
        finally:
            argparse.ArgumentParser.parse_args = original
    assert bad == [], "\n".join(bad)


#: Public classes whose docstring has no example yet (a ``>>>`` line); keep it short.
WITHOUT_EXAMPLE = {"bandit.Regret"}


def test_public_classes_and_functions_show_an_example():
    # numpydoc "Examples" sections are run by the suite's --doctest-modules, so an example
    # in a docstring is also a test that the documented call still works
    import importlib
    import inspect

    missing = []
    for package in PACKAGES:
        mod = importlib.import_module(package)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # modules and registries are described on their pages
            if ">>>" not in (inspect.getdoc(obj) or "") and f"{package}.{name}" not in WITHOUT_EXAMPLE:
                missing.append(f"{package}.{name}")
    assert missing == [], "no example in the docstring of: " + ", ".join(missing)


def test_members_of_the_tuners_parts_link_to_their_source():
    # viewcode looks a member of bandit.Tuner up as "Tuner.<name>" in the module that defines
    # it; for a member of a part (a mixin module) the tag is the part's, so docs/conf.py tags
    # it under the public class's name as well, at the same lines
    import importlib.util

    spec = importlib.util.spec_from_file_location("relaxtune_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    code, tags = conf._parts_source(None, "bandit._tuner_records")
    assert "def regret(" in code
    assert tags["Tuner.regret"] == tags["Records.regret"]
    assert tags["Tuner.summary"] == tags["Records.summary"]
    _, tags = conf._parts_source(None, "bandit._tuner_persist")
    assert "Tuner.save" in tags and "Tuner.load" in tags
    assert conf._parts_source(None, "bandit.tuner") is None  # viewcode's own analysis there
    # ArmSet's parts (bandit/_armset_*.py), documented on bandit.armset's page, likewise
    _, tags = conf._parts_source(None, "bandit._armset_budget")
    assert tags["ArmSet.budget"] == tags["GuardBudget.budget"]
    assert conf._parts_source(None, "bandit.armset") is None
