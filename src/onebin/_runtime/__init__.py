"""The onebin runtime: standard-library-only code embedded unchanged into every executable.

Inside an executable this package is named ``_onebin_runtime``. The launcher executes its
modules in the core phase of start-up, before most of the standard library can be imported, so
they import only built-in modules at module level: ``sys``, ``marshal``, ``posix``, ``_imp``
and ``_onebin`` (the launcher's own). Anything else is imported inside the function needing it.
"""
