"""Time coordinate conversions of a national table (default 150,000 points) against peers.

Our numpy functions convert the whole array at once.  The peers, in the same run and on the
same points:

* ``coordTransform`` called once per point (pure Python; the loop an app would write),
* ``coordTransform``'s C batch functions (a compiled peer, forward and one-step inverse only),
* ``prcoords`` per point, whose ``*_bored`` inverses iterate like ours.

It also prints the worst round-trip error in metres, so a faster but wrong change shows.

    .venv/bin/python benchmarks/bench_crs.py [--count 150000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import coordTransform
import numpy as np
import prcoords
from coordTransform import coordTransform as coord_transform_module

from stations import crs
from stations.index import haversine_m

# A pure-Python loop over 150,000 points takes seconds; time it on this many and scale up.
PEER_LOOP_POINTS = 20_000

# label, our function, coordTransform's name for it, prcoords' function, input system
CASES = (
    ("WGS84 -> GCJ-02", crs.wgs84_to_gcj02, "wgs84_to_gcj02", prcoords.wgs_gcj, "wgs84"),
    ("GCJ-02 -> WGS84", crs.gcj02_to_wgs84, "gcj02_to_wgs84", prcoords.gcj_wgs_bored, "gcj02"),
    ("WGS84 -> BD-09", crs.wgs84_to_bd09, "wgs84_to_bd09", prcoords.wgs_bd, "wgs84"),
    ("BD-09 -> WGS84", crs.bd09_to_wgs84, "bd09_to_wgs84", prcoords.bd_wgs_bored, "bd09"),
)


def china_points(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(75.0, 134.0, count), rng.uniform(18.0, 53.0, count)


def best_ms(function: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` runs, in milliseconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times) * 1000.0


def per_point_ms(function: Callable[[float, float], object], lon: np.ndarray, lat: np.ndarray,
                 count: int) -> float:
    """Time a scalar function over PEER_LOOP_POINTS points and scale to ``count`` points."""
    sample_lon = lon[:PEER_LOOP_POINTS].tolist()
    sample_lat = lat[:PEER_LOOP_POINTS].tolist()

    def loop() -> None:
        for x, y in zip(sample_lon, sample_lat, strict=True):
            function(x, y)

    return best_ms(loop, 1) * count / len(sample_lon)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=150_000, help="points (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (default: 5)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    lon, lat = china_points(args.count, args.seed)
    gcj_lon, gcj_lat = crs.wgs84_to_gcj02(lon, lat)
    bd_lon, bd_lat = crs.wgs84_to_bd09(lon, lat)

    inputs = {"wgs84": (lon, lat), "gcj02": (gcj_lon, gcj_lat), "bd09": (bd_lon, bd_lat)}
    print(f"{args.count:,} random points over mainland China, best of {args.repeat} runs (ms); "
          f"per-point loops timed on {min(PEER_LOOP_POINTS, args.count):,} points and scaled")
    header = (f"{'conversion':<16} {'stations':>10} {'coordTransform C':>17} "
              f"{'coordTransform py':>18} {'prcoords py':>12} {'speed-up vs py':>15}")
    print(header)
    print("-" * len(header))
    for label, ours, peer_name, prcoords_function, source in CASES:
        x, y = inputs[source]
        ours_ms = best_ms(lambda ours=ours, x=x, y=y: ours(x, y), args.repeat)
        c_batch = getattr(coordTransform, peer_name)
        c_ms = best_ms(lambda c_batch=c_batch, x=x, y=y: c_batch(x, y), args.repeat)
        py_ms = per_point_ms(getattr(coord_transform_module, "_py_" + peer_name), x, y, args.count)
        prc_ms = per_point_ms(lambda a, b, f=prcoords_function: f((b, a)), x, y, args.count)
        print(f"{label:<16} {ours_ms:>10.1f} {c_ms:>17.1f} {py_ms:>18.0f} {prc_ms:>12.0f} "
              f"{py_ms / ours_ms:>14.0f}x")

    print("\nworst round-trip error (m), ours vs coordTransform's one-step inverse:")
    for label, forward, inverse, peer_inverse in (
        ("GCJ-02", crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, coordTransform.gcj02_to_wgs84),
        ("BD-09", crs.wgs84_to_bd09, crs.bd09_to_wgs84, coordTransform.bd09_to_wgs84),
    ):
        there_lon, there_lat = forward(lon, lat)
        ours = haversine_m(lon, lat, *inverse(there_lon, there_lat)).max()
        peer_lon, peer_lat = np.asarray(peer_inverse(there_lon, there_lat), dtype=float)
        peer = haversine_m(lon, lat, peer_lon, peer_lat).max()
        print(f"  {label:<7} stations {ours:.2e}   coordTransform {peer:.2f}")


if __name__ == "__main__":
    main()
