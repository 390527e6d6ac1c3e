"""A PETSc Tuner after solves copies: pickle, ``copy.deepcopy`` and ``save``/``load``.

The tuner keeps the PETSc operator of its last system (a Mat and its KSPs), which neither
pickles nor deep-copies; a copy leaves it out and converts the next system anew, so a copy
continues the run with exactly the choices (and iteration counts) of the original.
"""
import copy
import pickle

import numpy as np
import pytest

import bandit
from solvers import gallery, petsc as sp_petsc

pytestmark = pytest.mark.petsc

OMEGAS = [1.0, 1.3, 1.6, 1.8, 1.9]


def systems(T, m=8, seed=0):
    """Shifted model Laplacians whose best ω moves with the shift (deterministic counts)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(T):
        A = gallery.shifted_laplacian_2d(m, 10 ** rng.uniform(-2, 0.5))
        out.append((A, rng.standard_normal(A.shape[0])))
    return out


def _run(tuner, seq):
    res = [tuner.solve(A, b) for A, b in seq]
    assert all(r.converged and r.backend == "petsc" for r in res)
    return [(r.omega, r.iterations) for r in res]


def _pickled(t, tmp_path):
    return pickle.loads(pickle.dumps(t))


def _deepcopied(t, tmp_path):
    return copy.deepcopy(t)


def _saved(t, tmp_path):
    t.save(tmp_path / "tuner.json")
    return bandit.Tuner.load(tmp_path / "tuner.json")


@pytest.mark.parametrize("how", [_pickled, _deepcopied, _saved],
                         ids=["pickle", "deepcopy", "save-load"])
def test_a_copy_after_solves_continues_as_the_uninterrupted_run(how, tmp_path):
    seq = systems(12)
    whole = bandit.Tuner(bandit.TsallisINF(OMEGAS, seed=3), solver="ssor_pcg", backend="petsc")
    expected = _run(whole, seq)
    tuner = bandit.Tuner(bandit.TsallisINF(OMEGAS, seed=3), solver="ssor_pcg", backend="petsc")
    assert _run(tuner, seq[:6]) == expected[:6]
    twin = how(tuner, tmp_path)
    assert twin is not tuner and len(twin.history["arm"]) == 6
    assert _run(twin, seq[6:]) == expected[6:]
    # the original is untouched by the copy and continues the same way
    assert _run(tuner, seq[6:]) == expected[6:]
    np.testing.assert_array_equal(twin.history["arm"], tuner.history["arm"])


def test_a_copy_after_solving_a_users_petsc_mat_and_option_arms():
    """The usual PETSc case: the user's Mat and Vec, and preconditioner arms (whose KSPs the
    operator holds).  Such arms are compared by wall-clock, so the choices of two runs need
    not agree; a copy solves on, and one fixed arm takes the same iterations in the copy as in
    the original."""
    A = gallery.laplacian_2d(10)
    M = sp_petsc.to_petsc_mat(A)
    b = M.createVecLeft()
    b.set(1.0)
    arms = [{"pc_type": "jacobi"}, {"pc_type": "sor", "pc_sor_omega": 1.4}, {"pc_type": "none"}]
    for policy in (bandit.TsallisINF(arms, seed=0), bandit.FixedArm(arms, arm=1)):
        tuner = bandit.Tuner(policy, solver="cg", backend="petsc")
        for _ in range(3):
            res = tuner.solve(M, b)
            assert res.converged
            res.x.destroy()
        for twin in (pickle.loads(pickle.dumps(tuner)), copy.deepcopy(tuner)):
            a, o = twin.solve(M, b), tuner.solve(M, b)
            assert a.converged and o.converged and len(twin.history["arm"]) == 4
            if isinstance(policy, bandit.FixedArm):
                assert a.arm == o.arm == 1 and a.iterations == o.iterations
            a.x.destroy(), o.x.destroy()
    # the user's Mat is neither copied nor destroyed by the copies
    assert M and M.getSize() == (100, 100)
    assert np.allclose(M.getValuesCSR()[2], sp_petsc.to_petsc_mat(A).getValuesCSR()[2])
