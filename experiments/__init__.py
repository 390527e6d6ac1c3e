"""Experiments of the relaxtune paper reproduction and the ``relaxtune`` command line.

Modules: :mod:`experiments.problems` (instance generators, the Heat2D simulation),
:mod:`experiments.costs` (full cost matrices), :mod:`experiments.studies` (the studies),
:mod:`experiments.plots` (figures from saved data) and :mod:`experiments.cli`.
"""
