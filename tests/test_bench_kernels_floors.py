"""``relaxtune bench kernels``: the bare SOR sweep is not checked against the CSR stream (it
reads other arrays), and the bandwidth rates count the bytes each method reads."""
import numpy as np

from experiments import bench_kernels


def test_the_sweep_has_no_csr_floor_and_the_bytes_are_counted():
    m = 12
    ms, meta = bench_kernels.methods(m)
    by = {x.name: x for x in ms}
    # the sweep reads the split triangles, not the CSR arrays the stream reads: on a core that
    # reads several streams at once faster than one array after another, it ran below the
    # stream and was flagged IMPOSSIBLE
    assert by["SOR sweep"].floor is None
    assert by["SpMV"].floor == "stream" and by["SOR"].floor == "SOR sweep"
    n = m * m
    nnz = 5 * n - 4 * m  # the 5-point Laplacian
    far = n - m  # a_{i,i-m} below the diagonal, a_{i,i+m} above
    # CSR with 32-bit indices, and two vectors
    assert meta["bytes"]["stream"] == 4 * (n + 1) + 12 * nnz + 16 * n
    # per triangle: pointers, far indices and values, the dense first off-diagonal; the inverse
    # diagonal, x and b
    assert meta["bytes"]["sweep"] == 2 * (4 * (n + 1) + 12 * far + 8 * n) + 24 * n
    assert meta["bytes"]["numpy copy"] == 2 * 8 * nnz  # the values, read and written
    by["numpy copy"].run(2)
