"""Classification evaluation and figures: AUROC, "not a digit" measures, confusion matrices,
activation maximization, class probabilities, feature maps, embeddings, first-layer weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from nndl.errors import ConfigError
from nndl.evaluation import auroc, confusion_matrix, noise_class_measures, predict_logits
from nndl.models import CNNConfig, create_model
from nndl.viz._mpl import save_figure
from nndl.viz.actmax import (
    ActMaxConfig,
    activation_grid,
    maximize_class,
    maximize_classes,
    plot_activation_grid,
)
from nndl.viz.classification import (
    class_probabilities,
    embedding,
    feature_maps,
    first_layer_weights,
    plot_class_probabilities,
    plot_confusion_matrix,
    plot_embedding,
    plot_feature_maps,
    plot_first_layer_weights,
)

DIGITS = torch.arange(10)
GRAY = torch.full((1, 1, 28, 28), 0.5)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The tensors here are tiny: one thread is much faster than contended threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _blocks(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic "digits": class c is a bright block at its own place on a dim noisy image."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    x = 0.2 * torch.rand(n, 1, 28, 28, generator=generator)
    for c in range(10):
        row, col = 2 + 8 * (c // 4), 2 + 6 * (c % 4)
        x[y == c, :, row : row + 6, col : col + 5] += 0.8
    return x.clamp(0, 1), y


def _tiny_trained(name: str, steps: int = 30) -> nn.Module:
    torch.manual_seed(0)
    model = create_model(name)
    x, y = _blocks(200)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model


@pytest.fixture(scope="module")
def trained() -> dict[str, nn.Module]:
    return {name: _tiny_trained(name) for name in ("fcn", "cnn")}


def _random_net(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return create_model(name)


# --- AUROC ---------------------------------------------------------------------------------


def test_auroc_extremes_and_ties() -> None:
    low, high = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0.7, 0.8])
    assert auroc(high, low) == 1.0
    assert auroc(low, high) == 0.0
    assert auroc(torch.ones(4), torch.ones(6)) == 0.5
    assert auroc(torch.tensor([1.0, 2.0]), torch.tensor([1.0])) == 0.75  # one tie, one win


def test_auroc_same_distribution_is_about_one_half() -> None:
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(2, 4000, generator=generator)
    assert auroc(scores[0], scores[1]) == pytest.approx(0.5, abs=0.03)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=25),
    st.lists(st.integers(0, 5), min_size=1, max_size=25),
)
def test_auroc_matches_pairwise_count(pos: list[int], neg: list[int]) -> None:
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    expected = wins / (len(pos) * len(neg))
    assert auroc(torch.tensor(pos), torch.tensor(neg)) == pytest.approx(expected, abs=1e-12)


def test_auroc_rejects_empty_and_nan() -> None:
    with pytest.raises(ValueError, match="both classes"):
        auroc(torch.tensor([]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="NaN"):
        auroc(torch.tensor([float("nan")]), torch.tensor([1.0]))


# --- "not a digit" and confusion matrix ----------------------------------------------------


class _BrightIsNoise(nn.Module):
    """11 logits: class 10 gets 10 * (mean - 0.5), all others 0 (argmax 0 when dark)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(len(x), 11)
        logits[:, 10] = 10 * (x.flatten(1).mean(1) - 0.5)
        return logits


class _PixelSaysClass(nn.Module):
    """Predicts the class written in the first pixel as ``class / 10``."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))  # a parameter, so the device is known

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot((x[:, 0, 0, 0] * 10).round().long(), 10).float()


def _constant_images(values: list[float]) -> torch.Tensor:
    return torch.tensor(values).reshape(-1, 1, 1, 1).expand(-1, 1, 28, 28).clone()


def test_noise_class_measures_exact() -> None:
    noise = _constant_images([0.9, 0.8, 0.3])
    digits = _constant_images([0.1, 0.2, 0.6, 0.4])
    result = noise_class_measures(_BrightIsNoise(), digits, noise, batch_size=2)
    assert result["noise_called_noise"] == pytest.approx(2 / 3)
    assert result["images_called_noise"] == pytest.approx(1 / 4)
    assert result["auroc"] == pytest.approx(10 / 12)  # 0.3 beats only 0.1 and 0.2
    assert (result["noise_images"], result["test_images"]) == (3, 4)


def test_confusion_matrix_counts() -> None:
    predicted = torch.tensor([0, 1, 1, 2, 9, 9, 3, 3])
    truth = torch.tensor([0, 1, 2, 2, 9, 8, 3, 4])
    images = torch.zeros(len(predicted), 1, 28, 28)
    images[:, 0, 0, 0] = predicted / 10
    cm = confusion_matrix(_PixelSaysClass(), images, truth, num_classes=10, batch_size=3)
    assert cm.dtype == torch.int64 and cm.shape == (10, 10)
    assert cm.sum() == len(truth)
    assert cm.diagonal().sum() == (predicted == truth).sum()
    assert cm[2, 1] == 1 and cm[8, 9] == 1 and cm[4, 3] == 1


def test_predict_logits_restores_training_mode() -> None:
    model = _random_net("dcnn").train()
    predict_logits(model, GRAY)
    assert model.training


# --- activation maximization ---------------------------------------------------------------


def _target_logits(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    return predict_logits(model, images)[torch.arange(len(images)), DIGITS[: len(images)]]


def _gain(model: nn.Module, config: ActMaxConfig) -> torch.Tensor:
    """Target logit of each maximizing image minus that of the gray start."""
    images = maximize_classes(model, DIGITS, config)
    return _target_logits(model, images) - predict_logits(model, GRAY)[0, :10]


@pytest.mark.parametrize("name", ["fcn", "cnn"])
def test_actmax_increases_target_of_random_nets(name: str) -> None:
    # Random nets have tiny input gradients; weight decay would hold the image near gray.
    gain = _gain(_random_net(name), ActMaxConfig(steps=50, weight_decay=0.0))
    assert (gain > 0).all()


@pytest.mark.parametrize("name", ["fcn", "cnn"])
@pytest.mark.parametrize(
    "options",
    [{}, {"jitter": 2}, {"tv_weight": 0.1}, {"l2_weight": 0.1}, {"others_weight": 0.5}],
    ids=["report", "jitter", "tv", "l2", "others"],
)
def test_actmax_increases_target_of_trained_nets(
    trained: dict[str, nn.Module], name: str, options: dict[str, float]
) -> None:
    assert (_gain(trained[name], ActMaxConfig(steps=40, **options)) > 1.0).all()


def test_actmax_others_penalty_lowers_the_other_logits(trained: dict[str, nn.Module]) -> None:
    model = trained["cnn"]

    def others_mean(config: ActMaxConfig) -> float:
        logits = predict_logits(model, maximize_classes(model, DIGITS, config))
        return float((logits.sum() - logits.diagonal().sum()) / (10 * 9))

    assert others_mean(ActMaxConfig(steps=40, others_weight=5.0)) < others_mean(
        ActMaxConfig(steps=40)
    )


def test_actmax_leaves_model_alone_and_stays_in_unit_range() -> None:
    model = _random_net("dcnn").train()
    before = [p.detach().clone() for p in model.parameters()]
    images = maximize_classes(model, DIGITS, ActMaxConfig(steps=20, lr=1.0, weight_decay=0.0))
    assert images.shape == (10, 1, 28, 28)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_actmax_reproducible_and_batch_equals_single() -> None:
    model = _random_net("cnn")
    config = ActMaxConfig(steps=15, jitter=2, weight_decay=0.0)
    batch = maximize_classes(model, [3, 7], config)
    assert torch.equal(batch, maximize_classes(model, [3, 7], config))
    torch.testing.assert_close(maximize_class(model, 7, config), batch[1], atol=1e-5, rtol=0)
    other_seed = maximize_classes(model, [3, 7], ActMaxConfig(steps=15, jitter=2, seed=1))
    assert not torch.equal(batch, other_seed)


def test_actmax_config_names_every_bad_field() -> None:
    with pytest.raises(ConfigError) as info:
        ActMaxConfig(steps=-1, lr=0.0, jitter=-2, tv_weight=-1.0)
    assert {p.split(" ")[0] for p in info.value.problems} == {"steps", "lr", "jitter", "tv_weight"}


def test_activation_grid_and_plot(tmp_path) -> None:
    models = {"fcn": _random_net("fcn"), "pdcnn": _random_net("pdcnn")}
    grid = activation_grid(models, ActMaxConfig(steps=5))
    assert grid.names == ["fcn", "pdcnn"] and grid.classes == list(range(10))
    assert grid.images.shape == (2, 10, 28, 28) and grid.logits.shape == (2, 10)
    expected = _target_logits(models["pdcnn"], torch.as_tensor(grid.images[1])[:, None])
    np.testing.assert_allclose(grid.logits[1], expected.numpy(), atol=1e-5)
    fig = plot_activation_grid(grid, [f"c{i}" for i in range(10)])
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == ["fcn", "pdcnn"]  # each row names its net, the columns their class
    assert [ax.get_title() for ax in fig.axes[:10]] == [f"c{i}" for i in range(10)]
    save_figure(fig, tmp_path / "actmax.png")
    _assert_png(tmp_path / "actmax.png")
    assert (tmp_path / "actmax.png").stat().st_size > 0


# --- figures -------------------------------------------------------------------------------


def _assert_png(path) -> None:  # type: ignore[no-untyped-def]
    """A decodable PNG of a real figure, not an empty canvas."""
    from PIL import Image

    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 100
        darkest, brightest = image.convert("L").getextrema()
        assert brightest - darkest > 100  # more than a blank background


def test_class_probabilities_and_plot(tmp_path) -> None:
    models = {"cnn": _random_net("cnn"), "pdcnn": _random_net("pdcnn")}
    images, _ = _blocks(3)
    data = class_probabilities(models, images, ["digit", "noise a", "noise b"])
    assert data.probs["cnn"].shape == (3, 10) and data.probs["pdcnn"].shape == (3, 11)
    for probs in data.probs.values():
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert data.images.shape == (3, 28, 28)
    with pytest.raises(ValueError, match="captions"):
        class_probabilities(models, images, ["one caption"])
    save_figure(plot_class_probabilities(data), tmp_path / "probs.png")
    _assert_png(tmp_path / "probs.png")


def test_feature_maps_match_config(tmp_path) -> None:
    config = CNNConfig()
    maps = feature_maps(_random_net("cnn"), _blocks(1)[0][0])
    shapes = [(c, s, s) for c, s in zip(config.channels, config.feature_sizes()[1:], strict=True)]
    assert [m.shape for m in maps] == shapes
    assert all((m >= 0).all() for m in maps)  # after ReLU
    save_figure(plot_feature_maps(maps), tmp_path / "maps.png")
    _assert_png(tmp_path / "maps.png")


def test_embedding_pca(tmp_path) -> None:
    model = _random_net("cnn")
    images, labels = _blocks(40)
    emb = embedding(model, images, labels)
    assert emb.points.shape == (40, 2) and emb.method == "pca"
    np.testing.assert_array_equal(emb.labels, labels.numpy())
    np.testing.assert_allclose(emb.points.mean(axis=0), 0.0, atol=1e-9)
    assert emb.points[:, 0].var() >= emb.points[:, 1].var()
    np.testing.assert_array_equal(emb.points, embedding(model, images, labels).points)
    assert emb.explained_variance_ratio is not None and emb.explained_variance_ratio.sum() <= 1
    with pytest.raises(ValueError, match="method"):
        embedding(model, images, labels, method="umap")
    save_figure(plot_embedding(emb), tmp_path / "embedding.png")
    _assert_png(tmp_path / "embedding.png")


def test_first_layer_weights_and_plot(tmp_path) -> None:
    fcn = _random_net("fcn")
    weights = first_layer_weights(fcn)
    assert weights.shape == (128, 28, 28)
    np.testing.assert_array_equal(weights[5].ravel(), fcn.body[1].weight[5].detach().numpy())
    save_figure(plot_first_layer_weights(weights, max_units=40), tmp_path / "weights.png")
    _assert_png(tmp_path / "weights.png")


def test_confusion_matrix_plot(tmp_path) -> None:
    images, labels = _blocks(30)
    cm = confusion_matrix(_random_net("pdcnn"), images, labels, num_classes=11)
    save_figure(plot_confusion_matrix(cm), tmp_path / "cm.png")
    _assert_png(tmp_path / "cm.png")
    save_figure(plot_confusion_matrix(cm, normalize=False), tmp_path / "cm_counts.png")
    _assert_png(tmp_path / "cm_counts.png")
    assert (tmp_path / "cm.png").stat().st_size > 0
