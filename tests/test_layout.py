"""The Tuner, experiments.plots and the modules cut after them (bandit._base,
bandit._tunerfile, solvers.petsc, experiments.problems, bandit.audit, bandit.estimate,
bandit.report, experiments._bench, experiments.bench_learners, bandit.armset, bandit.joint,
solvers._kernels, solvers.precond, solvers.spectral, bandit.arms, experiments.precond_study,
experiments.heat_study, experiments.user_files) are put together from modules of their own
(bandit/_tuner_*.py, experiments/_plots_*.py, ...): the layout, not the numbers."""
import pickle
import pickletools

import numpy as np

import bandit
from bandit import FixedArm, Tuner
from solvers import gallery


def test_no_part_of_the_tuner_shadows_another():
    # each method of the Tuner is defined in one place: a name defined in two of its parts
    # would be the first one's in the MRO, silently
    parts = Tuner.__mro__[1:-1]
    assert all(p.__module__.startswith("bandit._tuner_") for p in parts)
    where = {}
    for part in (Tuner,) + parts:
        for name in vars(part):
            if name.startswith("__") and name.endswith("__"):
                continue
            where.setdefault(name, []).append(part.__name__)
    twice = {name: owners for name, owners in where.items() if len(owners) > 1}
    assert twice == {}


def test_a_tuner_pickle_names_no_part_of_the_class():
    # a pickle names the Tuner by bandit.tuner.Tuner only, so pickles stay readable however
    # its methods are laid out over modules
    A = gallery.laplacian_2d(5)
    t = Tuner(FixedArm([1.2, 1.5]), solver="sor")
    t.solve(A, np.ones(25))
    names = [arg for op, arg, _ in pickletools.genops(pickle.dumps(t))
             if op.name in ("GLOBAL", "STACK_GLOBAL", "SHORT_BINUNICODE", "BINUNICODE")
             and isinstance(arg, str) and "bandit." in arg]
    assert "bandit.tuner" in names
    assert not [n for n in names if n.startswith("bandit._tuner_")]


def test_no_part_of_armset_or_jointcb_shadows_another():
    # ArmSet and JointCB are put together from mixins (bandit/_armset_*.py, bandit/_joint_*.py):
    # each member is defined in one place, not in two parts (or in a part and the class), where
    # the first in the MRO would silently win (the Auditor's parts too: bandit/_audit_*.py)
    from bandit.armset import ArmSet
    from bandit.audit import Auditor

    for cls, prefix in ((ArmSet, "bandit._armset_"), (bandit.JointCB, "bandit._joint_"),
                        (Auditor, "bandit._audit_")):
        parts = [p for p in cls.__mro__[1:] if p is not object
                 and not issubclass(bandit.Policy, p)]  # (JointCB's base Policy: overridden)
        assert parts and all(p.__module__.startswith(prefix) for p in parts), parts
        where = {}
        for part in (cls, *parts):
            for name in vars(part):
                if not (name.startswith("__") and name.endswith("__")):
                    where.setdefault(name, []).append(part.__name__)
        assert {name: owners for name, owners in where.items() if len(owners) > 1} == {}


def test_the_public_members_of_jointcbs_parts_stay_on_its_api_page():
    # JointCB's page (docs/api/generated/bandit.JointCB.rst) lists the class's own members,
    # and those of its parts only as a composed class (docs/conf.py, as the Tuner's): a public
    # member moved to a part (bandit/_joint_*.py) would drop off the page without a warning.
    # Its base Policy's members stay on Policy's page, as before the parts.
    import importlib.util
    import inspect
    import pathlib

    docs = pathlib.Path(__file__).resolve().parent.parent / "docs"
    spec = importlib.util.spec_from_file_location("relaxtune_docs_conf_layout", docs / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    cls = bandit.JointCB
    in_parts = {name for part in cls.__mro__[1:cls.__mro__.index(bandit.Policy)]
                for name, obj in vars(part).items()
                if not name.startswith("_") and inspect.getdoc(obj)}
    composed = conf.autosummary_context["composed_classes"]
    assert not in_parts or composed.get("bandit.JointCB") == "Policy, object", sorted(in_parts)
    assert {"predict", "leader", "retell", "try_gate", "prime", "context_range"} <= in_parts
    # Policy's instance attributes (documented on its page) are left out by name
    assert conf.autosummary_context["composed_exclude"]["bandit.JointCB"] == "converged_counts"


def test_a_configuration_tuner_pickle_names_no_part_of_armset_or_jointcb():
    # a pickle names ArmSet and JointCB by their public paths only (bandit.armset.ArmSet,
    # bandit.joint.JointCB), so pickles stay readable however their methods are laid out
    A = gallery.laplacian_2d(5)
    t = Tuner(bandit.default_policy(None, bandit.config_grid([1.2, 1.5], ["jacobi"]), seed=0))
    t.solve(A, np.ones(25), context=1.0)
    names = [arg for op, arg, _ in pickletools.genops(pickle.dumps(t))
             if op.name in ("GLOBAL", "STACK_GLOBAL", "SHORT_BINUNICODE", "BINUNICODE")
             and isinstance(arg, str) and "bandit." in arg]
    assert "bandit.armset" in names and "bandit.joint" in names
    assert not [n for n in names if n.startswith(("bandit._armset_", "bandit._joint_"))]


def test_the_public_paths_of_moved_names_still_import():
    import experiments.plots as plots

    from bandit.tuner import (AUTO_CONTEXT_STEPS, AUTO_CONTEXTS, GUARD_DTOL,  # noqa: F401
                              _COLD_ITERATIONS, _takes_prior)
    for name in plots.__all__:
        assert getattr(plots, name) is not None
    for name in ("history", "to_csv", "regret", "summary", "audits", "audit_seconds", "save",
                 "load", "fallback_order", "progress", "callback", "decide", "tell", "solve"):
        assert hasattr(bandit.Tuner, name), name


# modules cut into private parts, each public module first: (module, its parts)
SPLIT = [("bandit._base", ("bandit._checks", "bandit._jsonable")),
         ("bandit._tunerfile", ("bandit._tunerfile_checks", "bandit._tunerfile_policy",
                                "bandit._tunerfile_rows")),
         ("solvers.petsc", ("solvers._petsc_run", "solvers._petsc_scale",
                            "solvers._petsc_inputs", "solvers._petsc_causes",
                            "solvers._petsc_ksp")),
         ("experiments.problems", ("experiments._problems_checks", "experiments._problems_mc3d",
                                   "experiments._problems_fem",
                                   "experiments._problems_elasticity")),
         ("bandit.audit", ("bandit._audit_plan", "bandit._audit_price", "bandit._audit_schedule",
                           "bandit._audit_state")),
         ("bandit.estimate", ("bandit._observed", "bandit._student", "bandit._estimate_report",
                              "bandit._estimate_totals", "bandit._estimate_floor",
                              "bandit._estimate_quick")),
         ("solvers._kernels", ("solvers._kernels_sor", "solvers._kernels_cg",
                               "solvers._kernels_csr")),
         ("solvers._operator", ("solvers._operator_refresh",)),
         ("solvers.precond", ("solvers._precond_builtin", "solvers._precond_pcg",
                              "solvers._precond_work")),
         ("bandit.report", ("bandit._report_history", "bandit._report_data", "bandit._report_costs",
                            "bandit._report_regret", "bandit._report_summary")),
         ("experiments._bench", ("experiments._bench_cli", "experiments._bench_figures",
                                 "experiments._bench_memory")),
         ("experiments.bench_learners", ("experiments._bench_learners_cases",
                                         "experiments._bench_learners_costs",
                                         "experiments._bench_learners_replay",
                                         "experiments._bench_learners_runs")),
         ("bandit.armset", ("bandit._armset_budget", "bandit._armset_cold",
                            "bandit._armset_persist", "bandit._armset_probe",
                            "bandit._armset_setup", "bandit._armset_prices",
                            "bandit._armset_work", "bandit._armset_reuse",
                            "bandit._armset_labels", "bandit._armset_retell")),
         ("bandit.joint", ("bandit._joint_basis", "bandit._joint_change", "bandit._joint_rules",
                           "bandit._joint_context", "bandit._joint_state", "bandit._joint_draw",
                           "bandit._joint_leader", "bandit._joint_gate", "bandit._joint_retell")),
         ("solvers.spectral", ("solvers._spectral_radius", "solvers._spectral_reduce",
                               "solvers._spectral_omega", "solvers._spectral_floor")),
         ("bandit.arms", ("bandit._arms_petsc",)),
         ("experiments.precond_study", ("experiments._precond_sequences",
                                        "experiments._precond_scoring")),
         ("experiments.heat_study", ("experiments._heat_runs", "experiments._heat_scoring")),
         ("experiments.user_files", ("experiments._user_files_mtx",
                                     "experiments._user_files_contexts",
                                     "experiments._user_files_report"))]
# the names other modules, tests, pickles or tuner files reach through the old path
MOVED = {"bandit._base": ("arm_omega", "scalar_context", "check_bounds", "check_positive",
                          "check_nonnegative", "check_choice", "count_of", "RepeatedArmWarning",
                          "_check_arms", "_check_flag", "to_jsonable", "from_jsonable"),
         "bandit._tunerfile": ("check_policy_state", "TunerFileError"),
         # each rank's input checks and the causes of a failed solve (bandit imports
         # _check_alive and _empty_rows from solvers.petsc)
         "solvers.petsc": ("same_on_every_rank", "_check_alive", "_check_petsc_mat",
                           "_same_omega", "_empty_rows", "_diagonal_spread"),
         "bandit.armset": ("_unique", "_short_label"),
         "experiments.problems": ("DiffusionMC3D", "disk_mesh", "p1_matrices", "FEMHeat2D",
                                  "elasticity_2d", "PlaneElasticity", "_integer", "_positive"),
         "bandit.audit": ("anchor_weights", "play_weights", "allocate", "contender_weight",
                          "_spread_matrix", "_scale", "_solved", "_tiny_run", "_warm_up",
                          "_plan_slope", "_anchor_round", "_played_costs"),
         "bandit.estimate": ("inclusion_probabilities", "_epoch_of", "_audit_probs", "_lower_caps",
                             "_completion_probs", "_stopped_runs", "_all_observed",
                             "_converged_counts", "_observable", "_small_sample", "_t95",
                             "_exact_report", "_fmt_fail", "_never_converged", "_undefined",
                             "_method_bf", "_checkpoints", "_model", "_multipliers", "_prefix",
                             "_hajek", "_in_sample", "minimum_weights",
                             "_error_floor", "_play_spread", "_unreached_floor",
                             "_censored_rounds", "_reach", "_censored_share", "quick_totals"),
         # the kernels (Numba dispatchers name the module of their function) and the
         # preconditioners, reached as _kernels.NAME (K.NAME) and solvers.precond.NAME
         "solvers._kernels": ("sor_solve", "_sor_run", "_sor_sweep", "_sor_sweep_bound",
                              "sor_sweeps", "sor_bound_norm", "sor_lower_bound",
                              "_sor_in_sweep_error", "cg_solve", "_cg_run", "_spmv_dot",
                              "analyse_csr", "mirror_positions", "asymmetry_from_mirror"),
         "solvers.precond": ("NoPreconditioner", "Jacobi", "SSOR", "IC0", "omega_text",
                             "WorkModel", "work_model", "_pcg_loop", "_pcg_run"),
         # every public name of bandit.report (the Tuner reaches it as report.NAME) and the
         # private ones bandit.audit imports from it
         "bandit.report": ("history", "read_csv", "write_csv", "summary", "regret",
                           "estimator_data", "already_solved", "paid_per_solve", "audit_cost",
                           "cost_unit", "RunArrays", "run_arrays", "TunerRegretReport",
                           "failure_note", "first_solve_load", "fallback_counts", "_arm_order"),
         # what the benchmarks and tests reach as _bench.NAME (B.NAME)
         "experiments._bench": ("BenchParser", "Method", "Estimate", "Timing", "ratio", "check",
                                "fmt", "theil_sen", "seconds", "output_file", "output_folder",
                                "read_cache", "memory_needed", "memory_available", "_bytes"),
         "experiments.bench_learners": ("Case", "cost_matrix", "cached_rows", "first_matrix",
                                        "spectral_contexts", "sample_order", "replay",
                                        "make_policy", "run_case", "_prime"),
         # the ω formulas and the residual floor (documented on solvers.spectral's page), and
         # what tests and solvers.spectral itself reach there
         "solvers.spectral": ("young_omega", "sor_rate", "ssor_omega", "ssor_condition_bound",
                              "residual_floor", "null_floor", "_components", "_jacobi_extreme"),
         # the PETSc half of the arms (bandit.armset and the Tuner import on_ranks from here)
         "bandit.arms": ("on_ranks", "_petsc_config", "_petsc_extra", "_petsc_reuse",
                         "_petsc_call", "_petsc_cg_config"),
         # the sequences (experiments/_problems_*.py subclass Sequence) and the scoring, which
         # tests, the CLI, the unseen study and the benchmarks import from the study's module
         "experiments.precond_study": ("Sequence", "HeatSequence", "MCSequence", "make_sequence",
                                       "family", "family_switch_gain", "work_vs_time",
                                       "format_precond_table", "rescore", "_targets",
                                       "_best_by_context", "_split", "_summarise",
                                       "_score_sequence", "_method_name", "_method_label",
                                       "_owner_summary"),
         # each task's run and the scoring (tests/mpi_tuner.py imports _gather_system here)
         "experiments.heat_study": ("solver_settings", "_simulation", "_learner", "_run_learner",
                                    "_direct_seconds", "_gather_system", "_run_costs",
                                    "_run_direct", "_run_cg", "_summarise", "_score_size",
                                    "_score_grid", "_score_direct_sample", "_score_sampled"),
         # the files, the contexts and the report of ``relaxtune tune``, which the CLI reaches
         # as user_files.NAME (uf.NAME) and tests import or replace there (_check_numbers)
         "experiments.user_files": ("read_matrix", "read_vector", "read_contexts",
                                    "check_contexts", "format_report", "format_failures",
                                    "figure_data", "_check_numbers", "_tuned_costs",
                                    "_best_fixed")}
# constants moved with the functions that use them (no __module__ of their own to follow)
MOVED_VALUES = {"bandit.audit": ("bandit._audit_plan", ("FLOOR", "ANCHOR", "RADIUS", "LOWER_Z")),
                "bandit.estimate": ("bandit._observed", ("MIN_PROB",)),
                "bandit.report": ("bandit._report_history", ("LOG_COLUMNS", "HISTORY_SCHEMA",
                                                       "ROW_CONFIG_COLUMNS")),
                "experiments._bench": ("experiments._bench_memory", ("PEAK_FACTORS",)),
                "experiments.precond_study": ("experiments._precond_scoring", (
                    "CONFIG_LEARNERS", "FAMILY_GAIN", "_ANCHOR_LABELS"))}
# the same for modules whose constants went to several parts: (module, part, names)
MOVED_VALUES_BY_PART = [
    ("bandit.report", "bandit._report_data", ("_ARM", "_ITERATIONS", "_SECONDS", "_CONTEXT",
                                              "_CONVERGED", "_COST", "_CENSORED", "_P",
                                              "_BUDGET")),
    ("experiments.bench_learners", "experiments._bench_learners_cases",
     ("CASES", "ELAST_CONTEXT_BOUNDS", "SHORT", "LONG")),
    ("experiments.bench_learners", "experiments._bench_learners_costs",
     ("OMEGAS", "MAXITER", "RTOL", "COST_VERSION", "SPECTRAL_STEPS")),
    ("experiments.bench_learners", "experiments._bench_learners_replay", ("GUARD",)),
    ("experiments.bench_learners", "experiments._bench_learners_runs",
     ("PREVIOUS_EXPLORE_WITHIN", "DEFAULT_MODES", "LEARNER_MODES", "DEFAULT_LEARNERS",
      "_ORDER_KEY")),
    ("bandit.armset", "bandit._armset_probe", ("_PROBE_FRACTION", "_PROBE_MIN", "_PROBE_MARGIN")),
    ("bandit.armset", "bandit._armset_setup", ("_SETUP_READINGS", "_SETUP_TRUST")),
    ("bandit.armset", "bandit._armset_reuse", ("_STALE_FACTOR", "_STALE_MIN")),
    ("bandit.armset", "bandit._armset_budget", ("_CHALLENGE",)),
    ("bandit.estimate", "bandit._estimate_floor", ("SURE_SPREAD_MIN", "PRIOR_ENTRIES",
                                                   "PLAY_BIN_MIN", "LIKELY_PI")),
    ("bandit.estimate", "bandit._estimate_quick", ("PLAN_KNOTS",)),
    ("solvers._kernels", "solvers._kernels_sor", ("SOR_WORK_VECTORS", "SWITCH",
                                                  "UNIT_ROUNDOFF")),
    ("solvers._kernels", "solvers._kernels_cg", ("CG_WORK_VECTORS",)),
    ("solvers.spectral", "solvers._spectral_radius", ("DENSE_LIMIT", "DENSE_FALLBACK_LIMIT",
                                                      "GENERAL_DENSE_LIMIT", "ARPACK_TOL",
                                                      "ARPACK_RETRY_TOL", "ARPACK_RESTARTS",
                                                      "CONDITION_TOL")),
    ("solvers.spectral", "solvers._spectral_floor", ("NULL_ROWS",)),
    ("experiments.heat_study", "experiments._heat_runs", ("HEAT_BINS",)),
    ("experiments.heat_study", "experiments._heat_scoring", ("FIXED_OMEGAS", "REFERENCE")),
    ("experiments.user_files", "experiments._user_files_mtx", ("MATRIX_SUFFIXES",
                                                              "VECTOR_SUFFIXES"))]
# switches set on the public module (tests, ``relaxtune bench regret --compare`` and
# ``--follow``): every function that reads one must be defined there, or setting it on the
# public module would no longer reach it
SWITCHES = {"bandit.estimate": ("TAIL_SPREAD", "PLAYS_SHOW_SPREAD", "CAPPED_LOWER_ENDS",
                                "POOLED_LOWER_DF", "UNREACHED_DF", "POOLED_UPPER_DF",
                                "TRACE"),
            "bandit.audit": ("FOLLOW",)}
# names the tests replace on the public module (monkeypatch.setattr, mock.patch): a simulated
# clock for _bench's timing (``time``), a machine's memory (``memory_available``), fake
# figures (``measure``), a fixed regret estimate for the progress bar (``estimator_data``).
# Every function that reads one as a global must be defined in the public module, as for the
# switches: one moved to a part would read the part's own name and miss the replacement.
PATCHED = {"experiments._bench": ("time", "memory_available", "measure"),
           "bandit.report": ("estimator_data",),
           # the cost model of the regret estimate (tests/test_regret.py)
           "bandit.estimate": ("_model",),
           # JointCB's Huber bound (tests/test_clock_robust.py, experiments/clock_study.py)
           "bandit.joint": ("_CLIP",),
           # the set-up clock (experiments/clock_study.py, tests/test_clock_robust.py)
           "solvers.precond": ("time",),
           # the learners a study builds, its methods and its warm-up, replaced by A/B
           # wrappers (docs/studies/precond_rules.md, experiments/bench_study_parts.py) and
           # tests/test_warm13_no_compile.py: read only by the running, kept in the module
           "experiments.precond_study": ("_policy", "_method", "_warm_up", "_tuner_method"),
           # the heat study's table of runs, whose entries tests/mpi_errors.py replaces: read
           # by heat_task, kept in the module with it
           "experiments.heat_study": ("_TASKS",)}
# names the tests replace on a part, where the code that reads them moved with it (the
# Jacobi radius's eigensolver limits and ARPACK's restarts: tests/test_probe_solvers.py,
# tests/test_jacobi_radius_nonnormal.py): every function of the cut module's parts that reads
# one is defined in that part, so the replacement reaches every reader
PATCHED_IN_PART = {"solvers._spectral_radius": ("solvers.spectral", (
    "DENSE_LIMIT", "DENSE_FALLBACK_LIMIT", "GENERAL_DENSE_LIMIT", "ARPACK_RESTARTS",
    "_sparse_inverse_condition"))}


def _defined(module):
    import importlib
    import inspect

    mod = importlib.import_module(module)
    return {name for name, obj in vars(mod).items()
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module}


def test_a_cut_module_and_its_parts_define_each_name_once():
    # a pure move leaves no copy behind: a function defined in the module and in a part would
    # be two versions of one thing, the module's import of the part's silently shadowed
    for module, parts in SPLIT:
        where = {}
        for m in (module, *parts):
            for name in _defined(m):
                where.setdefault(name, []).append(m)
        assert {n: ms for n, ms in where.items() if len(ms) > 1} == {}, module


def test_the_old_paths_of_moved_names_are_the_moved_objects():
    import importlib

    for module, names in MOVED.items():
        mod = importlib.import_module(module)
        for name in names:
            obj = getattr(mod, name)
            home = importlib.import_module(obj.__module__)
            assert getattr(home, name) is obj, (module, name)


def test_a_pickle_naming_the_old_module_of_a_moved_class_loads():
    # an object pickled before the cut names experiments.problems (or bandit._base): written
    # here as the old pickle was (protocol 0 names the class as 'c<module>\n<name>'), it loads
    # as the moved class with the same data
    import warnings

    from experiments import problems

    objs = [problems.DiffusionMC3D(m=3, samples=2, seed=1),
            problems.FEMHeat2D(h=0.4, steps=2, seed=0),
            problems.PlaneElasticity(2, m=3, seed=0)]
    for obj in objs:
        new = pickle.dumps(obj, protocol=0)
        here = f"c{type(obj).__module__}\n{type(obj).__name__}\n".encode()
        assert here in new
        old = new.replace(here, f"cexperiments.problems\n{type(obj).__name__}\n".encode())
        back = pickle.loads(old)
        assert type(back) is type(obj)
        assert pickle.dumps(back, protocol=0) == new  # the same state, array for array
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FixedArm([1.5, 1.5])
    w = caught[0].message
    new = pickle.dumps(w, protocol=0)
    old = new.replace(b"cbandit._checks\nRepeatedArmWarning\n",
                      b"cbandit._base\nRepeatedArmWarning\n")
    assert old != new
    assert isinstance(pickle.loads(old), bandit.RepeatedArmWarning)


def test_moved_constants_are_the_same_objects_on_the_old_path():
    import importlib

    for module, (home, names) in MOVED_VALUES.items():
        mod, part = importlib.import_module(module), importlib.import_module(home)
        for name in names:
            assert getattr(mod, name) is getattr(part, name), (module, name)
            assert name not in _assigned(module), (module, name)  # defined once, in its part


def _assigned(module):
    """Names a module assigns at its top level (not imports)."""
    import ast
    import importlib
    import inspect

    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    # (a, b = ...: each name of a tuple target too)
    return {n.id for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets for n in ([t] if isinstance(t, ast.Name) else
                                            getattr(t, "elts", []))
            if isinstance(n, ast.Name)}


def _reads(code):
    """Global names a code object (and the functions and classes nested in it) reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _reads(const)
    return names


def _reads_by_part(module, names):
    """Which of ``names`` each function (or class, by its methods) defined in ``module`` or one
    of its parts reads as a global: ``{(defining module, its name): names read}``."""
    import importlib
    import inspect

    found = {}
    for m in (module, *dict(SPLIT)[module]):
        for name, obj in vars(importlib.import_module(m)).items():
            if not ((inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == m):
                continue
            funcs = [obj] if inspect.isfunction(obj) else [
                f for f in vars(obj).values() if inspect.isfunction(f)]
            for f in funcs:
                read = _reads(f.__code__) & set(names)
                if read:
                    found.setdefault((m, name), set()).update(read)
    return found


def test_a_switch_is_read_only_in_the_module_it_is_set_on():
    # estimate.TAIL_SPREAD = False must reach the pooled spread: a function moved to a part
    # would read the part's own (re-exported, never updated) name and ignore the switch
    for module, switches in SWITCHES.items():
        assert set(switches) <= _assigned(module)
        found = _reads_by_part(module, switches)
        assert all(m == module for m, _ in found), found


def test_moved_constants_of_several_parts_are_the_same_objects_on_the_old_path():
    import importlib

    for module, home, names in MOVED_VALUES_BY_PART:
        mod, part = importlib.import_module(module), importlib.import_module(home)
        for name in names:
            assert getattr(mod, name) is getattr(part, name), (module, name)
            assert name not in _assigned(module), (module, name)
            assert name in _assigned(home), (home, name)  # defined in that part, not imported


def test_a_replaced_name_is_read_only_in_the_module_it_is_replaced_on():
    import importlib

    for module, names in PATCHED.items():
        assert all(hasattr(importlib.import_module(module), n) for n in names), module
        found = _reads_by_part(module, names)
        assert all(m == module for m, _ in found), found
        # (measure is replaced for the benchmarks, which read it as _bench.measure)
        assert set().union(*found.values()) == set(names) - {"measure"}, (module, found)


def test_a_clock_and_an_estimate_replaced_on_the_public_module_still_reach_their_readers(
        monkeypatch):
    # _bench.time replaced by a simulated clock times the calls on it, and
    # report.estimator_data replaced reaches the progress bar's regret
    from types import SimpleNamespace

    from bandit import report
    from experiments import _bench as B

    clock = SimpleNamespace(now=0.0)

    def run(k):
        clock.now += 1e-3 + 2e-4 * k

    monkeypatch.setattr(B, "time", SimpleNamespace(perf_counter=lambda: clock.now,
                                                   process_time=lambda: clock.now))
    t = B.measure([B.Method("fake", run)], rounds=3, ks=(2, 4, 6, 8))["fake"]
    assert abs(t.per_iter.median - 2e-4) < 1e-12 and abs(t.setup.median - 1e-3) < 1e-12
    A = gallery.laplacian_2d(4)
    tuner = Tuner(FixedArm([1.2, 1.5], seed=0), solver="sor")
    tuner.solve(A, np.ones(16))
    assert "regret≈" in report.Hook(tuner, False, None).postfix()
    monkeypatch.setattr(report, "estimator_data", lambda t: (_ for _ in ()).throw(
        RuntimeError("the replaced estimator_data was read")))
    try:
        report.Hook(tuner, False, None).postfix()
    except RuntimeError as exc:
        assert "replaced" in str(exc)
    else:
        raise AssertionError("the hook did not read report.estimator_data")


def test_a_switch_set_on_bandit_estimate_still_changes_the_estimate():
    # the pooled spread, in its root-mean-square and its robust form (the two give 0.085 and
    # 0 on these residuals: docs of _pooled_spread)
    from bandit import estimate

    rel = np.r_[np.full(95, 0.01), np.full(5, 0.4)]
    old = estimate.TAIL_SPREAD
    try:
        estimate.TAIL_SPREAD = False
        robust = estimate._pooled_spread(rel)
    finally:
        estimate.TAIL_SPREAD = old
    assert robust == 0.0 and round(estimate._pooled_spread(rel), 3) == 0.085


def test_a_pickle_naming_the_old_module_of_a_moved_function_loads():
    # a function pickles by name: one pickled before the cut names bandit.audit or
    # bandit.estimate, and loads as the moved function
    from bandit import audit, estimate

    for mod, name in ((audit, "allocate"), (audit, "anchor_weights"),
                      (estimate, "inclusion_probabilities")):
        obj = getattr(mod, name)
        new = pickle.dumps(obj, protocol=0)
        here = f"c{obj.__module__}\n{name}\n".encode()
        assert here in new and obj.__module__ != mod.__name__
        old = new.replace(here, f"c{mod.__name__}\n{name}\n".encode())
        assert pickle.loads(old) is obj


def test_a_tuner_with_audits_pickles_and_resumes_across_the_cut():
    # the Auditor stays bandit.audit.Auditor: a pickled tuner with audits names it there and
    # continues exactly as the tuner it was pickled from
    A = gallery.laplacian_2d(6)
    b = np.ones(36)
    t = Tuner(bandit.UniformRandom([1.0, 1.3, 1.6], seed=2), solver="sor", audit_budget=0.5,
              audit_seed=3)
    for _ in range(5):
        t.solve(A, b)
    data = pickle.dumps(t)
    names = [arg for op, arg, _ in pickletools.genops(data)
             if isinstance(arg, str) and arg.startswith("bandit.")]
    assert "bandit.audit" in names and not [n for n in names if n.startswith(
        ("bandit._audit_", "bandit._observed", "bandit._student", "bandit._estimate_"))]
    u = pickle.loads(data)
    for _ in range(5):
        t.solve(A, b)
        u.solve(A, b)
    assert t.history["arm"].tolist() == u.history["arm"].tolist()
    assert len(t.audits["arm"]) > 0  # (3 audit runs in these 10 rounds)
    assert t.audits["arm"].tolist() == u.audits["arm"].tolist()
    assert t.audits["iterations"].tolist() == u.audits["iterations"].tolist()


def test_a_pickle_naming_solvers_precond_for_a_moved_preconditioner_loads():
    # a preconditioner pickled before the cut names solvers.precond: it loads as the class
    # now kept in solvers/_precond_builtin.py, built factor and all
    from solvers import precond

    A = gallery.laplacian_2d(6)
    r = np.linspace(1.0, 2.0, 36)
    for pc in (precond.IC0(reuse=2), precond.Jacobi(), precond.SSOR(1.3)):
        pc.setup(A)
        new = pickle.dumps(pc, protocol=0)
        here = f"c{type(pc).__module__}\n{type(pc).__name__}\n".encode()
        assert here in new and type(pc).__module__ != "solvers.precond"
        old = new.replace(here, f"csolvers.precond\n{type(pc).__name__}\n".encode())
        back = pickle.loads(old)
        assert type(back) is type(pc) and back.params() == pc.params()
        assert np.array_equal(back.apply(r), pc.apply(r))  # the same set-up, bit for bit


def test_a_name_replaced_on_a_part_is_read_only_in_that_part():
    for part, (module, names) in PATCHED_IN_PART.items():
        assert set(names) <= _assigned(part) | _defined(part), part
        found = _reads_by_part(module, names)
        assert all(m == part for m, _ in found), found
        assert set().union(*found.values()) == set(names), (part, found)


def _replaced(path):
    """``(module, name, line)`` of each module attribute a file replaces —
    ``monkeypatch.setattr(M, "NAME", ...)``, ``monkeypatch.setattr("M.NAME", ...)`` and
    ``M.NAME = ...`` — with ``M`` resolved through the file's imports."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    alias = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                alias[a.asname or a.name.split(".")[0]] = a.asname and a.name or (
                    a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                alias[a.asname or a.name] = f"{node.module}.{a.name}"

    def dotted(expr):
        if isinstance(expr, ast.Name):
            return alias.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = dotted(expr.value)
            return base and f"{base}.{expr.attr}"
        return None

    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "setattr" and node.args):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                module, _, name = first.value.rpartition(".")
                found.append((module, name, node.lineno))
            elif (len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
                  and isinstance(node.args[1].value, str) and dotted(first)):
                found.append((dotted(first), node.args[1].value, node.lineno))
        elif isinstance(node, ast.Assign):
            found += [(dotted(t.value), t.attr, node.lineno) for t in node.targets
                      if isinstance(t, ast.Attribute) and dotted(t.value)]
    return found


def _imported_in_functions(module):
    """Names the package code imports from ``module`` inside a function (looked up on it at
    each call, so a replacement on ``module`` reaches that code)."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    names = set()
    for path in [p for d in ("solvers", "bandit", "experiments") for p in (root / d).glob("*.py")]:
        package = path.parent.name
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.module:
                    source = (f"{package}.{node.module}" if node.level == 1 else node.module)
                    if source == module:
                        names |= {a.name for a in node.names}
    return names


def test_a_name_replaced_on_a_cut_module_is_looked_up_there():
    # a test (or a study) that replaces a name on a cut module, or on one of its parts, must
    # name the module the code looks the name up on: where it is defined, or read by a function
    # of that module, or imported from it inside a function.  A name the module only imports
    # from a part (a constant kept there for reading) would be replaced without reaching any
    # code, and the test would pass without testing anything — unless the module sets it
    # through to the part (solvers.spectral.DENSE_LIMIT: solvers.spectral._ForwardingModule)
    import importlib
    import inspect
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    cut = {m for module, parts in SPLIT for m in (module, *parts)}
    stale = []
    for path in sorted([*root.glob("tests/*.py"), *root.glob("experiments/*.py")]):
        for module, name, line in _replaced(path):
            if module not in cut:
                continue
            mod = importlib.import_module(module)
            read = set()
            for obj in vars(mod).values():
                if (inspect.isfunction(obj) or inspect.isclass(obj)) and (
                        obj.__module__ == module):
                    funcs = [obj] if inspect.isfunction(obj) else [
                        f for f in vars(obj).values() if inspect.isfunction(f)]
                    for f in funcs:
                        read |= _reads(f.__code__)
            # (or set through to the part that defines it: solvers.spectral's limits,
            # forwarded by the module's class to solvers._spectral_radius/_spectral_floor)
            part = getattr(mod, "_FORWARDED", {}).get(name)
            if not (name in read or name in _assigned(module) or name in _defined(module)
                    or name in _imported_in_functions(module)
                    or part is not None and name in _assigned(part.__name__)):
                stale.append(f"{path.name}:{line} {module}.{name}")
    assert stale == []


def test_the_radius_limits_set_on_their_part_change_the_eigensolver(monkeypatch):
    # the limits set where they are read (solvers._spectral_radius) send a 300-row
    # non-symmetric matrix to ARPACK with that many restarts, and a 400-row symmetric one to
    # ARPACK's symmetric solver; left alone, both are solved densely
    import scipy.sparse as sp

    import solvers._spectral_radius as radius
    from solvers import jacobi_spectral_radius

    calls = []
    eigs, eigsh = radius.spla.eigs, radius.spla.eigsh
    monkeypatch.setattr(radius.spla, "eigs",
                        lambda *a, **k: calls.append(("eigs", k["maxiter"])) or eigs(*a, **k))
    monkeypatch.setattr(radius.spla, "eigsh",
                        lambda *a, **k: calls.append(("eigsh", None)) or eigsh(*a, **k))
    n = 300
    R = sp.random_array((n, n), density=4 / n, rng=3, format="csr")
    A = sp.csr_array(R + sp.diags_array(abs(R).sum(axis=1) + 0.5))
    L = gallery.laplacian_2d(20)
    rho, rho_l = jacobi_spectral_radius(A), jacobi_spectral_radius(L)
    assert calls == []
    monkeypatch.setattr(radius, "GENERAL_DENSE_LIMIT", 10)
    monkeypatch.setattr(radius, "ARPACK_RESTARTS", 30)
    monkeypatch.setattr(radius, "DENSE_LIMIT", 10)
    assert abs(jacobi_spectral_radius(A) - rho) < 1e-9 * rho
    assert calls and set(calls) == {("eigs", 30)}
    calls.clear()
    assert abs(jacobi_spectral_radius(L) - rho_l) < 1e-9
    assert calls == [("eigsh", None)]


def test_a_pickle_names_the_arms_and_the_spectral_estimate_by_their_public_modules():
    # Config stays bandit.arms.Config and a prior's spectral estimate solvers.spectral's: a
    # pickled tuner (SOR with its prior, configuration arms on both backends' vocabulary)
    # names no part of bandit.arms or solvers.spectral, so pickles do not depend on the cut
    from bandit.arms import parse_arm
    from solvers.spectral import estimate_spectrum

    A = gallery.laplacian_2d(6)
    b = np.ones(36)
    tuners = [Tuner(solver="sor"), Tuner(bandit.default_policy(
        None, bandit.config_grid([1.2, 1.5], ["jacobi"]), seed=0))]
    for t in tuners:
        t.solve(A, b, context=1.0)
    data = pickle.dumps((tuners, parse_arm({"method": "cg", "pc": "ic0"}, backend="petsc"),
                         estimate_spectrum(A)))
    names = [arg for op, arg, _ in pickletools.genops(data)
             if isinstance(arg, str) and arg.startswith(("bandit.", "solvers."))]
    assert "bandit.arms" in names and "solvers.spectral" in names
    assert not [n for n in names if n.startswith(("bandit._arms_", "solvers._spectral_"))]
    back = pickle.loads(data)
    assert back[1] == parse_arm({"method": "cg", "pc": "ic0"}, backend="petsc")


def test_a_policy_and_a_warm_up_replaced_on_the_precond_study_reach_its_run(monkeypatch):
    # an A/B wrapper replaces experiments.precond_study._policy (or _method, _warm_up): the
    # study's running, kept in that module, must build its learners through the replacement.
    # Here a fixed last arm stands in for the learner, so its plays and iterations become
    # those of that fixed configuration, which the default learner's are not
    import bandit
    import experiments.precond_study as ps

    grid = [{"method": "ssor_pcg", "omega": 1.5}, {"method": "cg", "pc": "jacobi"}]

    def study():
        s, a = ps.run_precond_study(sequences=[("heat2d", 6)], steps=6, seeds=1, anchors=[],
                                    grid=grid, omegas=[1.2, 1.5], learner="default",
                                    work_learner=False, progress=False)
        return s["sequences"]["heat2d_nx6"]["methods"], a["heat2d_nx6"]

    warmed, built = [], []
    method = ps._method
    monkeypatch.setattr(ps, "_warm_up", lambda seqs, *args: warmed.append(len(seqs)))
    monkeypatch.setattr(ps, "_method", lambda key, *a, **k: built.append(key) or method(
        key, *a, **k))
    before, _ = study()
    assert warmed == [1] and sorted(built) == ["fixed/0", "fixed/1", "learner",
                                               "omega_learner"]
    monkeypatch.setattr(ps, "_policy",
                        lambda name, arms, seed, bounds: bandit.FixedArm(arms, arm=len(arms) - 1))
    after, arr = study()

    def played(m, key):
        return {lab: n for lab, n in m[key]["arm_counts"].items() if n}

    assert played(after, "learner") == {"cg+jacobi": 6} != played(before, "learner")
    assert np.array_equal(arr["iter/learner"], arr["iter/cg+jacobi"])
    assert list(played(after, "omega_learner").values()) == [6]
    assert played(after, "omega_learner") != played(before, "omega_learner")


def test_a_run_replaced_in_the_heat_study_table_reaches_the_study(monkeypatch):
    # tests/mpi_errors.py replaces experiments.heat_study._TASKS["learner"]: the study's
    # dispatch, kept in that module, must run the replacement. A stand-in whose every step
    # takes 7 iterations on arm 0 becomes the learner's row; chebcb's own does not
    import experiments.heat_study as hs

    def study():
        s, a = hs.run_heat_study(nx=[6], steps=4, t_end=0.004, trials=1, methods=["chebcb"],
                                 grid=False, direct=False, progress=False)
        return s["methods"]["chebcb"], a[6]

    def stand_in(task):
        T = task.steps
        return {"arms": np.zeros(T, dtype=np.int64), "iterations": np.full(T, 7),
                "solve_seconds": np.full(T, 1e-3), "seconds": np.full(T, 2e-3),
                "converged": np.ones(T, dtype=bool), "stopped": np.zeros(T, dtype=bool),
                "loop_seconds": 0.01}

    before, _ = study()
    monkeypatch.setitem(hs._TASKS, "learner", stand_in)
    after, arr = study()
    assert after["iterations"] == 28 != before["iterations"]
    assert arr["arms/chebcb"].tolist() == [[0, 0, 0, 0]]
    assert abs(after["seconds"] - 8e-3) < 1e-12
