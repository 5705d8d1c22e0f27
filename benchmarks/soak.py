"""Soak `stations serve` at a fixed request rate while its GeoPackage is rebuilt and then broken.

    .venv/bin/python benchmarks/soak.py                 # 60 s at 1000 requests/s, 20,000 stations
    .venv/bin/python benchmarks/soak.py --duration 5 --rate 100 --stations 300 --json

The server runs as its own process on 127.0.0.1, exactly as deployed (`stations serve`).  The load
generator is open-loop, like wrk2: request i is due at ``start + i / rate`` whether or not earlier
answers came back, and its latency counts from that due time, so a stalled server shows up as
latency instead of silently lowering the rate.  During the run:

1. at 20 % of the time `stations build` rebuilds the served GeoPackage with different stations;
   from the moment /health reports the new data version, every /nearest answer must carry it in
   its ETag;
2. once the new data is served, the file is replaced by a truncated copy: the server must keep
   answering with the new data and log why it refused the file;
3. then ``--saturate-connections`` connections ask without pause (closed loop, the server is
   saturated) while the file is replaced ``--swaps`` times, ``--swap-every`` seconds apart,
   by prebuilt versions: the lag of each swap, from the file being in place to ``/health``
   reporting its version, must be at most ``--max-swap-lag`` seconds, and no version may be
   skipped (each is seen).

Printed: requests sent, failed (non-2xx or transport errors), p50/p99/max latency, answers with
stale data after the swap, reload delay, server RSS at start and end (/proc/PID/status), and, as
a peer figure, what Debian's closed-loop `wrk` reaches against the same server when it is
installed.  Exit status 1 when any request failed, any answer was stale, the broken file was not
refused, or memory grew more than ``--max-growth-mib``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import numpy as np
import uvloop
from servers import free_port, memory_kib, running_server

from stations.geodata import read_build_info

STATIONS = [str(Path(sys.executable).with_name("stations"))]  # the console script beside python
RELOAD_INTERVAL_S = 0.25
# How the server logs a reload's load: wall-clock and CPU seconds (stations/live.py).
LOAD_TIME = re.compile(r"loaded in (\S+ s \(\S+ s of CPU\))")
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Outcome:
    """One request: when it was due, how long it took from then, and what came back."""

    due: float
    latency_s: float
    status: int  # 0 for a transport error
    data_version: str
    error: str = ""


@dataclass
class Report:
    stations: int
    rate: float
    duration_s: float
    sent: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    late_starts: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    steady_p50_ms: float = 0.0
    steady_p99_ms: float = 0.0
    achieved_rate: float = 0.0
    old_version: str = ""
    new_version: str = ""
    reload_delay_s: float = -1.0
    rebuild_started: float = 0.0
    answers_after_swap: int = 0
    stale_after_swap: int = 0
    broken_file_refused: bool = False
    refusal_log: str = ""
    served_after_refusal: int = 0
    swap_lags_s: list[float] = field(default_factory=list)
    swap_loads: list[str] = field(default_factory=list)  # the server's own account of each load
    max_swap_lag_s: float = 0.0
    saturated_rate: float = 0.0
    rss_start_kib: int = 0
    rss_after_swap_kib: int = 0
    rss_end_kib: int = 0
    rss_peak_kib: int = 0
    wrk: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def run(*args: str, cwd: Path) -> None:
    subprocess.run([*STATIONS, *args], cwd=cwd, check=True, capture_output=True, text=True)


def etag_version(etag: str) -> str:
    """The data version inside a /nearest ETag, ``W/"<version>-<minute>"``."""
    return etag.split('"')[1].rsplit("-", 1)[0] if '"' in etag else ""


def query_points(count: int, seed: int) -> list[dict[str, str]]:
    """Rider positions across eastern China with the filters riders use, in a fixed order."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(100, 122, count), rng.uniform(21, 41, count)
    kinds = rng.random(count)
    queries = []
    for x, y, kind in zip(lon.tolist(), lat.tolist(), kinds.tolist(), strict=True):
        query = {"lon": f"{x:.6f}", "lat": f"{y:.6f}", "k": "5"}
        if kind < 0.2:
            query["amenity"] = "microwave"
        elif kind < 0.3:
            query["crs"] = "gcj02"
        elif kind < 0.35:
            query.update(open_now="true", radius_m="5000")
        queries.append(query)
    return queries


class Connection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads the status, ETag and body.

    A few lines of asyncio instead of a full client library: the generator shares two cores with
    the server, and a general-purpose client costs several times more CPU per request.
    """

    IDLE_S = 3.0  # reopen before the server's keep-alive timeout (5 s) can close it under us

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def get(self, target: str) -> tuple[int, str]:
        # A connection the server has closed meanwhile is reopened: writing to its closed
        # transport would raise RuntimeError, a fault of this client and not of the server.
        if self.writer is None or self.writer.is_closing() \
                or time.monotonic() - self.last_used > self.IDLE_S:
            self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        length, etag = 0, ""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"etag":
                etag = value.strip().decode()
        await self.reader.readexactly(length)
        self.last_used = time.monotonic()
        return int(head[9:12]), etag

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(url: str, rate: float, duration_s: float, max_in_flight: int,
                disturbed: asyncio.Event, outcomes: list[Outcome]) -> int:
    """Send GET /nearest at ``rate`` per second for ``duration_s``, and on until the rebuild and
    the broken file have both been seen plus one more second; returns late starts."""
    targets = [f"/nearest?{urlencode(q)}" for q in query_points(5000, seed=1)]
    parts = urlsplit(url)
    pool: asyncio.LifoQueue[Connection] = asyncio.LifoQueue()
    for _ in range(max_in_flight):
        pool.put_nowait(Connection(parts.hostname or "127.0.0.1", parts.port or 80))
    late = 0

    async def one(due: float, target: str) -> None:
        connection = await pool.get()
        error = ""
        try:
            status, etag = await asyncio.wait_for(connection.get(target), REQUEST_TIMEOUT_S)
        except (OSError, RuntimeError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError, ValueError) as exc:
            connection.close()
            status, etag, error = 0, "", type(exc).__name__
        finally:
            pool.put_nowait(connection)
        outcomes.append(Outcome(due, time.monotonic() - due, status, etag_version(etag), error))

    start = time.monotonic()
    tasks = []
    finish: float | None = None
    for i in itertools.count():
        due = start + i / rate
        if finish is None and disturbed.is_set():
            finish = max(start + duration_s, time.monotonic() + 1.0)
        if finish is not None and due >= finish:
            break
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if pool.empty():
            late += 1  # every connection is busy; latency still counts from `due`
        tasks.append(asyncio.create_task(one(due, targets[i % len(targets)])))
    await asyncio.gather(*tasks)
    for _ in range(max_in_flight):
        pool.get_nowait().close()
    return late


async def wait_for_version(client: httpx.AsyncClient, version: str, timeout_s: float) -> float:
    """Poll /health until it reports ``version``; returns the monotonic time it was seen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        health = (await client.get("/health")).json()
        if health["data_version"] == version:
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the server did not switch to data version {version}")


async def disturb(url: str, work: Path, data: Path, duration_s: float, log_path: Path,
                  report: Report, disturbed: asyncio.Event, server_pid: int
                  ) -> tuple[float, float]:
    """Rebuild the served file, then break it; returns when the swap and the refusal were seen."""
    await asyncio.sleep(0.2 * duration_s)
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        rebuilt = report.rebuild_started = time.monotonic()
        build = await asyncio.create_subprocess_exec(
            *STATIONS, "build", "second.csv", "--crs", "wgs84", "--output", str(data),
            cwd=work, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, errors = await build.communicate()
        if build.returncode != 0:
            raise RuntimeError(f"rebuild failed: {errors.decode()}")
        report.new_version = read_build_info(data)["data_version"]
        swapped = await wait_for_version(client, report.new_version, 30)
        report.reload_delay_s = round(swapped - rebuilt, 3)
        report.rss_after_swap_kib = memory_kib(server_pid)

        await asyncio.sleep(max(0.0, 0.3 * duration_s))
        staged = work / "staged.gpkg"
        good = data.read_bytes()
        staged.write_bytes(good[: len(good) // 3])
        os.replace(staged, data)  # what a copy interrupted half-way looks like to the server
        refused = time.monotonic()
        deadline = refused + 20 * RELOAD_INTERVAL_S + 5
        while time.monotonic() < deadline:
            lines = [line for line in log_path.read_text(errors="replace").splitlines()
                     if "refused" in line]
            if lines:
                report.broken_file_refused = True
                report.refusal_log = lines[-1].strip()[:300]
                break
            await asyncio.sleep(0.1)
    disturbed.set()
    return swapped, refused


async def saturate(url: str, connections: int, stop: asyncio.Event) -> int:
    """Closed loop: each connection asks again as soon as it has its answer; returns answers."""
    targets = [f"/nearest?{urlencode(q)}" for q in query_points(2000, seed=3)]
    parts = urlsplit(url)
    answered = 0

    async def loop(offset: int) -> None:
        nonlocal answered
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            for i in itertools.count(offset * 97):
                if stop.is_set():
                    break
                try:
                    await connection.get(targets[i % len(targets)])
                except (OSError, RuntimeError, asyncio.IncompleteReadError):
                    connection.close()  # reopened by the next get
                    continue
                answered += 1
        finally:
            connection.close()

    await asyncio.gather(*(loop(n) for n in range(connections)))
    return answered


async def swaps_under_saturation(url: str, data: Path, versions: list[tuple[Path, str]],
                                 every_s: float, connections: int, report: Report) -> None:
    """Replace the served file by each prebuilt version while the server is saturated; the lag
    of each swap is from the file being in place until /health reports its version."""
    stop = asyncio.Event()
    load = asyncio.create_task(saturate(url, connections, stop))
    started = time.monotonic()
    try:
        await asyncio.sleep(1.0)  # saturated before the first swap
        async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
            for path, version in versions:
                due = time.monotonic() + every_s
                os.replace(path, data)
                placed = time.monotonic()
                seen = await wait_for_version(client, version, 60)
                report.swap_lags_s.append(round(seen - placed, 3))
                await asyncio.sleep(max(0.0, due - time.monotonic()))
    finally:
        stop.set()
        answered = await load
    report.saturated_rate = round(answered / (time.monotonic() - started), 1)


def peer_wrk(url: str, seconds: int) -> dict[str, float]:
    """Closed-loop maximum throughput of Debian's wrk on the same server, when installed."""
    wrk = shutil.which("wrk")
    if wrk is None or seconds <= 0:
        return {}
    out = subprocess.run([wrk, "-t2", "-c32", f"-d{seconds}s", "--latency",
                          f"{url}/nearest?lon=108.39&lat=22.81&k=5"],
                         capture_output=True, text=True, check=True).stdout
    figures: dict[str, float] = {}
    if match := re.search(r"Requests/sec:\s+([\d.]+)", out):
        figures["requests_per_s"] = float(match.group(1))
    for name, pattern in (("p50_ms", r"50%\s+([\d.]+)(\w+)"), ("p99_ms", r"99%\s+([\d.]+)(\w+)")):
        if match := re.search(pattern, out):
            value, unit = float(match.group(1)), match.group(2)
            figures[name] = value * {"us": 0.001, "ms": 1.0, "s": 1000.0}.get(unit, 1.0)
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        figures["non_2xx"] = float(match.group(1))
    return figures


def summarise(report: Report, outcomes: list[Outcome], swapped: float, refused: float) -> None:
    outcomes.sort(key=lambda o: o.due)
    report.sent = len(outcomes)
    report.failed = sum(1 for o in outcomes if not 200 <= o.status < 300)
    for o in outcomes:
        if not 200 <= o.status < 300:
            kind = o.error or f"HTTP {o.status}"
            report.errors[kind] = report.errors.get(kind, 0) + 1
    latencies = np.array([o.latency_s for o in outcomes]) * 1000
    if latencies.size:
        report.p50_ms, report.p99_ms, report.max_ms = (
            round(float(v), 2) for v in (*np.percentile(latencies, [50, 99]), latencies.max()))
        steady = np.array([o.latency_s for o in outcomes if o.due < report.rebuild_started])
        if steady.size:
            report.steady_p50_ms, report.steady_p99_ms = (
                round(float(v), 2) for v in np.percentile(steady * 1000, [50, 99]))
        span = max(o.due + o.latency_s for o in outcomes) - outcomes[0].due
        report.achieved_rate = round(report.sent / span, 1) if span > 0 else 0.0
    after_swap = [o for o in outcomes if o.due >= swapped]
    report.answers_after_swap = len(after_swap)
    report.stale_after_swap = sum(1 for o in after_swap if o.data_version != report.new_version)
    report.served_after_refusal = sum(1 for o in outcomes if o.due >= refused
                                      and o.status == 200
                                      and o.data_version == report.new_version)


def check(report: Report, max_growth_mib: float, max_swap_lag_s: float) -> None:
    slow = [lag for lag in report.swap_lags_s if lag > max_swap_lag_s]
    if slow:
        report.problems.append(f"swaps served later than {max_swap_lag_s} s: {slow}")
    if report.failed:
        report.problems.append(f"{report.failed} requests failed")
    if report.answers_after_swap == 0:
        report.problems.append("no request was sent after the swap")
    if report.stale_after_swap:
        report.problems.append(f"{report.stale_after_swap} answers after the swap had old data")
    if not report.broken_file_refused:
        report.problems.append("the truncated file was not refused in the log")
    if report.served_after_refusal == 0:
        report.problems.append("nothing was served after the truncated file appeared")
    growth_mib = (report.rss_end_kib - report.rss_start_kib) / 1024
    if growth_mib > max_growth_mib:
        report.problems.append(f"RSS grew by {growth_mib:.1f} MiB (limit {max_growth_mib})")


def soak(args: argparse.Namespace, work: Path) -> Report:
    report = Report(stations=args.stations, rate=args.rate, duration_s=args.duration)
    run("synth", "--count", str(args.stations), "--seed", "1", "--output", "first.csv", cwd=work)
    run("synth", "--count", str(args.stations), "--seed", "2", "--output", "second.csv", cwd=work)
    data = work / "stations.gpkg"
    run("build", "first.csv", "--crs", "wgs84", "--output", str(data), cwd=work)
    report.old_version = read_build_info(data)["data_version"]
    versions = []
    for n in range(args.swaps):
        run("synth", "--count", str(args.stations), "--seed", str(10 + n), "--output",
            f"swap{n}.csv", cwd=work)
        run("build", f"swap{n}.csv", "--crs", "wgs84", "--output", f"swap{n}.gpkg", cwd=work)
        versions.append((work / f"swap{n}.gpkg",
                         read_build_info(work / f"swap{n}.gpkg")["data_version"]))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work / "server.log"
    command = [*STATIONS, "serve", "--data", str(data), "--port", str(port),
               "--reload-interval", str(RELOAD_INTERVAL_S), "--log-level", "info",
               # every connection of the load comes from 127.0.0.1, unlike riders'
               "--max-connections-per-address", "0"]
    with running_server(command, f"{url}/health", cwd=work, log_path=log_path,
                        timeout=60) as (server, _):
        for _ in range(200):  # warm up code paths and allocator before the first RSS reading
            httpx.get(f"{url}/nearest", params={"lon": "108.39", "lat": "22.81"})
        report.rss_start_kib = memory_kib(server.pid)

        async def both() -> tuple[int, tuple[float, float]]:
            disturbed = asyncio.Event()
            try:
                return await asyncio.gather(
                    drive(url, args.rate, args.duration, args.max_in_flight, disturbed,
                          outcomes),
                    disturb(url, work, data, args.duration, log_path, report, disturbed,
                            server.pid))
            finally:
                disturbed.set()

        outcomes: list[Outcome] = []
        report.late_starts, (swapped, refused) = uvloop.run(both())
        summarise(report, outcomes, swapped, refused)
        report.rss_end_kib = memory_kib(server.pid)  # growth is judged over the soak proper
        if versions:
            uvloop.run(swaps_under_saturation(url, data, versions, args.swap_every,
                                              args.saturate_connections, report))
            report.swap_loads = LOAD_TIME.findall(log_path.read_text(errors="replace")
                                                  )[-len(versions):]
        report.rss_peak_kib = memory_kib(server.pid, "VmHWM")
        report.wrk = peer_wrk(url, args.wrk_seconds)
    report.max_swap_lag_s = args.max_swap_lag
    check(report, args.max_growth_mib, args.max_swap_lag)
    return report


def print_report(report: Report) -> None:
    mib = 1024
    print(f"stations served: {report.stations:,}; target rate {report.rate:g}/s for "
          f"{report.duration_s:g} s (achieved {report.achieved_rate:g}/s, "
          f"{report.late_starts} late starts)")
    print(f"requests sent: {report.sent:,}; failed: {report.failed}"
          + (f" {report.errors}" if report.errors else ""))
    print(f"latency from due time: p50 {report.p50_ms} ms, p99 {report.p99_ms} ms, "
          f"max {report.max_ms} ms; before the rebuild: p50 {report.steady_p50_ms} ms, "
          f"p99 {report.steady_p99_ms} ms")
    print(f"rebuild: {report.old_version} -> {report.new_version}, served "
          f"{report.reload_delay_s} s after the build started; {report.answers_after_swap:,} "
          f"answers after the swap, {report.stale_after_swap} with old data")
    print(f"truncated file refused: {report.broken_file_refused} "
          f"({report.served_after_refusal:,} answers with the good data afterwards)")
    if report.refusal_log:
        print(f"  server log: {report.refusal_log}")
    print(f"server RSS: start {report.rss_start_kib / mib:.1f} MiB, after the swap "
          f"{report.rss_after_swap_kib / mib:.1f} MiB, end "
          f"{report.rss_end_kib / mib:.1f} MiB, peak {report.rss_peak_kib / mib:.1f} MiB")
    if report.swap_lags_s:
        print(f"swaps while saturated ({report.saturated_rate:g} answers/s): lag of each "
              f"from file in place to served (target <= {report.max_swap_lag_s:g} s): "
              + ", ".join(f"{lag:.2f} s" for lag in report.swap_lags_s))
        print(f"  of which the server loading the file (polled every {RELOAD_INTERVAL_S:g} s): "
              + ", ".join(report.swap_loads))
    if report.wrk:
        print("peer, wrk closed loop (2 threads, 32 connections) on the same server: "
              + ", ".join(f"{k} {v:g}" for k, v in report.wrk.items()))
    print("PASS" if not report.problems else "FAIL: " + "; ".join(report.problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--rate", type=float, default=1000.0, help="requests per second")
    parser.add_argument("--stations", type=int, default=20_000, help="synthetic stations")
    parser.add_argument("--max-in-flight", type=int, default=64,
                        help="concurrent requests at most (connections)")
    parser.add_argument("--max-growth-mib", type=float, default=64.0,
                        help="largest RSS growth from start to end that passes")
    parser.add_argument("--wrk-seconds", type=int, default=10,
                        help="seconds of the wrk peer run after the soak; 0 skips it")
    parser.add_argument("--swaps", type=int, default=4,
                        help="file replacements while the server is saturated")
    parser.add_argument("--swap-every", type=float, default=3.0, metavar="SECONDS",
                        help="seconds between those replacements")
    parser.add_argument("--saturate-connections", type=int, default=24,
                        help="closed-loop connections that saturate the server meanwhile")
    parser.add_argument("--max-swap-lag", type=float, default=2.0, metavar="SECONDS",
                        help="longest lag of a swap that passes")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stations-soak-") as folder:
        report = soak(args, Path(folder))
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
    else:
        print_report(report)
    return 0 if not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
