"""The MNIST study of the report (section 3, appendices A-B): four nets, the architecture
search, the best net, every figure, and how the PDCNN tells noise from digits."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from torch import nn

from nndl._io import write_json
from nndl.experiments.budgets import CLASSIFY, ClassifyBudget
from nndl.experiments.classify_search import best_params, run_search
from nndl.experiments.study import Study, register_study
from nndl.search.spaces import Run

__all__ = ["NETS", "ClassifyStudy", "run_all", "run_best", "run_nets", "run_search"]

NETS = ("fcn", "cnn", "dcnn", "pdcnn")


@register_study
@dataclass(frozen=True, kw_only=True)
class ClassifyStudy(Study):
    """Where MNIST is, where results go, and how to run (``budget``: the default one; on image
    data other than MNIST, the budget's ``dataset`` budget).
    """

    data_dir: str | None = None
    budget: ClassifyBudget = field(default_factory=lambda: CLASSIFY["default"])
    workers: int = 1
    storage: str | None = None
    trials: int | None = None
    max_trials: int | None = None
    space: str = ""  # empty: the budget's (feasible for the default budget, else report)
    pruner: str = ""  # empty: the budget's (hyperband for the default budget, else median)
    class_names: str | None = None
    max_macs: int | None = None
    augment: tuple[str, ...] = ()  # the training batches of every net: crop, flip, erase
    color_mode: str = "auto"  # image folders (nndl.data.folders)
    image_size: int | None = None
    test_fraction: float = 0.2

    name = "classify"
    budgets = CLASSIFY

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "budget", self.budget.for_data(mnist=self.on_mnist))
        # the budget's search space and pruner unless the study names its own
        if not self.space:
            object.__setattr__(self, "space", self.budget.space)
        if not self.pruner:
            object.__setattr__(self, "pruner", self.budget.pruner)

    @property
    def on_mnist(self) -> bool:
        """MNIST itself: no ``data_dir`` and no class names of another image set."""
        return self.data_dir is None and self.class_names is None

    @property
    def search_space(self) -> Any:
        """The search space ``space`` names (a built-in name or ``FILE.py:Class``)."""
        from nndl.search.spaces import get_space

        return get_space(self.space, "classify")

    @cached_property
    def task(self) -> Any:
        """MNIST by default; any other IDX image set from ``data_dir`` (and its names file)."""
        from nndl.tasks.base import make_task

        name = "mnist" if self.on_mnist else "images"
        return make_task(
            name, data_dir=self.data_dir, class_names_file=self.class_names, **self.task_options
        )

    @property
    def task_options(self) -> dict[str, Any]:
        """The image task's options besides its data: the folder's reading, the augmentation."""
        return {
            "color_mode": self.color_mode,
            "image_size": self.image_size,
            "augment": tuple(self.augment),
            "test_fraction": self.test_fraction,
        }

    def check(self) -> None:
        if self.data_dir or self.class_names:  # MNIST itself is fetched when the study runs
            self.task.check()
        self.search_space  # noqa: B018

    def run(self, timings: dict[str, float]) -> dict[str, Any]:
        return run_all(self, timings=timings)

    @staticmethod
    def report_section(doc: Any, results: dict[str, Any], budget: str) -> None:
        from nndl.report.sections import classify_section

        classify_section(doc, results, budget)


def train_net(
    study: ClassifyStudy,
    arch: str,
    name: str | None = None,
    *,
    model: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
    task_options: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], nn.Module]:
    """Train one net on the 80/20 split with the report's settings; its Table 2 row and the net
    (``task_options``: those a searched configuration chose, such as its augmentation)."""
    from nndl.experiments.jobs import task_for_arch
    from nndl.experiments.train import TrainJob, run_train, train_config_for
    from nndl.training.checkpoint import load_checkpoint

    settings = dict(max_epochs=study.budget.max_epochs, seed=study.seed, device=study.device)
    settings.update(train or {})
    task = task_for_arch(study.task, arch)
    if task_options:
        task = task.with_options(**task_options)
    config = train_config_for(task, arch, **settings)
    if "patience" in settings and settings["patience"] is None:  # None: no early stopping
        config = replace(config, patience=None)
    job = TrainJob(
        task,
        arch,
        config,
        study.out / "nets" / (name or arch),
        model or {},
        quiet=study.quiet,
        limit=study.budget.train_limit,
    )
    metrics = run_train(job)
    return {k: metrics[k] for k in ROW_KEYS}, load_checkpoint(job.out / "model.pt").model


ROW_KEYS = (
    *("train_loss", "val_loss", "test_accuracy", "test_loss"),
    *("epochs", "best_epoch", "stop_reason", "seconds_per_epoch"),
)
"""A Table 2 row: what each net's run reports."""


def run_nets(study: ClassifyStudy) -> tuple[dict[str, Any], dict[str, nn.Module]]:
    """Table 2's first four rows: FCN, CNN, DCNN and PDCNN on the same split."""
    rows, models = {}, {}
    for arch in NETS:
        rows[arch], models[arch] = train_net(study, arch)
    return rows, models


def run_best(study: ClassifyStudy, run: Run) -> tuple[dict[str, Any], nn.Module]:
    """Retrain the best configuration on the 80/20 split: Table 2's "best" row and its net.
    With the budget's ``refit``, then on every training image for that net's best epoch count
    (``refit_settings``): the row's ``refit``, and the net returned."""
    from nndl.models.configs import CNNConfig
    from nndl.models.registry import builder_kind

    config = run.model
    if isinstance(config, CNNConfig):  # the report's spaces: the DCNN with the found layers
        arch, keys = "dcnn", ("channels", "kernel_sizes", "strides", "paddings", "linear_sizes")
        fields = {k: getattr(config, k) for k in (*keys, "dropout")}
        fields.update(
            {k: getattr(config, k) for k in ("pools", "batch_norm") if getattr(config, k)}
        )
    else:  # a user space's own architecture, registered by its file
        arch = builder_kind(config)
        fields = {k: v for k, v in dataclasses.asdict(config).items() if k != "kind"}
    row, model = train_net(
        study, arch, "best", model=fields, train=run.train, task_options=run.task
    )
    row["params"] = run.to_dict()
    if study.budget.refit:
        row["refit"], model = _refit(study, arch, fields, run=run, epochs=row["best_epoch"])
    return row, model


def _refit(
    study: ClassifyStudy, arch: str, fields: dict[str, Any], *, run: Run, epochs: int
) -> tuple[dict[str, Any], nn.Module]:
    import csv

    from nndl.experiments.train import refit_settings

    with open(study.out / "nets" / "best" / "history.csv", newline="") as f:
        rates = [float(r["lr"]) for r in csv.DictReader(f)]
    train = refit_settings(run.train, rates, epochs)
    row, model = train_net(study, arch, "refit", model=fields, train=train, task_options=run.task)
    row.update(val_loss=None, milestones=list(train.get("lr_milestones", ())))
    return row, model


def _table_2(rows: dict[str, Any], best_row: dict[str, Any]) -> dict[str, Any]:
    """results.json's ``nets``: Table 2's numbers of each net, the best's refit last."""
    keys = ("train_loss", "val_loss", "test_accuracy")
    table = {k: {m: r[m] for m in keys} for k, r in {**rows, "best": best_row}.items()}
    if "refit" in best_row:  # the best net again on every training image
        refit = best_row["refit"]
        table["refit"] = {m: refit[m] for m in (*keys, "epochs", "milestones")}
    return table


SEARCH_KEYS = (
    *("completed", "pruned_invalid", "pruned_learning_curve", "pruned", "failed", "seconds"),
    *("pruned_too_slow", "pruned_first_fold"),
    *("trials_before", "best_params", "best_value", "invalid_by_layer"),
)
"""The search summary's keys that results.json keeps."""


def run_all(
    study: ClassifyStudy, params_file: str | None = None, timings: dict[str, float] | None = None
) -> dict[str, Any]:
    """The four nets, the search, the best net and the figures; writes ``results.json``."""
    from nndl._timing import timed

    with timed(timings, "classify nets"):
        rows, models = run_nets(study)
    with timed(timings, "classify search"):
        search = run_search(study)
    with timed(timings, "classify best"):
        best_row, models["best"] = run_best(study, best_params(study, params_file))
    with timed(timings, "classify figures"):
        from nndl.experiments.classify_figures import run_figures

        ood = run_figures(study, models)
    results = {
        "nets": _table_2(rows, best_row),
        "search": {k: search.get(k) for k in SEARCH_KEYS},
        "ood": ood,
        "space": study.space,
        "contours": study.search_space.contours,  # Figure 6's pairs of parameters
        "pruner": study.pruner,
    }
    if not study.task.is_mnist:  # MNIST's results keep the keys they always had
        results.update(dataset=study.task.dataset, classes=list(study.task.class_names))
        held_out = study.task.info().get("held_out_test")
        if held_out:
            results["held_out_test"] = held_out
    write_json(study.out / "results.json", results)
    return results
