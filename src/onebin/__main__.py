"""`python -m onebin`."""

import sys

from .cli import main

sys.exit(main())
