"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from nndl.data.mnist import default_cache_dir


@pytest.fixture(scope="session")
def mnist_cache_dir() -> Path:
    """The real MNIST cache (``$NNDL_DATA`` or ``~/.cache/nndl``), shared by the whole suite."""
    return default_cache_dir()
