"""Stage timings and the machine description recorded next to results."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["log_files", "log_to_file", "machine_info", "timed"]

log = logging.getLogger("nndl")


@contextmanager
def timed(timings: dict[str, float] | None, stage: str) -> Iterator[None]:
    """Record the wall seconds of the block under ``stage`` (and log its start and end)."""
    log.info("stage %s: start", stage)
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    log.info("stage %s: done in %.1f s", stage, seconds)
    if timings is not None:
        timings[stage] = seconds


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """CPU model, cores, torch threads, device and versions."""
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


@contextmanager
def log_to_file(path: Path) -> Iterator[None]:
    """Append nndl's log (stages, search trials) to ``path`` during the block, then close it.

    Worker processes of a search append to the same files (see :func:`log_files`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _LogFile(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    except BaseException as exc:  # the log says how the run ended, then the error goes on
        log.error("stopped by %s: %s", type(exc).__name__, exc)
        raise
    else:  # a run that failed says why in its one error line; one that finished, here
        if handler.failure is not None:
            print(
                f"nndl: warning: the run finished, but its log {path} could not be written "
                f"({handler.failure})",
                file=sys.stderr,
            )
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        try:
            handler.close()
        except OSError as exc:  # its last flush on a full disk
            handler.failure = handler.failure or exc


class _LogFile(logging.FileHandler):
    """A log file that, when it cannot be written (a full disk), stops and keeps the reason:
    :func:`log_to_file` reports it once, unless the run fails anyway (then its error says)."""

    failure: BaseException | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failure is None:
            self.failure = sys.exc_info()[1]

    def emit(self, record: logging.LogRecord) -> None:
        if self.failure is None:
            super().emit(record)


def log_files() -> list[Path]:
    """The files nndl's log goes to now (handed to worker processes)."""
    return [Path(h.baseFilename) for h in log.handlers if isinstance(h, logging.FileHandler)]
