"""Coverage of a synthetic national table (default 150,000 stations) by district, and its map.

Times ``stations.planning``: load the 2,875 districts (from the cache, after one warm-up run
that converts them from GCJ-02), place the stations by point in polygon, measure the share
of each district's area within reach, the largest gaps, and draw the district choropleth.
Target: at most 10 s and an HTML file of at most 15 MB.

Each step is timed in wall-clock and CPU seconds (all threads; the machine may be shared).

Peers in the same run: the area share counted at the cell centres (the general method, used
for kinds of reach other than straight lines), the station placement with geopandas ``sjoin``
(the usual way), and the old whole-table coverage map (``build_coverage_map``: convex hull,
grid, service areas) unless ``--no-old-map``.

    .venv/bin/python benchmarks/bench_coverage.py [--count 150000] [--seed 7] [--reach 1000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

from stations.maps.coverage_map import build_coverage_map
from stations.maps.district_map import build_district_map
from stations.maps.render import save_map
from stations.planning.coverage import (
    Stations,
    area_within,
    coverage_totals,
    distances_within,
    district_coverage,
)
from stations.planning.districts import load_package_districts
from stations.planning.reach import StraightLineReach
from stations.planning.samples import cached_area_samples
from stations.synth import synthesize_table


class Clock:
    """Wall-clock and CPU seconds (every thread of this process) of each step."""

    def __init__(self) -> None:
        self.times: dict[str, tuple[float, float]] = {}
        self._start = self._mark = (time.perf_counter(), time.process_time())

    def step(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.times[name] = (now[0] - self._mark[0], now[1] - self._mark[1])
        self._mark = now

    def total(self) -> None:
        now = (time.perf_counter(), time.process_time())
        self.times["total"] = (now[0] - self._start[0], now[1] - self._start[1])


def national_coverage(lon: np.ndarray, lat: np.ndarray, reach_m: float, out: Path
                      ) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Every step of ``stations coverage --map`` for the whole country; times and totals."""
    clock = Clock()
    districts = load_package_districts("district")
    samples = cached_area_samples(districts)
    clock.step("load districts + samples")
    located = Stations.locate(lon, lat, districts)
    clock.step("point in polygon")
    table = district_coverage(located, districts, StraightLineReach(lon, lat, reach_m),
                              samples=samples)
    clock.step("area share + gaps")
    save_map(build_district_map(table, districts, reach_m), out)
    clock.step("choropleth HTML")
    clock.total()
    return clock.times, coverage_totals(table)


def area_peers(lon: np.ndarray, lat: np.ndarray, reach_m: float) -> None:
    """Ours (cells measured exactly) against counting each cell by its centre, alone."""
    districts = load_package_districts("district")
    samples = cached_area_samples(districts)
    located = Stations.locate(lon, lat, districts)
    reach = StraightLineReach(lon, lat, reach_m)
    area = samples.district_km2
    cells = np.maximum(np.bincount(samples.district, minlength=len(area)), 1)

    def exact() -> np.ndarray:
        return area_within(located, reach, samples).share

    def centres() -> np.ndarray:
        reached = np.isfinite(distances_within(located, reach, samples.lon.astype(np.float64),
                                               samples.lat.astype(np.float64)))
        return np.bincount(samples.district, reached, len(area)) / cells

    for name, measure in (("ours, cells measured exactly", exact),
                          ("peer, cells counted by their centre", centres)):
        wall, cpu = time.perf_counter(), time.process_time()
        share = measure()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{name:<38} {wall:6.2f} s wall {cpu:6.2f} s CPU, "
              f"{float(np.sum(share * area) / area.sum()) * 100:.4f} % of the area")


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
              f"{totals['area_share'] * 100:.4f} % of the area within reach "
              f"(± {totals['area_share_bound'] * 100:.4f} percentage points at most); "
              f"load {os.getloadavg()[0]:.1f}")
        print(f"  {'step':<26} {'wall':>8} {'CPU':>8}")
        for step, (wall, cpu) in times.items():
            print(f"  {step:<26} {wall:6.2f} s {cpu:6.2f} s")
        print(f"  choropleth HTML            {out.stat().st_size / 1e6:6.1f} MB")
        print(f"TARGET total {times['total'][0]:.2f} s (<= 10 s), HTML "
              f"{out.stat().st_size / 1e6:.1f} MB (<= 15 MB)")
        area_peers(lon, lat, args.reach)

        districts = load_package_districts("district")
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        start = time.perf_counter()
        joined = gpd.sjoin(points, districts[["code", "geometry"]], predicate="within")
        sjoin_s = time.perf_counter() - start
        located = Stations.locate(lon, lat, districts)
        agree = np.mean(located.district[joined.index] == joined["index_right"].to_numpy())
        print(f"peer: geopandas sjoin of the stations into districts {sjoin_s:6.2f} s "
              f"(ours {times['point in polygon'][0]:.2f} s; same district for {agree:.2%})")

        if not args.no_old_map:
            frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
            start = time.perf_counter()
            old = Path(tmp) / "old.html"
            save_map(build_coverage_map(frame, radii_m=(args.reach,)), old)
            print(f"peer: old whole-table coverage map (hull and grid) "
                  f"{time.perf_counter() - start:6.2f} s, {old.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
