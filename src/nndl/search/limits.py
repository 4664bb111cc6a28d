"""The numbers the searches' budgets and prune rules are built from (no heavy imports: the CLI
reads them while building its parser).

The regression search prunes a trial whose fold is above ``PRUNE_FRACTION`` times the training
labels' variance (the report's 0.4 on its labels' variance of 3.8), but never below
``NOISE_MARGIN`` times the labels' noise variance; the MNIST search measures a net's cost in
multiply-adds per image against the report's DCNN (``DCNN_MACS``); ``FOLDS`` names the
regression search's kinds of folds.
"""

from __future__ import annotations

__all__ = [
    "DCNN_MACS",
    "FOLDS",
    "NOISE_MARGIN",
    "PRUNE_FRACTION",
    "REPORT_LABEL_VARIANCE",
    "REPORT_PRUNE_THRESHOLD",
    "prune_threshold",
]

REPORT_PRUNE_THRESHOLD = 0.4
REPORT_LABEL_VARIANCE = 3.8
PRUNE_FRACTION = REPORT_PRUNE_THRESHOLD / REPORT_LABEL_VARIANCE  # about 0.105
NOISE_MARGIN = 4.0
DCNN_MACS = 151_104
"""Multiply-adds per image of the report's DCNN (``nndl summary --arch dcnn``)."""
FOLDS = ("random", "blocked", "short", "repeated")
"""The kinds of folds the regression search may cut (``nndl.search.regression.splitter``)."""


def prune_threshold(
    label_variance: float, fraction: float = PRUNE_FRACTION, noise: float = 0.0
) -> float:
    """The validation MSE above which a fold prunes its trial: ``fraction`` times the training
    labels' variance (0.4 for labels of the report's variance), but never below
    ``NOISE_MARGIN`` times the labels' noise variance. No fold beats the noise, and one fold's
    ~20 validation points over a hard stretch often come out at 2-3 times it: without the
    floor, noisy data (noise variance 0.15, labels' variance 2.56: the fraction's threshold
    0.27) pruned 20 of its first 22 trials."""
    return max(fraction * label_variance, NOISE_MARGIN * noise)
