"""Judging trained classifiers: predictions in batches, confusion matrices, and how well a
net tells digits from noise (the PDCNN's "not a digit" class)."""

from nndl.evaluation.ood import auroc, confusion_matrix, noise_class_measures, predict_logits

__all__ = ["auroc", "confusion_matrix", "noise_class_measures", "predict_logits"]
