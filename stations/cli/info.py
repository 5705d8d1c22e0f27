"""``stations info``: what a station GeoPackage holds, counted per city, amenity and status."""

from __future__ import annotations

import argparse

from ..errors import StationsError
from ..geodata import read_stations
from ..model import AMENITIES, DEFAULT_GEOPACKAGE, STATUS_LABELS_ZH, Status
from . import SUBCOMMANDS
from .options import add_data_option, deprecation_note


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help=SUBCOMMANDS["info"],
        description="Print the data version of a station GeoPackage and how many stations it "
        "holds per city, per amenity (Chinese and English label) and per status.",
    )
    add_data_option(parser)
    parser.add_argument("gpkg", nargs="?", metavar="GPKG",
                        help="deprecated spelling of --data GPKG")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.gpkg is not None:
        if args.data != DEFAULT_GEOPACKAGE and args.data != args.gpkg:
            raise StationsError(f"two GeoPackages given ({args.gpkg} and --data {args.data}); "
                                "name one with --data")
        deprecation_note("stations info", "GPKG as a positional argument", "--data GPKG")
        args.data = args.gpkg
    stations = read_stations(args.data)
    print(f"{args.data}: {len(stations)} stations, data version "
          f"{stations.attrs.get('data_version', '')}")
    print("城市 city:")
    cities = stations["city"].replace("", "(未填 none)").value_counts()
    for city, count in sorted(cities.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {city}  {count}")
    print("服务设施 amenities:")
    for amenity in AMENITIES:
        count = int(stations[amenity.column].sum())
        print(f"  {amenity.icon} {amenity.label_zh} {amenity.label_en} ({amenity.code})  {count}")
    print("状态 status:")
    for status in Status:
        count = int((stations["status"] == status.value).sum())
        print(f"  {STATUS_LABELS_ZH[status]} {status.value}  {count}")
    return 0
