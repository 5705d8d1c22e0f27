"""``stations migrate``: move stations, history, office keys, riders' reports and console
accounts between a GeoPackage and PostGIS."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..console.accounts import CONSOLE_FILE_NAME, open_accounts
from ..errors import StationsError
from ..reports import ReportStore, default_reports_path, open_report_store
from ..store import StationStore, is_database_url, open_store
from ..store.migrate import copy_store, write_geopackage
from . import SUBCOMMANDS

EPILOG = """examples:
  stations migrate --from geodata/stations.gpkg --to postgresql://stations@db/stations
  stations migrate --from postgresql://stations@db/stations --to backup/stations.gpkg
  stations migrate --to postgresql://stations@db/stations      # only create/upgrade the schema

The target must be empty (a new database, or a GeoPackage path that does not exist yet).
Stations keep their versions and the history its numbers; data_version is the same on both sides.
Riders' reports go along: a GeoPackage's are the reports.sqlite beside it (none if it has no
such file), a database's are in its tables; report numbers, resolutions and budgets are kept.
The office console's staff accounts come along (on the GeoPackage side they are the file
console.sqlite beside it, or --accounts); their sign-in sessions do not: staff sign in again.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "migrate", help=SUBCOMMANDS["migrate"], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Copy a station store into another one; a PostGIS target gets its schema "
        "created or upgraded first.")
    parser.add_argument("--from", dest="source", metavar="GPKG_OR_URL",
                        help="the store to copy from")
    parser.add_argument("--to", dest="target", required=True, metavar="GPKG_OR_URL",
                        help="the empty store to copy into")
    parser.add_argument("--accounts", type=Path, metavar="DB",
                        help=f"the console's accounts file on the GeoPackage side (default: "
                        f"{CONSOLE_FILE_NAME} beside it)")
    parser.set_defaults(handler=migrate)


def migrate(args: argparse.Namespace) -> int:
    if args.source is None:
        if not is_database_url(args.target):
            raise StationsError("--to: without --from, give a postgresql:// URL to set up")
        open_store(args.target, migrate=True).close()
        print(f"schema of {_redacted(args.target)} is up to date")
        return 0
    target_file = None if is_database_url(args.target) else default_reports_path(args.target)
    if target_file is not None:
        for path in (Path(args.target), target_file):
            if path.exists():
                raise StationsError(f"--to: {path} exists; migrate into a new file")
    source = open_store(args.source)
    try:
        source_reports = _reports_of(source, args.source)
        if target_file is not None:
            write_geopackage(source.snapshot().stations, args.target)
        target = open_store(args.target, migrate=True)
        try:
            target_reports = open_report_store(target, target_file)
            if target_reports.reports(include_resolved=True):
                raise StationsError("--to: the target already holds reports; migrate into an "
                                    "empty database")
            count = copy_store(source, target)
            reports = source_reports.dump() if source_reports is not None else None
            if reports is not None:
                target_reports.load(reports)
            version = target.snapshot().data_version
            staff = _copy_accounts(args, source, target)
        finally:
            target.close()
    finally:
        source.close()
    moved = len(reports.reports) if reports is not None else 0
    print(f"copied {count} stations, {moved} reports and {staff} staff accounts to "
          f"{_redacted(args.target)} "
          f"(data version {version})")
    return 0


def _copy_accounts(args: argparse.Namespace, source: StationStore, target: StationStore) -> int:
    """Copy the console's accounts along with the stations; how many."""
    source_file = args.accounts or Path(args.source).with_name(CONSOLE_FILE_NAME)
    if not is_database_url(args.source) and not source_file.exists():
        return 0
    rows = open_accounts(source, source_file).export()
    target_file = args.accounts or Path(args.target).with_name(CONSOLE_FILE_NAME)
    open_accounts(target, target_file).load(rows)
    return len(rows)


def _reports_of(store: StationStore, where: str) -> ReportStore | None:
    """The reports that go with the source; None for a GeoPackage without a report file
    (reading creates nothing)."""
    if is_database_url(where) or default_reports_path(where).is_file():
        return open_report_store(store)
    return None


def _redacted(target: str) -> str:
    """A URL without its password, fit for a terminal or a log."""
    if not is_database_url(target) or "@" not in target:
        return target
    scheme, rest = target.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
