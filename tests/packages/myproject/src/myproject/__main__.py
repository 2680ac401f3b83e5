import sys

from myproject.cli import main

print("as module", __name__, __spec__.name if __spec__ else None)
sys.exit(main())
