"""``nndl dashboard DIR|URL``: optuna-dashboard on a search's study (loopback by default)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nndl.errors import DataError, UsageError


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("dashboard", help="browse a search's study with optuna-dashboard")
    parser.add_argument(
        "target", help="an output folder (its study.db / study.journal) or an Optuna storage URL"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8080)
    parser.set_defaults(run=run)


def storage_for(target: str) -> Any:
    """The storage a folder holds, or the URL itself."""
    if "://" in target:
        return target
    folder = Path(target)
    if (folder / "study.journal").is_file():
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(str(folder / "study.journal")))
    if (folder / "study.db").is_file():
        return f"sqlite:///{folder / 'study.db'}"
    raise DataError(
        f"{folder}: no study.db or study.journal here; give a search's --out folder or a storage URL"
    )


def run(args: argparse.Namespace) -> int:
    try:
        from optuna_dashboard import run_server
    except ImportError:
        raise UsageError(
            "optuna-dashboard is not installed: pip install -e '.[dashboard]'"
        ) from None
    storage = storage_for(args.target)
    print(f"optuna-dashboard on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    run_server(storage, host=args.host, port=args.port)
    return 0
