"""``relaxtune tune --rhs`` with several right-hand sides in one file (an ``n × k`` array, as
a simulation with many loads saves them) is refused saying so and what to give instead; it
had read "a vector of n entries was expected (the size of its matrix), got shape (n, k)"."""
import numpy as np
import pytest

from experiments import user_files as uf


@pytest.mark.parametrize("shape", [(10, 3), (3, 10)])
def test_several_right_hand_sides_in_one_file_are_named(tmp_path, shape):
    path = tmp_path / "b.npy"
    np.save(path, np.ones(shape))
    with pytest.raises(ValueError, match=r"3 right-hand sides of 10 entries in one file .*"
                                         r"one right-hand side per file"):
        uf.read_vector(path, 10)


def test_a_column_or_a_row_is_still_one_right_hand_side(tmp_path):
    for shape in [(10,), (10, 1), (1, 10)]:
        path = tmp_path / "b.npy"
        np.save(path, np.arange(10.0).reshape(shape))
        np.testing.assert_array_equal(uf.read_vector(path, 10), np.arange(10.0))
    np.save(path, np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"a vector of 10 entries was expected"):
        uf.read_vector(path, 10)
