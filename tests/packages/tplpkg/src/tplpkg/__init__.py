"""Imported long before the module that reads its __path__; like sphinx's package_dir, HERE is
derived from __file__ when it runs, before any of its files is needed on disk."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
