"""Settings; beside it, the project template (a data directory)."""
