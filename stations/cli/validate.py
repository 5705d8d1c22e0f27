"""``stations validate``: check source tables and print the problem report; writes nothing."""

from __future__ import annotations

import argparse

from ..ingest.build import BuildReport, check_sources
from . import SUBCOMMANDS
from .source_args import add_source_arguments, exit_code, print_problems, source_specs

EPILOG = """exit codes:
  0  every row is valid
  1  some rows have problems (errors would reject them in a build; warnings would not)
  2  a source could not be read at all (missing file, wrong column, unreadable encoding),
     or no row is valid, so a build would write nothing
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help=SUBCOMMANDS["validate"],
        description="Read and validate station tables exactly as 'stations build' does and\n"
        "print every problem as FILE:ROW: FIELD: PROBLEM. Nothing is written.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    sources = source_specs(args)
    report = BuildReport.from_validation(check_sources(sources, progress=args.progress), sources)
    usable = report.rows_stored > 0
    report.refusal = ("nothing written (validation only)" if usable
                      else "no valid station: a build would write nothing")
    print_problems(report.problems, args.max_problems)
    print(report.summary())
    return exit_code(report.problems, usable)
