"""Time every feed format on a synthetic national table (default 150,000 stations).

For each format it prints the time to write the file, its size, and its size gzipped (what
the API sends to clients that accept gzip).  As a peer in the same run,
GDAL (pyogrio) writes the same frame as GeoJSON, KML, GPX and CSV without our fields, labels or
coordinate conversion, so the cost of what the feeds add shows.

    .venv/bin/python benchmarks/bench_export.py [--count 150000] [--seed 7]
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pyogrio

from stations.export import EXPORTERS, default_filename
from stations.geodata import station_frame
from stations.model import AMENITIES, TEXT_FIELDS
from stations.synth import synthesize_table

GDAL_PEERS = {"GeoJSON": ".geojson", "KML": ".kml", "GPX": ".gpx", "CSV": ".csv"}


def synthetic_stations(count: int, seed: int) -> gpd.GeoDataFrame:
    """The synthetic table as a canonical station frame (amenity codes to boolean columns)."""
    table = synthesize_table(count, seed)
    codes = table["amenities"].str.split(";")
    columns: dict[str, object] = {field: table[field] for field in TEXT_FIELDS}
    for amenity in AMENITIES:
        columns[amenity.column] = codes.apply(lambda cell, code=amenity.code: code in cell)
    return station_frame(columns, table["lon"], table["lat"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    stations = synthetic_stations(args.count, args.seed)
    print(f"{len(stations):,} synthetic stations (stations.synth, seed {args.seed})")
    print(f"{'format':<16}{'seconds':>9}{'MiB':>10}{'gzip MiB':>10}  file")
    with tempfile.TemporaryDirectory() as folder:
        for exporter in EXPORTERS.values():
            path = Path(folder) / default_filename(exporter)
            start = time.perf_counter()
            exporter.write(stations, path)
            elapsed = time.perf_counter() - start
            packed = len(gzip.compress(path.read_bytes(), compresslevel=6)) / 2**20
            print(f"{exporter.name:<16}{elapsed:>9.2f}{path.stat().st_size / 2**20:>10.1f}"
                  f"{packed:>10.1f}  {path.name}")
        print("peer: GDAL writing the plain frame (no labels, no conversion)")
        gdal_frame = stations[[*TEXT_FIELDS, "geometry"]]
        for driver, extension in GDAL_PEERS.items():
            path = Path(folder) / f"gdal{extension}"
            layer_options = {"GEOMETRY": "AS_XY"} if driver == "CSV" else {}
            dataset_options = {"GPX_USE_EXTENSIONS": "YES"} if driver == "GPX" else {}
            start = time.perf_counter()
            pyogrio.write_dataframe(gdal_frame, path, driver=driver, layer_options=layer_options,
                                    dataset_options=dataset_options)
            elapsed = time.perf_counter() - start
            print(f"{'gdal-' + driver.lower():<16}{elapsed:>9.2f}"
                  f"{path.stat().st_size / 2**20:>10.1f}{'':>10}  {path.name}")


if __name__ == "__main__":
    main()
