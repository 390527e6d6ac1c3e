"""Bad arguments to the quick start's loops (experiments.user_loops) are named."""
import pytest

from experiments import user_loops


def test_an_unknown_loop_is_named_with_the_loops_there_are():
    # before: a bare KeyError: 'nope'
    with pytest.raises(ValueError, match="'nope'.*newton"):
        user_loops.run_loop("nope")


@pytest.mark.parametrize("size", [0, -3, 2.5, "8", True])
def test_a_size_that_is_not_a_positive_integer_is_named(size):
    # before: "Offset -1 (index 0) out of bounds" from scipy, or a TypeError from numpy
    with pytest.raises(ValueError, match="size"):
        user_loops.run_loop("newton", size=size)


def test_the_command_line_has_help_and_refuses_unknown_arguments(capsys):
    # before: any argument (--help, a typo) was ignored and the whole five-minute study ran
    with pytest.raises(SystemExit) as e:
        user_loops.main(["--help"])
    assert e.value.code == 0 and "--loop" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        user_loops.main(["--loops", "newton"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        user_loops.main(["--loop", "newton", "--context", "dt"])
    assert e.value.code == 2 and "'dt'" in capsys.readouterr().err
