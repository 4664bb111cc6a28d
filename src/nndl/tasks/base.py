"""A task: what is learned from what.

A task loads its data (train / validation / test tensors), names its loss, its metrics and the
one that selects models, its input shape, output size and class names, and the figures that
make sense for it. Built-ins are registered by name; a user's own task is a subclass in the
user's own file, named as ``--task my_tasks.py:MyTask``.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from nndl.errors import UsageError

if TYPE_CHECKING:
    import torch

    from nndl.data.tensors import TensorData

__all__ = ["Task", "TaskData", "get_task", "make_task", "register_task", "task_names"]


@dataclass
class TaskData:
    """A task's three parts as in-memory tensors, and a description of their sources."""

    train: TensorData
    val: TensorData | None  # None: every training row trains (``val_fraction=0``)
    test: TensorData
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task(ABC):
    """What is learned from what. Subclasses are frozen dataclasses whose fields are options.

    Class attributes say how the task is learned: ``loss`` (``mse`` or ``cross_entropy``),
    ``metrics`` (the test metrics it reports), ``selects`` (the validation metric that picks
    models), ``val_fraction`` (its default validation share), ``family`` (which registered nets
    fit it, see :func:`nndl.models.list_models`), ``default_arch`` and ``figures``.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    loss: ClassVar[str] = "mse"
    metrics: ClassVar[tuple[str, ...]] = ("loss",)
    selects: ClassVar[str] = "val_loss"
    val_fraction: ClassVar[float] = 0.1
    default_arch: ClassVar[str] = ""
    figures: ClassVar[tuple[str, ...]] = ("loss_curves",)

    def check(self) -> None:
        """Read the data (without torch where possible): a bad file fails before any work."""
        self.shapes()

    @abstractmethod
    def shapes(self) -> tuple[tuple[int, ...], int]:
        """``(input_shape, output_size)`` of one sample, without the batch dimension."""

    @abstractmethod
    def points(self, limit: int | None = None) -> tuple[TensorData, TensorData]:
        """All training rows (the first ``limit``) and the test rows, as tensors."""

    @property
    def class_names(self) -> tuple[str, ...]:
        """One name per output of a classification task (empty for regression)."""
        return ()

    @property
    def dataset(self) -> str:
        """A short name of the data for titles and the report."""
        return self.name

    @property
    def loss_scale(self) -> float:
        """What turns a loss on the numbers the nets see into the data's units (a regression
        task that standardizes its target: the target's variance)."""
        return 1.0

    def info(self) -> dict[str, Any]:
        """Where the data came from, for the run's record."""
        return {"task": self.name}

    def checkpoint_extra(self) -> dict[str, Any]:
        """What predicting on raw inputs needs, kept in each checkpoint (:func:`nndl.load`
        reads it): the task, one sample's shape, the classes; tasks that scale their inputs
        add the ``scaling``, and table tasks the ``feature_names`` and ``target`` columns."""
        extra: dict[str, Any] = {"task": self.name, "input_shape": list(self.shapes()[0])}
        if self.class_names:
            extra["classes"] = list(self.class_names)
        return extra

    def load(self, val_fraction: float, split_seed: int, limit: int | None = None) -> TaskData:
        """The training rows split into train / validation by a seeded fraction, and the test rows;
        ``val_fraction=0``: every training row trains, and there is no validation part."""
        from nndl.data.split import train_val_split

        full, test = self.points(limit)
        if val_fraction == 0:
            return TaskData(full, None, test, {**self.info(), "split_seed": split_seed})
        train_idx, val_idx = train_val_split(len(full), val_fraction, split_seed)
        info = {**self.info(), "split_seed": split_seed}
        return TaskData(full.subset(train_idx), full.subset(val_idx), test, info)

    def batch_transform(self, seed: int, device: torch.device) -> Any:
        """A transform of each training batch (e.g. an extra noise class), or None."""
        return None

    def settings(self) -> dict[str, Any]:
        """The options that rebuild this task (``make_task(name, **settings)``), Nones left out;
        file and folder paths absolute, so that a rerun from another folder reads the same data."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {k: _plain(k, v) for k, v in values.items() if v is not None}

    def with_options(self, **options: Any) -> Task:
        """This task with some options changed; unknown options are a UsageError."""
        return _build(type(self), {**self.settings(), **options})


def _plain(key: str, value: Any) -> Any:
    """Lists for tuples; absolute paths for files and folders (a rerun may start elsewhere)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str) and key.endswith(("_csv", "_dir", "_file")):
        from pathlib import Path

        return str(Path(value).expanduser().resolve())
    return value


_TASKS: dict[str, type[Task]] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make ``cls`` available as ``--task cls.name``."""
    _TASKS[cls.name] = cls
    return cls


def task_names() -> list[str]:
    """The registered task names."""
    from nndl.tasks import load_builtin_tasks

    load_builtin_tasks()
    return sorted(_TASKS)


def get_task(name: str) -> type[Task]:
    """The task class registered as ``name``, or named by ``FILE.py:Class``."""
    from nndl.plugins import is_reference, load_object

    if is_reference(name):
        cls = load_object(name, "--task")
        if not (isinstance(cls, type) and issubclass(cls, Task)):
            raise UsageError(f"--task {name}: {cls!r} is not a subclass of nndl.tasks.Task")
        return cls
    if name not in task_names():
        raise UsageError(f"--task {name!r}: unknown task; known: {', '.join(task_names())}")
    return _TASKS[name]


def make_task(name: str, **options: Any) -> Task:
    """The task ``name`` with ``options`` (None means: the task's default)."""
    return _build(get_task(name), {k: v for k, v in options.items() if v is not None})


def _build(cls: type[Task], options: dict[str, Any]) -> Task:
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(options) - known)
    if unknown:
        valid = ", ".join(sorted(known)) or "none"
        raise UsageError(
            f"task {cls.name!r}: unknown option(s) {', '.join(unknown)}; valid: {valid}"
        )
    fields = {f.name: f for f in dataclasses.fields(cls)}
    converted = {
        k: tuple(v) if isinstance(v, list) and "tuple" in str(fields[k].type) else v
        for k, v in options.items()
    }
    return cls(**converted)
