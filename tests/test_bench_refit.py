"""``relaxtune bench refit``: its refusals name the option, and a run prints both kernels'
rows with the references giving the kernels' own numbers (the benchmark times what the
bit-for-bit tests compare)."""
from __future__ import annotations

import numpy as np
import pytest

from bandit._kernels_ridge import refit, spd_inverse
from experiments.bench_refit import (inverse_case, refit_case, refit_every_term,
                                     spd_inverse_textbook)
from experiments.cli import main


@pytest.mark.parametrize("argv, says", [(["--pairs", "2"], "--pairs must be at least 3, got 2"),
                                        (["--arms", "1"], "--arms must be at least 2, got 1")])
def test_bad_options_are_named_up_front(argv, says, capsys):
    assert main(["bench", "refit", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"relaxtune: error: bench refit: {says}\n"


def test_the_cases_references_and_table():
    case = refit_case(3)
    for got, want in zip(refit(*case), refit_every_term(*case)):
        assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
    M = inverse_case()
    assert np.array_equal(spd_inverse(M).view(np.uint64), spd_inverse_textbook(M).view(np.uint64))
    # the reference is an inverse: an independent check of what is being timed
    np.testing.assert_allclose(spd_inverse_textbook(M) @ M, np.eye(M.shape[0]), atol=1e-6)


def test_a_short_run_prints_both_rows(capsys):
    assert main(["bench", "refit", "--pairs", "3", "--arms", "3"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| refit |")
            or line.startswith("| spd_inverse |")]
    assert len(rows) == 2
    assert "# machine:" in out and "d = " in out
