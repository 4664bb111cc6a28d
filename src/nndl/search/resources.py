"""What a search needs from outside: a storage URL it can use, and cores and memory for workers.

Both are checked before any work, so a bad URL fails in a second with one line instead of
after Optuna's retries, and ``--workers 1000`` does not start a thousand processes.
"""

from __future__ import annotations

import os
from pathlib import Path

from nndl._inputs import shorten
from nndl.errors import UsageError

__all__ = [
    "WORKER_MEMORY_BYTES",
    "available_memory",
    "check_storage_url",
    "cpu_cores",
    "shown_url",
    "worker_cap",
]

WORKER_MEMORY_BYTES = 768 << 20
"""Memory set aside per worker process: torch and a DCNN on MNIST peak near 700 MB."""
_EXAMPLES = "sqlite:///DIR/study.db or postgresql+psycopg2://USER:PASS@HOST/DB"
_DRIVER_HINTS = {
    "psycopg2": "pip install 'nndl[postgres]'",
    "psycopg": "write postgresql+psycopg2:// and pip install 'nndl[postgres]', or pip install psycopg",
    "MySQLdb": "write mysql+pymysql:// and pip install pymysql, or pip install mysqlclient",
}


def check_storage_url(url: str, flag: str = "--storage") -> None:
    """Raise a one-line UsageError unless ``url`` names a database Optuna can open.

    Checks the syntax, the database kind (sqlite, postgresql, mysql), that its Python driver is
    installed (naming the extra that installs it), and for SQLite that the file's folder exists
    and is writable. Nothing is created or connected to.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if not url.strip():
        raise UsageError(f"{flag} is empty; give a URL such as {_EXAMPLES}")
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        shown = shorten(parsed.render_as_string(hide_password=True), 80)
        if backend not in ("sqlite", "postgresql", "mysql"):
            raise UsageError(f"{flag} {shown}: unknown database {backend!r}; give e.g. {_EXAMPLES}")
        parsed.get_dialect().import_dbapi()
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise UsageError(
            f"{flag} {shorten(url, 80)}: not a database URL; give e.g. {_EXAMPLES}"
        ) from None
    except ImportError as exc:
        hint = _DRIVER_HINTS.get(exc.name or "", f"install the driver of {parsed.drivername}")
        raise UsageError(
            f"{flag} {shown}: its driver {exc.name} is not installed; {hint}"
        ) from None
    if backend == "sqlite":
        _check_sqlite_file(parsed.database, flag)


def shown_url(url: str) -> str:
    """``url`` with its password masked, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing to mask
        return url


def _check_sqlite_file(database: str | None, flag: str) -> None:
    if not database or database == ":memory:":
        raise UsageError(
            f"{flag}: an in-memory SQLite study is lost when nndl exits; give sqlite:///FILE"
        )
    folder = Path(database).absolute().parent
    if not folder.is_dir():
        raise UsageError(f"{flag} sqlite:///{database}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (Path(database).exists() and not Path(database).is_file()):
        raise UsageError(f"{flag} sqlite:///{database}: cannot write the study file there")


def cpu_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    return len(getaffinity(0)) if getaffinity else os.cpu_count() or 1


def available_memory() -> int | None:
    """Free memory in bytes (MemAvailable), or None where /proc/meminfo is not there."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def worker_cap(requested: int) -> tuple[int, str | None]:
    """``requested`` workers, at most one per core and per ``WORKER_MEMORY_BYTES`` of free memory.

    Returns the number to run and, when it is fewer, a sentence that says why.
    """
    cores, memory = cpu_cores(), available_memory()
    cap = cores if memory is None else max(1, min(cores, memory // WORKER_MEMORY_BYTES))
    if requested <= cap:
        return requested, None
    free = "" if memory is None else f" and {memory / 2**30:.1f} GiB of free memory"
    return cap, f"--workers {requested} capped to {cap}: this machine has {cores} core(s){free}"
