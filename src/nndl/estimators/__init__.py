"""scikit-learn estimators around nndl's nets: NetRegressor, NetClassifier, NetSearchCV, load."""

from __future__ import annotations

from nndl._lazy import lazy_exports

_EXPORTS = {
    "NetClassifier": "nndl.estimators.classifier",
    "NetRegressor": "nndl.estimators.regressor",
    "NetSearchCV": "nndl.estimators.search",
    "load": "nndl.estimators._persist",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
