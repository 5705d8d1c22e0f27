"""``stations build``: validate the source tables and write the station GeoPackage."""

from __future__ import annotations

import argparse

from ..ingest.build import build_geopackage
from ..model import DEFAULT_GEOPACKAGE
from . import SUBCOMMANDS
from .options import add_output_option
from .source_args import add_source_arguments, exit_code, print_problems, source_specs

EPILOG = """exit codes:
  0  built, no problems
  1  built, but some rows were rejected or had warnings (listed above the summary)
  2  nothing written: a source could not be read, no row was valid, or --strict found problems

examples:
  stations build                                  # the manifest geodata/sources/sources.toml
  stations build nanning.csv --crs gcj02 --output /tmp/nanning.gpkg
  stations build sheet.xlsx --crs bd09 --mapping headings.toml --strict
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build",
        help=SUBCOMMANDS["build"],
        description="Read station tables (CSV in UTF-8/GB18030, XLSX, GeoJSON), validate every\n"
        "row, convert coordinates to WGS84 and write the GeoPackage atomically: the old\n"
        "file stays until the new one is complete. Good rows are kept; bad rows are\n"
        "listed as FILE:ROW: FIELD: PROBLEM and skipped.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_arguments(parser)
    add_output_option(parser, what="GeoPackage to write or replace", metavar="GPKG",
                      default=DEFAULT_GEOPACKAGE)
    parser.add_argument(
        "--strict", action="store_true",
        help="treat any problem, even a warning, as fatal: write nothing and exit 2",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    report = build_geopackage(source_specs(args), args.output, strict=args.strict,
                              progress=args.progress)
    print_problems(report.problems, args.max_problems)
    print(report.summary())
    return exit_code(report.problems, report.written)
