# Finds the program the distribution installs in bin/ as ruff's and uv's modules find theirs;
# with --by-name, runs the distribution's scripts by name as semgrep runs pysemgrep: with
# sysconfig's scripts directory on PATH.
import os
import subprocess
import sys
import sysconfig

scripts = sysconfig.get_path("scripts")
if sys.argv[1:] == ["--by-name"]:
    os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + scripts
    sys.exit(subprocess.call(["first"]) or subprocess.call(["third", "y"]))
program = os.path.join(scripts, "twoscripts")
print(os.path.isfile(program), os.access(program, os.X_OK), flush=True)
sys.exit(subprocess.call([program, *sys.argv[1:]]))
