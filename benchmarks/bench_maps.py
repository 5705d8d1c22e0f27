"""Build the station map for a synthetic national table (default 150,000 stations) and open it.

Prints, for this package's station map and, as a peer in the same run, folium's
FastMarkerCluster (clusters only: no popup content, search or filters): the build time
(folium map + HTML), the HTML size, and the time from navigation start until the first
markers are drawn in headless Chromium with the network cut.  Optionally also times the
coverage map of the whole table.

    .venv/bin/python benchmarks/bench_maps.py [--count 150000] [--seed 7] [--coverage]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
from folium.plugins import FastMarkerCluster
from playwright.sync_api import sync_playwright

from stations.geodata import station_frame
from stations.maps import build_station_map, render_html
from stations.maps.coverage_map import build_coverage_map
from stations.model import AMENITIES, TEXT_FIELDS
from stations.synth import synthesize_table

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIRST_MARKERS = ".marker-cluster, .station-pin"


def synthetic_stations(count: int, seed: int) -> gpd.GeoDataFrame:
    """The synthetic table as a canonical station frame (amenities as boolean columns)."""
    table = synthesize_table(count, seed)
    codes = table["amenities"].str.split(";")
    columns: dict[str, object] = {field: table[field].to_numpy() for field in TEXT_FIELDS}
    for amenity in AMENITIES:
        columns[amenity.column] = codes.map(lambda c, code=amenity.code: code in c).to_numpy()
    return station_frame(columns, table["lon"], table["lat"])


def fast_marker_cluster_map(stations: gpd.GeoDataFrame) -> folium.Map:
    """folium's own answer to many points: one JS array, no popups, no filters."""
    fmap = folium.Map(location=(35, 105), zoom_start=5)
    points = np.column_stack([stations.geometry.y, stations.geometry.x]).round(6).tolist()
    # A plain Leaflet marker: the default callback needs awesome-markers from a CDN.
    FastMarkerCluster(points, callback="function (row) { return L.marker(row); }").add_to(fmap)
    return fmap


def timed_build(build: Callable[[], str]) -> tuple[float, str]:
    start = time.perf_counter()
    page = build()
    return time.perf_counter() - start, page


def first_markers_ms(browser, path: Path) -> float:
    """Milliseconds from navigation start until a cluster or pin is in the page."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
               else r.abort())
    page.goto(path.as_uri(), wait_until="commit")
    page.wait_for_selector(FIRST_MARKERS, timeout=60_000)
    elapsed = page.evaluate("performance.now()")
    page.close()
    return float(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--coverage", action="store_true",
                        help="also build the coverage map of the whole table")
    args = parser.parse_args()

    stations = synthetic_stations(args.count, args.seed)
    print(f"{len(stations):,} synthetic stations (stations.synth, seed {args.seed})")
    contenders = {
        "station map (popups, search, filters)":
            lambda: render_html(build_station_map(stations)),
        "folium FastMarkerCluster (clusters only)":
            lambda: render_html(fast_marker_cluster_map(stations), offline=True),
    }
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=CHROMIUM_ARGS)
        print(f"{'map':42} {'build s':>8} {'HTML MB':>8} {'first markers s':>16}")
        for i, (name, build) in enumerate(contenders.items()):
            seconds, page = timed_build(build)
            path = Path(folder) / f"map{i}.html"
            path.write_text(page, encoding="utf-8")
            size_mb = path.stat().st_size / 1e6
            drawn = first_markers_ms(browser, path) / 1000
            print(f"{name:42} {seconds:8.2f} {size_mb:8.2f} {drawn:16.2f}")
        browser.close()
    if args.coverage:
        seconds, page = timed_build(lambda: render_html(build_coverage_map(stations)))
        print(f"{'coverage map (500 m, 1 km, whole table)':42} {seconds:8.2f} "
              f"{len(page.encode('utf-8')) / 1e6:8.2f}")


if __name__ == "__main__":
    main()
