# Finds the program the distribution installs in bin/ as ruff's and uv's modules find theirs.
import os
import subprocess
import sys
import sysconfig

program = os.path.join(sysconfig.get_path("scripts"), "twoscripts")
print(os.path.isfile(program), os.access(program, os.X_OK), flush=True)
sys.exit(subprocess.call([program, *sys.argv[1:]]))
