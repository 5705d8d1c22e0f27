"""``stations export``: write a feed for map apps from the station GeoPackage."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export import EXPORTERS, default_filename, get_exporter
from ..geodata import read_stations
from . import SUBCOMMANDS
from .options import add_data_option, add_output_option

ALL_FORMATS = "all"
LIST_FORMATS = "list"

EPILOG = """examples:
  stations export --format list                       # the formats and their coordinate systems
  stations export --format csv-gcj02                  # ./stations-gcj02.csv for Amap/Tencent
  stations export --format kml --output /srv/feeds/stations.kml
  stations export --format all --output feeds/        # every format into one folder
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help=SUBCOMMANDS["export"],
        description="Write the stations as a feed for map apps, each in the coordinate system "
        "its consumer expects (WGS84, GCJ-02 for Amap/Tencent, BD-09 for Baidu). The file is "
        "written beside the target and moved into place when complete.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--format", "-f", required=True, metavar="FORMAT",
        help=f"one of {', '.join(EXPORTERS)}; '{ALL_FORMATS}' for every one, "
        f"'{LIST_FORMATS}' to describe them",
    )
    add_data_option(parser)
    add_output_option(
        parser, metavar="PATH",
        what="file to write, or a folder to write the default file name into (default: the "
        "format's file name, e.g. stations-gcj02.csv, in the current folder); a folder for "
        f"'{ALL_FORMATS}'",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.format.strip().lower() == LIST_FORMATS:
        for exporter in EXPORTERS.values():
            print(f"{exporter.name:<14} {exporter.crs.value:<6} {default_filename(exporter):<24} "
                  f"{exporter.description}")
        return 0
    if args.format.strip().lower() == ALL_FORMATS:
        exporters = list(EXPORTERS.values())
        folder = Path(args.output or ".")
        targets = [folder / default_filename(exporter) for exporter in exporters]
    else:
        exporter = get_exporter(args.format)
        exporters = [exporter]
        targets = [_target(args.output, default_filename(exporter))]
    stations = read_stations(args.data)
    for exporter, target in zip(exporters, targets, strict=True):
        exporter.write(stations, target)
        print(f"{exporter.name}: {len(stations)} stations ({exporter.crs.value}) -> {target}")
    return 0


def _target(output: str | None, filename: str) -> Path:
    if output is None:
        return Path(filename)
    path = Path(output)
    return path / filename if path.is_dir() or output.endswith(("/", "\\")) else path
