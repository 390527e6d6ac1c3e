"""A learner's numeric arguments (scales, rates, counts, seeds) refuse ``True``/``False``.

``True`` is an ``int`` to Python and ``numpy.bool_`` converts to one, so a flag given where a
number is meant had silently read as 1 (``ChebCB(arms, beta=True)`` ran with beta = 1).
"""
import inspect
import warnings

import numpy as np
import pytest

import bandit

ARMS = [1.0, 1.2, 1.5]


def _numeric_parameters():
    """(policy name, parameter) for every keyword whose default is a number or None that is
    documented as a number (the None-default ones: seed, m, context_dim)."""
    out = []
    for name, cls in sorted(bandit.POLICIES.items()):
        for pname, p in inspect.signature(cls.__init__).parameters.items():
            d = p.default
            numeric = isinstance(d, (int, float)) and not isinstance(d, bool)
            if numeric or (d is None and pname in ("seed", "m", "context_dim")):
                out.append((name, pname))
    return out


CASES = _numeric_parameters()


def test_the_sweep_covers_the_named_arguments():
    got = set(CASES)
    for case in [("chebcb", "beta"), ("chebcb", "gamma"), ("chebcb", "m"), ("chebcb", "seed"),
                 ("chebcb", "context_dim"), ("chebcb", "ridge"), ("jointcb", "prior_weight"),
                 ("jointcb", "m_omega"), ("squarecb", "gamma_exponent")]:
        assert case in got


@pytest.mark.parametrize("flag", [True, False, np.True_, np.False_], ids=repr)
@pytest.mark.parametrize("name,pname", CASES)
def test_a_bool_is_refused_by_name(name, pname, flag):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((ValueError, TypeError), match=pname):
            bandit.POLICIES[name](ARMS, **{pname: flag})


def test_the_message_says_a_number_was_meant():
    with pytest.raises(ValueError, match="beta must be a number, got True"):
        bandit.ChebCB(ARMS, beta=True)
    with pytest.raises(ValueError, match="m_omega must be a number, got np.True_"):
        bandit.JointCB(ARMS, m_omega=np.True_)


@pytest.mark.parametrize("value", [1, 2, 0.75, np.int64(1), np.float64(0.75)], ids=repr)
def test_real_numbers_still_work(value):
    p = bandit.ChebCB(ARMS, beta=value, gamma=value * 10, seed=int(value))
    assert p.beta == float(value)
    q = bandit.JointCB(ARMS, beta=value, m_omega=np.int64(3), seed=np.int64(1))
    assert q.beta == float(value)
    r = bandit.SquareCB(ARMS, context_dim=np.int64(1), gamma_exponent=np.float64(0.5))
    assert r.gamma_exponent == 0.5


@pytest.mark.parametrize("pname", ["rtol", "maxiter", "audit_budget", "guard", "seed"])
@pytest.mark.parametrize("flag", [True, np.True_], ids=repr)
def test_tuner_numbers_refuse_bools(pname, flag):
    with pytest.raises(ValueError, match=pname):
        bandit.Tuner(solver="sor", **{pname: flag})
