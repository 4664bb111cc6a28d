"""Search spaces: ``suggest(trial)`` returns a run description, ``from_params`` rebuilds one.

A :class:`Run` is a model config (any registered config type) plus the training settings the
space chose, plus the flat parameters as Optuna stores them. The report's regression space and
the report's and the feasible CNN spaces are registered; a user's own space is a subclass in
the user's own file, used as ``--space my_spaces.py:WideMLP``::

    class WideMLP(SearchSpace):
        name = "wide-mlp"
        study = "regression"
        columns = ("width", "lr")

        def suggest(self, trial):
            return self.run({"width": trial.suggest_int("width", 16, 512, log=True),
                             "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True)})

        def run(self, params):
            return Run(FCNConfig(1, (params["width"],) * 2, "tanh"), {"lr": params["lr"]}, params)
"""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import optuna

from nndl.errors import ConfigError, UsageError

__all__ = [
    "Run",
    "SearchSpace",
    "distribution_of",
    "get_space",
    "register_space",
    "space_names",
    "suggest",
]

TRAIN_KEYS = (
    "lr",
    "weight_decay",
    "batch_size",
    "patience",
    "monitor",
    "optimizer",
    "momentum",
    "lr_schedule",
    "lr_step",
    "lr_factor",
)


@dataclass(frozen=True)
class Run:
    """One point of a space: the net's config, the training settings chosen, the flat params,
    and the task options chosen (the image task's ``augment``: ``Task.with_options``)."""

    model: Any
    train: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    task: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.train) - set(TRAIN_KEYS))
        if unknown:
            raise ConfigError("run", [f"unknown training key(s) {unknown}; valid: {TRAIN_KEYS}"])

    def to_dict(self) -> dict[str, Any]:
        """The flat parameters (what ``--params`` files and the search CSV hold)."""
        return dict(self.params)


class SearchSpace(ABC):
    """A space of runs for one study (``study``: ``regression`` or ``classify``).

    ``columns`` are the parameters in the order of the search CSV; ``axes`` the two parameters
    of the search figure (or None).
    """

    name: ClassVar[str] = ""
    study: ClassVar[str] = "regression"
    columns: ClassVar[tuple[str, ...]] = ()
    axes: ClassVar[tuple[str, str] | None] = None

    @abstractmethod
    def suggest(self, trial: optuna.Trial) -> Run:
        """Sample one run; a ConfigError for a point that is not a valid net (pruned unbuilt)."""

    @abstractmethod
    def run(self, params: dict[str, Any]) -> Run:
        """The run of a flat parameter dict (checked; a ConfigError for an invalid net)."""

    def from_params(self, params: dict[str, Any], source: str = "params") -> Run:
        """A run from a params file: one error naming every missing, unknown or bad key."""
        problems = [f"missing key {k!r}" for k in self.columns if k not in params]
        problems += [f"unknown key {k!r}" for k in params if k not in self.columns]
        problems += [
            f"{k} = {v!r}: must be a number or a word"
            for k, v in params.items()
            if not isinstance(v, (int, float, str))
            or (isinstance(v, float) and not math.isfinite(v))
        ]
        if problems:
            raise ConfigError(source, [*problems, f"valid keys: {', '.join(self.columns)}"])
        try:
            return self.run(params)
        except ConfigError as exc:
            raise ConfigError(source, exc.problems) from None

    def chosen(
        self,
        params_file: str | None,
        search: Callable[[], optuna.Study],
        *,
        where: str,
        command: str,
    ) -> Run:
        """The run of ``params_file`` (a JSON object of this space's parameters) when given,
        else of the best completed trial of ``search()``, the search in the folder ``where``
        that ``command`` runs (both named in the error when it completed nothing)."""
        from nndl._inputs import read_json_object
        from nndl.search.study import summarize

        if params_file is not None:
            params = read_json_object(params_file, "--params")
            return self.from_params(params, f"--params {params_file}")
        summary = summarize(search(), 0.0)
        if not summary["completed"]:
            raise ConfigError(
                "best",
                [
                    f"no completed trial in the search of {where}; run `{command}` first or "
                    "give --params FILE"
                ],
            )
        return self.run(dict(summary["best_params"]))

    def prepared(self, x: Any, y: Any, *, seed: int = 0) -> SearchSpace:
        """The space for the training rows ``x``, ``y`` as the nets see them: itself, or for a
        space whose choices come from the data, a copy with them set as plain attributes
        (``seed``: the study's). The regression study prepares its space once and gives the
        copy's attributes to every worker; ``NetSearchCV`` prepares it in ``fit``."""
        return self

    def describe(self) -> dict[str, Any]:
        """The space for the study's settings and the report (default: its name and columns)."""
        return {"name": self.name, "columns": list(self.columns)}

    def csv_row(self, params: dict[str, Any]) -> dict[str, Any]:
        """A trial's parameters as the search CSV's columns (default: the flat parameters)."""
        return {k: params.get(k, "") for k in self.columns}

    contours: ClassVar[dict[str, list[str]]] = {}
    """Pairs of parameters drawn as contour plots in the search figure (name -> two params)."""


_SPACES: dict[tuple[str, str], type[SearchSpace]] = {}


BUILT_IN = (
    "nndl.search.classify_space",
    "nndl.search.regression_space",
    "nndl.search.smooth_space",
)


def register_space(cls: type[SearchSpace]) -> type[SearchSpace]:
    """Class decorator: make ``cls`` available as ``--space cls.name`` in its study."""
    _SPACES[cls.study, cls.name] = cls
    return cls


def space_names(study: str) -> list[str]:
    """The registered spaces of one study."""
    for module in BUILT_IN:  # by name: this module imports none of the spaces it registers
        importlib.import_module(module)
    return sorted(name for s, name in _SPACES if s == study)


def get_space(value: str, study: str) -> SearchSpace:
    """The space named ``value`` (a registered name or ``FILE.py:Class``) for ``study``."""
    from nndl.plugins import is_reference, load_object

    if is_reference(value):
        cls = load_object(value, "--space")
        if not (isinstance(cls, type) and issubclass(cls, SearchSpace)):
            raise UsageError(
                f"--space {value}: {cls!r} is not a subclass of nndl.search.SearchSpace"
            )
    elif value in space_names(study):
        cls = _SPACES[study, value]
    else:
        raise UsageError(
            f"--space {value!r}: unknown; {study} spaces: {', '.join(space_names(study))}"
        )
    if cls.study != study:
        raise UsageError(f"--space {value}: a {cls.study} space, not one for the {study} study")
    return cls()


def distribution_of(choice: Any) -> tuple[Any, Callable[[Any], Any]]:
    """An Optuna distribution for ``choice`` and the function that turns its values into the
    parameter's; lists of tuples (hidden sizes) are sampled by their text."""
    if isinstance(choice, optuna.distributions.BaseDistribution):
        return choice, lambda v: v
    if isinstance(choice, (list, tuple)) and choice:
        simple = all(v is None or isinstance(v, (bool, int, float, str)) for v in choice)
        if simple:
            return optuna.distributions.CategoricalDistribution(list(choice)), lambda v: v
        by_text = {repr(v): v for v in choice}
        return optuna.distributions.CategoricalDistribution(list(by_text)), by_text.__getitem__
    raise ConfigError(
        "search space",
        [f"{choice!r}: must be an Optuna distribution or a non-empty list of choices"],
    )


def suggest(trial: optuna.Trial, name: str, distribution: Any) -> Any:
    """Sample ``name`` from ``distribution`` through the trial's public ``suggest_*`` calls."""
    d = optuna.distributions
    if isinstance(distribution, d.FloatDistribution):
        f = distribution
        return trial.suggest_float(name, f.low, f.high, log=f.log, step=f.step)
    if isinstance(distribution, d.IntDistribution):
        i = distribution
        return trial.suggest_int(name, i.low, i.high, log=i.log, step=i.step)
    if isinstance(distribution, d.CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    raise ConfigError(
        "search space",
        [f"{name}: {type(distribution).__name__} is not supported (float, int or categorical)"],
    )
