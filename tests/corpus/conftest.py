"""Registers the ``corpus`` marker: ``pytest -m "not corpus"`` runs the fast tests alone."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "corpus: builds popular PyPI apps and compares each with a venv (slow, needs PyPI or a warm pip cache)",
    )
