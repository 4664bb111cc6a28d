"""Out-of-distribution measures: does a net call noise "not a digit", and digits digits?

``auroc`` is exact (Mann-Whitney U from average ranks, ties counting one half) and needs no
sklearn; ``not_a_digit_measures`` scores the PDCNN's class 10 on noise against digits.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["auroc", "confusion_matrix", "not_a_digit_measures", "predict_logits"]


def auroc(scores_pos: torch.Tensor, scores_neg: torch.Tensor) -> float:
    """Area under the ROC curve: P(random positive scores above random negative), ties 1/2.

    Args:
        scores_pos: scores of the positive samples (any shape, flattened).
        scores_neg: scores of the negative samples (any shape, flattened).

    Returns:
        The AUROC in [0, 1]; 1 when every positive outscores every negative.
    """
    pos = torch.as_tensor(scores_pos).detach().reshape(-1).double().cpu()
    neg = torch.as_tensor(scores_neg).detach().reshape(-1).double().cpu()
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError(f"auroc needs both classes: {len(pos)} positive, {len(neg)} negative")
    scores = torch.cat([pos, neg])
    if torch.isnan(scores).any():
        raise ValueError("auroc: scores contain NaN")
    _, inverse, counts = torch.unique(scores, sorted=True, return_inverse=True, return_counts=True)
    average_rank = torch.cumsum(counts, 0).double() - (counts.double() - 1) / 2  # 1-based
    rank_sum = average_rank[inverse[: len(pos)]].sum().item()
    u = rank_sum - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """The model's outputs for ``images`` in eval mode, batch by batch, on the CPU.

    The model's train/eval mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    device = _device(model)
    try:
        with torch.inference_mode():
            outs = [model(b.to(device)).float().cpu() for b in images.split(batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs)


def not_a_digit_measures(
    model: nn.Module,
    digits: torch.Tensor,
    noise: torch.Tensor,
    label: int = 10,
    batch_size: int = 2048,
) -> dict[str, Any]:
    """How well the "not a digit" class ``label`` separates ``noise`` from ``digits``.

    Args:
        model: a classifier with at least ``label + 1`` outputs (logits).
        digits: in-distribution images, e.g. MNIST test digits ``(m, 1, 28, 28)``.
        noise: out-of-distribution images, e.g. Perlin noise ``(n, 1, 28, 28)``.
        label: the "not a digit" class.
        batch_size: images per forward pass.

    Returns:
        ``noise_called_not_a_digit`` and ``digits_called_not_a_digit`` (shares whose argmax
        is ``label``), ``auroc`` of the softmax probability of ``label`` (noise positive,
        digits negative), and the counts ``noise_images`` and ``digit_images``.
    """
    p_noise = predict_logits(model, noise, batch_size).softmax(dim=1)
    p_digits = predict_logits(model, digits, batch_size).softmax(dim=1)
    return {
        "noise_called_not_a_digit": _share_predicted(p_noise, label),
        "digits_called_not_a_digit": _share_predicted(p_digits, label),
        "auroc": auroc(p_noise[:, label], p_digits[:, label]),
        "noise_images": len(noise),
        "digit_images": len(digits),
    }


def _share_predicted(probs: torch.Tensor, label: int) -> float:
    return float((probs.argmax(dim=1) == label).double().mean().item())


def confusion_matrix(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    batch_size: int = 2048,
) -> torch.Tensor:
    """Counts of (true class, predicted class): rows are true labels, columns predictions.

    Returns:
        An int64 tensor ``(num_classes, num_classes)`` that sums to ``len(images)``.
    """
    predicted = predict_logits(model, images, batch_size).argmax(dim=1)
    truth = labels.reshape(-1).long().cpu()
    if len(truth) != len(predicted):
        raise ValueError(f"{len(images)} images but {len(truth)} labels")
    if ((predicted >= num_classes) | (truth >= num_classes) | (truth < 0)).any():
        raise ValueError(f"labels or predictions outside 0..{num_classes - 1}")
    flat = torch.bincount(truth * num_classes + predicted, minlength=num_classes**2)
    return flat.reshape(num_classes, num_classes).to(torch.int64)
