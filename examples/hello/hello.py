"""A sample app: its neighbour module and the stdlib's C extensions all load from memory."""

import json
import sqlite3
import sys

import greeting

row = sqlite3.connect(":memory:").execute("select sqlite_version()").fetchone()
print(greeting.hello(), json.dumps({"python": sys.version.split()[0], "sqlite": row[0], "argv": sys.argv[1:]}))
