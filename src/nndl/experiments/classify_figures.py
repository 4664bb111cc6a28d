"""The image study's figures (the report's Figures 4, 5, 7 and 8, the best net's confusion
matrix) and how the PDCNN tells noise from the data's images."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from nndl.experiments.classify import ClassifyStudy

__all__ = ["run_figures"]


def _probability_figures(
    study: ClassifyStudy,
    models: dict[str, nn.Module],
    probe: torch.Tensor,
    *,
    names: tuple[str, ...],
    first_label: int,
) -> None:
    """Figure 4 (class probabilities of a test image and two noise images) and Figure 5."""
    from nndl.viz import actmax
    from nndl.viz import classification as cls
    from nndl.viz._mpl import save_figure

    mnist = study.task.is_mnist
    first = f"MNIST test digit {first_label}" if mnist else f"test image: {names[first_label]}"
    captions = [first, "Perlin noise", "Perlin noise"]
    probs = cls.class_probabilities(models, probe, captions, class_names=() if mnist else names)
    save_figure(cls.plot_class_probabilities(probs), study.figures / "figure_4_probabilities.png")
    config = replace(actmax.ActMaxConfig(), steps=study.budget.actmax_steps)
    classes, shape = range(len(study.task.class_names)), study.task.shapes()[0]
    grid = actmax.activation_grid(models, config, classes, shape=shape)
    save_figure(
        actmax.plot_activation_grid(grid, names),
        study.figures / "figure_5_activation_maximization.png",
    )


def _noise_images(study: ClassifyStudy) -> torch.Tensor:
    """Perlin noise shaped like the task's images (grey noise in every channel)."""
    from nndl.data.perlin import PerlinNoise

    channels, side, _ = study.task.shapes()[0]
    noise = PerlinNoise(seed=study.seed + 1, size=side).sample(study.budget.ood_images)
    return noise.expand(-1, channels, -1, -1)


def run_figures(study: ClassifyStudy, models: dict[str, nn.Module]) -> dict[str, Any]:
    """Figures 4, 5, 7, 8, the best net's confusion matrix, and the noise class's measures."""
    from nndl.evaluation.ood import confusion_matrix, noise_class_measures
    from nndl.experiments.jobs import task_for_arch
    from nndl.viz import classification as cls
    from nndl.viz._mpl import save_figure

    task = study.task
    data = task.load(0.2, study.seed, study.budget.train_limit)
    test_x, test_y = data.test.x, data.test.y
    names = task_for_arch(task, "pdcnn").class_names  # the data's classes and the extra one
    noise = _noise_images(study)
    fig = study.figures
    probe = torch.cat([test_x[:1], noise[:2]])
    shown = {k: m for k, m in models.items() if k != "best" or study.budget.name != "quick"}
    _probability_figures(study, shown, probe, names=names, first_label=int(test_y[0]))
    save_figure(
        cls.plot_feature_maps(cls.feature_maps(models["cnn"], test_x[0])),
        fig / "figure_7_feature_maps.png",
    )
    emb = cls.embedding(models["cnn"], test_x[:2000], test_y[:2000])
    save_figure(
        cls.plot_embedding(emb, "CNN penultimate features (PCA)"), fig / "figure_7_embedding.png"
    )
    save_figure(
        cls.plot_first_layer_weights(cls.first_layer_weights(models["fcn"], task.shapes()[0])),
        fig / "figure_8_fcn_weights.png",
    )
    best = models.get("best", models["dcnn"])
    cm = confusion_matrix(best, test_x, test_y, num_classes=len(task.class_names))
    save_figure(cls.plot_confusion_matrix(cm, task.class_names), fig / "confusion_matrix.png")
    images = test_x[: study.budget.ood_images * 5]
    return noise_class_measures(models["pdcnn"], images, noise, label=len(task.class_names))
