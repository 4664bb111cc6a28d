"""Tasks: what is learned from what (data, loss, metrics, classes, figures), registered by name."""

from __future__ import annotations

from nndl._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(
        ("Task", "TaskData", "get_task", "make_task", "register_task", "task_names"),
        "nndl.tasks.base",
    ),
    "RegressionTask": "nndl.tasks.regression",
    "TabularTask": "nndl.tasks.tabular",
    **dict.fromkeys(("ImageTask", "MNISTTask"), "nndl.tasks.images"),
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


def load_builtin_tasks() -> None:
    """Register the built-in tasks (their modules register themselves on import)."""
    import nndl.tasks.images
    import nndl.tasks.regression
    import nndl.tasks.tabular  # noqa: F401
