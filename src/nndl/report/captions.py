"""The report's figure captions, and how a sentence about MNIST digits reads for another image set."""

from __future__ import annotations

__all__ = ["MNIST_FIGURES", "REGRESSION_FIGURES", "image_figures", "in_words_of"]

REGRESSION_FIGURES = [
    (
        "figure_1_basic.png",
        "Figure 1: basic net: (a) train and validation loss per epoch, (b) output with the points",
    ),
    (
        "figure_2_best.png",
        "Figure 2: (a) loss per epoch of the best fold net (the report's protocol); (b) output with "
        "the points: nndl's answer, the mean of its nets and their spread as a band, next to the best "
        "fold net and the Gaussian process",
    ),
    (
        "figure_3_weights_activations.png",
        "Figure 3: best net: weight histograms and activations for x = -4 and x = 2",
    ),
]
MNIST_FIGURES = [
    (
        "figure_4_probabilities.png",
        "Figure 4: class probabilities for a test digit and two Perlin noise images",
    ),
    (
        "figure_5_activation_maximization.png",
        "Figure 5: inputs that maximize each output neuron, per net",
    ),
    ("figure_6_importances.png", "Figure 6: hyperparameter importances"),
    (
        "figure_7_feature_maps.png",
        "Figure 7: CNN feature maps of every conv layer for one test digit",
    ),
    ("figure_7_embedding.png", "Figure 7: CNN penultimate-layer features of test digits (PCA)"),
    ("figure_8_fcn_weights.png", "Figure 8: FCN first-layer weights as 28x28 images"),
    ("confusion_matrix.png", "Confusion matrix of the best net on the test set"),
]


def image_figures(contours: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The image study's figures as ``(file, caption)``: Figure 6 has a contour plot per pair
    of the search space's parameters (``contours``), before its importances."""
    at = next(i for i, (name, _) in enumerate(MNIST_FIGURES) if "importances" in name)
    pairs = [
        (f"figure_6_contour_{name}.png", f"Figure 6: contour of the objective over {p} and {q}")
        for name, (p, q) in contours.items()
    ]
    return [*MNIST_FIGURES[:at], *pairs, *MNIST_FIGURES[at:]]


def in_words_of(dataset: str | None, text: str) -> str:
    """A sentence about MNIST digits, said of another image set's images."""
    if dataset is None:
        return text
    for old, new in (
        ("not a digit", "none of these"),
        ("Not a digit", "None of these"),
        ("MNIST test digits", f"{dataset} test images"),
        ("digits", "images"),
        ("digit", "image"),
        ("MNIST", dataset),
        (" as 28x28 images", ""),
    ):
        text = text.replace(old, new)
    return text
