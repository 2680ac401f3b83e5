"""The exceptions of the build side: one root, a few kinds, each message naming the fix."""

__all__ = ["BuildError", "ConfigError", "EntryPointError", "OnebinError", "SourceError", "TargetError"]


class OnebinError(Exception):
    """Root of onebin's errors; the message is complete and shown to the user as is."""


class TargetError(OnebinError):
    """The target interpreter cannot be used: not CPython, too old, no static libpython..."""


class SourceError(OnebinError):
    """A source, requirement or requirements file cannot be installed."""


class EntryPointError(OnebinError):
    """What to run cannot be determined: no script, an unknown console script or module."""


class BuildError(OnebinError):
    """The executable cannot be produced: no C compiler, a missing library, an output problem."""


class ConfigError(OnebinError):
    """[tool.onebin] in pyproject.toml is not valid: an unknown key, a value of the wrong type."""
