"""Infrastructure tests: the SAM template and the Lambda layers."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "layer_build: builds the Lambda layers with pip from PyPI (about a minute; deselect with "
        "-m 'not layer_build' when offline)",
    )
