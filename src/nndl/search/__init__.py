"""Search spaces, objectives and the Optuna study around them."""

from __future__ import annotations

from nndl._lazy import lazy_exports

_EXPORTS = dict.fromkeys(
    ("Run", "SearchSpace", "get_space", "register_space", "space_names"), "nndl.search.spaces"
)

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
