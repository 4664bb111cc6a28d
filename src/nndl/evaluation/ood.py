"""Out-of-distribution measures: does a net call noise "not a digit", and digits digits?

``auroc`` and ``confusion_matrix`` are scikit-learn's (``roc_auc_score``, ``confusion_matrix``)
on tensors; ``noise_class_measures`` scores the PDCNN's noise class ("not a digit" on MNIST)
on noise against the data's images.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["auroc", "confusion_matrix", "noise_class_measures", "predict_logits"]


def auroc(scores_pos: torch.Tensor, scores_neg: torch.Tensor) -> float:
    """Area under the ROC curve: P(random positive scores above random negative), ties 1/2.

    Args:
        scores_pos: scores of the positive samples (any shape, flattened).
        scores_neg: scores of the negative samples (any shape, flattened).

    Returns:
        The AUROC in [0, 1]; 1 when every positive outscores every negative.
    """
    from sklearn.metrics import roc_auc_score

    pos, neg = _flat(scores_pos), _flat(scores_neg)
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError(f"auroc needs both classes: {len(pos)} positive, {len(neg)} negative")
    if np.isnan(pos).any() or np.isnan(neg).any():
        raise ValueError("auroc: scores contain NaN")
    truth = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float(roc_auc_score(truth, np.r_[pos, neg]))


def _flat(scores: torch.Tensor) -> np.ndarray:
    return torch.as_tensor(scores).detach().reshape(-1).double().cpu().numpy()


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


def noise_class_measures(
    model: nn.Module,
    images: torch.Tensor,
    noise: torch.Tensor,
    *,
    label: int = 10,
    batch_size: int = 2048,
) -> dict[str, Any]:
    """How well the noise class ``label`` (the report's "not a digit") separates ``noise`` from
    the data's ``images``.

    Args:
        model: a classifier with at least ``label + 1`` outputs (logits).
        images: in-distribution images, e.g. MNIST test digits ``(m, 1, 28, 28)``.
        noise: out-of-distribution images, e.g. Perlin noise ``(n, 1, 28, 28)``.
        label: the noise class.
        batch_size: images per forward pass.

    Returns:
        ``noise_called_noise`` and ``images_called_noise`` (shares whose argmax is ``label``),
        ``auroc`` of the softmax probability of ``label`` (noise positive, images negative),
        and the counts ``noise_images`` and ``test_images``.
    """
    p_noise = predict_logits(model, noise, batch_size).softmax(dim=1)
    p_images = predict_logits(model, images, batch_size).softmax(dim=1)
    return {
        "noise_called_noise": _share_predicted(p_noise, label),
        "images_called_noise": _share_predicted(p_images, label),
        "auroc": auroc(p_noise[:, label], p_images[:, label]),
        "noise_images": len(noise),
        "test_images": len(images),
    }


def _share_predicted(probs: torch.Tensor, label: int) -> float:
    return float((probs.argmax(dim=1) == label).double().mean().item())


def confusion_matrix(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
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
    from sklearn.metrics import confusion_matrix as counts

    classes = np.arange(num_classes)
    return torch.from_numpy(counts(truth.numpy(), predicted.numpy(), labels=classes)).long()
