"""Model configs, the registry and the nets they build (report architectures, validation)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

from nndl.errors import ConfigError
from nndl.models import (
    CNNConfig,
    FCNConfig,
    build_model,
    config_from_dict,
    create_config,
    create_model,
    get_spec,
    list_models,
)

REPORT_OUTPUTS = {"reg-basic": 1, "fcn": 10, "cnn": 10, "dcnn": 10, "pdcnn": 11}
INPUT_SHAPES = {"images": (4, 1, 28, 28), "regression": (4, 1), "tabular": (4, 1)}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The tensors here are tiny: one thread is much faster than contended threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _outputs(name: str) -> int:
    """The report's output count; models registered later fall back to their own config."""
    if name in REPORT_OUTPUTS:
        return REPORT_OUTPUTS[name]
    config = get_spec(name).config
    return config.output_size if isinstance(config, FCNConfig) else config.num_classes


def _layers(module: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


def _problems(build) -> list[str]:
    with pytest.raises(ConfigError) as info:
        build()
    assert str(info.value) == f"invalid {info.value.name}: " + "; ".join(info.value.problems)
    return info.value.problems


# --- every registered model -------------------------------------------------------------


def test_report_models_are_registered_for_their_tasks():
    assert set(REPORT_OUTPUTS) <= set(list_models())
    assert list_models("regression") == ["reg-basic"]
    assert {"fcn", "cnn", "dcnn", "pdcnn"} <= set(list_models("images"))


@pytest.mark.parametrize("name", list_models())
def test_forward_pass_shape_and_finite(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = torch.randn(INPUT_SHAPES[get_spec(name).task])
    with torch.no_grad():
        out = model(x)
    assert out.shape == (4, _outputs(name))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["cnn", "dcnn", "pdcnn"])
def test_cnn_architecture_matches_report(name):
    model = create_model(name)
    convs = _layers(model.features, nn.Conv2d)
    assert [c.out_channels for c in convs] == [8, 16, 32]
    assert [c.in_channels for c in convs] == [1, 8, 16]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 3
    assert [c.stride for c in convs] == [(2, 2)] * 3
    assert [c.padding for c in convs] == [(1, 1), (1, 1), (0, 0)]
    assert len(_layers(model.features, nn.ReLU)) == 3
    linears = [(m.in_features, m.out_features) for m in _layers(model, nn.Linear)]
    # 28 -> 14 -> 7 -> 3, so 32 * 3 * 3 features enter the first linear layer
    assert linears == [(288, 128), (128, 16), (16, REPORT_OUTPUTS[name])]


def test_cnn_has_no_dropout():
    assert _layers(create_model("cnn"), nn.Dropout) == []


@pytest.mark.parametrize("name", ["dcnn", "pdcnn"])
def test_dcnn_has_dropout_half_before_both_linear_layers(name):
    model = create_model(name)
    assert [d.p for d in _layers(model, nn.Dropout)] == [0.5, 0.5]
    kinds = [type(m) for m in model.body]
    assert kinds == [nn.Flatten, nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU]


def test_dcnn_dropout_is_active_only_in_training():
    torch.manual_seed(0)
    model = create_model("dcnn")
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        model.train()
        assert not torch.equal(model(x), model(x))
        model.eval()
        assert torch.equal(model(x), model(x))


@pytest.mark.parametrize(
    ("name", "widths", "act"),
    [
        ("fcn", [(784, 128), (128, 16), (16, 10)], nn.ReLU),
        ("reg-basic", [(1, 128), (128, 128), (128, 1)], nn.Sigmoid),
    ],
)
def test_fcn_architectures_match_report(name, widths, act):
    model = create_model(name)
    assert [(m.in_features, m.out_features) for m in _layers(model, nn.Linear)] == widths
    activations = [m for m in model.body if not isinstance(m, (nn.Linear, nn.Flatten))]
    assert len(activations) == 2
    assert all(type(m) is act for m in activations)
    assert _layers(model, nn.Dropout) == []


# --- registry errors and overrides ------------------------------------------------------


def test_unknown_model_lists_the_known_names():
    with pytest.raises(ConfigError, match="nope") as info:
        create_model("nope")
    for name in list_models():
        assert name in str(info.value)


def test_unknown_override_names_the_field():
    with pytest.raises(ConfigError, match="bogus") as info:
        create_config("dcnn", bogus=1)
    assert "dropout" in str(info.value)  # the valid fields are listed too


def test_overrides_apply_and_leave_the_registry_alone():
    model = create_model("dcnn", dropout=(0.3, 0.3), num_classes=11)
    assert [d.p for d in _layers(model, nn.Dropout)] == [0.3, 0.3]
    assert model.head.out_features == 11
    assert get_spec("dcnn").config.dropout == (0.5, 0.5)
    assert get_spec("dcnn").config.num_classes == 10


def test_overrides_are_validated():
    problems = _problems(lambda: create_config("cnn", channels=(8, 16, 0)))
    assert problems == ["channels[2] = 0: must be an integer >= 1"]


# --- validation collects every problem ----------------------------------------------------


def test_cnn_validation_reports_every_bad_field_at_once():
    problems = _problems(
        lambda: CNNConfig(
            channels=(8, -1),
            kernel_sizes=(3,),
            strides=(2, 2),
            paddings=(1, 1),
            dropout=(1.5, 0.2),
        )
    )
    assert len(problems) == 3
    assert any(p.startswith("channels[1] = -1") for p in problems)
    assert any(p.startswith("kernel_sizes: 1 values, expected 2") for p in problems)
    assert any(p.startswith("dropout[0] = 1.5") for p in problems)


def test_fcn_validation_reports_every_bad_field_at_once():
    problems = _problems(lambda: FCNConfig(hidden_sizes=(0, 4), activation="swish", dropout=(1.0,)))
    assert len(problems) == 4
    assert any(p.startswith("hidden_sizes[0] = 0") for p in problems)
    assert any("'swish'" in p and "sigmoid, relu, tanh" in p for p in problems)
    assert any(p.startswith("dropout: 1 values given, expected 2") for p in problems)
    assert any(p.startswith("dropout[0] = 1.0") for p in problems)


@pytest.mark.parametrize(
    "build",
    [
        lambda: CNNConfig(channels=()),
        lambda: CNNConfig(paddings=(1, 1, -1)),
        lambda: CNNConfig(activation="swish"),
        lambda: CNNConfig(num_classes=0),
        lambda: CNNConfig(dropout=(0.5,)),
        lambda: FCNConfig(hidden_sizes=()),
        lambda: FCNConfig(output_size=0),
        lambda: FCNConfig(dropout=(-0.1, 0.0)),
        lambda: FCNConfig(fourier=-1.0),
        lambda: FCNConfig(fourier=float("inf")),
        lambda: FCNConfig(fourier="1"),
        lambda: FCNConfig(fourier=True),
        lambda: FCNConfig(hidden_sizes=["a"]),
        # scalar sizes must be integers: torch would fail on them only when building
        lambda: CNNConfig(num_classes=2.5),
        lambda: CNNConfig(input_size="28"),
        lambda: FCNConfig(input_size=784.0),
        # list sizes too: 2.5 is refused, not truncated to 2
        lambda: FCNConfig(hidden_sizes=(2.5,)),
        lambda: CNNConfig(channels=(8, 16, True)),
    ],
)
def test_invalid_configs_raise_config_error(build):
    assert _problems(build)


# --- geometry ---------------------------------------------------------------------------


def test_geometry_that_leaves_no_pixel_is_rejected_with_the_layer():
    problems = _problems(
        lambda: CNNConfig(
            channels=(8, 16, 32), kernel_sizes=(3, 3, 4), strides=(4, 4, 1), paddings=(0, 0, 0)
        )
    )
    assert len(problems) == 1
    assert "conv layer 3" in problems[0]
    assert "smaller than kernel 4" in problems[0]


@pytest.mark.parametrize(
    "geometry",
    [
        {},
        {"channels": (4,), "kernel_sizes": (28,), "strides": (1,), "paddings": (0,)},
        {"channels": (2, 3), "kernel_sizes": (5, 1), "strides": (3, 5), "paddings": (4, 0)},
        {
            "channels": (3, 3, 3, 3),
            "kernel_sizes": (7, 5, 3, 2),
            "strides": (1, 2, 1, 3),
            "paddings": (0, 2, 1, 0),
        },
    ],
)
def test_feature_sizes_match_torch(geometry):
    config = CNNConfig(**geometry)
    model = build_model(config)
    x = torch.zeros(2, 1, 28, 28)
    sizes = [x.shape[-1]]
    with torch.no_grad():
        for layer in model.features:
            x = layer(x)
            if isinstance(layer, nn.Conv2d):
                sizes.append(x.shape[-1])
    assert config.feature_sizes() == sizes
    assert x.shape[1:] == (config.channels[-1], sizes[-1], sizes[-1])
    assert config.flat_features == x.flatten(1).shape[1]


# --- frozen configs and round trips ----------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field"), [(CNNConfig(), "channels"), (FCNConfig(), "activation")]
)
def test_configs_are_frozen(config, field):
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(config, field, getattr(config, field))


def test_lists_become_tuples():
    cnn = CNNConfig(channels=[8, 16, 32], kernel_sizes=[3, 3, 3], linear_sizes=[128, 16])
    assert cnn == CNNConfig()
    assert isinstance(cnn.channels, tuple)
    assert hash(cnn) == hash(CNNConfig())
    fcn = FCNConfig(hidden_sizes=[4, 2], dropout=[0.1, 0])
    assert fcn.hidden_sizes == (4, 2)
    assert fcn.dropout == (0.1, 0.0)


@pytest.mark.parametrize("name", list_models())
def test_config_round_trips_through_json(name):
    config = get_spec(name).config
    assert config_from_dict(config.to_dict()) == config
    assert config_from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    "data", [{"kind": "rnn"}, {}, {"kind": "cnn", "bogus": 1}, {"kind": "fcn", "hidden_sizes": [0]}]
)
def test_bad_config_dicts_raise_config_error(data):
    with pytest.raises(ConfigError):
        config_from_dict(data)


# --- the validator agrees with torch ----------------------------------------------------


@st.composite
def cnn_geometries(draw):
    n = draw(st.integers(1, 4))

    def layer_values(lo, hi):
        return tuple(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)))

    return {
        "channels": layer_values(1, 8),
        "kernel_sizes": layer_values(1, 8),
        "strides": layer_values(1, 5),
        "paddings": layer_values(0, 4),
        "linear_sizes": tuple(draw(st.lists(st.integers(1, 8), min_size=1, max_size=2))),
        "input_size": 28,
    }


def _torch_accepts(geometry: dict) -> bool:
    """Build the layers straight from the numbers, without the validator, and run them."""
    layers: list[nn.Module] = []
    in_ch = 1
    conv_fields = ("channels", "kernel_sizes", "strides", "paddings")
    for ch, k, s, p in zip(*(geometry[f] for f in conv_fields), strict=True):
        layers += [nn.Conv2d(in_ch, ch, k, stride=s, padding=p), nn.ReLU()]
        in_ch = ch
    try:
        with torch.no_grad():
            features = nn.Sequential(*layers)(torch.zeros(2, 1, 28, 28)).flatten(1)
            width = features.shape[1]
            for size in geometry["linear_sizes"]:
                features = nn.Linear(width, size)(features)
                width = size
    except (RuntimeError, ValueError):
        return False
    return True


def _edge(padding: int) -> dict:
    """28 -> 6 after layer 1, then a kernel of 8 fits exactly with padding 1, not with 0."""
    return {
        "channels": (2, 2),
        "kernel_sizes": (3, 8),
        "strides": (5, 1),
        "paddings": (0, padding),
        "linear_sizes": (4,),
        "input_size": 28,
    }


@settings(max_examples=150, deadline=None)
@given(cnn_geometries())
@example(_edge(1))
@example(_edge(0))
def test_validator_accepts_exactly_what_torch_accepts(geometry):
    try:
        config = CNNConfig(**geometry)
    except ConfigError:
        config = None
    assert (config is not None) == _torch_accepts(geometry)
    if config is not None:
        with torch.no_grad():
            out = build_model(config)(torch.zeros(2, 1, 28, 28))
        assert out.shape == (2, 10)


def test_the_summary_counts_the_dcnn_as_by_hand() -> None:
    from nndl.models.summary import input_shape_of, summarize

    config = create_config("dcnn")
    summary = summarize(build_model(config), input_shape_of(config))
    convs = [r for r in summary.layers if r.kind == "Conv2d"]
    # 1->8, 3x3, stride 2, pad 1: 14x14; 8->16 the same: 7x7; 16->32, pad 0: 3x3
    assert [r.output_shape for r in convs] == [(8, 14, 14), (16, 7, 7), (32, 3, 3)]
    assert [r.params for r in convs] == [8 * 9 + 8, 16 * 8 * 9 + 16, 32 * 16 * 9 + 32]
    assert [r.macs for r in convs] == [8 * 14 * 14 * 9, 16 * 7 * 7 * 8 * 9, 32 * 3 * 3 * 16 * 9]
    linears = [(r.params, r.macs) for r in summary.layers if r.kind == "Linear"]
    assert linears == [(288 * 128 + 128, 288 * 128), (128 * 16 + 16, 128 * 16), (16 * 10 + 10, 160)]
    assert summary.params == sum(p.numel() for p in build_model(config).parameters()) == 45_114
    assert summary.macs == 14_112 + 56_448 + 41_472 + 36_864 + 2_048 + 160


# --- pooling and batch norm ------------------------------------------------------------------


def test_pooling_and_batch_norm_per_conv_layer_match_torch() -> None:
    config = CNNConfig(
        channels=(16, 32, 32),
        kernel_sizes=(3, 3, 3),
        strides=(1, 1, 1),
        paddings=(1, 1, 1),
        pools=(2, 1, 2),
        batch_norm=(True, False, True),
        in_channels=3,
        input_size=32,
    )
    model = build_model(config)
    kinds = [type(layer).__name__ for layer in model.features]
    assert kinds == [
        *("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"),
        *("Conv2d", "ReLU"),
        *("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"),
    ]
    with torch.no_grad():
        out = model.features(torch.zeros(2, 3, 32, 32))
    assert config.feature_sizes() == [32, 16, 16, 8] and out.shape[-1] == 8
    assert config.flat_features == out.flatten(1).shape[1]
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert json.loads(json.dumps(config.to_dict()))["pools"] == [2, 1, 2]  # round trips


def test_pools_and_batch_norm_are_checked_with_the_other_fields() -> None:
    with pytest.raises(ConfigError) as info:
        CNNConfig(pools=(2, 0), batch_norm=(True,))
    text = str(info.value)
    assert "pools: 2 values, expected 3" in text and "batch_norm: 1 values, expected 3" in text
    with pytest.raises(ConfigError, match="conv layer 3: its 1x1 output is smaller than pool 2"):
        CNNConfig(pools=(1, 2, 2))  # 28 -> 14 -> 7/2=3 -> 1: no room for the last pool
