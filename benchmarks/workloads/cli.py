"""cli: flake8's command line (the same as the `flake8` console script)."""

import sys

from flake8.main.cli import main

if __name__ == "__main__":
    sys.exit(main())
