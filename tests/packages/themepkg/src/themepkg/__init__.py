import os

from .registry import read_theme


def setup():
    """Gives its directory to code that reads a file in it, as alabaster's setup() gives
    Sphinx its theme directory."""
    theme_path = os.path.abspath(os.path.dirname(__file__))
    return read_theme(theme_path)
