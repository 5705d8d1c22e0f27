"""``stations plan``: where to build the next stations, with how close to the best it is."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

import pyogrio

from ..errors import PlanningError
from ..export.tables import neutralise_formula
from ..maps.basemaps import Basemap
from ..maps.render import save_map
from ..maps.sites_map import build_sites_map
from ..model import STATIONS_LAYER
from ..planning.demand import read_demand
from ..planning.searches import read_search_counts
from ..planning.sites import grid_candidates, plan_rows, plan_sites, read_candidates
from . import SUBCOMMANDS
from .coverage import add_search_options, input_file_options
from .options import add_data_option, add_output_option
from .reach_options import ReachMaker, add_reach_options

CSV_HEADINGS = {
    "rank": "序号 rank", "name": "名称 name",
    "lon_wgs84": "经度 WGS84", "lat_wgs84": "纬度 WGS84",
    "lon_gcj02": "经度 GCJ-02 (高德/腾讯)", "lat_gcj02": "纬度 GCJ-02 (高德/腾讯)",
    "lon_bd09": "经度 BD-09 (百度)", "lat_bd09": "纬度 BD-09 (百度)",
    "gain": "新增覆盖 gain", "covered": "累计覆盖 covered", "share": "覆盖率 share",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan", help=SUBCOMMANDS["plan"],
        description="Choose N new station sites among candidates (a grid, or your list) that "
        "bring the most demand within reach, the existing stations fixed. Prints each site's "
        "gain, the coverage curve and how close the answer is to the best possible (an upper "
        "bound from the LP relaxation; with --exact, HiGHS proves the optimum).")
    add_data_option(parser)
    input_file_options(parser, "demand", "demand points or cells with weights (CSV with lon, "
                       "lat, weight; or GeoPackage/GeoJSON)", ("weight",))
    add_search_options(parser)
    input_file_options(parser, "candidates", "candidate sites (CSV with lon, lat and an "
                       "optional name; or GeoPackage/GeoJSON points); default: a grid over "
                       "the demand",
                       ("name",))
    parser.add_argument("--grid", type=float, default=500.0, metavar="METRES",
                        help="spacing of the candidate grid when no --candidates (default: 500)")
    parser.add_argument("--sites", type=int, default=10,
                        help="how many new sites to choose (default: 10)")
    add_reach_options(parser, 1000.0)
    parser.add_argument("--exact", action="store_true",
                        help="ask HiGHS for the proven optimum (small instances)")
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="SECONDS",
                        help="time for improving the answer and its bound (default: 30)")
    add_output_option(parser, what="the sites as CSV, or JSON with --json", metavar="FILE",
                      default="-")
    parser.add_argument("--json", action="store_true",
                        help="write JSON for programs (sites in WGS84, covered before and "
                        "after, the upper bound) instead of CSV")
    parser.add_argument("--map", type=Path, metavar="FILE.html",
                        help="also draw the sites on a map")
    parser.add_argument("--basemap", choices=[b.value for b in Basemap], default="osm",
                        help="base map of --map: osm (WGS84) or amap (GCJ-02)")
    parser.set_defaults(handler=run)


def _demand(args: argparse.Namespace):
    if (args.demand is None) == (args.searches is None):
        raise PlanningError("demand: give --demand FILE or --searches DB (one of them)")
    if args.demand is not None:
        return read_demand(args.demand, args.demand_crs, args.weight_field)
    until = args.until or dt.date.today() - dt.timedelta(days=1)
    cells = read_search_counts(args.searches, until - dt.timedelta(days=args.days - 1), until,
                               args.min_searches)
    return cells.as_demand()


def _csv(rows: list[dict[str, object]]) -> str:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(CSV_HEADINGS.values())
    for row in rows:
        writer.writerow([neutralise_formula(v) if isinstance(v, str) else
                         (f"{v:.4f}" if key == "share" else v)
                         for key, v in ((k, row[k]) for k in CSV_HEADINGS)])
    return text.getvalue()


def run(args: argparse.Namespace) -> int:
    demand = _demand(args)
    if args.candidates is not None:
        candidates = read_candidates(args.candidates, args.candidates_crs, args.name_field)
    else:
        candidates = grid_candidates(demand.lon, demand.lat, args.grid)
    stations = pyogrio.read_dataframe(args.data, layer=STATIONS_LAYER, columns=["id"],
                                      use_arrow=True)
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    reach = ReachMaker(args, (float(demand.lon.min()), float(demand.lat.min()),
                              float(demand.lon.max()), float(demand.lat.max())))(lon, lat)
    plan = plan_sites(candidates, demand, lon, lat, args.sites, reach.reach_m, exact=args.exact,
                      time_limit_s=args.time_limit, reach=reach)
    rows = plan_rows(plan, candidates)
    if args.json:
        text = json.dumps({
            "reach_m": reach.reach_m, "by": reach.by, "reach": reach.label,
            "demand_total": plan.demand_total,
            "covered_before": plan.covered_before, "covered_after": plan.covered_after,
            "upper_bound": plan.upper_bound, "bound_method": plan.bound_method,
            "gap": plan.gap, "optimal": plan.optimal, "seconds": round(plan.seconds, 3),
            "candidates": len(candidates), "notes": plan.notes,
            "sites": [{k: v for k, v in row.items() if not k.endswith(("gcj02", "bd09"))}
                      for row in rows]}, ensure_ascii=False, indent=1)
    else:
        text = _csv(rows)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        # UTF-8 with a byte order mark, so that Excel on Chinese Windows reads the headings.
        Path(args.output).write_text(text, encoding="utf-8" if args.json else "utf-8-sig")
    if args.map is not None:
        fmap = build_sites_map(plan, candidates, lon, lat, reach, Basemap(args.basemap))
        save_map(fmap, args.map)
    _summary(plan)
    return 0


def _summary(plan) -> None:
    total = plan.demand_total or 1.0
    quality = ("最优 optimal (proven)" if plan.optimal else
               f"距最优至多 {plan.gap * 100:.1f}% / within {plan.gap * 100:.1f}% of the best "
               f"possible ({plan.bound_method})")
    print(f"{len(plan.chosen)} 个新站 new sites: 覆盖 covered {plan.covered_before:,.0f} → "
          f"{plan.covered_after:,.0f} of {plan.demand_total:,.0f} "
          f"({plan.covered_before / total * 100:.1f}% → {plan.covered_after / total * 100:.1f}%); "
          f"{quality}; {plan.seconds:.1f} s", file=sys.stderr)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
