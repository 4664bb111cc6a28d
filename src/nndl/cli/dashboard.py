"""``nndl dashboard DIR|URL``: optuna-dashboard on a search's study (loopback by default)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nndl.cli._args import port
from nndl.errors import DataError, UsageError


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("dashboard", help="browse a search's study with optuna-dashboard")
    parser.add_argument(
        "target", help="an output folder (its study.db / study.journal) or an Optuna storage URL"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=port, default=8080, help="TCP port, 1-65535 (default 8080)")
    parser.set_defaults(run=run)


def storage_for(target: str) -> Any:
    """The storage a folder holds, or the URL itself (which must name an existing study)."""
    if "://" in target:
        from sqlalchemy.engine import make_url

        from nndl.search.resources import check_storage_url

        check_storage_url(target, "dashboard")
        database = make_url(target).database
        if make_url(target).get_backend_name() == "sqlite" and not Path(database or "").is_file():
            raise DataError(f"{target}: no such SQLite file; give the study.db of a search")
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
