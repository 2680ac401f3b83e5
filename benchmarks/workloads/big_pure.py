"""big-pure: sqlfluff's command line (the same as the `sqlfluff` console script)."""

import sys

from sqlfluff.cli.commands import cli


def main():
    return cli(prog_name="sqlfluff")


if __name__ == "__main__":
    sys.exit(main())
