"""Errors a user can act on: each names the file, field or value and what would be valid.

The CLI prints ``str(error)`` on one line and exits with ``exit_code``; nothing else is caught.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "NNDLError",
    "SearchFailed",
    "TrainingFailed",
    "UsageError",
]


class NNDLError(Exception):
    """Base class of the errors nndl reports to the user without a traceback."""

    exit_code = 1


class UsageError(NNDLError):
    """A bad command-line combination or argument value."""

    exit_code = 2


class ConfigError(NNDLError, ValueError):
    """An invalid configuration; ``problems`` lists every problem found in one pass."""

    exit_code = 2

    def __init__(self, name: str, problems: list[str]) -> None:
        self.name = name
        # a value pasted whole (a 2 MB string) would make the one line unreadable
        self.problems = [re.sub(r"\S{61,}", lambda m: m[0][:57] + "...", p) for p in problems]
        super().__init__(f"invalid {name}: " + "; ".join(self.problems))


class DataError(NNDLError, ValueError):
    """A data file or cache that cannot be used as it is."""


class TrainingFailed(NNDLError):
    """A run that could not finish (its loss diverged); ``record`` is what it measured."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record


class SearchFailed(NNDLError):
    """A search that completed no trial, so there is no best configuration to go on with."""
