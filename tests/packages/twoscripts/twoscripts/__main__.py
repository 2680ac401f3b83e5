# Finds the program the distribution installs in bin/ as ruff's and uv's modules find theirs;
# with --by-name, runs the distribution's scripts by name as semgrep runs pysemgrep: with
# sysconfig's scripts directory on PATH; with --beside, runs one found beside sys.executable,
# as ansible-lint finds ansible's.
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

scripts = sysconfig.get_path("scripts")
if sys.argv[1:] == ["--by-name"]:
    os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + scripts
    sys.exit(subprocess.call(["first"]) or subprocess.call(["third", "y"]))
if sys.argv[1:] == ["--beside"]:
    beside = Path(sys.executable).parent / "second"
    print(beside.exists(), os.path.dirname(sys.executable) == str(beside.parent), flush=True)
    sys.exit(subprocess.call([beside]))
program = os.path.join(scripts, "twoscripts")
print(os.path.isfile(program), os.access(program, os.X_OK), flush=True)
sys.exit(subprocess.call([program, *sys.argv[1:]]))
