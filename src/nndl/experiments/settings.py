"""Settings files: every run writes what it resolved as TOML, and the same command reads it back.

``nndl train --settings runs/x/settings.toml --out runs/y`` reruns a training run exactly;
``nndl study run STUDY.toml`` reads a study's. TOML has no null, so the keys whose value is
None are listed under ``none`` in their table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

from nndl._inputs import read_bytes
from nndl.errors import UsageError

if TYPE_CHECKING:
    from nndl.experiments.jobs import TrainJob

__all__ = ["dumps_toml", "job_from_settings", "read_toml", "run_settings_toml"]

MAX_SETTINGS_BYTES = 1 << 20


def dumps_toml(data: dict[str, Any], comment: str = "") -> str:
    """TOML text of ``data``; in every table, None values go to a ``none`` list of keys."""
    import tomli_w

    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + tomli_w.dumps(_without_none(data))


def read_toml(path: str | Path, flag: str) -> dict[str, Any]:
    """A TOML file as a dict with its Nones restored; one line naming the file on any problem."""
    raw = read_bytes(path, flag, MAX_SETTINGS_BYTES)
    try:
        return _with_none(tomllib.loads(raw.decode("utf-8-sig")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{flag} {path}: not a TOML file ({exc})") from None


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nones = [k for k, v in table.items() if v is None]
    for key, value in table.items():
        if isinstance(value, dict):
            out[key] = _without_none(value)
        elif isinstance(value, tuple):
            out[key] = list(value)
        elif value is not None:
            out[key] = value
    if nones:
        out["none"] = nones
    return out


def _with_none(table: dict[str, Any]) -> dict[str, Any]:
    out = {k: _with_none(v) if isinstance(v, dict) else v for k, v in table.items() if k != "none"}
    out.update(dict.fromkeys(table.get("none", ()), None))
    return out


def run_settings_toml(job: TrainJob) -> str:
    """The run's settings as TOML: task and options, architecture and its config, training."""
    from dataclasses import asdict

    model = {k: v for k, v in asdict(job.model_config()).items() if k != "kind"}
    data = {
        "command": "train",
        "arch": job.arch,
        "plugins": list(job.plugins),
        "split_seed": job.split_seed,
        "limit": job.limit,
        "task": {"name": job.task.name, **job.task.settings()},
        "model": model,
        "train": job.train.to_dict(),
    }
    return dumps_toml(
        data, "What this run used. Rerun it: nndl train --settings THIS_FILE --out NEW"
    )


def job_from_settings(path: str, out: Path, quiet: bool) -> TrainJob:
    """The TrainJob a settings file describes (its plugin files loaded first)."""
    from nndl.experiments.jobs import TrainJob
    from nndl.plugins import load_file
    from nndl.tasks.base import make_task
    from nndl.training.config import TrainConfig

    data = read_toml(path, "--settings")
    missing = [k for k in ("arch", "task", "model", "train") if k not in data]
    if data.get("command") != "train" or missing:
        raise UsageError(f"--settings {path}: not an nndl train settings file (missing {missing})")
    plugins = tuple(data.get("plugins", ()))
    for plugin in plugins:
        load_file(plugin, f"--settings {path}: plugin")
    task = dict(data["task"])
    return TrainJob(
        make_task(task.pop("name"), **task),
        data["arch"],
        TrainConfig(**data["train"]),
        out,
        data["model"],
        int(data.get("split_seed", 0)),
        quiet,
        data.get("limit"),
        plugins,
    )
