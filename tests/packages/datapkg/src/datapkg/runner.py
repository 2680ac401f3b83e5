import os
import subprocess
import sys


def run_helper():
    """Runs a script of the package with another interpreter, by its path, as tox's
    pyproject_api runs its _backend.py in the packaging environment's python."""
    script = os.path.join(os.path.dirname(__file__), "_helper.py")
    return subprocess.run([sys.executable, script], capture_output=True, text=True, check=True).stdout.strip()
