"""One table of every benchmark in bench/results.json: the figure, its target, met or not."""

from __future__ import annotations

import json

from _common import RESULTS

FIGURES = {  # results.json entry -> (what, key path of its figure, format)
    "evolver_vs_hand_loop": (
        "1. Evolver / hand-written loop, s per DCNN epoch",
        ("ratio",),
        "{:.2f}",
    ),
    "in_memory_vs_per_sample_pipeline": (
        "2. per-sample pipeline / nndl, s per DCNN epoch",
        ("speedup",),
        "{:.2f}x",
    ),
    "frameworks": (
        "3. Lightning / nndl and skorch / nndl, s per DCNN epoch",
        ("per_arch", "dcnn", "speedup"),
        "{}",
    ),
    "perlin_noise_vs_pnoise2": (
        "4. pnoise2 / nndl Perlin noise, s per image",
        ("speedup",),
        "{:.0f}x",
    ),
    "pdcnn_vs_dcnn_epoch": ("4. PDCNN / DCNN, s per epoch", ("ratio",), "{:.2f}"),
    "batched_vs_sequential_folds": (
        "5. sequential / batched folds, s per 5-fold CV",
        ("speedup",),
        "{:.2f}x",
    ),
    "peak_rss_classify_train_dcnn": (
        "6. peak RSS of classify train --arch dcnn, MB",
        ("mb",),
        "{:.0f}",
    ),
    "search_workers_2_vs_1": (
        "7. search, completed trials/min, 2 workers / 1",
        ("ratio",),
        "{:.2f}x",
    ),
    "regression_quality": (
        "9. regression: the answer's mean test MSE below the report's protocol's",
        ("refit_vs_report_mean_mse",),
        "{:.0%}",
    ),
    "search_efficiency": (
        "10. MNIST search, time to 0.0467: --budget report / default (a lower bound if unreached)",
        ("ratio",),
        "{:.1f}x",
    ),
    "estimators": (
        "11. skorch NeuralNetClassifier / nndl NetClassifier, fit s",
        ("ratio",),
        "{}",
    ),
    "whole_study_quick": ("8. nndl reproduce --quick, wall s", ("wall_seconds",), "{:.1f}"),
    "whole_study_default": (
        "8. nndl reproduce (default budget), wall s",
        ("wall_seconds",),
        "{:.0f}",
    ),
    "whole_study_report": (
        "8. nndl reproduce --budget report, wall s",
        ("wall_seconds",),
        "{:.0f}",
    ),
}


def main() -> None:
    data = json.loads(RESULTS.read_text())
    print(f"\nAll benchmarks ({RESULTS.name}, machine: {data.get('machine')})")
    print("| benchmark | figure | target | met |")
    print("|---|---|---|---|")
    for name, (what, path, fmt) in FIGURES.items():
        entry = data.get("benchmarks", {}).get(name)
        if entry is None:
            continue
        value = entry
        for key in path:
            value = value[key]
        if isinstance(value, dict):
            figure = ", ".join(f"{k} {v:.2f}x" for k, v in value.items())
        else:
            figure = fmt.format(value)
        met = entry.get("met")
        target = entry.get("target") or ", ".join(
            f"{k} {v}" for k, v in entry.get("targets", {}).items()
        )
        print(
            f"| {what} | {figure} | {target or '-'} | {'-' if met is None else ('yes' if met else 'NO')} |"
        )


if __name__ == "__main__":
    main()
