"""``stations reports list|resolve|purge``: planners read riders' problem reports, close them,
and remove old ones after archiving them."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import ReportNotFound, StationsError
from ..model import DEFAULT_GEOPACKAGE
from ..reports import REPORT_KINDS, Report, ReportStore, default_reports_path
from . import SUBCOMMANDS
from .options import add_data_option, add_reports_option, reports_path

_KIND_LABELS = {kind.code: f"{kind.label_zh} {kind.label_en}" for kind in REPORT_KINDS}
ARCHIVE_FORMATS = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".csv": "csv"}
ARCHIVE_COLUMNS = ("id", "station_id", "kind", "note", "created_at", "resolved_at", "open")
# The wall clock of purges; tests put a fixed one here.
clock: Callable[[], float] = time.time

PURGE_EPILOG = """examples:
  stations reports purge --older-than 180 --archive reports-2025.jsonl
  stations reports purge --older-than 365 --archive old-reports.csv

The archive is complete on disk before any report is deleted; if it cannot be written,
nothing is deleted.  An existing archive file is never overwritten.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "reports",
        help=SUBCOMMANDS["reports"],
        description="Problem reports are kept in a SQLite file beside the GeoPackage "
        f"(default {default_reports_path(DEFAULT_GEOPACKAGE)}); they never change station data.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    list_parser = _action(actions, "list", "show open reports, oldest first")
    list_parser.add_argument("--all", action="store_true", help="include resolved reports")
    list_parser.add_argument("--station", metavar="ID", help="only reports about this station")
    list_parser.add_argument("--json", action="store_true", help="print JSON lines")
    list_parser.set_defaults(handler=list_reports)

    resolve_parser = _action(actions, "resolve", "mark reports as dealt with")
    resolve_parser.add_argument("ids", metavar="ID", type=int, nargs="+",
                                help="report numbers as shown by 'stations reports list'")
    resolve_parser.set_defaults(handler=resolve_reports)

    purge_parser = _action(actions, "purge", "archive and delete reports older than some days",
                           epilog=PURGE_EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    purge_parser.add_argument("--older-than", type=float, required=True, metavar="DAYS",
                              help="delete reports created more than DAYS days ago, open or not")
    purge_parser.add_argument("--archive", type=Path, metavar="FILE",
                              help="first write those reports to FILE: JSON lines (.jsonl) or "
                              "CSV (.csv); a new file, never overwritten")
    purge_parser.set_defaults(handler=purge_reports)


def _action(actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
            summary: str, **kwargs: object) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=summary, description=summary, **kwargs)  # type: ignore[arg-type]
    add_data_option(parser)
    add_reports_option(parser, old=("--db",))
    return parser


def list_reports(args: argparse.Namespace) -> int:
    path = reports_path(args)
    if not path.is_file():
        print(f"no reports yet: {path} does not exist", file=sys.stderr)
        return 0
    reports = ReportStore(path).reports(include_resolved=args.all, station_id=args.station)
    for report in reports:
        if args.json:
            print(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            print(_format(report))
    if not args.json:
        state = "reports" if args.all else "open reports"
        print(f"{len(reports)} {state}", file=sys.stderr)
    return 0


def resolve_reports(args: argparse.Namespace) -> int:
    path = reports_path(args)
    if not path.is_file():
        raise ReportNotFound(f"{path}: no report file, so no report to resolve")
    store = ReportStore(path, clock=clock)
    for report_id in args.ids:
        report = store.resolve(report_id)
        print(f"resolved #{report.id} ({report.station_id}) at {report.resolved_at}")
    return 0


def purge_reports(args: argparse.Namespace) -> int:
    path = reports_path(args)
    archive = args.archive
    if archive is not None:
        if archive.suffix.lower() not in ARCHIVE_FORMATS:
            raise StationsError(f"--archive {archive}: name a .jsonl or .csv file")
        if archive.exists():
            raise StationsError(f"--archive {archive}: already exists; archives are never "
                                "overwritten, choose a new name")
        if not archive.parent.is_dir():
            raise StationsError(f"--archive {archive}: folder {archive.parent} does not exist")
    if not path.is_file():
        print(f"nothing to purge: {path} does not exist", file=sys.stderr)
        return 0
    store = ReportStore(path, clock=clock)
    purged = store.purge(args.older_than,
                         None if archive is None else lambda old: write_archive(old, archive))
    kept = f"; archived to {archive}" if archive is not None else ""
    print(f"purged {len(purged)} reports created more than {args.older_than:g} days ago{kept}")
    return 0


def write_archive(reports: list[Report], target: Path) -> None:
    """Write ``reports`` to ``target`` whole or not at all: beside it first, synced, renamed.

    CSV cells that a spreadsheet would run as a formula get a leading apostrophe.
    """
    text = io.StringIO(newline="")
    if ARCHIVE_FORMATS[target.suffix.lower()] == "csv":
        from ..export.tables import neutralise_formula  # pandas loads only for CSV archives

        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(ARCHIVE_COLUMNS)
        for report in reports:
            row = report.as_dict()
            writer.writerow([neutralise_formula(str(row[c] if row[c] is not None else ""))
                             for c in ARCHIVE_COLUMNS])
    else:
        for report in reports:
            text.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "x", encoding="utf-8", newline="") as file:
            file.write(text.getvalue())
            file.flush()
            os.fsync(file.fileno())
        os.link(partial, target)  # fails if the target appeared meanwhile: never overwrite
    except OSError as exc:
        raise StationsError(f"--archive {target}: cannot write: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def _format(report: Report) -> str:
    """One line per report; the note is quoted as JSON so line breaks stay on one line."""
    state = f"resolved {report.resolved_at}" if report.resolved_at else "open"
    note = f"  note: {json.dumps(report.note, ensure_ascii=False)}" if report.note else ""
    return (f"#{report.id}  {report.created_at}  {report.station_id}  "
            f"{_KIND_LABELS.get(report.kind, report.kind)}  [{state}]{note}")
