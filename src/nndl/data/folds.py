"""Folds for learning a function from points with gaps: validation on whole stretches."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.model_selection import BaseCrossValidator

from nndl.errors import ConfigError

__all__ = ["BlockedKFold"]


class BlockedKFold(BaseCrossValidator):
    """Folds whose validation rows are contiguous stretches of the inputs, as a gap in the
    training data is: validation that looks like the test of a function learned from points
    with gaps, where random folds only ever ask for a point between two close neighbours.

    One input column: the rows sorted by it and cut into ``n_splits x blocks_per_fold``
    blocks, block ``i`` in fold ``i mod n_splits`` (one block per fold: each fold one stretch;
    more: shorter stretches spread over the range, each fold's validation smaller gaps).
    Several: the rows clustered (k-means, ``clusters_per_fold`` clusters per fold, seeded) and
    the clusters dealt into folds as scikit-learn's ``GroupKFold`` deals groups. A
    scikit-learn splitter: ``split(X, y=None, groups=None)`` yields (train, validation) index
    arrays.
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        blocks_per_fold: int = 1,
        clusters_per_fold: int = 3,
        random_state: int = 0,
    ):
        self.n_splits = n_splits
        self.blocks_per_fold = blocks_per_fold
        self.clusters_per_fold = clusters_per_fold
        self.random_state = random_state

    def get_n_splits(self, X: object = None, y: object = None, groups: object = None) -> int:
        return self.n_splits

    def _iter_test_indices(
        self, X: object = None, y: object = None, groups: object = None
    ) -> Iterator[np.ndarray]:
        x = np.asarray(X, dtype=np.float64).reshape(len(X), -1)  # type: ignore[arg-type]
        if self.n_splits < 2 or len(x) < self.n_splits:
            raise ConfigError(
                "k-fold", [f"k = {self.n_splits} folds of {len(x)} rows: need 2 <= k <= {len(x)}"]
            )
        if self.blocks_per_fold < 1:
            raise ConfigError(
                "k-fold", [f"blocks_per_fold = {self.blocks_per_fold!r}: must be at least 1"]
            )
        if x.shape[1] == 1:
            blocks = min(len(x), self.n_splits * self.blocks_per_fold)
            cut = np.array_split(np.argsort(x[:, 0], kind="stable"), blocks)
            for fold in range(self.n_splits):
                yield np.sort(np.concatenate(cut[fold :: self.n_splits]))
            return
        from sklearn.cluster import KMeans
        from sklearn.model_selection import GroupKFold

        clusters = min(len(x), self.n_splits * self.clusters_per_fold)
        std = x.std(0)
        scaled = (x - x.mean(0)) / np.where(std > 0, std, 1.0)  # the same folds for any units
        labels = KMeans(clusters, n_init=4, random_state=self.random_state).fit_predict(scaled)
        for _, test in GroupKFold(self.n_splits).split(x, groups=labels):
            yield np.sort(test)
