"""The corpus of real PyPI apps (see cases.py). A package, so that its conftest.py does not shadow tests/conftest.py."""
