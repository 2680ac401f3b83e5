"""Imported long before the module that reads its __path__."""
