"""Experiments of the relaxtune paper reproduction and the ``relaxtune`` command line.

Modules: :mod:`experiments.problems` (offset-Laplacian generator, the Heat2D simulation),
:mod:`experiments.costs` (full cost matrices C[t, k]), :mod:`experiments.learners` (which
learners each study runs), :mod:`experiments.offset_study` (``learning``/``contextual``),
:mod:`experiments.heat_study` (``heat2d``/``demo``), :mod:`experiments.results` (scoring,
summary.json, tables), :mod:`experiments.plots` (figures from saved data) and
:mod:`experiments.cli` (the ``relaxtune`` console script).
"""
from solvers._jitcache import ensure_cache_dir as _ensure_cache_dir

_ensure_cache_dir(__file__)  # before any kernel is defined (read-only installs)
