"""Coverage by road against the straight-line peer, on a synthetic city, in one run.

    .venv/bin/python benchmarks/bench_road_reach.py           # 400 x 400 crossings, 50 m apart
    .venv/bin/python benchmarks/bench_road_reach.py --quick   # 100 x 100, a smoke run

A grid city written with pyosmium (stations/roads/synthetic.py: a river with three bridges,
10 % of street segments missing, footways, one-way streets; 20 x 20 km by default, 160,000
crossings), cut into four districts, with 400 stations and 50,000 weighted demand points
at random.  For a 15-minute walk (1,125 m) it prints, wall-clock and CPU seconds each:

1. loading the walking graph, and preparing the reach (snapping the stations, one
   multi-source Dijkstra from all of them);
2. ``district_coverage`` (area share, demand share, largest gaps) by road, and the same with
   the straight-line reach of 1,125 m as the peer, with both shares;
3. the isochrone polygons (service area of all stations) and their GeoJSON size;
4. ``plan_sites`` choosing 20 sites among 2,000 candidates for the demand, by road and by
   straight line;
5. agreement of ``nearest_m`` with scipy's full Dijkstra on 200 random points.

Target: the coverage by road of such a city within 10 s (the national straight-line target),
the isochrones within 5 s and 5 MB.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from stations.planning.coverage import Stations, coverage_totals, district_coverage
from stations.planning.demand import demand_points
from stations.planning.reach import StraightLineReach
from stations.planning.road_reach import RoadReach, minutes_to_metres
from stations.planning.sites import Candidates, plan_sites
from stations.roads import RoadNetwork
from stations.roads.nearest import RoadStations
from stations.roads.reference import road_metres_to_all
from stations.roads.synthetic import GridCity, write_grid_city


def timed(label: str, work: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``work``; print and return its wall-clock seconds (CPU seconds beside)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<44} {wall:7.2f} s wall, {cpu:7.2f} s CPU")
    return result, wall


def four_districts(city: GridCity) -> gpd.GeoDataFrame:
    west, south, east, north = city.bounds()
    mid_x, mid_y = (west + east) / 2, (south + north) / 2
    boxes = [shapely.box(west, south, mid_x, mid_y), shapely.box(mid_x, south, east, mid_y),
             shapely.box(west, mid_y, mid_x, north), shapely.box(mid_x, mid_y, east, north)]
    return gpd.GeoDataFrame({"code": ["610101", "610102", "610103", "610104"],
                             "name": ["西南区", "东南区", "西北区", "东北区"],
                             "level": "district", "province": "陕西省", "city": "西安市"},
                            geometry=boxes, crs="EPSG:4326")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small city, for a smoke run")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    size = 100 if args.quick else 400
    city = GridCity(columns=size, rows=size, spacing_m=50.0, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    west, south, east, north = city.bounds()

    def uniform(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(west, east, n), rng.uniform(south, north, n)

    station_lon, station_lat = uniform(25 if args.quick else 400)
    demand = demand_points(*uniform(5_000 if args.quick else 50_000),
                           rng.integers(1, 50, 5_000 if args.quick else 50_000))
    candidates = Candidates(*uniform(500 if args.quick else 2_000))
    districts = four_districts(city)
    reach_m = minutes_to_metres(15, "walk")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.osm.pbf"
        write_grid_city(path, city)
        print(f"grid city {size} x {size} crossings 50 m apart, {len(station_lon):,} stations, "
              f"{len(demand):,} demand points, 15-minute walk = {reach_m:,.0f} m")
        # Warm-up: numba loads its compiled kernels from the cache (or compiles them once).
        warm = RoadNetwork.load(path, ["walk"])
        RoadReach(warm, "walk", station_lon[:5], station_lat[:5], reach_m).site_coverage(
            candidates.lon[:5], candidates.lat[:5], demand.lon[:5], demand.lat[:5])
        network, _ = timed("load the walking graph", lambda: RoadNetwork.load(path, ["walk"]))
        graph = network.graphs["walk"]
        print(f"  ({graph.node_count:,} nodes, {graph.segment_count:,} segments)")
        road, _ = timed("prepare: snap stations, multi-source Dijkstra",
                        lambda: RoadReach(network, "walk", station_lon, station_lat, reach_m))
        straight = StraightLineReach(station_lon, station_lat, reach_m)
        located = Stations.locate(station_lon, station_lat, districts)
        by_road, road_s = timed("district coverage by road", lambda: district_coverage(
            located, districts, road, demand))
        by_line, line_s = timed("peer: district coverage by straight line",
                                lambda: district_coverage(located, districts, straight, demand))
        road_totals, line_totals = coverage_totals(by_road), coverage_totals(by_line)
        print(f"  area within reach: {road_totals['area_share']:.1%} by road, "
              f"{line_totals['area_share']:.1%} in a straight line; demand: "
              f"{road_totals['demand_share']:.1%} / {line_totals['demand_share']:.1%}")
        area, area_s = timed("isochrones of all stations", road.service_area)
        geojson_mb = len(json.dumps(shapely.geometry.mapping(area))) / 1e6
        print(f"  ({shapely.get_num_coordinates(area):,} vertices, {geojson_mb:.1f} MB GeoJSON)")
        plan_road, plan_road_s = timed("plan 20 of the candidates by road", lambda: plan_sites(
            candidates, demand, station_lon, station_lat, 20, reach_m, reach=road))
        plan_line, _ = timed("peer: plan 20 by straight line", lambda: plan_sites(
            candidates, demand, station_lon, station_lat, 20, reach_m))
        print(f"  covered demand after: {plan_road.covered_after / plan_road.demand_total:.1%}"
              f" by road (within {plan_road.gap:.1%} of the bound), "
              f"{plan_line.covered_after / plan_line.demand_total:.1%} by straight line")
        lon, lat = uniform(200)
        brute = RoadStations(graph, network.snappers["walk"], station_lon, station_lat)
        expected = np.array([np.inf if start is None else
                             road_metres_to_all(brute, start, reach_m * 4).min()
                             for start in brute.starts(lon, lat)])
        found = road.nearest_m(lon, lat)
        near = expected <= reach_m * 4
        agree = np.allclose(found[near], expected[near], rtol=1e-9, atol=1e-6)
        print(f"  agrees with scipy's Dijkstra on {near.sum()} of 200 random points: {agree}")
        print(f"target: coverage by road {road_s:.2f} s (<= 10 s; straight line {line_s:.2f} s),"
              f" isochrones {area_s:.2f} s and {geojson_mb:.1f} MB (<= 5 s, 5 MB), plan by road "
              f"{plan_road_s:.2f} s")


if __name__ == "__main__":
    main()
