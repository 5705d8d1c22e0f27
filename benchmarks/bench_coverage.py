"""Coverage of a synthetic national table (default 150,000 stations) by district, and its map.

Times ``stations.planning``: load the 2,875 districts (from the cache, after one warm-up run
that converts them from GCJ-02), place the stations by point in polygon, measure the share
of each district's area within reach, the largest gaps, and draw the district choropleth.
Target: at most 10 s and an HTML file of at most 15 MB.

Peers in the same run: the station placement with geopandas ``sjoin`` (the usual way), and
the old whole-table coverage map (``build_coverage_map``: convex hull, grid, service areas)
unless ``--no-old-map``.

    .venv/bin/python benchmarks/bench_coverage.py [--count 150000] [--seed 7] [--reach 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

from stations.maps.coverage_map import build_coverage_map
from stations.maps.district_map import build_district_map
from stations.maps.render import save_map
from stations.planning.coverage import Stations, coverage_totals, district_coverage
from stations.planning.districts import load_package_districts
from stations.planning.reach import StraightLineReach
from stations.planning.samples import cached_area_samples
from stations.synth import synthesize_table


def national_coverage(lon: np.ndarray, lat: np.ndarray, reach_m: float, out: Path
                      ) -> tuple[dict[str, float], dict[str, float]]:
    """Every step of ``stations coverage --map`` for the whole country; times and totals."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    districts = load_package_districts("district")
    samples = cached_area_samples(districts)
    times["load districts + samples"] = time.perf_counter() - start
    mark = time.perf_counter()
    located = Stations.locate(lon, lat, districts)
    times["point in polygon"] = time.perf_counter() - mark
    mark = time.perf_counter()
    table = district_coverage(located, districts, StraightLineReach(lon, lat, reach_m),
                              samples=samples)
    times["area share + gaps"] = time.perf_counter() - mark
    mark = time.perf_counter()
    save_map(build_district_map(table, districts, reach_m), out)
    times["choropleth HTML"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    return times, coverage_totals(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reach", type=float, default=1000.0)
    parser.add_argument("--no-old-map", action="store_true",
                        help="skip the old whole-table coverage map (it takes about a minute)")
    args = parser.parse_args()
    table = synthesize_table(args.count, args.seed)
    lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "districts.html"
        national_coverage(lon, lat, args.reach, out)  # warm-up: fills the boundary cache
        times, totals = national_coverage(lon, lat, args.reach, out)
        print(f"{args.count:,} stations, reach {args.reach:g} m, {totals['districts']:,} "
              f"districts ({totals['districts_without_station']:,} without a station), "
              f"{totals['area_share'] * 100:.2f} % of the area within reach")
        for step, seconds in times.items():
            print(f"  {step:<26} {seconds:6.2f} s")
        print(f"  choropleth HTML            {out.stat().st_size / 1e6:6.1f} MB "
              "(target: 10 s, 15 MB)")

        districts = load_package_districts("district")
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        start = time.perf_counter()
        joined = gpd.sjoin(points, districts[["code", "geometry"]], predicate="within")
        sjoin_s = time.perf_counter() - start
        located = Stations.locate(lon, lat, districts)
        agree = np.mean(located.district[joined.index] == joined["index_right"].to_numpy())
        print(f"peer: geopandas sjoin of the stations into districts {sjoin_s:6.2f} s "
              f"(ours {times['point in polygon']:.2f} s; same district for {agree:.2%})")

        if not args.no_old_map:
            frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
            start = time.perf_counter()
            old = Path(tmp) / "old.html"
            save_map(build_coverage_map(frame, radii_m=(args.reach,)), old)
            print(f"peer: old whole-table coverage map (hull and grid) "
                  f"{time.perf_counter() - start:6.2f} s, {old.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
