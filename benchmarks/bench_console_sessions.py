"""The console's session check, which every console page makes: SQLite beside the GeoPackage
(the peer) against PostGIS, where replicas share the sessions.

    .venv/bin/python benchmarks/bench_console_sessions.py           # 2,000 checks per store
    .venv/bin/python benchmarks/bench_console_sessions.py --quick   # 300, for a smoke run

Uses ``STATIONS_TEST_DATABASE`` when set, else a throw-away cluster (as ``bench_platform.py``).
Fifty staff sign in; eight threads then check their sessions as console pages do.  Printed per
store: session checks per second, latency p50/p99, this process's CPU ms per check (for
PostGIS the server's own CPU is not in it), and a sign-in's time (Argon2id dominates it).
Target: a session check well under a millisecond of this process's CPU in both stores, so that
sharing sessions between replicas costs a page no more than the database round trip.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench_platform import database

from stations.console.accounts import Accounts
from stations.console.db import PostgresDb, SqliteDb
from stations.store import Scope
from stations.store.postgis import PostGISStore

THREADS = 8
STAFF = 50
AT = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
PASSWORD = "bench password 123"


def measure(name: str, accounts: Accounts, count: int) -> None:
    for n in range(STAFF):
        accounts.create(f"staff{n:02d}", PASSWORD, "南宁市总工会", Scope(city="南宁市"), AT)
    started = time.perf_counter()
    tokens = [accounts.sign_in(f"staff{n:02d}", PASSWORD, AT)[0] for n in range(STAFF)]
    sign_in = (time.perf_counter() - started) / STAFF

    def check(n: int) -> float:
        begun = time.perf_counter()
        assert accounts.session(tokens[n % STAFF], AT) is not None
        return time.perf_counter() - begun

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        latencies = np.array(list(pool.map(check, range(count))))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    print(f"{name:8} session checks {count / wall:7.0f}/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
          f"  CPU {cpu / count * 1000:5.3f} ms/check | sign-in {sign_in * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 checks per store")
    count = 300 if parser.parse_args().quick else 2000
    print(f"load average {os.getloadavg()[0]:.1f}; {count} session checks per store, "
          f"{THREADS} threads, {STAFF} staff signed in")
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", Accounts(SqliteDb(Path(folder) / "console.sqlite")), count)
        with database(Path(folder)) as url:
            store = PostGISStore(url, pool_size=THREADS)
            try:
                measure("PostGIS", Accounts(PostgresDb(store.pool)), count)
            finally:
                store.close()


if __name__ == "__main__":
    main()
