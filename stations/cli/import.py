"""``stations import``: compare office sheets with the current stations, review, apply."""

from __future__ import annotations

import argparse
import datetime as dt

from ..ingest.build import BuildReport, check_sources
from ..ingest.changes import apply_changes, diff
from ..ingest.review import write_review
from ..model import DEFAULT_GEOPACKAGE
from ..store import open_store
from . import SUBCOMMANDS
from .options import add_database_option
from .source_args import add_source_arguments, exit_code, print_problems, source_specs

DEFAULT_REVIEW = "import-review.html"
EPILOG = """exit codes:
  0  reviewed (--dry-run) or applied, no problems in the sheet
  1  the same, but some rows were rejected or had warnings (listed above the change set)
  2  nothing written: a sheet could not be read, no row was valid, stations are missing and
     --missing was not given, or the data changed since the review (--confirm)

examples:
  stations import 南宁.csv --crs bd09 --dry-run          # change set + import-review.html
  stations import 南宁.csv --crs bd09 --missing keep --confirm 3f2a9c1b7d4e
  stations import 南宁.csv --crs bd09 --database postgresql://stations@db/stations --dry-run
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import", help=SUBCOMMANDS["import"],
        description="Read office sheets as 'stations build' does, compare them with the current\n"
        "stations and show the change set (new, changed, moved > 50 m, missing) before\n"
        "writing. Applying is one transaction; missing stations are kept or closed, never\n"
        "deleted.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_arguments(parser)
    parser.add_argument("--data", default=DEFAULT_GEOPACKAGE, metavar="GPKG|URL",
                        help=f"the station store (default: {DEFAULT_GEOPACKAGE})")
    add_database_option(parser, "import into it instead of --data (one transaction with its "
                        "history entry; serving replicas pick the change up)")
    parser.add_argument("--dry-run", action="store_true",
                        help=f"show the change set and write the review page ({DEFAULT_REVIEW} "
                        "unless --review names one); write no station")
    parser.add_argument("--review", metavar="HTML", help="write the review page here")
    parser.add_argument("--missing", choices=("keep", "close"),
                        help="what to do with stations missing from the sheet (required when "
                        "there are any): keep them as they are, or mark them closed")
    parser.add_argument("--confirm", metavar="KEY",
                        help="the review key printed by --dry-run: refuse if the change set "
                        "is no longer the one reviewed")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    sources = source_specs(args)
    result = check_sources(sources, progress=args.progress)
    report = BuildReport.from_validation(result, sources)
    print_problems(report.problems, args.max_problems)
    report.refusal = "change set below" if result.rows_stored else "no valid station"
    print(report.summary())
    if not result.rows_stored:
        return exit_code(report.problems, False)
    store = open_store(args.database or args.data)
    try:
        changes = diff(result.stations, store.snapshot(), result.made_ids)
        for line in changes.lines():
            print(line)
        print(changes.summary())
        print(f"审阅编号 review key: {changes.key}")
        review = args.review or (DEFAULT_REVIEW if args.dry_run else None)
        if review:
            title = f"导入审阅 import review: {', '.join(s.name for s in sources)}"
            print(f"review page: {write_review(changes, review, title)}")
        if args.dry_run:
            print(f"nothing written (--dry-run); to apply: add --confirm {changes.key}"
                  + ("" if not changes.missing else " and --missing keep|close"))
            return exit_code(report.problems)
        entry = apply_changes(store, changes, missing=args.missing, who="stations import",
                              at=dt.datetime.now(dt.UTC), confirm=args.confirm)
    finally:
        store.close()
    print("nothing to change" if entry is None else f"applied as history entry {entry.id}")
    return exit_code(report.problems)
