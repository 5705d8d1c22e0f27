"""Benchmark the national platform on loopback: one PostGIS, API replicas, offices editing.

    .venv/bin/python benchmarks/bench_platform.py           # 200,000 stations, a few minutes
    .venv/bin/python benchmarks/bench_platform.py --quick   # 20,000 stations, for a smoke run

Uses ``STATIONS_TEST_DATABASE`` when set (``.ci/run`` style URL), else starts a throw-away
cluster like ``bench_api.py`` does.  What it measures, on a synthetic national table:

1. full snapshot load from PostGIS (store read + in-memory index), against reading the same
   stations from the GeoPackage;
2. incremental refresh of one changed station with everything loaded: a field change (the
   k-d tree is kept) and a moved station (the tree is rebuilt);
3. three ``stations serve --database`` replicas under a steady 1,000 req/s of ``GET /nearest``
   (wrk, paced by a delay script) while 5 offices make 100 concurrent edits over HTTP:
   failed requests, lost edits, and edit-to-all-replicas latency p50/p99;
4. ``GET /nearest`` throughput of a PostGIS-backed replica against a GeoPackage-backed server,
   measured in turns in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
from bench_api import WRK_SCRIPT, postgis_cluster, query_points, run_wrk, write_synthetic
from servers import free_port, running_server

from stations.service import StationService
from stations.store import Change, Scope
from stations.store.gpkg import GeoPackageStore
from stations.store.migrate import copy_store
from stations.store.postgis import PostGISStore
from stations.store.replica import StoreStations

AT = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
# bench_api's script, with each connection pausing between requests to hold a rate.
PACED_SCRIPT = WRK_SCRIPT + "delay = function() return %d end\n"


@contextlib.contextmanager
def database(workdir: Path) -> Iterator[str]:
    """A new database's URL: on STATIONS_TEST_DATABASE's server, or on a throw-away cluster."""
    import os

    server = os.environ.get("STATIONS_TEST_DATABASE")
    with contextlib.ExitStack() as stack:
        if not server:
            conninfo = stack.enter_context(postgis_cluster(workdir))
            if conninfo is None:
                sys.exit("PostgreSQL 15 with PostGIS is needed (Debian postgresql-15-postgis-3)")
            port = conninfo.split("port=")[1].split()[0]
            server = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        name = "bench_platform_" + uuid.uuid4().hex[:8]
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        base, _, query = server.partition("?")
        yield f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def median_time(action, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_loads(store: PostGISStore, gpkg: Path, count: int) -> None:
    print(f"\n== full load, {count:,} stations (median of 3) ==")
    read = median_time(store.snapshot)
    replica = median_time(lambda: StoreStations(store))
    from_file = median_time(lambda: StationService.load(gpkg))
    print(f"PostGIS snapshot read                 {read:6.2f} s")
    print(f"PostGIS snapshot read + index (replica) {replica:4.2f} s   (target <= 5 s)")
    print(f"GeoPackage read + index (peer)        {from_file:6.2f} s")


def bench_incremental(store: PostGISStore, count: int, edits: int = 20) -> None:
    replica = StoreStations(store)
    ids = random.Random(3).sample(replica.current.ids, edits * 2)
    for label, moved in (("field change (tree kept)", False), ("moved station (tree rebuilt)",
                                                                True)):
        times = []
        for n, station_id in enumerate(ids[:edits] if not moved else ids[edits:]):
            current = store.get(station_id)
            record = {**current.record, "opening_hours": f"Mo-Fr 08:{n:02d}-18:00"}
            if moved:
                record["lon"] = float(record["lon"]) + 0.001  # type: ignore[arg-type]
            store.apply([Change(station_id, record, current.version)], who="bench",
                        action="update", at=AT)
            start = time.perf_counter()
            assert replica.check_now()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        print(f"incremental refresh, {label:28s} p50 {times[len(times) // 2]:6.1f} ms   "
              f"max {times[-1]:6.1f} ms   ({edits} edits, {count:,} loaded; target <= 50 ms)")


def serve_command(source: list[str], port: int) -> list[str]:
    """``stations serve`` as behind a reverse proxy: every request comes from one address."""
    return [sys.executable, "-c", "import sys; from stations.cli import main; sys.exit(main())",
            "serve", *source, "--port", str(port), "--log-level", "warning",
            "--max-connections-per-address", "0"]


def replica_command(url: str, port: int) -> list[str]:
    return serve_command(["--database", url], port)


def paced_wrk(url: str, paths: Path, rate: float, seconds: int, connections: int = 32
              ) -> subprocess.Popen[str]:
    """wrk holding about ``rate`` req/s: each connection waits between requests."""
    script = paths.with_name(f"paced-{uuid.uuid4().hex[:6]}.lua")
    script.write_text(PACED_SCRIPT % (paths, int(connections * 1000 / rate)))
    return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                             "-s", str(script), url], stdout=subprocess.PIPE, text=True)


async def office_edits(replicas: list[str], offices: list[tuple[str, list[str]]]
                       ) -> tuple[list[float], int, dict[str, str]]:
    """Every office edits its stations at once; (edit-to-all-replicas seconds, failures,
    expected name per station).  A watcher per replica polls ``/health`` every few ms and notes
    when its sequence number reached each edit's history entry."""
    failures = 0
    expected: dict[str, str] = {}
    committed: dict[int, float] = {}  # history entry -> when its PATCH answered
    seen: list[list[tuple[float, int]]] = [[] for _ in replicas]
    finished = asyncio.Event()
    # Idle connections are dropped before the servers' 5 s keep-alive ends: a request sent on
    # a connection the server is closing fails without an answer.
    limits = httpx.Limits(max_connections=200, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        async def watch(position: int) -> None:
            async with httpx.AsyncClient(timeout=30, limits=limits) as own:
                while not finished.is_set() or len(seen[position]) == 0 or \
                        seen[position][-1][1] < max(committed, default=0):
                    health = (await own.get(f"{replicas[position]}/health")).json()
                    seen[position].append((time.perf_counter(), int(health["sequence"])))
                    await asyncio.sleep(0.003)

        async def edit(secret: str, station_id: str, n: int) -> None:
            nonlocal failures
            auth = {"Authorization": f"Bearer {secret}"}
            base = replicas[n % len(replicas)]
            name = f"bench edit {n} {uuid.uuid4().hex[:6]}"
            for _attempt in range(5):
                got = await client.get(f"{base}/office/stations/{station_id}", headers=auth)
                answer = await client.patch(
                    f"{base}/stations/{station_id}", json={"name": name},
                    headers={**auth, "If-Match": got.headers.get("etag", "")})
                if answer.status_code != 412:
                    break
            if answer.status_code != 200:
                failures += 1
                return
            committed[int(answer.headers["x-history-id"])] = time.perf_counter()
            expected[station_id] = name

        watchers = [asyncio.create_task(watch(i)) for i in range(len(replicas))]
        await asyncio.gather(*(edit(secret, station_id, n)
                               for secret, station_ids in offices
                               for n, station_id in enumerate(station_ids)))
        finished.set()
        await asyncio.wait_for(asyncio.gather(*watchers), 60)
    latencies = []
    for entry, done in committed.items():
        reached = [next(t for t, sequence in polls if sequence >= entry) for polls in seen]
        latencies.append(max(0.0, max(reached) - done))
    gaps = sorted(b[0] - a[0] for polls in seen for a, b in itertools.pairwise(polls))
    print(f"/health polls of the watchers: every {gaps[len(gaps) // 2] * 1000:.0f} ms (p50), "
          f"{gaps[int(len(gaps) * 0.99)] * 1000:.0f} ms (p99), {gaps[-1] * 1000:.0f} ms (max): "
          "the resolution of the latencies below")
    return latencies, failures, expected


def bench_replicas(url: str, store: PostGISStore, paths: Path, rate: float, edits: int,
                   office_count: int) -> None:
    snapshot = store.snapshot()
    by_city: dict[str, list[str]] = {}
    for station in snapshot.stations:
        by_city.setdefault(str(station.record["city"]), []).append(station.id)
    cities = sorted(by_city, key=lambda c: -len(by_city[c]))[:office_count]
    offices = []
    for city in cities:
        _, secret = store.create_key(f"{city}总工会", Scope(city=city), AT)
        offices.append((secret, random.Random(city).sample(by_city[city], edits // office_count)))
    with contextlib.ExitStack() as stack:
        replicas = []
        for _ in range(3):
            port = free_port()
            stack.enter_context(running_server(replica_command(url, port),
                                               f"http://127.0.0.1:{port}/health"))
            replicas.append(f"http://127.0.0.1:{port}")
        seconds = 25
        load = [paced_wrk(replica, paths, rate / 3, seconds) for replica in replicas]
        time.sleep(3)
        started = time.perf_counter()
        latencies, failures, expected = asyncio.run(office_edits(replicas, offices))
        took = time.perf_counter() - started
        outputs = [w.communicate()[0] for w in load]
    served, non_2xx, errors = 0.0, 0, 0
    for out in outputs:
        served += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        non_2xx += sum(map(int, re.findall(r"Non-2xx or 3xx responses: (\d+)", out)))
        errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    lost = sum(store.get(i).record["name"] != name for i, name in expected.items())
    latencies.sort()
    print(f"\n== 3 replicas under {rate:,.0f} req/s of GET /nearest while {office_count} offices "
          f"make {edits} concurrent edits ==")
    print(f"served {served:,.0f} req/s in all; non-2xx {non_2xx}, socket errors {errors}")
    print(f"edits: {len(expected)} applied in {took:.1f} s, {failures} failed, {lost} lost; "
          f"history has {len(store.history(limit=10_000))} entries")
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"edit to all 3 replicas: p50 {latencies[len(latencies) // 2] * 1000:.0f} ms   "
              f"p99 {p99 * 1000:.0f} ms   max {latencies[-1] * 1000:.0f} ms   (target p99 <= 1 s)")


def bench_throughput(url: str, gpkg: Path, paths: Path, seconds: int, rounds: int) -> None:
    servers = (("PostGIS replica", replica_command(url, p1 := free_port()), p1),
               ("GeoPackage server", serve_command(["--data", str(gpkg), "--reload-interval",
                                                     "0"], p2 := free_port()), p2))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, *_ in servers}
    for _ in range(rounds):
        for name, command, port in servers:
            with running_server(command, f"http://127.0.0.1:{port}/health"):
                base = f"http://127.0.0.1:{port}"
                run_wrk(base, paths, 64, 2)
                runs[name].append(run_wrk(base, paths, 64, seconds))
    print(f"\n== GET /nearest k=5, 1 worker each, wrk 64 connections, {seconds} s, median of "
          f"{rounds} rounds in turns ==")
    for name, results in runs.items():
        median = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        print(f"{name:18s} {median['rps']:9,.0f} req/s   p50 {median['p50']:.2f} ms   "
              f"p99 {median['p99']:.2f} ms   non-2xx {median['errors']:.0f}   (rounds: "
              + ", ".join(f"{r['rps']:,.0f}" for r in results) + ")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="req/s over the 3 replicas")
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--offices", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per throughput run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.count, args.seconds, args.rounds = 20_000, 3, 1
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp:
        workdir = Path(tmp)
        gpkg = workdir / "national.gpkg"
        write_synthetic(args.count, 1, gpkg)
        service = StationService.load(gpkg)
        paths = workdir / "paths.txt"
        paths.write_text("".join(f"/nearest?lon={lon:.6f}&lat={lat:.6f}&k=5\n"
                                 for lon, lat in query_points(service, 5000, seed=11)))
        del service
        with database(workdir) as url:
            store = PostGISStore(url)
            start = time.perf_counter()
            copy_store(GeoPackageStore(gpkg), store)
            print(f"{args.count:,} stations copied GeoPackage -> PostGIS in "
                  f"{time.perf_counter() - start:.1f} s (stations migrate)")
            bench_loads(store, gpkg, args.count)
            bench_incremental(store, args.count)
            bench_replicas(url, store, paths, args.rate, args.edits, args.offices)
            bench_throughput(url, gpkg, paths, args.seconds, args.rounds)
            store.close()


if __name__ == "__main__":
    main()
