"""``stations reports list|resolve``: planners read riders' problem reports and close them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import ReportNotFound
from ..model import DEFAULT_GEOPACKAGE
from ..reports import REPORT_KINDS, Report, ReportStore, default_reports_path
from . import SUBCOMMANDS

_KIND_LABELS = {kind.code: f"{kind.label_zh} {kind.label_en}" for kind in REPORT_KINDS}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "reports",
        help=SUBCOMMANDS["reports"],
        description="Problem reports are kept in a SQLite file beside the GeoPackage "
        f"(default {default_reports_path(DEFAULT_GEOPACKAGE)}); they never change station data.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    list_parser = actions.add_parser("list", help="show open reports, oldest first")
    _add_db_option(list_parser)
    list_parser.add_argument("--all", action="store_true", help="include resolved reports")
    list_parser.add_argument("--station", metavar="ID", help="only reports about this station")
    list_parser.add_argument("--json", action="store_true", help="print JSON lines")
    list_parser.set_defaults(handler=list_reports)

    resolve_parser = actions.add_parser("resolve", help="mark reports as dealt with")
    _add_db_option(resolve_parser)
    resolve_parser.add_argument("ids", metavar="ID", type=int, nargs="+",
                                help="report numbers as shown by 'stations reports list'")
    resolve_parser.set_defaults(handler=resolve_reports)


def _add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=str(default_reports_path(DEFAULT_GEOPACKAGE)),
                        help="report file (default: %(default)s)")


def list_reports(args: argparse.Namespace) -> int:
    if not Path(args.db).is_file():
        print(f"no reports yet: {args.db} does not exist", file=sys.stderr)
        return 0
    store = ReportStore(args.db)
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
    if not Path(args.db).is_file():
        raise ReportNotFound(f"{args.db}: no report file, so no report to resolve")
    store = ReportStore(args.db)
    for report_id in args.ids:
        report = store.resolve(report_id)
        print(f"resolved #{report.id} ({report.station_id}) at {report.resolved_at}")
    return 0


def _format(report: Report) -> str:
    """One line per report; the note is quoted as JSON so line breaks stay on one line."""
    state = f"resolved {report.resolved_at}" if report.resolved_at else "open"
    note = f"  note: {json.dumps(report.note, ensure_ascii=False)}" if report.note else ""
    return (f"#{report.id}  {report.created_at}  {report.station_id}  "
            f"{_KIND_LABELS.get(report.kind, report.kind)}  [{state}]{note}")
