"""Arm labels made unique: the same labels as the rule's plain statement (more digits of ω
where two round alike, then the arm index), on random grids with repeats."""
from hypothesis import given, settings
from hypothesis import strategies as st

from bandit.arms import parse_arm
from bandit.armset import _unique
from solvers.precond import omega_text


def _by_the_rule(labels, configs):
    out = list(labels)
    for i, lab in enumerate(labels):
        if labels.count(lab) > 1 and configs is not None and configs[i].omega is not None:
            out[i] = lab.replace(f"ω={omega_text(configs[i].omega)}",
                                 f"ω={configs[i].omega:.12g}")
    return [f"{lab} [{i}]" if out.count(lab) > 1 else lab for i, lab in enumerate(out)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([1.0, 1.2, 1.2000001, 1.4, 1.40000004, 1.9]), min_size=1,
                max_size=30))
def test_labels_follow_the_rule_on_grids_with_repeats(omegas):
    configs = [parse_arm(w, "ssor_pcg") for w in omegas]
    labels = [c.label for c in configs]
    got = _unique(labels, configs)
    assert got == _by_the_rule(labels, configs)
    assert len(set(got)) == len(got)


def test_a_large_grid_is_labelled_in_one_pass():
    labels = [f"arm {i % 5000}" for i in range(10_000)]
    got = _unique(labels, None)
    assert got[0] == "arm 0 [0]" and got[-1] == "arm 4999 [9999]"
    assert len(set(got)) == 10_000
