"""Which first runs of a timed :class:`bandit.Tuner` pay the untimed cold run.

With ``cost="time"`` or ``"timed_work"`` an arm's first run in a process is preceded by a
short untimed run (``bandit._tuner_run._COLD_ITERATIONS`` iterations from the same start), so
that the reading the prices take is not that of the interpreter's first pass over the solver's
code and the caches' first touch of the system's arrays.  Those one-time costs are the
*family's* (the arms of a family differ by a scalar, SSOR-PCG's ω, or by a set-up's reuse:
the same kernels over the same arrays), not the arm's, and once an arm of the family has run
the reading of another arm's first run is not what the prices rest on:

* ``timed_work``: a first run's reading is kept as a cold one, which sets a family's price
  only while the family has no warm reading (:class:`bandit._prices._Prices`), and the
  least of the cold readings then; the reference family's first rounds are told again at the
  price fixed after them (``ArmSet.retell_early``);
* ``time``: a first run is told at most its family's warm seconds per iteration once the
  family has warm runs (``ArmSet.cold_time``).

So the cold run is paid once per family (:data:`COLD_BY_FAMILY`, on): on the Monte Carlo
sequence (mc3d m = 22, 300 samples) the configuration learner's first solves of its other
SSOR-PCG ω had cost 0.5-1.3 % of a round more than the same solves of a fixed Tuner, about
1 ms each on a solve of 4-5 ms, against 0.0-0.4 % for the ω-only learner, which has no cold
runs; side by side with the cold run once per arm, 0.994 × on mc3d (six rounds), 0.978-0.990
on the adaptive-step heat loop, within the rounds' noise on heat2d, aniso2d and finadapt
(``docs/studies/precond_rules.md``).
"""
from __future__ import annotations

#: Pay the untimed cold run only for the first run of each family (True), or for the first
#: run of each arm (False, as before).  An ``ArmSet`` takes its own value from an instance
#: attribute ``cold_by_family`` when one is set (to compare the two side by side).
COLD_BY_FAMILY = True


def cold_run_needed(arms, k) -> bool:
    """Whether arm ``k``'s first run in this process (``arms._warm[k]`` false) pays the
    untimed cold run: always when :data:`COLD_BY_FAMILY` is off for ``arms``, else only
    while no arm of ``k``'s family has run in this process.

    Parameters
    ----------
    arms : bandit.armset.ArmSet
        The Tuner's arms (``family``: each arm's family index; ``_warm``: whether each arm
        has run on the user's clock in this process).
    k : int
        The arm about to run.

    Returns
    -------
    bool
    """
    if not arms.__dict__.get("cold_by_family", COLD_BY_FAMILY):
        return True
    family, warm = arms.family, arms._warm
    f = family[k]
    for j, w in enumerate(warm):
        if w and family[j] == f:
            return False
    return True
