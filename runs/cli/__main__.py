"""``python -m chipwar.runs.cli``: the same as the ``chipwar`` command."""

import sys

from chipwar.runs.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
