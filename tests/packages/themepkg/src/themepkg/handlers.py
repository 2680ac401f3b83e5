from pathlib import Path


def get_templates_dir(handler):
    """A handler's templates, found as mkdocstrings finds them: in the directories of a
    namespace package that the handlers' distributions share."""
    import nsdemo

    for path in nsdemo.__path__:
        theme_path = Path(path, handler, "templates")
        if theme_path.exists():
            return theme_path
    raise FileNotFoundError(f"no templates for {handler!r}")
