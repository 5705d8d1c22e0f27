"""``stations reports list|resolve|purge``: planners read riders' problem reports, resolve or
dismiss them with a note, and remove old ones after archiving them.

Reports are in the SQLite file beside ``--data`` (or ``--reports``), or with ``--database`` in
the PostGIS station database that ``stations serve --database`` replicas share."""

from __future__ import annotations

import argparse
import contextlib
import csv
import getpass
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ReportAlreadyResolved, ReportNotFound, StationsError
from ..model import DEFAULT_GEOPACKAGE
from ..reports import (
    REPORT_KINDS,
    Outcome,
    Report,
    ReportStore,
    SQLiteReportStore,
    default_reports_path,
    open_report_store,
)
from ..store import is_database_url, open_store
from . import SUBCOMMANDS
from .options import add_data_option, add_database_option, add_reports_option, reports_path

_KIND_LABELS = {kind.code: f"{kind.label_zh} {kind.label_en}" for kind in REPORT_KINDS}
ARCHIVE_FORMATS = {".jsonl": "json", ".ndjson": "json", ".json": "json", ".csv": "csv"}
ARCHIVE_COLUMNS = ("id", "station_id", "kind", "note", "created_at", "resolved_at", "open",
                   "outcome", "resolved_by", "resolution_note")
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
        f"(default {default_reports_path(DEFAULT_GEOPACKAGE)}), or with --database in the "
        "PostGIS station database; they never change station data.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    list_parser = _action(actions, "list", "show open reports, oldest first")
    list_parser.add_argument("--all", action="store_true", help="include resolved reports")
    list_parser.add_argument("--station", metavar="ID", help="only reports about this station")
    list_parser.add_argument("--json", action="store_true", help="print JSON lines")
    list_parser.set_defaults(handler=list_reports)

    resolve_parser = _action(actions, "resolve", "resolve or dismiss reports, with a note")
    resolve_parser.add_argument("ids", metavar="ID", type=int, nargs="+",
                                help="report numbers as shown by 'stations reports list'")
    resolve_parser.add_argument("--note", default="", metavar="TEXT",
                                help="what was done, or why the report is dismissed (处理说明)")
    resolve_parser.add_argument("--dismiss", action="store_true",
                                help="the report is not a real problem: dismiss it")
    resolve_parser.add_argument("--by", metavar="NAME", default=None,
                                help="who resolves them (default: your login name)")
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
    add_database_option(parser, "the reports of this station database instead of a file")
    return parser


@contextlib.contextmanager
def opened_reports(args: argparse.Namespace, missing: str) -> Iterator[ReportStore | None]:
    """The report store the options name; None (after saying ``missing``) for a file that
    does not exist yet, so that reading creates nothing."""
    if args.database:
        if not is_database_url(args.database):
            raise StationsError(f"--database: a postgresql:// URL, not {args.database[:80]!r}")
        station_store = open_store(args.database)
        try:
            yield open_report_store(station_store, clock=clock)
        finally:
            station_store.close()
        return
    path = reports_path(args)
    if not path.is_file():
        print(f"{missing}: {path} does not exist", file=sys.stderr)
        yield None
        return
    yield SQLiteReportStore(path, clock=clock)


def list_reports(args: argparse.Namespace) -> int:
    with opened_reports(args, "no reports yet") as store:
        if store is None:
            return 0
        reports = store.reports(include_resolved=args.all, station_id=args.station)
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
    """Close each report; one closed before is named on stderr, and the exit code is 1."""
    outcome = Outcome.DISMISSED if args.dismiss else Outcome.RESOLVED
    who = args.by if args.by is not None else _login_name()
    already = 0
    with opened_reports(args, "no report file") as store:
        if store is None:
            raise ReportNotFound("no report file, so no report to resolve")
        for report_id in args.ids:
            try:
                report = store.resolve(report_id, who=who, note=args.note, outcome=outcome)
            except ReportAlreadyResolved as exc:
                print(exc, file=sys.stderr)
                already += 1
                continue
            print(f"{outcome} #{report.id} ({report.station_id}) at {report.resolved_at} "
                  f"by {report.resolved_by}")
    return 1 if already else 0


def _login_name() -> str:
    try:
        return f"{getpass.getuser()} (command line)"
    except (OSError, KeyError):  # no login name in some containers
        return "command line"


def purge_reports(args: argparse.Namespace) -> int:
    archive = args.archive
    if archive is not None:
        if archive.suffix.lower() not in ARCHIVE_FORMATS:
            raise StationsError(f"--archive {archive}: name a .jsonl or .csv file")
        if archive.exists():
            raise StationsError(f"--archive {archive}: already exists; archives are never "
                                "overwritten, choose a new name")
        if not archive.parent.is_dir():
            raise StationsError(f"--archive {archive}: folder {archive.parent} does not exist")
    with opened_reports(args, "nothing to purge") as store:
        if store is None:
            return 0
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
    state = (f"{report.outcome or 'resolved'} {report.resolved_at} by {report.resolved_by}"
             if report.resolved_at else "open")
    note = f"  note: {json.dumps(report.note, ensure_ascii=False)}" if report.note else ""
    if report.resolution_note:
        note += f"  {report.outcome or 'resolved'}: " + json.dumps(report.resolution_note,
                                                                  ensure_ascii=False)
    return (f"#{report.id}  {report.created_at}  {report.station_id}  "
            f"{_KIND_LABELS.get(report.kind, report.kind)}  [{state}]{note}")
