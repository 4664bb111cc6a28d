"""NetClassifier: a net as a scikit-learn classifier (any labels, probabilities)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from nndl.data.tensors import TensorData
from nndl.estimators._base import NetEstimator, from_tensor

__all__ = ["NetClassifier"]


class NetClassifier(ClassifierMixin, NetEstimator):
    """A net trained on arrays, as a scikit-learn classifier.

    Labels may be any values scikit-learn takes (ints, strings); ``classes_`` holds them in
    sorted order and the net has one output per class, trained with cross-entropy. Inputs
    are standardized on the training rows (per column, or per channel for images
    ``(n, h, w)`` / ``(n, c, h, w)``); ``val_fraction`` of the rows, stratified by class, is
    held out for early stopping, which restores the best epoch.

    Parameters as for :class:`NetRegressor`; ``arch="cnn"`` or ``"dcnn"`` for images, and
    ``n_members > 1`` averages the probabilities of that many nets.

    Attributes:
        classes_: the labels, in the order of ``predict_proba``'s columns.
        history_: one dict per epoch (``train_loss``, ``val_loss``, ``val_accuracy``, ...).
        net_: the (first) trained ``torch.nn.Module`` (on the CPU, in eval mode).
        nets_: all of them.
        n_features_in_: as scikit-learn's.
        feature_names_in_: as scikit-learn's (only for inputs with column names).

    Example:
        >>> clf = NetClassifier(max_epochs=50, random_state=0).fit(X, labels)
        >>> clf.predict_proba(X_new)
    """

    def fit(self, X: Any, y: Any) -> NetClassifier:
        """Train on inputs ``X`` and labels ``y`` ``(n,)``; returns ``self``."""
        from sklearn.preprocessing import LabelEncoder
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import column_or_1d, validate_data

        self._check_params()
        X, y = validate_data(
            self, from_tensor(X), from_tensor(y), dtype=(np.float32, np.float64), allow_nd=True
        )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"NetClassifier needs samples of at least 2 classes; the data has only one "
                f"class: {self.classes_.tolist()[0]!r}"
            )
        X = X.astype(np.float32, copy=False)
        self._fit_scaling(X)
        labels = torch.from_numpy(encoder.transform(y).astype(np.int64))
        self._train_nets(X, labels, len(self.classes_))
        return self

    @property
    def net_(self) -> torch.nn.Module:
        """The trained net."""
        return self.nets_[0]

    def _split_indices(self, data: TensorData, seed: int) -> tuple[Any, Any]:
        """Stratified by class where every class has at least two rows."""
        from sklearn.model_selection import StratifiedShuffleSplit

        labels = data.y.numpy()
        counts = np.bincount(labels)
        n_val = round(len(labels) * self.val_fraction)
        if counts[counts > 0].min() < 2 or n_val < len(counts[counts > 0]):
            return None, None
        split = StratifiedShuffleSplit(1, test_size=n_val, random_state=seed)
        try:
            train_idx, val_idx = next(split.split(np.zeros(len(labels)), labels))
        except ValueError:  # too few training rows left for every class: split at random
            return None, None
        return np.sort(train_idx), np.sort(val_idx)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, classes)``, columns in the order of ``classes_``."""
        logits = torch.from_numpy(self._outputs(X))
        return torch.softmax(logits, dim=2).mean(0).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each row."""
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(1)]
