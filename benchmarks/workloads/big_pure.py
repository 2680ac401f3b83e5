"""big-pure: sqlfluff's command line (the same as the `sqlfluff` console script)."""

import sys

from sqlfluff.cli.commands import cli as main

if __name__ == "__main__":
    sys.exit(main(prog_name="sqlfluff"))
