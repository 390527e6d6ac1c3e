"""The ask/tell protocol every policy follows (costs are minimised), and its validation."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ._checks import (RepeatedArmWarning, _check_arms, _check_flag,  # noqa: F401 - re-exported
                      arm_omega, check_bounds, check_choice, check_nonnegative, check_positive,
                      count_of, scalar_context)
from ._jsonable import from_jsonable, to_jsonable
from ._kernels import played_argmin, sample_index

__all__ = ["Policy", "arm_omega", "scalar_context", "check_bounds", "to_jsonable", "from_jsonable"]

STATE_FORMAT = "relaxtune.policy"
STATE_VERSION = 1
#: State every policy saves, before its own ``_state_keys``.  ``converged_counts`` was added
#: later within version 1: a state without it restores zeros (no leader until an arm converges).
#: JointCB's ``log_sq_err`` too: a state without it is a log-cost learner's, which never reads it.
#: JointCB's drift test (``drift_level``, ``drift_score``, ``drifts``) too: a state without it
#: starts the test afresh.  ``family_sq_err`` too: JointCB saved it for an option since
#: removed (a saved state's entry is dropped, :mod:`bandit._joint_removed`), and a state of
#: another policy without it loads as it did.
BASE_STATE_KEYS = ("t", "counts", "converged_counts", "cost_sums", "p")
OPTIONAL_STATE_KEYS = ("converged_counts", "log_sq_err", "drift_level", "drift_score", "drifts",
                       "family_sq_err")
#: JointCB's state of the prior's shared error: a state saved before ``prior_shift`` existed
#: (its config has none) lacks it and is a learner without the shared error.
PRIOR_SHIFT_STATE_KEYS = ("prior_moved", "prior_dir", "prior_proj", "prior_usq", "prior_c",
                          "prior_s2")
#: JointCB's state of the change test: a state saved before ``detect_changes`` existed (its
#: config has none) lacks it and is a learner without the test (nothing forgotten, no change).
CHANGE_TEST_STATE_KEYS = ("cusum_up", "cusum_down", "forgotten", "prior_scale", "changes")


def memo_key(context):
    """``context`` as the key of a memo shared by ``select`` and ``leader`` within one round:
    the float itself, ``()`` for no context, ``None`` (never memoised) for a vector.

    Examples
    --------
    >>> memo_key(0.5), memo_key(None), memo_key([0.5, 1.0])
    (0.5, (), None)
    """
    if isinstance(context, float):
        return context
    return () if context is None else None


class Policy:
    """Base class of all learners: ``select`` an arm index, ``update`` it with its cost.

    Costs are **minimised** (iterations, seconds: any non-negative number).  Subclasses
    implement ``_select``/``_update`` and list their mutable arrays in ``_state_keys``; the base
    class validates arguments, owns the seeded :class:`numpy.random.Generator`, keeps per-arm
    counts, counts of converged observations and cost sums, and saves/restores everything
    (RNG included), so the same seed and the same costs give the same arm sequence, also
    across :meth:`state_dict` / :meth:`from_state_dict`.

    Parameters
    ----------
    arms : sequence of float or dict
        ω values or dicts of solver settings; policies return indices into this list.
    seed : int, optional
        Seed of the policy's generator.

    Notes
    -----
    A *censored* cost (``censored=True``) is a lower bound: the solve was stopped at that cost
    before converging.  Each policy states how it uses one.

    Examples
    --------
    The ask/tell loop that :class:`bandit.Tuner` runs for you, here with SOR's iteration
    counts as the costs:

    >>> import numpy as np, bandit, solvers
    >>> A = solvers.gallery.laplacian_2d(10)
    >>> policy = bandit.TsallisINF([1.0, 1.5, 1.9], seed=0)
    >>> isinstance(policy, bandit.Policy)
    True
    >>> for t in range(30):
    ...     k = policy.select()
    ...     policy.update(k, solvers.sor(A, np.ones(100), policy.arms[k]).iterations)
    >>> int(policy.counts.sum()), policy.arms[int(np.argmax(policy.counts))]
    (30, 1.5)
    """

    #: Whether ``select``/``update`` need a context.
    contextual = False
    #: Whether ``select`` draws from the generator (a different seed gives other arms).
    randomised = True
    #: Whether a :class:`bandit.Tuner` reports a guarded exploration that had to be stopped
    #: and finished by the fallback arm as the whole round's cost (attempt plus fallback,
    #: uncensored) rather than the attempt's censored cost (see the Tuner's notes).
    report_round_cost = False
    _state_keys: tuple = ()

    def __init__(self, arms, *, seed=None):
        self.arms = _check_arms(arms)
        self.n_arms = len(self.arms)
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.t = 0
        self.counts = np.zeros(self.n_arms, dtype=np.int64)
        #: per arm, the number of observations reported as converged (``update(converged=)``):
        #: only such arms can be the :meth:`leader`
        self.converged_counts = np.zeros(self.n_arms, dtype=np.int64)
        self.cost_sums = np.zeros(self.n_arms)
        self.p = None  # distribution of the last select (None if not randomised yet)

    # --- protocol ---------------------------------------------------------------------------
    def select(self, context=None) -> int:
        """Return the index of the arm to play next (lowest expected cost, plus exploration)."""
        return int(self._select(self._context(context)))

    def update(self, arm, cost, context=None, censored=False, converged=None) -> None:
        """Report the cost (to be minimised) of playing ``arm``; ``censored`` means "at least".

        ``converged`` says whether the solve behind this cost converged (default: ``not
        censored``).  A :class:`bandit.Tuner` passes it explicitly, because it reports some
        failed solves uncensored (the whole round's cost, see ``report_round_cost``); only arms
        with a converged observation can be the :meth:`leader`.  ``censored=True`` with
        ``converged=True`` is refused (``ValueError``, nothing recorded): a cost known only as
        "at least this much" does not come from a solve that converged, and counting it as
        converged would let an arm never seen to converge become the leader.
        """
        if not (type(arm) is int and 0 <= arm < self.n_arms):  # fast path: a valid index
            arm = self._check_arm(arm)
        if not (type(cost) is float and 0.0 <= cost < math.inf):  # fast path: a valid cost
            cost = self._check_cost(cost)
        if type(censored) is not bool:
            censored = _check_flag(censored, "censored")
        if converged is None:
            converged = not censored
        elif type(converged) is not bool:
            converged = _check_flag(converged, "converged")
        if censored and converged:
            raise ValueError(
                f"update(arm={arm}): censored=True (the cost is a lower bound: the solve was "
                "stopped or failed) contradicts converged=True; pass converged=False, or "
                "censored=False with the cost of the converged solve")
        self._update(arm, cost, self._context(context), censored)
        self.counts[arm] += 1
        if converged:
            self.converged_counts[arm] += 1
        self.cost_sums[arm] += cost
        self.t += 1

    def predict(self, context=None) -> np.ndarray:
        """Predicted cost of every arm (NaN where nothing is known); default: empirical means."""
        self._context(context)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.cost_sums / np.maximum(self.counts, 1), np.nan)

    def leader(self, context=None) -> tuple:
        """``(arm, predicted cost)`` of the arm with the lowest predicted cost among the arms
        with a converged observation.

        Only arms that have converged at least once qualify (:attr:`converged_counts`): a
        smoother's guess for an unplayed arm, or an arm whose only results were failures, is
        no fallback.  ``(None, nan)`` before any.  The :class:`bandit.Tuner` asks for it every
        solve (guard budget and first fallback arm; a :class:`~bandit.JointCB` whose draw
        played the leader it found is asked only for the arm, :meth:`bandit.JointCB.drawn_leader`),
        so subclasses with a cheaper route override it, keeping this rule.

        Examples
        --------
        >>> from bandit import FixedArm
        >>> p = FixedArm([1.0, 1.5, 1.8], arm=0)
        >>> p.leader()
        (None, nan)
        >>> p.update(2, 30.0); p.update(1, 20.0)
        >>> p.leader()
        (1, 20.0)
        >>> p.update(0, 10.0, converged=False)   # cheap, but it failed: never the leader
        >>> p.leader()
        (1, 20.0)
        """
        pred = np.asarray(self.predict(context), dtype=np.float64)
        k = int(played_argmin(pred, self.converged_counts))
        return (None, math.nan) if k < 0 else (k, float(pred[k]))

    # --- helpers for subclasses ---------------------------------------------------------------
    def _sample(self, p):
        self.p = p
        return sample_index(p, self.rng.random())

    def _mean_cost(self):
        """Running mean of all costs seen; 1 until a positive cost arrives (no 0/0)."""
        total = self.cost_sums.sum()
        return total / self.t if total > 0 else 1.0

    def _context(self, context):
        if not self.contextual:
            return None  # ignored, so a Tuner may pass contexts to any policy
        if context is None:
            raise ValueError(f"{type(self).__name__} is contextual: pass context=...")
        return self._check_context(context)

    def _check_context(self, context):
        return context

    def _check_arm(self, arm):
        if type(arm) is not int and (isinstance(arm, bool) or not isinstance(arm, numbers.Integral)):
            raise ValueError(f"arm must be an integer index, got {arm!r}")
        if not 0 <= arm < self.n_arms:
            raise ValueError(f"arm index {arm} outside 0..{self.n_arms - 1}")
        return int(arm)

    @staticmethod
    def _check_cost(cost):
        # a number (NumPy's, or a 0-d array, included); not a string float() would parse,
        # nor a bool
        if isinstance(cost, np.ndarray) and cost.ndim == 0 and cost.dtype.kind in "fiu":
            cost = cost[()]
        if isinstance(cost, (bool, np.bool_)) or not isinstance(cost, numbers.Real):
            raise ValueError(f"cost must be a number, got {cost!r}")
        try:
            c = float(cost)
        except OverflowError:  # an integer beyond the float range
            c = math.inf if cost > 0 else -math.inf
        if math.isnan(c):
            raise ValueError("cost is NaN")
        if c < 0:
            raise ValueError(f"cost must be >= 0 (costs are minimised), got {c}")
        if math.isinf(c):
            raise ValueError("cost is infinite: report the cost spent so far with censored=True")
        return c

    def _select(self, context):  # pragma: no cover - abstract
        raise NotImplementedError

    def _draw_state(self):
        """What a :meth:`select` changes that the next one does not simply overwrite: the
        random generator's state (of a randomised policy) and the pending distribution.  A
        :class:`bandit.Tuner` whose solve raises between the draw and the update restores it
        with :meth:`_undo_draw`, so the abandoned round draws nothing."""
        return (self.rng.bit_generator.state if self.randomised else None), self.p

    def _undo_draw(self, state) -> None:
        rng, self.p = state
        if rng is not None:
            self.rng.bit_generator.state = rng

    def _update(self, arm, cost, context, censored):
        pass

    # --- persistence --------------------------------------------------------------------------
    def _config(self) -> dict:
        """Constructor keyword arguments (besides ``arms`` and ``seed``)."""
        return {}

    @classmethod
    def _saved_config(cls, config: dict) -> dict:
        """The constructor keywords a saved ``config`` stands for (a subclass maps the config of
        a state saved before one of its options existed to what it was then)."""
        return config

    @classmethod
    def _saved_state(cls, values: dict) -> dict:
        """The saved state's entries ``values`` (``state["state"]``) this class takes, after
        :meth:`_saved_config` has read the config (a subclass drops the entries of a removed
        option that config said was off)."""
        return values

    def state_dict(self) -> dict:
        """Everything needed to resume identically, as JSON-serialisable Python objects."""
        arrays = {k: getattr(self, k) for k in (*BASE_STATE_KEYS, *self._state_keys)}
        return to_jsonable({
            "format": STATE_FORMAT, "version": STATE_VERSION, "class": type(self).__name__,
            "arms": self.arms, "seed": self.seed, "config": self._config(),
            "rng": self.rng.bit_generator.state, "state": arrays,
        })

    @classmethod
    def from_state_dict(cls, state: dict) -> "Policy":
        """Rebuild a policy saved by :meth:`state_dict` (``Policy.from_state_dict`` dispatches)."""
        from . import POLICIES  # registry lives in the package facade

        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError("not a relaxtune policy state (missing format tag)")
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"policy state version {state.get('version')!r} is not supported "
                             f"(this relaxtune reads version {STATE_VERSION})")
        name = state["class"]
        klass = {c.__name__: c for c in POLICIES.values()}.get(name)
        if klass is None or not issubclass(klass, cls):
            raise ValueError(f"state is for {name!r}, which is not a {cls.__name__}")
        state = from_jsonable(state)
        with warnings.catch_warnings():  # (warned when the policy was made, not again)
            warnings.simplefilter("ignore", RepeatedArmWarning)
            obj = klass(state["arms"], seed=state["seed"],
                        **klass._saved_config(state["config"]))
        obj.rng.bit_generator.state = state["rng"]
        for k, v in klass._saved_state(state["state"]).items():
            setattr(obj, k, v)
        obj.t = int(obj.t)
        return obj

    def __repr__(self):
        return f"{type(self).__name__}(n_arms={self.n_arms}, t={self.t})"
