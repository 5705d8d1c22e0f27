"""``stations info``: what a station GeoPackage holds, counted per city, amenity and status."""

from __future__ import annotations

import argparse

from ..geodata import read_stations
from ..model import AMENITIES, DEFAULT_GEOPACKAGE, STATUS_LABELS_ZH, Status
from . import SUBCOMMANDS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help=SUBCOMMANDS["info"],
        description="Print the data version of a station GeoPackage and how many stations it "
        "holds per city, per amenity (Chinese and English label) and per status.",
    )
    parser.add_argument(
        "gpkg", nargs="?", default=DEFAULT_GEOPACKAGE, metavar="GPKG",
        help=f"the station GeoPackage (default: {DEFAULT_GEOPACKAGE})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    stations = read_stations(args.gpkg)
    print(f"{args.gpkg}: {len(stations)} stations, data version "
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
