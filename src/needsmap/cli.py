"""Command line: parse arguments, call the pipeline, turn NeedsmapError into exit code 2."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from needsmap import __version__
from needsmap.config import RunConfig, load_config
from needsmap.errors import NeedsmapError

log = logging.getLogger("needsmap")


def _config(args: argparse.Namespace) -> RunConfig:
    cfg = load_config(args.config) if args.config else RunConfig()
    changes: dict[str, Any] = {}
    if getattr(args, "area", None):
        changes["area"] = Path(args.area)
        if not getattr(args, "out", None) and cfg.output.folder == RunConfig().output.folder:
            slug = "_".join("".join(c if c.isalnum() else " " for c in args.area.lower()).split())
            changes["output"] = dataclasses.replace(cfg.output, folder=Path("out") / slug)
    if getattr(args, "caseload", None):
        changes["caseload"] = args.caseload.resolve()
    if getattr(args, "services", None):
        changes["services"] = tuple(p.resolve() for p in args.services)
    if getattr(args, "out", None):
        changes["output"] = dataclasses.replace(cfg.output, folder=args.out)
    return dataclasses.replace(cfg, **changes) if changes else cfg


def _run(args: argparse.Namespace) -> int:
    cfg = _config(args)  # before the slow imports: a bad config fails at once
    from needsmap.pipeline import run

    results = run(cfg)
    folder = Path(cfg.output.folder)
    quiet = getattr(args, "quiet", False)
    for note in [] if quiet else results.notes:
        print(f"note: {note}")
    synthetic = " (synthetic caseload)" if results.caseload.synthetic else ""
    notes = f" ({len(results.notes)} notes in run.json)" if quiet and results.notes else ""
    report = folder / "report.html"
    board = f" and the board summary {report}" if report in results.written else ""
    print(
        f"Wrote {len(results.written)} files for {len(results.wards)} wards{synthetic} "
        f"to {folder}/ in {results.seconds:.1f} s: open the map {folder / 'needs_map.html'}"
        f"{board}{notes}"
    )
    return 0


def _init(args: argparse.Namespace) -> int:
    from needsmap.starter import write_starter

    written = write_starter(args.folder, area=args.area, force=args.force)
    config, caseload, services = written
    print(
        f"Wrote {config.name}, {caseload.name} and {services.name} to {args.folder}/. "
        f"Fill in {caseload.name}, replace the EXAMPLE rows in {services.name}, then: "
        f"needsmap validate --config {config}"
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from needsmap.checks import validate_inputs

    result = validate_inputs(_config(args))
    print(result.report())
    return 0 if result.ok else 2


AREA_HELP = (
    "an English council's name or code (e.g. Sefton, E08000014, Lancashire; a district "
    "runs its county), or an area bundle folder (default: the bundled Wirral data)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="needsmap",
        description="Where services for children and families are most needed, by ward.",
    )
    parser.add_argument("--version", action="version", version=f"needsmap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the analysis and write every output")
    run.add_argument("--config", type=Path, help="YAML config (default: bundled Wirral)")
    run.add_argument("--area", help=AREA_HELP)
    run.add_argument("--caseload", type=Path, help="ward caseload CSV (default: synthetic)")
    run.add_argument("--services", type=Path, nargs="+", help="extra service CSV file(s)")
    run.add_argument("--out", type=Path, help="output folder (default: out/wirral, or out/<area>)")
    run.add_argument("--quiet", action="store_true", help="print only the summary line")
    run.set_defaults(func=_run)

    check = sub.add_parser(
        "validate", help="check every input and print a short report, without running"
    )
    check.add_argument("--config", type=Path, help="YAML config (default: bundled Wirral)")
    check.add_argument("--area", help=AREA_HELP)
    check.add_argument("--caseload", type=Path, help="ward caseload CSV (default: synthetic)")
    check.add_argument("--services", type=Path, nargs="+", help="extra service CSV file(s)")
    check.set_defaults(func=_validate)

    init = sub.add_parser(
        "init", help="write a commented config and caseload and services templates"
    )
    init.add_argument("folder", type=Path, metavar="DIR", help="folder to write them into")
    init.add_argument("--area", help=AREA_HELP)
    init.add_argument("--force", action="store_true", help="overwrite files already there")
    init.set_defaults(func=_init)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    # Warnings are held back: a failed run prints its one error line and nothing else;
    # a run that succeeds shows each warning once, on one line. (Repairs to inputs are
    # not warnings here: the pipeline turns them into notes.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            code = int(args.func(args))
        except NeedsmapError as exc:
            print(f"needsmap: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"needsmap: error: {exc.strerror or exc}{where}", file=sys.stderr)
            return 2
    for message in dict.fromkeys(_one_line(w.message) for w in caught):
        log.warning("warning: %s", message)
    return code


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
