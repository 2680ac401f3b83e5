import os


def theme_dir(module):
    """The directory of a theme, given its module, as mkdocs' get_theme_dir() returns it to
    the code that reads the theme's files."""
    return os.path.dirname(os.path.abspath(module.__file__))


def read(module, name):
    with open(os.path.join(theme_dir(module), name)) as f:
        return f.read().splitlines()
