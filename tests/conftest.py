"""Shared pytest fixtures; one CPU thread per test process.

`make test` runs the suite on as many processes as there are cores (pytest-xdist, tests of
one module on one process so its fixtures run once). Each process, and every nndl command
it starts, takes one thread: two processes that each take every core's thread slow each
other many times over (OpenMP threads spin while they wait).
"""

from __future__ import annotations

import os
import signal

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported anywhere
# pytest-xdist's workers ignore SIGINT, and a child inherits an ignored signal (Python then
# installs no KeyboardInterrupt handler in it): give the commands the tests start Ctrl-C back
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from pathlib import Path

import pytest

from nndl.data.mnist import default_cache_dir


@pytest.fixture(scope="session")
def mnist_cache_dir() -> Path:
    """The real MNIST cache (``$NNDL_DATA`` or ``~/.cache/nndl``), shared by the whole suite."""
    return default_cache_dir()
