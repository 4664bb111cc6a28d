"""``nndl study run FILE.toml``: a study declared in a file, with overrides on the command line."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from nndl.cli._args import integer, out_dir
from nndl.errors import UsageError
from nndl.experiments.budgets import BUDGET_NAMES


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "study", help="run a study file (TOML): its studies, results.json, report, study.toml"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_ = actions.add_parser(
        "run",
        help="run the studies a TOML file declares",
        description="Run a study file (see `nndl study show report`); writes results.json, "
        "report.md/html and the resolved study.toml into --out.",
    )
    run_.add_argument("file", help="a study file, or the name of a shipped one (report)")
    run_.add_argument("--out", type=out_dir, help="output folder (default: runs/study-TIME)")
    group = run_.add_mutually_exclusive_group()
    group.add_argument(
        "--budget", choices=BUDGET_NAMES, help="[study] budget (default: the file's)"
    )
    group.add_argument(
        "--quick", dest="budget", action="store_const", const="quick", help="[study] budget = quick"
    )
    run_.add_argument("--seed", type=integer, help="[study] seed")
    run_.add_argument("--device", help="[study] device")
    run_.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help='override one key, e.g. --set regression.target=y (TOML values: 3, true, "a")',
    )
    run_.add_argument("--quiet", action="store_true", help="no progress bars")
    run_.set_defaults(run=run)
    show = actions.add_parser("show", help="print a shipped study file (to copy and edit)")
    show.add_argument("name", nargs="?", default="report")
    show.set_defaults(run=run_show)


def study_path(value: str) -> Path:
    """A file path, or a shipped study's name."""
    from nndl.experiments.study_file import SHIPPED, shipped_study

    return shipped_study(value) if value in SHIPPED else Path(value)


def overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The command line's changes to the file, as sections of keys."""
    import tomllib

    changes: dict[str, dict[str, Any]] = {"study": {}}
    for key in ("budget", "seed", "device"):
        if getattr(args, key) is not None:
            changes["study"][key] = getattr(args, key)
    for item in args.set:
        name, sep, text = item.partition("=")
        section, dot, key = name.partition(".")
        if not (sep and dot and key):
            raise UsageError(
                f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. regression.target=y"
            )
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text  # a bare word: a string
        changes.setdefault(section, {})[key] = value
    return changes


def run(args: argparse.Namespace) -> int:
    from nndl._inputs import check_output_dir
    from nndl._io import dumps_json
    from nndl.cli._study import run_staged
    from nndl.experiments.study_file import load_study_file, resolved_toml
    from nndl.training.device import check_device

    data = load_study_file(study_path(args.file), overrides(args))
    study = data["study"]
    check_device(str(study.get("device", "cpu")))
    default = Path("runs") / f"study-{time.strftime('%Y%m%d-%H%M%S')}"
    out = check_output_dir(args.out or default, named=args.out is not None)
    job = job_from_study(data, out, args.quiet, toml=resolved_toml(data))
    from nndl.experiments.reproduce import reproduce

    results = run_staged(out, job, reproduce)
    print(
        dumps_json(
            {"out": str(out), "report": str(out / "report.html"), "timings": results["timings"]}
        )
    )
    return 0


def job_from_study(data: dict[str, Any], out: Path, quiet: bool, *, toml: str | None) -> Any:
    """The ReproduceJob of a checked study file (its data and spaces checked before any work)."""
    from nndl.experiments.reproduce import ReproduceJob
    from nndl.experiments.study import studies

    study = data["study"]
    options = {}
    for name, kind in studies().items():
        if name not in data:
            continue
        values = dict(data[name])
        if "inputs" in values:
            values["inputs"] = tuple(values["inputs"])
        kind(Path("."), **values).check()
        options[name] = values
    return ReproduceJob(
        out,
        budget=study["budget"],
        device=str(study.get("device", "cpu")),
        seed=int(study.get("seed", 0)),
        quiet=quiet,
        options=options,
        study_toml=toml,
    )


def run_show(args: argparse.Namespace) -> int:
    path = study_path(args.name)
    if not path.is_file():
        raise UsageError(f"no shipped study {args.name!r}; shipped: report")
    print(path.read_text(), end="")
    return 0
