"""Augmentation on batches: each image is a shifted, flipped or partly erased copy of itself,
the same seed gives the same batch, and the image task applies it to training batches only;
the pooled space's best net and its refit on every training image."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import optuna
import pytest
import torch

from nndl.data.augment import Augment
from nndl.errors import ConfigError
from nndl.experiments.budgets import CLASSIFY
from nndl.experiments.classify import ClassifyStudy, run_best
from nndl.search.classify import ClassifySearchJob
from nndl.search.spaces import get_space
from nndl.tasks.base import make_task
from user_data import FASHION_DIR, needs_fashion


def batch(n: int = 64, channels: int = 3, side: int = 16) -> torch.Tensor:
    return torch.rand(n, channels, side, side, generator=torch.Generator().manual_seed(1))


def test_a_crop_is_the_image_shifted_within_its_padding() -> None:
    x = batch()
    out, _ = Augment(("crop",), seed=0, padding=2)(x, torch.zeros(64))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):  # some shift (dy, dx) in [0, 4]^2 reproduces each image
        shifts = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if torch.equal(out[i], padded[i, :, dy : dy + 16, dx : dx + 16])
        ]
        assert shifts, i
    assert not torch.equal(out, x)  # most images moved


def test_a_flip_mirrors_about_half_of_the_images() -> None:
    x = batch(400)
    out, _ = Augment(("flip",), seed=0)(x, torch.zeros(400))
    flipped = [torch.equal(out[i], x[i].flip(-1)) for i in range(400)]
    kept = [torch.equal(out[i], x[i]) for i in range(400)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 150 < sum(flipped) < 250


def test_erasing_zeroes_one_rectangle_in_about_a_quarter_of_the_images() -> None:
    x = batch(400) + 0.1  # no zero pixels before
    out, _ = Augment(("erase",), seed=0)(x, torch.zeros(400))
    zeros = (out == 0).all(dim=1)  # (n, h, w): erased pixels, every channel
    erased = zeros.flatten(1).any(1)
    assert 60 < int(erased.sum()) < 140
    for i in torch.nonzero(erased).flatten().tolist():
        rows, cols = torch.nonzero(zeros[i], as_tuple=True)
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert int(box) == len(rows)  # one filled rectangle
        assert 0.02 * 256 - 16 <= len(rows) <= 0.33 * 256 + 16


def test_the_same_seed_gives_the_same_batches_and_another_seed_others() -> None:
    names = ("crop", "flip", "erase")
    x, y = batch(), torch.arange(64)
    a = Augment(names, seed=3)(x, y)[0]
    assert torch.equal(a, Augment(names, seed=3)(x, y)[0])
    assert not torch.equal(a, Augment(names, seed=4)(x, y)[0])


def test_unknown_augmentations_are_one_error_naming_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="crop, flip, erase"):
        Augment(("rotate",))
    with pytest.raises(Exception, match="augment 'rotate': valid: crop, flip, erase"):
        make_task("mnist", augment=("rotate",))


def test_the_image_task_augments_training_batches_then_adds_its_noise_class() -> None:
    task = make_task("mnist", augment=("flip",), noise_class_rate=0.5)
    transform = task.batch_transform(0, "cpu")
    x, y = torch.rand(256, 1, 28, 28), torch.zeros(256, dtype=torch.long)
    out, labels = transform(x, y)
    noise = labels == 10
    assert 80 < int(noise.sum()) < 180  # the noise class, at its rate
    for i in torch.nonzero(~noise).flatten().tolist():
        assert torch.equal(out[i], x[i]) or torch.equal(out[i], x[i].flip(-1))


POOLED = {"blocks": 3, "ch1": 16, "batch_norm": True, "p1": 0.2, "Nh1": 64, "lr": 1e-3}


@needs_fashion
def test_the_pooled_search_trains_each_trial_with_the_augmentation_it_chose() -> None:
    job = ClassifySearchJob(str(FASHION_DIR), "pooled", max_epochs=1, train_limit=600, n_folds=1)
    study = optuna.create_study()
    for augment in ("flip", "crop,flip", "flip"):
        study.enqueue_trial({**POOLED, "weight_decay": 1e-5, "augment": augment})
    study.optimize(job.make_objective(), n_trials=3)
    flipped, cropped, again = (t.user_attrs["avg_val_loss"] for t in study.trials)
    assert flipped == again != cropped  # the same seed: only the augmentation differs


def test_the_pooled_search_samples_only_augmented_regularised_nets() -> None:
    space = get_space("pooled", "classify")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    runs = [space.suggest(study.ask()) for _ in range(40)]
    assert {run.params["augment"] for run in runs} == {"flip", "crop,flip"}
    assert min(run.params["p1"] for run in runs) >= 0.2
    assert space.from_params({**POOLED, "weight_decay": 1e-5, "augment": "none"}).task == {
        "augment": ()
    }  # a params file may still train without augmentation


@needs_fashion
def test_the_best_pooled_net_is_refit_with_its_pooling_norm_and_augmentation(
    tmp_path: Path,
) -> None:
    budget = dataclasses.replace(CLASSIFY["quick"], max_epochs=1, train_limit=1200)
    study = ClassifyStudy(tmp_path, data_dir=str(FASHION_DIR), budget=budget, space="pooled")
    params = {**POOLED, "weight_decay": 1e-5, "augment": "flip"}
    row, model = run_best(study, study.search_space.run(params))
    kinds = {type(m) for m in model.modules()}
    assert {torch.nn.MaxPool2d, torch.nn.BatchNorm2d} <= kinds
    assert row["params"]["augment"] == "flip"
    config = json.loads((tmp_path / "nets" / "best" / "config.json").read_text())
    assert config["task_options"]["augment"] == ["flip"]
    schedule = [config["train"][k] for k in ("lr_schedule", "lr_step", "lr_factor")]
    assert schedule == ["plateau", 3, 0.2]  # the space's rate cut, as the trials trained
    assert config["train"]["monitor"] == "val_accuracy"  # kept at its best accuracy


@needs_fashion
def test_the_refit_trains_the_best_net_again_on_every_image_with_its_rate_cuts(
    tmp_path: Path,
) -> None:
    budget = dataclasses.replace(CLASSIFY["quick"], max_epochs=20, train_limit=1200, refit=True)
    study = ClassifyStudy(tmp_path, data_dir=str(FASHION_DIR), budget=budget, space="pooled")
    run = study.search_space.run({**POOLED, "weight_decay": 1e-5, "augment": "flip"})
    run = dataclasses.replace(run, train={**run.train, "lr": 0.05, "lr_step": 1})  # early cuts
    row, _ = run_best(study, run)
    best, refit = (tmp_path / "nets" / name for name in ("best", "refit"))
    rates = [line.split(",")[4] for line in (best / "history.csv").read_text().splitlines()[1:]]
    assert len(set(rates[: row["best_epoch"]])) > 1  # the best net's rate was cut
    replayed = [line.split(",")[2] for line in (refit / "history.csv").read_text().splitlines()]
    assert replayed[1:] == rates[: row["best_epoch"]] == rates[: row["refit"]["epochs"]]
    data = [json.loads((p / "config.json").read_text())["data"] for p in (best, refit)]
    assert [(d["train"], d["val"]) for d in data] == [(960, 240), (1200, 0)]
    assert 0.1 < row["refit"]["test_accuracy"] <= 1 and row["refit"]["val_loss"] is None


def test_the_report_shows_the_refit_row_and_what_it_is() -> None:
    from nndl.report.document import Document, to_markdown
    from nndl.report.sections import classify_section

    row = {"train_loss": 0.07, "val_loss": 0.23, "test_accuracy": 0.9293}
    refit = {"train_loss": 0.09, "val_loss": None, "test_accuracy": 0.9323, "epochs": 41}
    nets = {k: row for k in ("fcn", "cnn", "dcnn", "pdcnn", "best")}
    search = {"completed": 10, "best_params": {"blocks": 2}, "seconds": 985.0}
    results = {"search": search, "ood": {}, "dataset": "fashion-mnist", "classes": ["a", "b"]}
    doc = Document("study")
    classify_section(doc, {**results, "nets": {**nets, "refit": {**refit, "milestones": [25]}}})
    text = to_markdown(doc)
    assert "| REFIT | 0.0900 | - | 0.9323 |" in text
    assert "for 41 epochs, the best net's best epoch" in text and "(25)" in text
    assert "None of these (PDCNN)" in text
