"""For ``tests/test_bad_input_files_cli.py``: the CLI with an unknown learner on two ranks,
rank 0 reaching its error 1.5 s late (a loaded machine), so rank 1 exits first."""
import sys
import time

from experiments.cli import main
from experiments.cli_common import _env_rank

if __name__ == "__main__":
    if _env_rank() == 0:
        time.sleep(1.5)
    sys.exit(main(["heat2d", "--backend", "petsc", "--methods", "tsalis_inf"]))
