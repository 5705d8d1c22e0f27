"""Benchmark ``POST /nearest/batch`` end to end over HTTP: compact answers against GeoJSON ones.

    .venv/bin/python benchmarks/bench_batch.py            # 150,000 stations, about 2 minutes
    .venv/bin/python benchmarks/bench_batch.py --quick    # smaller and shorter, for a smoke run

A dispatch platform sends 10,000 points per request, k=5, and reads the answer; the target is
300,000 points/s for the compact format on a 2-core machine, client included.  The stations
are a synthetic national table made as a user would (``stations synth``, ``stations build``),
served by ``stations serve`` (one worker) on 127.0.0.1.  Clients on threads in this process
send the same request bodies again and again over kept-alive connections and read each answer
whole (gzip, as platforms ask for it, and without).  Reported: points per second for the
compact format, as one JSON document and as NDJSON, and, in the same run, for GeoJSON, also per
second of the server's CPU time (on a shared machine the wall-clock figure mostly says how busy
it was, hence the load average beside it); and the server's peak resident memory
(VmHWM, reset between runs through /proc/PID/clear_refs) while answering the largest batch
the default cap allows, 10,000 points × k=10, one and three at once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import orjson
from servers import free_port, memory_kib, running_server

from stations.service import NearestOptions, StationService

STATIONS = str(Path(sys.executable).with_name("stations"))
TARGET_POINTS_S = 300_000
FORMATS = ("compact", "ndjson", "geojson")


def national_geopackage(count: int, workdir: Path) -> Path:
    """``stations synth`` then ``stations build``, as a user makes a national table."""
    table, gpkg = workdir / "synthetic.csv", workdir / "national.gpkg"
    subprocess.run([STATIONS, "synth", "--count", str(count), "--seed", "1",
                    "--output", str(table)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([STATIONS, "build", str(table), "--crs", "wgs84", "--output", str(gpkg),
                    "--no-progress"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return gpkg


def query_points(service: StationService, count: int, seed: int) -> np.ndarray:
    """Where riders are: within a few km of stations, as the demand is."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, service.count, count)
    return np.column_stack([service.lon[rows] + rng.normal(0, 0.03, count),
                            service.lat[rows] + rng.normal(0, 0.03, count)])


def check_compact(url: str, service: StationService, points: np.ndarray) -> None:
    """The compact answer over HTTP says what the service says in process."""
    body = orjson.dumps({"points": points[:500].tolist(), "k": 5, "format": "compact"})
    answer = httpx.post(f"{url}/nearest/batch", content=body, timeout=60,
                        headers={"content-type": "application/json"}).json()
    found = service._nearest_rows_batch(points[:500, 0], points[:500, 1], NearestOptions(k=5))
    for row, result in enumerate(answer["results"]):
        assert result["ids"] == [service.ids[i] for i in found.index[row]], row
        assert np.allclose(result["distance_m"], found.distance_m[row], atol=0.051), row


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(url: str, bodies: list[bytes], points_per_body: int, clients: int,
               seconds: float, gzip: bool, pid: int) -> tuple[float, float, float]:
    """Points per second over ``seconds``, points per second of the server's CPU time (a
    figure that depends less on how busy the machine is), and the median answer size."""
    cpu_before = cpu_seconds(pid)
    stop = time.perf_counter() + seconds
    done = [0]
    sizes: list[int] = []
    lock = threading.Lock()
    headers = {"content-type": "application/json",
               "accept-encoding": "gzip" if gzip else "identity"}

    def client(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            turn = offset
            while True:  # at least one request each

                with http.stream("POST", "/nearest/batch", content=bodies[turn % len(bodies)],
                                 headers=headers) as response:
                    size = sum(len(chunk) for chunk in response.iter_raw())
                    assert response.status_code == 200
                with lock:
                    done[0] += points_per_body
                    sizes.append(size)
                turn += 1
                if time.perf_counter() >= stop:
                    break

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - start
    return (done[0] / elapsed, done[0] / max(cpu_seconds(pid) - cpu_before, 1e-9),
            statistics.median(sizes))


def peak_memory_mib(pid: int, url: str, body: bytes, at_once: int) -> tuple[float, float]:
    """(resident MiB before, peak MiB while ``at_once`` copies of ``body`` are answered)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = memory_kib(pid, "VmRSS") / 1024

    def one(_: int) -> None:
        with httpx.stream("POST", f"{url}/nearest/batch", content=body, timeout=300,
                          headers={"content-type": "application/json",
                                   "accept-encoding": "gzip"}) as response:
            for _chunk in response.iter_raw():
                pass
            assert response.status_code == 200

    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(one, range(at_once)))
    return before, memory_kib(pid, "VmHWM") / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=150_000, help="stations")
    parser.add_argument("--points", type=int, default=10_000, help="points per request")
    parser.add_argument("--seconds", type=float, default=10, help="per measurement")
    parser.add_argument("--clients", type=int, default=2, help="requests at once")
    parser.add_argument("--data", type=Path,
                        help="a GeoPackage to serve instead of making a synthetic one")
    parser.add_argument("--quick", action="store_true", help="small and short, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.count, args.seconds = 20_000, 2
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        start = time.perf_counter()
        gpkg = args.data or national_geopackage(args.count, Path(tmp))
        print(f"{StationService.load(gpkg).count:,} stations ({gpkg.name}) ready in "
              f"{time.perf_counter() - start:.1f} s")
        service = StationService.load(gpkg)
        points = query_points(service, args.points * 4, seed=7)
        bodies = {answer_format: [orjson.dumps({"points": chunk.tolist(), "k": 5,
                                                "format": answer_format})
                                  for chunk in np.split(points, 4)]
                  for answer_format in FORMATS}
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [STATIONS, "serve", "--data", str(gpkg), "--port", str(port),
                   "--log-level", "warning", "--reload-interval", "0"]
        with running_server(command, f"{url}/health") as (process, _):
            check_compact(url, service, points)
            print(f"\nPOST /nearest/batch, {args.points:,} points per request, k=5, "
                  f"{args.clients} requests at once, {args.seconds:g} s each "
                  f"(load average {os.getloadavg()[0]:.2f} before):")
            rates: dict[tuple[str, bool], float] = {}
            for answer_format in FORMATS:
                for gzip in (True, False):
                    throughput(url, bodies[answer_format], args.points, args.clients, 1, gzip,
                               process.pid)
                    rate, per_cpu, size = throughput(url, bodies[answer_format], args.points,
                                                     args.clients, args.seconds, gzip,
                                                     process.pid)
                    rates[answer_format, gzip] = rate
                    print(f"  {answer_format:8} {'gzip' if gzip else 'plain':6} {rate:>10,.0f} "
                          f"points/s ({per_cpu:>10,.0f} per server CPU-second)   answer "
                          f"{size / 1e6:6.2f} MB")
            compact = {f"{f} {'gzip' if gzip else 'plain'}": rate
                       for (f, gzip), rate in rates.items() if f != "geojson"}
            met = [name for name, rate in compact.items() if rate >= TARGET_POINTS_S]
            print(f"\ntarget, compact answers: >= {TARGET_POINTS_S:,} points/s; measured "
                  + ", ".join(f"{name} {rate:,.0f}" for name, rate in compact.items())
                  + f"; met by {len(met)} of {len(compact)} (load average "
                  f"{os.getloadavg()[0]:.2f} now); GeoJSON peer "
                  f"{max(rates['geojson', True], rates['geojson', False]):,.0f} points/s")
            largest = orjson.dumps({"points": points[:args.points].tolist(), "k": 10})
            print(f"\nlargest batch the default cap allows: {args.points:,} points × k=10, "
                  "GeoJSON, gzip; server memory (VmHWM):")
            for at_once in (1, 3):
                before, peak = peak_memory_mib(process.pid, url, largest, at_once)
                print(f"  {at_once} at once: {before:.0f} MiB before, peak {peak:.0f} MiB "
                      f"(+{peak - before:.0f} MiB)")


if __name__ == "__main__":
    main()
