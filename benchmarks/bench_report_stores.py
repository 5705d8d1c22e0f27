"""Riders' reports in the two stores: SQLite beside the GeoPackage (the peer) and PostGIS.

    .venv/bin/python benchmarks/bench_report_stores.py            # 2,000 reports per store
    .venv/bin/python benchmarks/bench_report_stores.py --quick    # 300, for a smoke run

Uses ``STATIONS_TEST_DATABASE`` when set, else a throw-away cluster (as ``bench_platform.py``).
Eight threads add reports as the API's report threads do (distinct stations, many addresses,
budgets raised so that none is refused), then an office lists the open reports of its 1,000
stations and resolves 200 of them with a note.  PostGIS takes every new report under one row
lock (budgets that hold across replicas), so its figure against SQLite's is the price of that.

Printed per store: reports added per second, add latency p50/p99, this process's CPU ms per
report (for PostGIS the server's own CPU is not in it), the office's listing time and resolves
per second.  Wall-clock figures grow with the machine's load; the CPU figure much less.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench_platform import database

from stations.reports import Budget, ReportLimits, ReportStore, SQLiteReportStore
from stations.reports.postgis import PostGISReportStore
from stations.store.postgis import PostGISStore

THREADS = 8
OFFICE_STATIONS = 1000
LIMITS = ReportLimits(per_address=Budget(10**6, 600), per_network=Budget(10**6, 3600),
                      everyone=Budget(10**6, 3600), max_open=10**7, busy_timeout_s=30)


def measure(name: str, store: ReportStore, count: int) -> None:
    def add(n: int) -> float:
        started = time.perf_counter()
        store.add(f"S-{n:06d}", "other", f"第 {n} 号", client=f"10.{n // 65536 % 256}."
                  f"{n // 256 % 256}.{n % 256}")
        return time.perf_counter() - started

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        latencies = np.array(list(pool.map(add, range(count))))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    office = [f"S-{n:06d}" for n in range(0, count, max(1, count // OFFICE_STATIONS))]
    listing = timed(lambda: store.reports(station_ids=office))
    ids = [r.id for r in store.reports(station_ids=office)][:200]
    resolving = timed(lambda: [store.resolve(i, who="南宁市总工会", note="已处理") for i in ids])
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    print(f"{name:8} add {count / wall:7.0f} reports/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
          f"CPU {cpu / count * 1000:5.2f} ms/report | office list of {len(office)} stations "
          f"{listing * 1000:6.1f} ms | resolve {len(ids) / resolving:6.0f}/s")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 reports per store")
    count = 300 if parser.parse_args().quick else 2000
    print(f"load average {os.getloadavg()[0]:.1f}; {count} reports per store, {THREADS} threads")
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", SQLiteReportStore(Path(folder) / "reports.sqlite", limits=LIMITS),
                count)
        with database(Path(folder)) as url:
            stations = PostGISStore(url, pool_size=THREADS)
            try:
                measure("PostGIS", PostGISReportStore(stations.pool, limits=LIMITS), count)
            finally:
                stations.close()


if __name__ == "__main__":
    main()
