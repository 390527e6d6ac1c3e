"""FamilyCB: a learner over solver configurations that knows which arms share an ω axis.

Configuration arms (:func:`bandit.config_grid`) fall into *families*: everything but ω
(method, preconditioner, set-up reuse, other settings).  A flat learner over all of them
models SSOR-PCG at ω = 1.6 and IC(0)-CG as two unrelated arms, so its choice of ω within
SSOR-PCG is worse than that of a learner over the ω alone.  :class:`FamilyCB` learns in two
levels: inside each family with several arms, a learner of its own (by default the
contextual :class:`~bandit.ChebCB`, the learner one would run over those ω alone); across
families, a lower-confidence-bound rule on the cost of each family's chosen arm.
"""
from __future__ import annotations

import math

import numpy as np

from numba import njit

from ._base import Policy, check_nonnegative, check_positive, memo_key, to_jsonable
from ._kernels import rls_observe
from .squarecb import ChebCB

__all__ = ["FamilyCB", "arm_families"]

_OMEGA_KEYS = ("omega", "pc_sor_omega")


def arm_families(arms, solver="ssor_pcg", backend="numba") -> list:
    """Group arms into families: lists of arm indices, in the order of each family's first arm.

    Arms of one family differ only in ω (and SSOR's sweep order, which costs the same per
    iteration): :attr:`bandit.arms.Config.family` of :func:`bandit.parse_arm`.  With
    ``solver=None`` (the arms of a custom solver function) a float is an ω of one family and
    a dict belongs to the family of its other keys.

    Examples
    --------
    >>> from bandit import config_grid
    >>> arm_families(config_grid([1.2, 1.5, 1.8], ["jacobi", "amg"], reuse={"amg": [0, 20]}))
    [[0, 1, 2], [3], [4], [5]]
    >>> arm_families([1.0, {"omega": 1.2, "order": "textbook"}, {"method": "sor", "omega": 1.5}])
    [[0, 1], [2]]
    >>> arm_families([1.0, 1.5, {"omega": 1.2, "inner": 3}], solver=None)
    [[0, 1], [2]]
    """
    from .arms import parse_arm

    keys = {}
    out = []
    for i, arm in enumerate(arms):
        if solver is None:
            if isinstance(arm, dict):
                key = tuple(sorted((str(k), repr(v)) for k, v in arm.items()
                                   if k not in _OMEGA_KEYS))
            else:
                key = ()
        else:
            key = parse_arm(arm, solver, backend, index=i).family
        if key not in keys:
            keys[key] = len(out)
            out.append([])
        out[keys[key]].append(i)
    return out


@njit(cache=True)
def _family_round(theta, P, phi, bonus, counts, converged, lone, lead):
    """One round's family figures: ``(family to play, family of one arm to lead, its upper
    bound, its mean)`` — the last three ``(−1, nan, nan)`` if none.

    Play: the first untried family, else the lowest ``level_f − bonus · w_f`` with
    ``w_f = sqrt(φᵀ P_f φ)``, ``level_f = lead[f]`` (an inner learner's leader) or the model's
    ``θ_fᵀφ``; a family without a converged cost gets no bonus (its costs are lower bounds,
    optimistic already).  Lead: among the families of one arm with a converged cost, the
    lowest upper bound ``θ_fᵀφ + w_f``.
    """
    F, d = theta.shape
    play = -1
    untried = -1
    best = np.inf
    ucb_f = -1
    ucb = np.nan
    ucb_mu = np.nan
    for f in range(F):
        mu = 0.0
        w = 0.0
        for i in range(d):
            mu += theta[f, i] * phi[i]
            s = 0.0
            for j in range(d):
                s += P[f, i, j] * phi[j]
            w += phi[i] * s
        w = np.sqrt(max(w, 0.0))
        if counts[f] == 0:
            if untried < 0:
                untried = f
            continue
        level = lead[f] if not np.isnan(lead[f]) else mu
        score = level - bonus * w if converged[f] > 0 else level
        if play < 0 or score < best:
            play = f
            best = score
        if lone[f] and converged[f] > 0 and (ucb_f < 0 or mu + w < ucb):
            ucb_f = f
            ucb = mu + w
            ucb_mu = mu
    if untried >= 0:
        play = untried
    return play, ucb_f, ucb, ucb_mu


def _family_seed(seed, j):
    """Seed of the ``j``-th inner learner: the first gets ``seed`` itself (so with one family
    the choices are the inner learner's own), the others seeds derived from it."""
    if seed is None:
        return None
    if j == 0:
        return seed
    return int(np.random.SeedSequence([int(seed), j]).generate_state(1)[0])


class FamilyCB(Policy):
    """Contextual learner over solver configurations in two levels: a family, then its ω.

    The arms are grouped into families (:func:`arm_families`: arms that differ only in ω).
    Each family with several arms gets an *inner* learner over its arms, built by ``inner``
    (default :class:`~bandit.ChebCB`, seeded with ``seed`` for the first such family): it
    sees only the rounds its family was chosen, so within SSOR-PCG it is the learner one
    would run over the ω alone.  A round first chooses a family, then asks that family's
    inner learner (a family of one arm plays that arm).

    **The family choice** is a lower confidence bound.  A ridge model of the log-cost of each
    family's chosen arm (:class:`~bandit.ChebCB` with ``exploration="lcb"`` over the
    families, ``m`` Chebyshev polynomials of the context) gives each family a level ``μ_f``
    and a width ``sqrt(φᵀ P_f φ)``, ``P_f`` its ridge posterior covariance, which shrinks only
    when the family is played.  The level of a family with several arms is instead its inner
    learner's leader (its best arm's predicted cost, once one has converged): the costs of its
    draws include the inner learner's exploration, and a family is worth what its best arm
    costs.  Every family is tried once, in the order of its first arm (the first round plays
    the first arm's family, without a leader to guard it); afterwards the family with the
    lowest ``μ_f − β σ̂ sqrt(φᵀ P_f φ)`` is chosen, ``σ̂²`` the mean squared one-step
    prediction error of the levels the model gives (0.1 before any): over the uncensored
    costs of families of one arm with a converged cost before (a family's first cost is not
    an error of the model, nothing was known of it; and the draws of a family with several
    arms, which include its inner learner's exploration, are not its level).  A family shown dearer than the best by more than its width is no longer tried,
    so the learner behaves like the inner learner of the cheapest family plus an
    exploration cost that falls as the widths do.  A censored cost (an attempt the
    :class:`~bandit.Tuner`'s guard stopped, or a set-up it refused to start) is a lower bound
    for both levels: the target is ``max(y, μ)``.

    With a single family the family choice is skipped and every call goes to the inner
    learner: the same choices as the inner learner alone, with the same seed.

    Parameters
    ----------
    arms : sequence of float or dict
        Configuration arms (:func:`bandit.config_grid`), ω values or settings dicts.
    context_bounds : (float, float) or sequence of (float, float), optional
        Starting range of the context, for both levels (a hint; the range is learnt).
    m : int, default 2
        Chebyshev polynomials per context coordinate of the family model (few: it needs
        only the level and trend of each family's cost, and a small model stops exploring a
        dearer family sooner).
    context_dim : int, optional
        Context length (default: from ``context_bounds`` or the first context).
    inner : str or callable, default "chebcb"
        A :data:`bandit.POLICIES` name, or a factory ``inner(arms, seed) -> Policy`` called
        once per family with several arms.  The inner learners must take censored costs as
        lower bounds (no ``report_round_cost`` policy).
    inner_kwargs : dict, optional
        Keyword arguments of a named inner learner (``context_bounds`` is passed to a
        contextual one unless given here).
    solver : {"ssor_pcg", "sor", "cg"} or None, default "ssor_pcg"
        The method of float arms and settings dicts (as the Tuner's ``solver``); ``None``
        for the arms of a custom solver function.
    backend : {"numba", "petsc"}, default "numba"
        How the arms are read (PETSc option dicts need ``"petsc"``).
    beta : float, default 0.5
        ``β``, the width multiplier of the family choice.
    ridge : float, default 0.01
        Ridge weight of the family model.
    seed : int, optional
        Seed of the inner learners (the first one gets it unchanged).

    Attributes
    ----------
    families : list of list of int
        Arm indices of each family.
    inner_policies : list of Policy or None
        Per family, its inner learner (None for a family of one arm).
    family_model : ChebCB
        The model of the family choice.

    Examples
    --------
    >>> from bandit import config_grid
    >>> arms = config_grid([1.2, 1.5, 1.8], ["jacobi"])        # SSOR-PCG ω, Jacobi-CG
    >>> p = FamilyCB(arms, context_bounds=(0, 1), seed=0)
    >>> p.families
    [[0, 1, 2], [3]]
    >>> rng = np.random.default_rng(0)
    >>> for i in range(300):
    ...     c = rng.uniform()
    ...     k = p.select(c)                   # Jacobi-CG 3 ×; ω = 1.5 best in SSOR-PCG
    ...     p.update(k, 30.0 if k == 3 else 10 + 20 * (p.arms[k]["omega"] - 1.5) ** 2, c)
    >>> int(p.counts[3]) <= 3, int(np.argmax(p.counts))
    (True, 1)
    """

    contextual = True
    _state_keys = ("family_state", "inner_states", "family_sq_err", "family_n_err")

    def __init__(self, arms, context_bounds=None, m=2, *, context_dim=None, inner="chebcb",
                 inner_kwargs=None, solver="ssor_pcg", backend="numba", beta=0.5, ridge=0.01,
                 seed=None):
        super().__init__(arms, seed=seed)
        if solver is not None and not isinstance(solver, str):
            raise ValueError(f"solver must be a solver name or None (the arms of a custom "
                             f"solver function), got {solver!r}")
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"m must be a positive integer, got {m!r}")
        check_nonnegative("beta", beta)
        check_positive(ridge=ridge)
        if inner_kwargs is not None and not isinstance(inner_kwargs, dict):
            raise ValueError(f"inner_kwargs must be a dict of keyword arguments or None, got "
                             f"{inner_kwargs!r}")
        self.solver, self.backend = solver, backend
        self.families = arm_families(self.arms, solver, backend)
        F = len(self.families)
        self._family = np.empty(self.n_arms, dtype=np.int64)
        self._local = np.empty(self.n_arms, dtype=np.int64)
        for f, members in enumerate(self.families):
            self._family[members] = f
            self._local[members] = np.arange(len(members))
        self._members = [np.array(ks, dtype=np.int64) for ks in self.families]
        self.m, self.beta, self.ridge = int(m), float(beta), float(ridge)
        self.context_bounds = context_bounds
        self._context_dim = context_dim
        self.family_model = ChebCB([float(f) for f in range(F)], context_bounds, self.m,
                                   context_dim=context_dim, ridge=self.ridge, beta=self.beta,
                                   exploration="lcb", seed=seed)  # draws nothing (LCB), but
        # its generator is part of the saved state: the same seed gives the same state
        self.inner_policies = [None] * F
        self._inner_spec = None
        self._inner_kwargs = dict(inner_kwargs or {})
        j = 0
        for f, members in enumerate(self.families):
            if len(members) > 1:
                self.inner_policies[f] = self._build_inner(
                    inner, [self.arms[k] for k in members], _family_seed(seed, j), context_bounds)
                j += 1
        # the family model runs whenever there is a choice of family, or a lone arm to predict
        self._choose = F > 1
        self._lone_inner = None if self._choose else self.inner_policies[0]
        #: squared one-step prediction errors of the family model and their number (only
        #: uncensored costs of families observed before: a family's first cost is no error)
        self.family_sq_err = 0.0
        self.family_n_err = 0
        self._lone = np.array([len(ks) == 1 for ks in self.families])
        self._lead_y = np.full(F, np.nan)  # per family, its inner leader's log-cost
        # (t, memo_key(context), _round's figures, whether the context was observed)
        self._memo = None

    def _build_inner(self, inner, arms, seed, bounds):
        from . import POLICIES

        if isinstance(inner, str):
            cls = POLICIES.get(inner)
            if cls is None or cls is FamilyCB:
                known = sorted(k for k, c in POLICIES.items() if c is not FamilyCB)
                raise ValueError(f"inner must be a learner name ({', '.join(known)}) or a "
                                 f"factory inner(arms, seed), got {inner!r}")
            kwargs = dict(self._inner_kwargs)
            if cls.contextual and bounds is not None and "context_bounds" not in kwargs:
                kwargs["context_bounds"] = bounds
            if cls.contextual and self._context_dim is not None and "context_dim" not in kwargs:
                kwargs["context_dim"] = self._context_dim  # the same contexts as the family model
            try:
                policy = cls(arms, seed=seed, **kwargs)
            except TypeError as exc:
                raise ValueError(f"inner_kwargs are not valid for {cls.__name__}: {exc}") from None
            self._inner_spec = (inner, self._inner_kwargs)
        elif callable(inner):
            if self._inner_kwargs:
                raise ValueError("inner_kwargs apply to a named inner learner; a factory "
                                 "takes its own settings")
            policy = inner(list(arms), seed)
            if not isinstance(policy, Policy):
                raise ValueError(f"inner factory must return a bandit Policy, got "
                                 f"{type(policy).__name__}")
            if policy.n_arms != len(arms) or policy.arms != list(arms):
                raise ValueError(f"inner factory returned a policy over {policy.arms!r}, not "
                                 f"over the family's arms {list(arms)!r}")
            if self._inner_spec is None:  # what a saved FamilyCB rebuilds its learners from
                name = next((k for k, c in POLICIES.items() if c is type(policy)), None)
                self._inner_spec = (name, policy._config())
        else:
            raise ValueError(f"inner must be a learner name or a factory inner(arms, seed), "
                             f"got {inner!r}")
        if policy.report_round_cost:
            raise ValueError(f"inner learner {type(policy).__name__} takes a round's cost "
                             f"instead of a censored lower bound; FamilyCB's inner learners "
                             f"must take censored costs")
        return policy

    @property
    def randomised(self):
        """Whether some inner learner draws from its generator (the family choice does not)."""
        return any(p is not None and p.randomised for p in self.inner_policies)

    def _draw_state(self):
        # the inner learners draw from their own generators
        return super()._draw_state(), [None if p is None else p._draw_state()
                                       for p in self.inner_policies]

    def _undo_draw(self, state) -> None:
        own, inner = state
        super()._undo_draw(own)
        for p, st in zip(self.inner_policies, inner):
            if p is not None:
                p._undo_draw(st)

    def _config(self):
        name, kwargs = self._inner_spec if self._inner_spec else ("chebcb", self._inner_kwargs)
        if name is None:
            raise ValueError("a FamilyCB whose inner learners are not bandit.POLICIES classes "
                             "cannot be saved")
        return {"context_bounds": self.context_bounds, "m": self.m,
                "context_dim": self._context_dim, "inner": name, "inner_kwargs": kwargs,
                "solver": self.solver, "backend": self.backend, "beta": self.beta,
                "ridge": self.ridge}

    # --- protocol -----------------------------------------------------------------------------
    def _context(self, context):
        if context is None and self.family_model.features.context_dim != 0:
            raise ValueError("FamilyCB is contextual: pass context=...")
        if context is not None and self.family_model.features.context_dim is None:
            # the first context fixes its length in every model: check them all first, so
            # that one refusing it leaves none holding it
            try:
                D = np.asarray(context, dtype=float).size
            except (TypeError, ValueError):
                D = 0  # not numbers: the models say so
            if D:
                for model in (self.family_model, *self.inner_policies):
                    check = getattr(model, "check_context_length", None)
                    if check is not None:
                        check(D)
        return context

    def _select(self, context):
        inner = self._lone_inner
        if inner is not None:  # one family: the inner learner's own choice
            k = inner.select(context)
            self.p = inner.p
            return k
        f = self._choose_family(context)
        members = self._members[f]
        inner = self.inner_policies[f]
        if inner is None:
            self.p = None
            return int(members[0])
        j = inner.select(context)
        if inner.p is None:
            self.p = None
        else:
            p = np.zeros(self.n_arms)
            p[members] = inner.p
            self.p = p
        return int(members[j])

    def _round(self, context, observe):
        """The family model's features at ``context`` and the round's family figures
        (:func:`_family_round`), computed once per round and context (``observe``: let the
        context widen the model's range, as a draw does)."""
        key = memo_key(context)
        memo = self._memo
        if memo is not None and memo[0] == self.t and key is not None and memo[1] == key \
                and (memo[3] or not observe):
            return memo[2]
        fam = self.family_model
        phi = fam._context(context) if observe else fam._query(context)
        lead = self._lead_y
        leads = []  # the inner leaders (a draw does not change them: leader() reuses these)
        for f, inner in enumerate(self.inner_policies):
            if inner is not None:  # the family's level: its best arm's, not its draws'
                k, c = inner.leader(context)
                lead[f] = math.nan if k is None or math.isnan(fam.unit) else fam._y(c)
                if k is not None:
                    leads.append((int(self._members[f][k]), c))
        out = (phi, *_family_round(fam.theta, fam.P, phi, self._bonus(), fam.counts,
                                   fam.converged_counts, self._lone, lead), leads)
        if key is not None:
            self._memo = (self.t, key, out, observe)
        return out

    def _choose_family(self, context):
        return int(self._round(context, True)[1])

    def _bonus(self):
        """``β σ̂``: σ̂² the mean squared one-step error of the family model (0.1 before any)."""
        return self.beta * math.sqrt((self.family_sq_err + 0.1) / (self.family_n_err + 1))

    def _update(self, arm, cost, context, censored):
        f = int(self._family[arm])
        inner = self.inner_policies[f]
        # the converged flag is the Policy's own (update sets converged_counts after this)
        converged = self._converged
        if inner is not None:
            inner.update(int(self._local[arm]), cost, context, censored, converged)
        if self._choose or inner is None:
            self._tell_family(f, cost, context, censored, converged)
        self._memo = None

    def _tell_family(self, f, cost, context, censored, converged):
        """The family model's update (what :meth:`Policy.update` does, with the arguments
        already checked), and the one-step error behind the width's scale."""
        fam = self.family_model
        key = memo_key(context)
        memo = self._memo
        if memo is not None and memo[0] == self.t and key is not None and memo[1] == key \
                and memo[3]:
            phi = memo[2][0]  # the draw's features (the draw observed the context)
        else:
            phi = fam._context(context)
        if math.isnan(fam.unit):
            if cost <= 0:  # nothing to scale by yet (as ChebCB)
                phi = None
            else:
                fam.unit = cost
        if phi is not None:
            err = rls_observe(fam.P, fam.theta, f, phi, fam._y(cost), censored)
            fam.sq_err += err
            # the width's scale: the errors of the levels the model gives (a family with
            # several arms has its inner leader's level; a line in the context does not fit
            # its draws, which include the inner learner's exploration)
            if not censored and fam.converged_counts[f] > 0 and self._lone[f]:
                self.family_sq_err += err
                self.family_n_err += 1
        fam.counts[f] += 1
        if converged:
            fam.converged_counts[f] += 1
        fam.cost_sums[f] += cost
        fam.t += 1

    def update(self, arm, cost, context=None, censored=False, converged=None):
        """Report the cost of ``arm`` to its family's inner learner and to the family model
        (see :meth:`Policy.update`)."""
        self._converged = (not censored) if converged is None else converged
        super().update(arm, cost, context, censored, converged)

    def predict(self, context=None):
        """Predicted cost of every arm: the inner learner's for the arms of a family with
        several, the family model's for a family of one (NaN where nothing is known)."""
        self._context(context)
        out = np.full(self.n_arms, np.nan)
        fam_pred = None
        for f, members in enumerate(self._members):
            inner = self.inner_policies[f]
            if inner is not None:
                out[members] = inner.predict(context)
            else:
                if fam_pred is None:
                    fam_pred = self.family_model.predict(context)
                out[members[0]] = fam_pred[f]
        return out

    def leader(self, context=None):
        """``(arm, predicted cost)`` of the arm the guard trusts with ``maxiter``: among the
        arms with a converged observation, the inner learners' leaders by their predicted
        cost and the families of one arm by the upper bound ``μ_f + sqrt(φᵀ P_f φ)`` of the
        family model's log-cost (its width at the ridge prior's scale: a family tried at a
        few contexts may be predicted far below its cost elsewhere, and the leader runs to
        ``maxiter``); the cost returned is the arm's predicted cost."""
        inner = self._lone_inner
        if inner is not None:
            k, c = inner.leader(context)
            return (None, math.nan) if k is None else (int(self._members[0][k]), c)
        self._context(context)
        _, _, f, upper, mu, leads = self._round(context, False)
        best, cost = None, math.inf
        for k, c in leads:
            if c < cost:
                best, cost = k, c
        fam = self.family_model
        if not math.isnan(fam.unit):
            if f >= 0 and float(fam._cost(upper)) < cost:
                best, cost = int(self._members[f][0]), float(fam._cost(mu))
        return (None, math.nan) if best is None else (best, cost)

    def prime(self, A, solver):
        """Show the first system to every inner learner that takes a prior
        (:meth:`bandit.JointCB.prime`), with its family's method."""
        from .arms import parse_arm

        for f, inner in enumerate(self.inner_policies):
            fn = getattr(inner, "prime", None)
            if fn is None:
                continue
            method = solver
            if self.solver is not None:
                method = parse_arm(self.arms[self.families[f][0]], self.solver,
                                   self.backend).method
            fn(A, method)

    # --- persistence --------------------------------------------------------------------------
    @property
    def family_state(self) -> dict:
        """The family model's state (:meth:`Policy.state_dict`), part of the saved state."""
        return self.family_model.state_dict()

    @family_state.setter
    def family_state(self, state):
        from ._tunerfile import check_policy_state

        model = check_policy_state(to_jsonable(state))
        if type(model) is not ChebCB or model.n_arms != len(self.families):
            raise ValueError(f"FamilyCB family_state must be a ChebCB over "
                             f"{len(self.families)} families, got {type(model).__name__} over "
                             f"{model.n_arms}")
        _same_settings(model, self.family_model, "family_state")
        self.family_model = model

    @property
    def inner_states(self) -> list:
        """The inner learners' states (None for a family of one arm), part of the saved state."""
        return [None if p is None else p.state_dict() for p in self.inner_policies]

    @inner_states.setter
    def inner_states(self, states):
        from ._tunerfile import check_policy_state

        if not isinstance(states, list) or len(states) != len(self.families):
            raise ValueError(f"FamilyCB inner_states must be a list of {len(self.families)} "
                             f"entries (one per family), got {states!r:.80}")
        out = []
        for f, (state, members) in enumerate(zip(states, self.families)):
            if len(members) == 1:
                if state is not None:
                    raise ValueError(f"FamilyCB inner_states[{f}] must be null: family {f} "
                                     f"has one arm")
                out.append(None)
                continue
            if state is None:
                raise ValueError(f"FamilyCB inner_states[{f}] is missing: family {f} has "
                                 f"{len(members)} arms")
            policy = check_policy_state(to_jsonable(state))
            if policy.arms != [self.arms[k] for k in members]:
                raise ValueError(f"FamilyCB inner_states[{f}] is over {policy.arms!r}, not "
                                 f"over family {f}'s arms")
            if policy.report_round_cost:
                raise ValueError(f"FamilyCB inner_states[{f}] is a {type(policy).__name__}, "
                                 f"which takes a round's cost instead of a censored lower bound")
            if self.inner_policies[f] is not None:
                _same_settings(policy, self.inner_policies[f], f"inner_states[{f}]")
            out.append(policy)
        self.inner_policies = out
        self._lone_inner = None if self._choose else out[0]


def _same_settings(model, own, what):
    """Raise ``ValueError`` unless the restored ``model`` has the class and the settings of
    ``own``, the learner this FamilyCB builds from its own settings (a setting it leaves
    unset, null, such as a context length or a number of features, may have been learnt).  A saved state is checked against its own settings only:
    a hand-edited ``config`` had loaded, and the learner's compiled kernels then indexed
    arrays of one size with features of another (a segmentation fault)."""
    got, want = model.state_dict()["config"], own.state_dict()["config"]
    differ = sorted(k for k in set(got) | set(want)
                    if want.get(k, "missing") is not None
                    and got.get(k, "missing") != want.get(k, "missing"))
    if type(model) is not type(own) or differ:
        raise ValueError(f"FamilyCB {what} has other settings than this FamilyCB's "
                         f"{type(own).__name__} ({', '.join(differ) or 'class'}: "
                         f"{', '.join(f'{k}={got.get(k)!r}' for k in differ)}); "
                         f"expected {want}")
