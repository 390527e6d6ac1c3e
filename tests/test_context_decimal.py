"""A context given as :class:`decimal.Decimal` is a number: taken as its float (it is not a
``numbers.Real``, so it had been refused although ``Fraction`` and numpy scalars were
accepted); a non-finite Decimal is refused like a non-finite float."""
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import bandit
from bandit._tuner_checks import _check_context as _context
from solvers import gallery


@pytest.mark.parametrize("ctx, expected", [
    (Decimal("0.25"), 0.25),
    ([Decimal("0.5"), Fraction(1, 4), 2], [0.5, 0.25, 2.0]),
])
def test_decimal_contexts_are_their_float(ctx, expected):
    np.testing.assert_array_equal(np.asarray(_context(ctx), dtype=float), expected)


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), [Decimal("-Infinity")]])
def test_a_non_finite_decimal_is_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        _context(bad)


def test_a_tuner_takes_a_decimal_context_as_the_same_float():
    A, b = gallery.laplacian_2d(8), np.ones(64)
    t1, t2 = bandit.Tuner(bandit.ChebCB([1.2, 1.6], seed=0)), \
        bandit.Tuner(bandit.ChebCB([1.2, 1.6], seed=0))
    for k in range(4):
        t1.solve(A, b, context=Decimal(k) / 4)
        t2.solve(A, b, context=k / 4)
    assert list(t1.history["omega"]) == list(t2.history["omega"])
    np.testing.assert_array_equal(t1.history["context"], t2.history["context"])
