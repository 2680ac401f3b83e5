"""Translations: a package, as sphinx.locale is, with its message files beside."""
