"""A user's own code, named on the command line or in a study file: ``my_spaces.py:WideMLP``.

A reference is ``FILE.py:NAME`` (a file of the user's, imported once per path) or
``package.module:NAME`` (an importable module). Importing the file runs its registrations
(``@register_architecture``, ``register_task``, ...), so a user's net, task or search space
needs no edit to nndl. Every problem is one line that names the file and what is in it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from nndl.errors import UsageError

__all__ = ["is_reference", "load_file", "load_object", "split_reference"]


def is_reference(value: str) -> bool:
    """``FILE.py:NAME`` or ``module:NAME`` rather than a built-in name."""
    return ":" in value


def split_reference(value: str, flag: str) -> tuple[str, str]:
    """``("my_spaces.py", "WideMLP")``; a UsageError for anything else."""
    source, _, name = value.rpartition(":")
    if not source or not name.replace("-", "_").isidentifier():
        raise UsageError(f"{flag} {value!r}: expected FILE.py:NAME or package.module:NAME")
    return source, name


def load_file(path: str | Path, flag: str = "--plugin") -> ModuleType:
    """Import the user's Python file (once per resolved path) and return it as a module."""
    file = Path(path).expanduser().resolve()
    if file.suffix != ".py" or not file.is_file():
        raise UsageError(f"{flag} {path}: no such Python file (expected a .py file)")
    name = f"nndl_user_{file.stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None  # a .py file always has both
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        line = _line_in(exc, file)
        raise UsageError(f"{flag} {path}{line}: {type(exc).__name__}: {exc}") from exc
    return module


def load_object(value: str, flag: str) -> Any:
    """The object a ``FILE.py:NAME`` or ``module:NAME`` reference names."""
    source, name = split_reference(value, flag)
    if source.endswith(".py") or "/" in source:
        module = load_file(source, flag)
    else:
        try:
            module = importlib.import_module(source)
        except ImportError as exc:
            raise UsageError(f"{flag} {value!r}: cannot import {source} ({exc})") from exc
    if not hasattr(module, name):
        public = sorted(n for n in vars(module) if not n.startswith("_"))
        shown = ", ".join(public[:12]) + (", ..." if len(public) > 12 else "")
        raise UsageError(f"{flag} {value!r}: {source} has no {name!r} (it has: {shown})")
    return getattr(module, name)


def _line_in(exc: BaseException, file: Path) -> str:
    """`` line N`` of the user's file where ``exc`` was raised, when it was raised there."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" line {exc.lineno}"
    tb = exc.__traceback__
    lineno = None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == file:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return f" line {lineno}" if lineno else ""
