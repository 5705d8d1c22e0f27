"""Riders' GET /nearest while problem reports are written, and while the report file is locked.

    .venv/bin/python benchmarks/bench_reports.py            # about a minute
    .venv/bin/python benchmarks/bench_reports.py --quick    # shorter, for a smoke run

``stations serve`` runs on the shipped sample (geodata/stations.gpkg, copied to a temporary
folder with its own report file).  One client asks ``GET /nearest`` in a loop and its latency is
measured in three phases, the first being the peer the others are compared with:

1. idle: nothing else happens;
2. reports: eight clients send reports as fast as they are answered (budgets raised so that
   every one is stored or deduplicated, none refused);
3. locked: a second process holds the report file's write lock (``BEGIN IMMEDIATE``) and the
   eight clients keep sending; each report waits the busy timeout (2 s) and gets 503.

The figures printed are p50, p99 and the maximum of the rider's latency, and how many reports
were answered per second with which statuses.  The old code answered reports on the event loop,
so in phase 3 every rider waited as long as the lock (9.9 s in the probe of issue #10).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from servers import free_port, running_server

ROOT = Path(__file__).resolve().parent.parent
HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""
KINDS = ("closed_at_night", "microwave_broken", "charger_missing", "wrong_location", "other")


def rider_latencies(url: str, seconds: float) -> list[float]:
    latencies = []
    with httpx.Client(timeout=60) as rider:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            started = time.perf_counter()
            rider.get(f"{url}/nearest", params={"lon": 108.37, "lat": 22.82}).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return latencies


def reporters(url: str, ids: list[str], stop: threading.Event, statuses: Counter[int]) -> list[
        threading.Thread]:
    def send(n: int) -> None:
        with httpx.Client(timeout=60) as client:
            i = n
            while not stop.is_set():
                station = ids[i % len(ids)]
                kind = KINDS[(i // len(ids)) % len(KINDS)]
                statuses[client.post(f"{url}/stations/{station}/reports",
                                     json={"kind": kind}).status_code] += 1
                i += 8
    return [threading.Thread(target=send, args=(n,), daemon=True) for n in range(8)]


def phase(name: str, url: str, ids: list[str], seconds: float, with_reports: bool) -> None:
    statuses: Counter[int] = Counter()
    stop = threading.Event()
    threads = reporters(url, ids, stop, statuses) if with_reports else []
    for thread in threads:
        thread.start()
    latencies = np.array(rider_latencies(url, seconds)) * 1000
    stop.set()
    for thread in threads:
        thread.join()
    reports = sum(statuses.values())
    shown = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    print(f"{name:<8} GET /nearest p50 {np.percentile(latencies, 50):6.1f} ms  "
          f"p99 {np.percentile(latencies, 99):6.1f} ms  max {latencies.max():7.1f} ms  "
          f"({len(latencies)} requests)  reports {reports / seconds:6.1f}/s"
          + (f" ({shown})" if shown else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per phase instead of 20 s")
    seconds = 5.0 if parser.parse_args().quick else 20.0
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "stations.gpkg"
        shutil.copy(ROOT / "geodata" / "stations.gpkg", data)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {"STATIONS_REPORTS_PER_ADDRESS": "1000000", "STATIONS_REPORTS_PER_NETWORK": "1000000",
               "STATIONS_REPORTS_PER_HOUR": "1000000", "STATIONS_REPORTS_DEDUPE_WINDOW_S": "0"}
        command = [sys.executable, "-m", "stations", "serve", "--data", str(data),
                   "--port", str(port), "--log-level", "warning"]
        with running_server(command, f"{url}/health", env=env):
            ids = [f["id"] for f in httpx.get(f"{url}/collections/stations/items",
                                              params={"limit": 1000}).json()["features"]]
            print(f"stations serve on the sample ({len(ids)} stations); {seconds:g} s per phase; "
                  "the machine may be shared")
            phase("idle", url, ids, seconds, with_reports=False)
            phase("reports", url, ids, seconds, with_reports=True)
            holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK,
                                       str(data.with_name("reports.sqlite"))],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
                phase("locked", url, ids, seconds, with_reports=True)
            finally:
                holder.communicate("", timeout=30)


if __name__ == "__main__":
    main()
