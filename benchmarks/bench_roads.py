"""Benchmark riding distance by road (stations.roads) on a synthetic city, in one run.

    .venv/bin/python benchmarks/bench_roads.py            # 1,000,000 nodes, 2,000 stations
    .venv/bin/python benchmarks/bench_roads.py --quick    # 40,000 nodes, for a smoke run

What it does and prints:

1. writes a grid city with pyosmium to a temporary ``.osm.pbf`` (1000 x 1000 crossings 30 m
   apart; a river with three bridges, 10% of street segments missing, footways, one-way
   streets; see stations/roads/synthetic.py) and 2,000 stations at random places in it;
2. load (read + both profiles' graphs and snapping trees) and prepare (snap the stations, label
   every node with its 8 nearest stations, both profiles) in seconds, and the peak resident
   memory of this process;
3. single k=5 e-bike queries in process: p50 and p99, and how many the labels answered alone;
4. agreement with scipy's Dijkstra over the same graph on 1,000 random positions (bounded at
   the answer's 5th distance plus 1 m, which only makes it faster: any nearer station would
   be found);
5. how often the straight-line nearest station is not the nearest by road, and how many
   extra metres riding to it costs (p50, p90);
6. HTTP: ``GET /nearest?by=road`` and the straight-line ``GET /nearest`` on the same
   ``stations serve --roads`` process under wrk, in turns, with its start-up time and memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_api import run_wrk, stations_serve, write_synthetic
from servers import free_port, memory_kib, running_server

from stations.index import StationIndex
from stations.roads import RoadNetwork
from stations.roads.reference import road_metres_to_all
from stations.roads.synthetic import GridCity, write_grid_city


def percentiles_ms(seconds: list[float]) -> str:
    p50, p99 = np.percentile(np.asarray(seconds) * 1e3, [50, 99])
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"


def bench_queries(roads, points: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    prepared = roads.profiles["ebike"]
    timings, by_labels = [], 0
    for lon, lat in points:
        start = time.perf_counter()
        roads.nearest(lon, lat, 5)
        timings.append(time.perf_counter() - start)
        (rider,) = prepared.starts(lon, lat)
        by_labels += prepared._from_labels(rider, 5, None, None) is not None
    print(f"one k=5 query by road, in process, {len(points):,} random positions: "
          f"{percentiles_ms(timings)}; prepared labels alone answered {by_labels:,}, "
          f"a search from the rider the rest")


def bench_agreement(roads, points: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    prepared = roads.profiles["ebike"]
    on_road = prepared.on_road
    straight = StationIndex(prepared.lon[on_road], prepared.lat[on_road])
    on_road_rows = np.flatnonzero(on_road)
    agree, wrong, extra = 0, 0, []
    start = time.perf_counter()
    for lon, lat in points:
        (rider,) = prepared.starts(lon, lat)
        answer = prepared.nearest(rider, 5)
        expected = road_metres_to_all(prepared, rider, limit=answer.metres[-1] + 1.0)
        ranked = np.sort(expected)[:5]
        agree += bool(np.allclose(ranked, answer.metres, rtol=1e-9, atol=1e-6)
                      and np.allclose(expected[answer.rows], answer.metres, rtol=1e-9,
                                      atol=1e-6))
        crow = int(on_road_rows[straight.nearest(lon, lat, 1)[0][0]])
        if crow != answer.rows[0]:
            only = np.zeros(prepared.count, dtype=bool)
            only[crow] = True
            to_crow = prepared.nearest(rider, 1, only).metres[0]
            if to_crow > answer.metres[0] + 1e-6:  # not a tie
                wrong += 1
                extra.append(to_crow - answer.metres[0])
    print(f"agreement with scipy's Dijkstra, {len(points):,} random positions, k=5: "
          f"{agree:,} / {len(points):,} ({100 * agree / len(points):.1f}%), checked in "
          f"{time.perf_counter() - start:.0f} s")
    p50, p90 = np.percentile(extra, [50, 90]) if extra else (0.0, 0.0)
    print(f"straight-line nearest is not the nearest by road: {wrong:,} / {len(points):,} "
          f"({100 * wrong / len(points):.1f}%); riding to it costs +{p50:.0f} m (p50), "
          f"+{p90:.0f} m (p90)")


def bench_http(gpkg: Path, pbf: Path, points: np.ndarray, seconds: int, rounds: int,
               workdir: Path) -> None:
    if shutil.which("wrk") is None:
        print("HTTP: skipped, wrk is not installed (apt-get install wrk)")
        return
    files = {}
    for name, extra in (("by road", "&by=road"), ("straight line", "")):
        files[name] = workdir / f"paths-{len(files)}.txt"
        files[name].write_text("".join(f"/nearest?lon={lon:.6f}&lat={lat:.6f}&k=5{extra}\n"
                                       for lon, lat in points))
    port = free_port()
    command = [*stations_serve(gpkg, port, 1), "--roads", str(pbf)]
    with running_server(command, f"http://127.0.0.1:{port}/health", timeout=900) as (
            process, ready_s):
        print(f"stations serve --roads: ready in {ready_s:.1f} s, "
              f"{memory_kib(process.pid) / 1024:.0f} MiB resident")
        url = f"http://127.0.0.1:{port}"
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in files}
        for paths in files.values():
            run_wrk(url, paths, 64, 2)  # warm up
        for _ in range(rounds):  # in turns, so a slow spell of the machine falls on both
            for name, paths in files.items():
                runs[name].append(run_wrk(url, paths, 64, seconds))
        for name, results in runs.items():
            r = sorted(results, key=lambda run: run["rps"])[len(results) // 2]
            print(f"HTTP GET /nearest k=5 {name:14s} {r['rps']:8,.0f} req/s   "
                  f"p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms   non-2xx {r['errors']:.0f}"
                  f"   (1 worker, wrk 64 connections, median of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=1000, help="crossings along each side")
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small and short, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.side, args.stations, args.positions, args.seconds, args.rounds = \
            200, 200, 200, 2, 1
    city = GridCity(columns=args.side, rows=args.side, spacing_m=30.0, seed=1)
    rng = np.random.default_rng(5)
    west, south, east, north = city.bounds()
    lon, lat = rng.uniform(west, east, args.stations), rng.uniform(south, north, args.stations)
    points = np.column_stack([rng.uniform(west, east, args.positions),
                              rng.uniform(south, north, args.positions)])
    with tempfile.TemporaryDirectory(prefix="bench-roads-") as tmp:
        workdir = Path(tmp)
        pbf = workdir / "city.osm.pbf"
        start = time.perf_counter()
        write_grid_city(pbf, city)
        print(f"synthetic city: {args.side:,} x {args.side:,} crossings, "
              f"{pbf.stat().st_size / 2**20:.1f} MiB .osm.pbf written in "
              f"{time.perf_counter() - start:.1f} s; {args.stations:,} stations")
        before = memory_kib(os.getpid())
        start = time.perf_counter()
        cpu = time.process_time()
        network = RoadNetwork.load(pbf)
        loaded, loaded_cpu = time.perf_counter() - start, time.process_time() - cpu
        roads = network.prepare(lon, lat)
        total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
        graph = network.graphs["ebike"]
        print(f"graph: {graph.node_count:,} nodes, {graph.segment_count:,} segments (e-bike); "
              f"{network.graphs['walk'].node_count:,} nodes (walking)")
        print(f"load {loaded:.1f} s + prepare {total - loaded:.1f} s = {total:.1f} s wall "
              f"(CPU {loaded_cpu:.1f} + {total_cpu - loaded_cpu:.1f} s); resident "
              f"{before / 1024:.0f} -> {memory_kib(os.getpid()) / 1024:.0f} MiB, peak "
              f"{memory_kib(os.getpid(), 'VmHWM') / 1024:.0f} MiB")
        bench_queries(roads, points)
        bench_agreement(roads, points)
        del roads, network
        gpkg = workdir / "stations.gpkg"
        write_synthetic(args.stations, 3, gpkg, lon, lat)
        bench_http(gpkg, pbf, points, args.seconds, args.rounds, workdir)
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} cores; the machine may be "
          "shared: compare figures within one run)")


if __name__ == "__main__":
    main()
