"""Matrix Market files as a scientist brings them to ``relaxtune tune``: headers that claim
more than the file holds are refused from the header, before anything of that size is
allocated."""
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments import user_files as uf

ROOT = Path(__file__).resolve().parents[1]


def _header_file(tmp_path, header, body=""):
    path = tmp_path / "A.mtx"
    path.write_text(f"%%MatrixMarket matrix coordinate real general\n{header}\n{body}")
    return path


def _limited(limit_bytes):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


def test_billion_rows_with_one_entry_is_refused_without_allocating(tmp_path):
    # a header of 10⁹ x 10⁹ with one entry (a typo in the header, or a file cut short): the
    # conversion to CSR had allocated a 10⁹-entry indptr (4-8 GB; a MemoryError under a 3 GB
    # limit, exit status 1) for a matrix that every solver of `relaxtune tune` refuses
    path = _header_file(tmp_path, "1000000000 1000000000 1", "1 1 1.0\n")
    code = textwrap.dedent(f"""
        from experiments import user_files as uf
        try:
            uf.read_matrix({str(path)!r})
        except ValueError as exc:
            print(exc)
        """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, preexec_fn=_limited(3 * 2**30))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == (
        f"{path}: 1000000000x1000000000 with 1 stored entries, fewer than its rows: some "
        f"diagonal entry is missing (SOR and SSOR divide by every a_ii)")


@pytest.mark.parametrize("header, message", [
    ("4 4 3", "4x4 with 3 stored entries, fewer than its rows"),
    ("1000000000 3 1", "must be square and non-empty, got 1000000000x3"),
    ("0 0 0", "must be square and non-empty, got 0x0"),
])
def test_header_is_checked_before_the_entries_are_read(tmp_path, header, message):
    path = _header_file(tmp_path, header, "1 1 1.0\n2 2 1.0\n3 3 1.0\n")
    with pytest.raises(ValueError) as err:
        uf.read_matrix(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
