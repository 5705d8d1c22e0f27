"""Benchmark the nearest-station index, service and HTTP API against peers, in one run.

    .venv/bin/python benchmarks/bench_api.py            # 150,000 stations, about 7 minutes
    .venv/bin/python benchmarks/bench_api.py --quick    # smaller and shorter, for a smoke run

What it measures, on a synthetic national table (``stations.synth``):

1. in process: k=5 nearest for single queries (p50/p99) and for a batch of 10,000 points
   (points/s), every answer checked against brute-force haversine;
2. HTTP: ``GET /nearest`` k=5 with the full GeoJSON answer under ``wrk`` (Debian package) on
   127.0.0.1, against a bare FastAPI endpoint around the same index that builds dicts and
   serialises them with orjson, with 1 and 2 workers, and with the opt-in search counts on
   (in process too: the whole answer with and without counting, in turns);
3. start-up time and resident memory of ``stations serve`` with 200,000 stations;
4. PostGIS geography KNN (``<->`` on a GiST index) as a peer, when PostgreSQL and PostGIS are
   installed (Debian ``postgresql`` and ``postgis``); otherwise it says it skipped them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import orjson
from servers import free_port, memory_kib, running_server
from threadpoolctl import threadpool_limits

from stations.api.nearest import nearest_reply
from stations.geodata import station_frame, write_stations
from stations.index import StationIndex, haversine_m, initial_bearing_deg
from stations.model import AMENITIES, TEXT_FIELDS
from stations.planning.search_counts import SearchCounter
from stations.service import NearestOptions, StationService
from stations.synth import synthesize_table

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BENCH_DIR = Path(__file__).resolve().parent


# ----- data -----------------------------------------------------------------------------------

def write_synthetic(count: int, seed: int, path: Path, lon: np.ndarray | None = None,
                    lat: np.ndarray | None = None) -> None:
    """A synthetic national table; ``lon``/``lat`` move its stations (e.g. into one city)."""
    table = synthesize_table(count, seed)
    if lon is not None and lat is not None:
        table["lon"], table["lat"] = lon, lat
    columns: dict[str, object] = {f: table[f].to_numpy() for f in TEXT_FIELDS if f in table}
    codes = table["amenities"].str.split(";")
    for amenity in AMENITIES:
        columns[amenity.column] = codes.map(lambda c, code=amenity.code: code in c).to_numpy()
    write_stations(station_frame(columns, table["lon"], table["lat"]), path)


def query_points(service: StationService, count: int, seed: int) -> np.ndarray:
    """Where riders are: near stations (within a few km), as the demand is."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, service.count, count)
    return np.column_stack([service.lon[rows] + rng.normal(0, 0.03, count),
                            service.lat[rows] + rng.normal(0, 0.03, count)])


def brute_force_agreement(index: StationIndex, points: np.ndarray, found_rows: np.ndarray,
                          k: int) -> tuple[int, int]:
    """(queries whose k nearest match brute-force haversine, queries checked).

    A set matches when the distances agree to a micrometre; stations at exactly equal
    distance may come in either order.
    """
    agree = 0
    for (lon, lat), rows in zip(points, found_rows, strict=True):
        metres = haversine_m(lon, lat, index.lon, index.lat)
        best = np.sort(np.partition(metres, k)[:k])
        ours = haversine_m(lon, lat, index.lon[rows], index.lat[rows])
        agree += bool(np.allclose(np.sort(ours), best, rtol=0, atol=1e-6))
    return agree, len(points)


def percentiles_us(samples_ns: list[int]) -> str:
    values = np.asarray(samples_ns) / 1000
    return f"p50 {np.percentile(values, 50):7.1f} us  p99 {np.percentile(values, 99):7.1f} us"


# ----- in process -----------------------------------------------------------------------------

def bench_in_process(service: StationService, queries: int, check: int) -> None:
    index = service.index
    points = query_points(service, max(queries, 10_000), seed=5)
    print(f"\n== in process, {service.count:,} stations, k=5 ==")
    times: list[int] = []
    found: list[list[int]] = []
    # Single queries run as in the server's event loop: without an OpenMP thread team.
    with threadpool_limits(1, user_api="openmp"):
        for lon, lat in points[:2000]:  # warm up
            index.nearest(lon, lat, 5)
        for lon, lat in points[:queries]:
            start = time.perf_counter_ns()
            rows, _ = index.nearest(lon, lat, 5)
            times.append(time.perf_counter_ns() - start)
            found.append(rows)
    print(f"index, single query          {percentiles_us(times)}")
    agree, total = brute_force_agreement(index, points[:check], np.array(found[:check]), 5)
    print(f"  agreement with brute-force haversine: {agree}/{total} "
          f"({100 * agree / total:.2f}%)")

    batch = points[:10_000]
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        result = index.nearest_batch(batch[:, 0], batch[:, 1], 5)
        best = min(best, time.perf_counter() - start)
    print(f"index, batch of 10,000        {10_000 / best:12,.0f} points/s")
    sample = np.random.default_rng(9).choice(10_000, check, replace=False)
    agree, total = brute_force_agreement(index, batch[sample], result.index[sample], 5)
    print(f"  agreement with brute-force haversine: {agree}/{total} "
          f"({100 * agree / total:.2f}%)")

    times = []
    options = NearestOptions(k=5)
    with threadpool_limits(1, user_api="openmp"):
        for lon, lat in points[:queries]:
            start = time.perf_counter_ns()
            service.find_nearest(lon, lat, options)
            times.append(time.perf_counter_ns() - start)
    print(f"service, full GeoJSON answer {percentiles_us(times)}")
    bench_search_counts(service, points[:queries])
    start = time.perf_counter()
    service.find_nearest_batch(batch[:, 0], batch[:, 1], options)
    print(f"service, batch GeoJSON        {10_000 / (time.perf_counter() - start):12,.0f} "
          "points/s (serialised)")


def bench_search_counts(service: StationService, points: np.ndarray) -> None:
    """The whole GET /nearest answer without and with the opt-in search counts, in turns."""
    query = [f"lon={lon:.6f}&lat={lat:.6f}&k=5".encode() for lon, lat in points]
    with tempfile.TemporaryDirectory() as tmp:
        counter = SearchCounter(Path(tmp) / "searches.sqlite", today=lambda: dt.date(2026, 11, 3))
        times: dict[str, list[int]] = {"without": [], "with": []}
        with threadpool_limits(1, user_api="openmp"):
            for raw in query:
                for name, searches in (("without", None), ("with", counter)):
                    start = time.perf_counter_ns()
                    nearest_reply(service, raw, None, searches)
                    times[name].append(time.perf_counter_ns() - start)
        start = time.perf_counter()
        cells = counter.flush()
        flush_ms = (time.perf_counter() - start) * 1000
    for name, samples in times.items():
        print(f"GET /nearest reply, {name:7s} search counts {percentiles_us(samples)}")
    print(f"  flush of {cells:,} cells to SQLite (off the event loop): {flush_ms:.1f} ms")


# ----- HTTP -----------------------------------------------------------------------------------

def stations_serve(path: Path, port: int, workers: int) -> list[str]:
    return [sys.executable, "-c", "import sys; from stations.cli import main; sys.exit(main())",
            "serve", "--data", str(path), "--port", str(port), "--workers", str(workers),
            "--log-level", "warning", "--reload-interval", "0"]


def bare_serve(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR), "bench_api:bare_app",
            "--factory", "--port", str(port), "--workers", str(workers), "--log-level",
            "warning", "--no-access-log"]


def bare_app():  # type: ignore[no-untyped-def]
    """The peer: a plain FastAPI endpoint around the same index, building dicts per request."""
    from fastapi import FastAPI, Response
    from threadpoolctl import threadpool_limits

    from stations.geodata import read_stations

    frame = read_stations(os.environ["BENCH_GPKG"])
    lon, lat = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    index = StationIndex(lon, lat)
    amenity_columns = [a.column for a in AMENITIES]
    records = []
    for row in frame[list(TEXT_FIELDS) + amenity_columns].itertuples(index=False):
        values = row._asdict()
        props = {f: values[f] for f in TEXT_FIELDS}
        props["amenities"] = [{"code": a.code, "label_zh": a.label_zh, "label_en": a.label_en,
                               "icon": a.icon} for a in AMENITIES if values[a.column]]
        records.append(props)
    del frame
    # Same footing as the real server: the query runs on the event loop's thread with a
    # one-thread OpenMP team (a sync route would pay for a thread hop and a thread team).
    threadpool_limits(1, user_api="openmp")
    app = FastAPI()

    @app.get("/nearest")
    async def nearest_bare(lon: float, lat: float, k: int = 5) -> Response:
        rows, metres = index.nearest(lon, lat, k)
        bearings = [initial_bearing_deg(lon, lat, float(index.lon[r]), float(index.lat[r]))
                    for r in rows]
        features = [{"type": "Feature", "id": records[r]["id"],
                     "properties": {**records[r], "distance_m": round(m, 1),
                                    "bearing_deg": round(b, 1)},
                     "geometry": {"type": "Point",
                                  "coordinates": [float(index.lon[r]), float(index.lat[r])]}}
                    for r, m, b in zip(rows, metres, bearings, strict=True)]
        return Response(orjson.dumps({"type": "FeatureCollection", "features": features,
                                      "numberReturned": len(features)}),
                        media_type="application/geo+json")

    return app


WRK_SCRIPT = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def run_wrk(url: str, paths_file: Path, connections: int, seconds: int) -> dict[str, float]:
    script = paths_file.with_suffix(".lua")
    script.write_text(WRK_SCRIPT % paths_file)
    # One wrk thread: on two cores a second one takes CPU from the server it measures (one
    # thread drives 60,000 req/s of a constant reply here, against 43,000 with two).
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True).stdout
    units = {"us": 1e-3, "ms": 1.0, "s": 1e3}

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)$", output, re.MULTILINE)
        return float(match.group(1)) * units[match.group(2)] if match else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": latency("50"),
            "p99": latency("99"), "errors": float(non_2xx.group(1)) if non_2xx else 0.0}


def bench_http(path: Path, service: StationService, seconds: int, rounds: int,
               workdir: Path) -> None:
    if shutil.which("wrk") is None:
        print("\n== HTTP: skipped, wrk is not installed (apt-get install wrk) ==")
        return
    points = query_points(service, 5000, seed=11)
    paths_file = workdir / "paths.txt"
    paths_file.write_text("".join(f"/nearest?lon={lon:.6f}&lat={lat:.6f}&k=5\n"
                                  for lon, lat in points))
    print(f"\n== HTTP GET /nearest k=5, full GeoJSON, wrk 64 connections, {seconds} s, "
          f"median of {rounds} rounds taken in turns ==")
    for workers in (1, 2):
        servers = (
            ("stations serve", stations_serve(path, port := free_port(), workers),
             f"http://127.0.0.1:{port}/health", None),
            ("… with search counts", stations_serve(path, port3 := free_port(), workers),
             f"http://127.0.0.1:{port3}/health",
             {"STATIONS_SEARCH_COUNTS": "1", "STATIONS_SEARCH_COUNTS_FLUSH_S": "1",
              "STATIONS_SEARCH_COUNTS_FILE": str(workdir / f"searches-{workers}.sqlite")}),
            ("bare FastAPI + orjson", bare_serve(port2 := free_port(), workers),
             f"http://127.0.0.1:{port2}/nearest?lon=108&lat=22", {"BENCH_GPKG": str(path)}),
        )
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, *_ in servers}
        # In turns, so a slow spell of the machine falls on both servers alike.
        for _ in range(rounds):
            for name, command, ready, env in servers:
                with running_server(command, ready, env=env):
                    base = ready.split("/", 3)
                    url = f"{base[0]}//{base[2]}"
                    run_wrk(url, paths_file, 64, 2)  # warm up
                    runs[name].append(run_wrk(url, paths_file, 64, seconds))
        results = {name: sorted(r, key=lambda run: run["rps"])[len(r) // 2]
                   for name, r in runs.items()}
        for name, r in results.items():
            each = ", ".join(f"{run['rps']:,.0f}" for run in runs[name])
            print(f"{workers} worker(s)  {name:24s} {r['rps']:9,.0f} req/s   p50 {r['p50']:6.2f} ms"
                  f"   p99 {r['p99']:6.2f} ms   non-2xx {r['errors']:.0f}   (rounds: {each})"
                  + ("  (wrk printed no latency line: requests timed out)"
                     if np.isnan(r["p99"]) else ""))
        ratio = results["stations serve"]["rps"] / max(results["bare FastAPI + orjson"]["rps"], 1)
        print(f"{workers} worker(s)  ours / bare = {ratio:.2f}x")


def bench_startup(path: Path, count: int) -> None:
    print(f"\n== start-up of stations serve with {count:,} stations ==")
    port = free_port()
    with running_server(stations_serve(path, port, 1), f"http://127.0.0.1:{port}/health") as (
            process, seconds):
        for _ in range(200):
            httpx.get(f"http://127.0.0.1:{port}/nearest?lon=116.4&lat=39.9&k=5")
        rss_kb = memory_kib(process.pid)
        hwm_kb = memory_kib(process.pid, "VmHWM")
    print(f"ready (answering /health) after {seconds:.2f} s (interpreter, imports, load, index)")
    start = time.perf_counter()
    StationService.load(path)
    print(f"  of which reading, serialising and indexing the GeoPackage: "
          f"{time.perf_counter() - start:.2f} s (StationService.load in this process)")
    import_time = subprocess.run(
        [sys.executable, "-c", "import time; t = time.perf_counter(); "
         "import stations.api.app; print(time.perf_counter() - t)"],
        capture_output=True, text=True, check=True).stdout.strip()
    print(f"  importing the web application with all its routers: {float(import_time):.2f} s")
    print(f"resident memory {rss_kb / 1024:.0f} MB after 200 queries (peak {hwm_kb / 1024:.0f} MB)")


# ----- PostGIS --------------------------------------------------------------------------------

@contextlib.contextmanager
def postgis_cluster(workdir: Path) -> Iterator[str | None]:
    """A throwaway PostgreSQL cluster on loopback; yields a conninfo, or None if unavailable."""
    control = Path("/usr/share/postgresql/15/extension/postgis.control")
    if not (PG_BIN / "initdb").exists() or not control.exists():
        yield None
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield None
        return
    data = workdir / "pg"
    data.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(workdir, "postgres")
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "postgres", "--no-sync"], check=True, capture_output=True)
    options = (f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c shared_buffers=256MB -c jit=off")
    subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                    "-l", str(workdir / "pg.log"), "start"], check=True, capture_output=True)
    try:
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "stop"], capture_output=True)


def bench_postgis(service: StationService, queries: int, check: int, workdir: Path) -> None:
    with postgis_cluster(workdir) as conninfo:
        if conninfo is None:
            print("\n== PostGIS: skipped (install Debian postgresql-15-postgis-3 and psycopg) ==")
            return
        import psycopg

        print(f"\n== PostGIS geography KNN (<-> on GiST), {service.count:,} stations ==")
        with psycopg.connect(conninfo, autocommit=True) as db:
            db.execute("CREATE EXTENSION postgis")
            db.execute("CREATE TABLE stations (row_number integer, geog geography(Point, 4326))")
            with db.cursor().copy("COPY stations (row_number, geog) FROM STDIN") as copy:
                for row, (lon, lat) in enumerate(zip(service.lon, service.lat, strict=True)):
                    copy.write_row((row, f"SRID=4326;POINT({float(lon)!r} {float(lat)!r})"))
            db.execute("CREATE INDEX ON stations USING gist (geog)")
            db.execute("ANALYZE stations")
            points = query_points(service, queries, seed=5)
            sql = ("SELECT row_number FROM stations ORDER BY geog <-> "
                   "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT 5")
            times: list[int] = []
            found = []
            for lon, lat in points:
                start = time.perf_counter_ns()
                rows = db.execute(sql, (float(lon), float(lat)), prepare=True).fetchall()
                times.append(time.perf_counter_ns() - start)
                found.append([r[0] for r in rows])
            print(f"PostGIS, single query        {percentiles_us(times)}")
            agree, total = brute_force_agreement(service.index, points[:check],
                                                 np.array(found[:check]), 5)
            print(f"  same nearest-5 as spherical haversine: {agree}/{total} "
                  f"(PostGIS measures on the spheroid)")
            batch = query_points(service, 10_000, seed=6)
            start = time.perf_counter()
            db.execute(
                "SELECT q.n, s.row_number FROM unnest(%s::float8[], %s::float8[]) "
                "WITH ORDINALITY AS q(lon, lat, n) CROSS JOIN LATERAL (SELECT row_number FROM "
                "stations ORDER BY geog <-> ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)"
                "::geography LIMIT 5) s", (batch[:, 0].tolist(), batch[:, 1].tolist())
            ).fetchall()
            print(f"PostGIS, LATERAL batch 10,000 {10_000 / (time.perf_counter() - start):12,.0f}"
                  " points/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--startup-count", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="HTTP runs per server, taken in turns; the median is reported")
    parser.add_argument("--quick", action="store_true", help="small and short, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.count, args.startup_count, args.seconds, args.rounds = 20_000, 20_000, 2, 1
    queries, check = (2000, 300) if args.quick else (20_000, 2000)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        workdir = Path(tmp)
        national = workdir / "national.gpkg"
        start = time.perf_counter()
        write_synthetic(args.count, 1, national)
        print(f"synthetic table: {args.count:,} stations written in "
              f"{time.perf_counter() - start:.1f} s")
        service = StationService.load(national)
        bench_in_process(service, queries, check)
        bench_http(national, service, args.seconds, args.rounds, workdir)
        bench_postgis(service, queries // 4, check // 4, workdir)
        if args.startup_count != args.count:
            write_synthetic(args.startup_count, 2, big := workdir / "big.gpkg")
        else:
            big = national
        bench_startup(big, args.startup_count)


if __name__ == "__main__":
    main()
