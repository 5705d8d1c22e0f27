"""The ``stations`` command line: one module per subcommand, registered here.

Every subcommand module has ``register(subparsers)``, which adds its parser and sets
``handler``: a function taking the parsed arguments and returning the exit code.  Errors the
package raises on purpose (:class:`~stations.errors.StationsError`) become a one-line message
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import StationsError
from . import build, export, info, map, reports, serve, synth, validate

SUBCOMMAND_MODULES = (build, validate, info, synth, serve, map, export, reports)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2


def make_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="stations",
        description="工会驿站 worker-station locator: build the station GeoPackage, serve the "
        "nearest-station API, draw maps and export feeds for map apps.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stations`` console script."""
    args = make_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except StationsError as exc:
        print(f"stations {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"stations {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``stations info | head``): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK

