""":meth:`bandit.JointCB.retell`: a learner told its rounds again from an earlier copy (a
:class:`~bandit.Tuner` that fixed its ``timed_work`` price only after some rounds tells them
again at that price), bit for bit as one told them so from the start.

A mixin of :class:`~bandit.JointCB`, split from :mod:`bandit.joint`.
"""
from __future__ import annotations


class Retell:
    """Tell a learner its rounds again, from a copy taken before them."""

    def retell(self, start, rounds):
        """Become ``start`` told ``rounds`` again: this learner as a copy of ``start`` (a
        :class:`JointCB` over the same arms, e.g. a copy of this one taken earlier) would be
        after a draw and an update per round, each round ``(context, arm, cost, censored,
        converged)`` as :meth:`update` takes it.

        A :class:`~bandit.Tuner` whose ``timed_work`` price of the reference family was
        fixed only after some rounds tells them again at that price
        (:attr:`bandit.armset.ArmSet.retell_early`).  Told again, not corrected: the noise
        scale sums one-step errors each against the fit of the rounds before it, and the
        Huber clip and the change test read them, so only a learner told the corrected
        costs in order ends as one told them from the start — bit for bit, which this is.
        ``start`` is left as it was; this learner's state is replaced in place (whoever holds
        it holds the retold one).

        Parameters
        ----------
        start : JointCB
            The learner to start from (``ValueError`` if not a JointCB over as many arms).
        rounds : iterable of tuple
            ``(context, arm, cost, censored, converged)`` per round, in the order told.

        Examples
        --------
        >>> import copy
        >>> from bandit import JointCB
        >>> p = JointCB([1.2, 1.5, 1.8], context_bounds=(0, 1))
        >>> start = copy.deepcopy(p)
        >>> right = [(0.5, 1, 10.0, False, True), (0.2, 0, 14.0, False, True)]
        >>> for c, k, cost, cens, conv in [(0.5, 1, 40.0, False, True), *right[1:]]:
        ...     _ = p.select(c); p.update(k, cost, c, cens, conv)   # the first told at 4 ×
        >>> p.retell(start, right)
        >>> q = JointCB([1.2, 1.5, 1.8], context_bounds=(0, 1))
        >>> for c, k, cost, cens, conv in right:
        ...     _ = q.select(c); q.update(k, cost, c, cens, conv)
        >>> bool((p.theta == q.theta).all() and p.sq_err == q.sq_err)
        True
        """
        import copy

        self._check_start(start)
        self._retell_into(copy.deepcopy(start), rounds)

    def _check_start(self, start):
        if type(start) is not type(self) or start.n_arms != self.n_arms:
            raise ValueError(f"retell starts from a {type(self).__name__} over the same "
                             f"{self.n_arms} arms, got {type(start).__name__} over "
                             f"{getattr(start, 'n_arms', '?')}")

    def _retell_consuming(self, start, rounds):
        """:meth:`retell` from a ``start`` no one else holds (the
        :class:`~bandit.armset.ArmSet`'s own copy, dropped before the call): told in place,
        not copied first — its arrays become this learner's.  The same numbers as
        :meth:`retell`, bit for bit, without a second copy of the learner (about 0.4 ms of
        the round that fixes the price on heat3d, as much as the first copy)."""
        self._check_start(start)
        self._retell_into(start, rounds)

    def _retell_into(self, told, rounds):
        """Tell ``told`` (a learner this one may take whole) ``rounds``, then become it."""
        # the class's own draw and update: an instance attribute over a method (a profiler's
        # timing wrapper) copied with ``start`` may still call the object it was made on
        cls = type(told)
        for context, arm, cost, censored, converged in rounds:
            cls.select(told, context)
            cls.update(told, arm, cost, context, censored, converged)
        # (told on the copy, then taken whole: an interrupted retell leaves this as it was);
        # such instance attributes over methods stay this object's own
        kept = {k: v for k, v in self.__dict__.items() if callable(getattr(cls, k, None))}
        self.__dict__.clear()
        self.__dict__.update(told.__dict__)
        self.__dict__.update(kept)
