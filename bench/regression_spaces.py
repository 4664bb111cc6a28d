"""Search spaces the regression benchmark measures against the smooth space (``--space
bench/regression_spaces.py:AdamWSpace`` in bench/regression_quality.py)."""

from nndl.search.smooth_space import SmoothRegressionSpace


class AdamWSpace(SmoothRegressionSpace):
    """The smooth space trained with AdamW, decoupled weight decay from 1e-4 to 1e-1, instead
    of Adam with L2 weight decay from 1e-6 to 1e-2 (docs/regression_choices.md#adamw)."""

    name = "smooth-adamw"
    optimizer = "adamw"
    weight_decay = (1e-4, 1e-1)


class SnakeSpace(SmoothRegressionSpace):
    """The smooth space with Snake (``x + sin(x)^2``) as a fourth activation
    (docs/regression_choices.md#snake)."""

    name = "smooth-snake"
    activations = ("gelu", "silu", "tanh", "snake")


class FourierSpace(SmoothRegressionSpace):
    """The smooth space with random Fourier features of the standardized input, of scale 0.5
    or 1, or none (docs/regression_choices.md#fourier-features)."""

    name = "smooth-fourier"
    fourier = (0.0, 0.5, 1.0)


class DecaySpace(SmoothRegressionSpace):
    """The smooth space with the fourier space's weight decay, 1e-3 to 1e-1, and plain nets:
    what the decay does without the features (docs/regression_choices.md#a-scale-from-the-data)."""

    name = "smooth-decay"
    weight_decay = (1e-3, 1e-1)
