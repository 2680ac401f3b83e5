"""Imported long before the module that reads its __path__; like sphinx's package_dir, HERE is
derived from __file__ when it runs, before any of its files is needed on disk."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))


class _Lazy:
    """As django's settings: asking for its class runs code, which fails until configured."""

    @property
    def __class__(self):
        raise RuntimeError("settings are not configured")


SETTINGS = _Lazy()
