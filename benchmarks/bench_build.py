"""Time ``stations build`` on a synthetic national table (default 150,000 stations).

Writes the table as CSV (GCJ-02, as Amap exports), then times reading + validation and the
atomic GeoPackage write, and prints the file size.  As a peer in the same run it times GDAL
writing the already-validated frame without any checks, so the cost of validation shows.

    .venv/bin/python benchmarks/bench_build.py [--count 150000] [--seed 7]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from stations.crs import from_wgs84
from stations.ingest.build import build_geopackage, check_sources
from stations.ingest.sources import make_spec
from stations.model import AMENITY_CODES

# A few city centres (WGS84) for the stand-in table used when stations.synth is absent.
_CENTRES = [(116.40, 39.90), (121.47, 31.23), (113.26, 23.13), (114.06, 22.54), (104.07, 30.57),
            (106.55, 29.56), (108.37, 22.82), (120.15, 30.27), (114.30, 30.59), (108.94, 34.34)]


def stand_in_table(count: int, seed: int) -> pd.DataFrame:
    """A plain synthetic table with the columns stations.synth produces."""
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, len(_CENTRES), count)
    lon = np.array([c[0] for c in _CENTRES])[centre] + rng.normal(0, 0.15, count)
    lat = np.array([c[1] for c in _CENTRES])[centre] + rng.normal(0, 0.12, count)
    has = rng.random((count, len(AMENITY_CODES))) < 0.4
    codes = np.array(AMENITY_CODES, dtype=object)
    return pd.DataFrame({
        "id": [f"SY-{i:06d}" for i in range(count)],
        "name": [f"合成工会驿站{i}号" for i in range(count)],
        "address": [f"合成路{i % 997}号" for i in range(count)],
        "city": [f"城市{c}" for c in centre],
        "opening_hours": rng.choice(["24/7", "Mo-Fr 08:00-18:00", "06:00-22:00"], count),
        "status": "open",
        "phone": "0771-12351",
        "lon": lon,
        "lat": lat,
        "amenities": [";".join(codes[row]) for row in has],
    })


def synthetic_table(count: int, seed: int) -> tuple[pd.DataFrame, str]:
    try:
        from stations.synth import synthesize_table
    except ImportError:
        return stand_in_table(count, seed), "stand-in generator"
    return synthesize_table(count, seed), "stations.synth"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    table, generator = synthetic_table(args.count, args.seed)
    table["lon"], table["lat"] = from_wgs84(table["lon"], table["lat"], "gcj02")
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "national.csv"
        table.to_csv(csv_path, index=False)
        spec = make_spec(csv_path, "gcj02", label="national.csv")
        output = Path(folder) / "stations.gpkg"

        started = time.perf_counter()
        result = check_sources([spec])
        validated = time.perf_counter()
        report = build_geopackage([spec], output)
        built = time.perf_counter()

        peer = Path(folder) / "peer.gpkg"
        pyogrio.write_dataframe(result.stations, peer, layer="stations", driver="GPKG",
                                layer_options={"SPATIAL_INDEX": "YES"})
        peer_done = time.perf_counter()

        print(f"rows: {args.count} ({generator}), CSV {csv_path.stat().st_size / 1e6:.1f} MB")
        print(f"read + validate:          {validated - started:6.2f} s")
        print(f"build (read, validate, write GeoPackage): {built - validated:6.2f} s")
        print(f"peer: GDAL write of the validated frame, no checks: {peer_done - built:6.2f} s")
        print(f"GeoPackage size: {output.stat().st_size / 1e6:.1f} MB")
        print(report.summary())


if __name__ == "__main__":
    main()
