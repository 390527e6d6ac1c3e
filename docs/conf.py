"""Sphinx configuration of the relaxtune documentation site (``make docs``)."""
import os
import sys
from importlib.metadata import PackageNotFoundError, version as _version

sys.path.insert(0, os.path.abspath(".."))  # document the checkout, not an installed copy
sys.path.insert(0, os.path.abspath("_ext"))  # relaxtune_cli: the command line's --help pages

project = "relaxtune"
author = "the relaxtune developers"
copyright = "2026, the relaxtune developers"
try:
    release = _version("relaxtune")
except PackageNotFoundError:  # pragma: no cover - building from an uninstalled checkout
    release = "0.0"
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "relaxtune_cli",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
templates_path = ["_templates"]


def _reexported(modules, *, every_public=False):
    """The names each of ``modules`` (a dict: module -> the prefix, or prefixes, of the
    private modules it was cut into) takes from those private modules: the functions,
    classes and exceptions it lists in ``__all__`` (experiments.plots' study figures, drawn in
    experiments/_plots_*.py; experiments.problems' generators kept in
    experiments/_problems_*.py; bandit.audit's plan weights, bandit.estimate's observed
    entries), or with ``every_public`` every public one it holds (as its page listed the
    public names it defined, whether in ``__all__`` or not), and the public constants
    documented there by a ``#:`` comment (``comments``): its page lists them as its own, as
    any it defines."""
    import importlib
    import inspect

    from sphinx.pycode import ModuleAnalyzer

    found = {}
    for name, private in modules.items():
        mod = importlib.import_module(name)
        kinds = found.setdefault(name, {"functions": [], "classes": [], "exceptions": [],
                                        "comments": {}})
        names = ([n for n in vars(mod) if not n.startswith("_")] if every_public
                 else mod.__all__)
        for item in names:
            obj = getattr(mod, item)
            if not getattr(obj, "__module__", "").startswith(private):
                continue
            kind = ("exceptions" if inspect.isclass(obj) and issubclass(obj, BaseException)
                    else "classes" if inspect.isclass(obj) else "functions")
            kinds[kind].append(item)
        # constants have no __module__: the private modules' commented ones the module holds
        for part in sorted(m for m in sys.modules if m.startswith(private)):
            docs = ModuleAnalyzer.for_module(part).find_attr_docs()
            for (ns, attr), comment in docs.items():
                if (not ns and not attr.startswith("_") and hasattr(mod, attr)
                        and getattr(mod, attr) is getattr(sys.modules[part], attr)):
                    kinds["comments"][attr] = list(comment)
    return found


# the templates in _templates/autosummary: a class put together from parts kept in private
# modules (bandit/_tuner_*.py, bandit/_joint_*.py) documents their public members as its own,
# and a module lists what it imports from private modules of its package (solvers.spectral's
# ω formulas and residual floor, in solvers/_spectral_*.py; bandit.arms' on_ranks, in
# bandit/_arms_petsc.py; solvers.petsc's same_on_every_rank, in solvers/_petsc_inputs.py;
# experiments.heat_study's solve settings, in experiments/_heat_runs.py)
_REEXPORTED = _reexported({"experiments.plots": "experiments._plots_",
                           "experiments.problems": "experiments._problems_",
                           "bandit.audit": "bandit._audit_",
                           "solvers.spectral": "solvers._spectral_",
                           "bandit.arms": "bandit._arms_",
                           "solvers.petsc": "solvers._petsc_inputs",
                           "experiments.heat_study": ("experiments._heat_runs",
                                                      "experiments._heat_scoring")})
# bandit.report (bandit/_report_*.py), experiments.bench_learners
# (experiments/_bench_learners_*.py), bandit.estimate (bandit/_estimate_*.py and the modules
# named), solvers.precond (solvers/_precond_*.py) and experiments.precond_study (its
# sequences and scoring, experiments/_precond_*.py) and experiments.user_files (its files,
# contexts and report, experiments/_user_files_*.py) list every public name, in __all__ or
# not, as before (bandit.estimate.quick_totals, solvers.precond.omega_text,
# experiments.precond_study.rescore)
_REEXPORTED.update(_reexported({"bandit.report": "bandit._report_",
                                "experiments.bench_learners": "experiments._bench_learners_",
                                "bandit.estimate": ("bandit._observed", "bandit._student",
                                                    "bandit._estimate_"),
                                "solvers.precond": "solvers._precond_",
                                "experiments.precond_study": "experiments._precond_",
                                "experiments.user_files": "experiments._user_files_"},
                               every_public=True))
def _base_instance_attributes(path, base):
    """The instance attributes ``base`` documents (``#:`` comments in its methods) that the
    class at ``path`` and its parts do not define: autodoc's ``:inherited-members: base``
    leaves out what ``base``'s class body defines but not these, which ``base``'s own page
    documents (Policy's ``converged_counts``)."""
    import importlib

    from sphinx.pycode import ModuleAnalyzer

    module, _, name = path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    home = next(c for c in cls.__mro__ if c.__name__ == base)
    own = {n for c in cls.__mro__[:cls.__mro__.index(home)] for n in vars(c)}
    docs = ModuleAnalyzer.for_module(home.__module__).find_attr_docs()
    return ", ".join(sorted(attr for ns, attr in docs if ns == base and attr not in own
                            and attr not in vars(home)))


# a class documented on its module's page and put together from parts there (ArmSet from
# bandit/_armset_*.py, the Auditor from bandit/_audit_*.py): the page documents the parts'
# public members as the class's own
# (the classes a composed class's page takes no inherited members from: JointCB's base Policy
# has a page of its own, and JointCB's page listed only its own members before its parts)
autosummary_context = {"composed_classes": {"bandit.Tuner": "object",
                                            "bandit.JointCB": "Policy, object"},
                       "composed_exclude": {path: names for path, names in (
                           ("bandit.JointCB", _base_instance_attributes("bandit.JointCB",
                                                                        "Policy")),) if names},
                       "composed_on_module_page": {"bandit.armset": ["ArmSet"],
                                                   "bandit.audit": ["Auditor"]},
                       "reexported": _REEXPORTED}


def _lend_comments(reexported):
    """Autodoc and autosummary read a constant's ``#:`` comment from the source of the module
    a page documents (and document no constant without one): each moved constant's comment,
    kept in the private module it was moved to, is added to the public module's analysis
    (cached for the build), so its page lists and describes it as before."""
    from sphinx.pycode import ModuleAnalyzer

    for name, kinds in reexported.items():
        if kinds["comments"]:
            analyzer = ModuleAnalyzer.for_module(name)
            analyzer.analyze()
            for attr, comment in kinds["comments"].items():
                analyzer.attr_docs.setdefault(("", attr), comment)


_lend_comments(_REEXPORTED)

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()
# Docstrings name types in prose ("array of float", "sequence of dict"); resolving every such
# name would turn the numpydoc type fields into warnings without helping a reader.
nitpicky = False

html_theme = "furo"
html_title = f"relaxtune {release}"
html_static_path = []


#: the private modules that hold parts (mixins) of a public class
_PARTS = ("bandit._tuner_", "bandit._joint_", "bandit._armset_", "bandit._audit_")


def _public_bases(app, name, obj, options, bases):
    # the Tuner, JointCB, ArmSet and the Auditor are put together from parts kept in private
    # modules (bandit/_tuner_*.py, bandit/_joint_*.py, bandit/_armset_*.py,
    # bandit/_audit_*.py): a page names no base a reader could not look up ("Bases: object",
    # as any other class of its own, rather than an empty "Bases:")
    bases[:] = [b for b in bases
                if not getattr(b, "__module__", "").startswith(_PARTS)] or [object]


def _parts_source(app, modname):
    """viewcode's source of a module holding parts (mixins) of a public class, with each
    part's members tagged under the public class's name too (``Tuner.regret`` for
    ``Records.regret``), so a member documented on ``bandit.Tuner``, ``bandit.JointCB``,
    ``bandit.armset.ArmSet`` or ``bandit.audit.Auditor`` links to its source although it is
    defined in a part's module."""
    if not modname.startswith(_PARTS):
        return None
    import importlib

    from sphinx.pycode import ModuleAnalyzer

    try:
        analyzer = ModuleAnalyzer.for_module(modname)
        analyzer.find_tags()
        bandit = importlib.import_module("bandit")
        armset = importlib.import_module("bandit.armset")
        audit = importlib.import_module("bandit.audit")
    except Exception:  # as viewcode itself: no source page rather than a failed build
        return None
    tags = dict(analyzer.tags)
    for public in (bandit.Tuner, bandit.JointCB, armset.ArmSet, audit.Auditor):
        for part in public.__mro__[1:]:
            if part.__module__ != modname:
                continue
            prefix = part.__name__ + "."
            for name, tag in analyzer.tags.items():
                if name.startswith(prefix):
                    tags.setdefault(public.__name__ + "." + name[len(prefix):], tag)
    return analyzer.code, tags


def setup(app):
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("viewcode-find-source", _parts_source)
