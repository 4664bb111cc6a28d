"""The Optuna study a search left in its output folder, as the tests read it back."""

from __future__ import annotations

from pathlib import Path

import optuna


def stored_study(out: Path, name: str = "nndl-regression-random-search") -> optuna.Study:
    """The study ``name`` in ``out``: its journal file (several workers) or its SQLite file."""
    if (out / "study.journal").exists():
        from optuna.storages.journal import JournalFileBackend

        storage = optuna.storages.JournalStorage(JournalFileBackend(str(out / "study.journal")))
    else:
        storage = optuna.storages.RDBStorage(f"sqlite:///{out / 'study.db'}")
    return optuna.load_study(study_name=name, storage=storage)
