"""A contexts file entry beyond double precision's range (``1e400``) is refused as what it is:
NumPy reads it as inf, and the message had said only "the context of system 1 is inf", of a
file that holds no inf."""
import pytest

from experiments import user_files


def test_an_entry_beyond_double_range_is_said_to_be_one(tmp_path):
    path = tmp_path / "ctx.txt"
    path.write_text("1e400\n2\n")
    with pytest.raises(ValueError, match=r"the context of system 1 is inf \(1 of 2 in all\); "
                                         r"a number beyond double precision's range"):
        user_files.read_contexts(path, 2)


def test_a_nan_is_refused_as_before(tmp_path):
    path = tmp_path / "ctx.txt"
    path.write_text("1\nnan\n")
    with pytest.raises(ValueError) as info:
        user_files.read_contexts(path, 2)
    assert str(info.value).endswith("the context of system 2 is nan (1 of 2 in all)")
