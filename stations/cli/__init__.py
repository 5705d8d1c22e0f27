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
from collections.abc import Iterable, Sequence
from importlib import import_module

from ..errors import StationsError

# Subcommands in the order ``stations --help`` lists them, with the line it shows for each.
# The module ``stations.cli.<name>`` is imported only when its subcommand runs, so that
# ``stations serve`` does not load GDAL, pandas and folium, which only other commands need.
SUBCOMMANDS: dict[str, str] = {
    "build": "validate source tables and write the station GeoPackage",
    "validate": "check source tables and report problems, without writing anything",
    "import": "compare office sheets with the stations, review the change set, apply it",
    "info": "count the stations of a GeoPackage per city, amenity and status",
    "synth": "write a synthetic national station table (CSV) for scale tests",
    "serve": "serve the nearest-station API and OGC API - Features",
    "map": "draw the station map and the coverage map as HTML files",
    "coverage": "coverage per province, city or district (table and choropleth map)",
    "plan": "choose sites for new stations that bring the most demand within reach",
    "planning-report": "a printable HTML planning report for one city: districts, gaps, sites",
    "export": "write a feed for map apps (GeoJSON, Amap/Baidu CSV, KML, GPX, OSM, PMTiles)",
    "reports": "list, resolve and purge problem reports that riders sent about stations",
    "keys": "create, list and revoke office API keys for editing stations over HTTP",
    "staff": "create, list and disable staff accounts for the office console",
    "migrate": "copy stations, history and keys between a GeoPackage and PostGIS",
}

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2


def make_parser(load: Iterable[str] = SUBCOMMANDS) -> argparse.ArgumentParser:
    """The top-level parser; the subcommands named in ``load`` get their full parsers.

    The others are listed with their summary line only, which is all ``stations --help`` or a
    different subcommand needs.
    """
    parser = argparse.ArgumentParser(
        prog="stations",
        description="工会驿站 worker-station locator: build the station GeoPackage, serve the "
        "nearest-station API, draw maps and export feeds for map apps.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in SUBCOMMANDS.items():
        if name in load:
            import_module(f"{__name__}.{name.replace('-', '_')}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stations`` console script."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in words if not word.startswith("-")), None)
    args = make_parser(load=[command] if command else []).parse_args(words)
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

