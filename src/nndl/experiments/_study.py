"""What the two studies share: checked seeds, and the folder their search storage lives in."""

from __future__ import annotations

from pathlib import Path

from nndl.training.config import check_seeds

__all__ = ["StudyFolders"]


class StudyFolders:
    """Mixin of the study dataclasses: ``out`` (where results are written, maybe a staging
    folder) and ``home`` (where the search's storage, lock and log live)."""

    out: Path
    store_dir: Path | None
    seed: int
    sampler_seed: int | None

    def __post_init__(self) -> None:
        check_seeds("study settings", seed=self.seed, sampler_seed=self.sampler_seed)

    @property
    def home(self) -> Path:
        """Where the search's storage, lock and log live (``out`` may be a staging folder)."""
        return self.store_dir or self.out

    @property
    def figures(self) -> Path:
        return self.out / "figures"
