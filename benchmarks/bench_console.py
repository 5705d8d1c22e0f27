"""The office console's pages for a big office, against the office API's JSON listing.

    .venv/bin/python benchmarks/bench_console.py            # 60,000 stations, about a minute
    .venv/bin/python benchmarks/bench_console.py --quick    # 10,000 stations, for a smoke run

In one process (FastAPI's TestClient, no network), on a synthetic national table, for the
office of the city with the most stations, with open reports on a share of its stations.
Each figure is the median of ``--repeat`` requests, wall time and CPU time (process_time):

1. peer: ``GET /office/stations`` with an office key, the same stations as JSON;
2. ``GET /console``: the table, the filters and each station's position in WGS84 and GCJ-02
   for the map (``crs.py``, vectorised);
3. ``GET /console/reports``: the inbox, where each station's group reads its recent edits;
4. ``GET /console/position?crs=gcj02``: what one dragged pin costs the server.

Target: the stations page within 3× the JSON listing of the same stations (it is the page an
office opens first), and a dragged pin answered in a few milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from bench_api import write_synthetic
from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.console.accounts import Accounts
from stations.reports import Budget, ReportLimits, SQLiteReportStore
from stations.store import Scope
from stations.store.gpkg import GeoPackageStore
from stations.synth import synthesize_table

AT = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PASSWORD = "benchmark password"
STATIONS_TARGET_RATIO = 3.0


def timed(call: Callable[[], httpx.Response], repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``call``, which must answer 200."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        answer = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert answer.status_code == 200, answer.text[:300]
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def busiest_city(count: int, seed: int) -> tuple[str, list[str]]:
    """The city with the most stations in the synthetic table, and their ids."""
    table = synthesize_table(count, seed)
    city = str(table["city"].value_counts().index[0])
    return city, [str(i) for i in table.loc[table["city"] == city, "id"]]


def add_reports(path: Path, station_ids: list[str], share: float) -> int:
    """Open reports on ``share`` of the stations, past the budgets riders have."""
    unlimited = Budget(10**9, 1.0)
    store = SQLiteReportStore(path, limits=ReportLimits(unlimited, unlimited, unlimited,
                                                        dedupe_window_s=0, max_open=10**9))
    chosen = station_ids[:: max(1, round(1 / share))]
    for i, station_id in enumerate(chosen):
        store.add(station_id, "microwave_broken", f"<b>坏</b> {i}",
                  client=f"10.{i // 250}.{i % 250}.1")
    store.close()
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=60_000, help="stations in the table")
    parser.add_argument("--repeat", type=int, default=15, help="requests per figure")
    parser.add_argument("--report-share", type=float, default=0.1,
                        help="share of the office's stations with an open report")
    parser.add_argument("--quick", action="store_true", help="10,000 stations, 5 repeats")
    args = parser.parse_args()
    count, repeat = (10_000, 5) if args.quick else (args.count, args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        data, reports, accounts = work / "stations.gpkg", work / "reports.sqlite", \
            work / "console.sqlite"
        write_synthetic(count, 0, data)
        city, mine = busiest_city(count, 0)
        reported = add_reports(reports, mine, args.report_share)
        _key, secret = GeoPackageStore(data).create_key(city, Scope(city=city), AT)
        Accounts(accounts).create("office", PASSWORD, city, Scope(city=city), AT)
        app = create_app(ApiSettings(data=data, reports=reports, console_accounts=accounts,
                                     reload_interval_s=0), clock=lambda: AT)
        with TestClient(app, base_url="http://testserver") as client:
            client.post("/console/login", data={"username": "office", "password": PASSWORD})
            listing = client.get("/office/stations",
                                 headers={"Authorization": f"Bearer {secret}"}).json()
            shown = len(re.findall(r'<tr class="station"', client.get("/console").text))
            figures = {
                "GET /office/stations (JSON, peer)": timed(lambda: client.get(
                    "/office/stations", headers={"Authorization": f"Bearer {secret}"}),
                    repeat),
                "GET /console (page with map data)": timed(lambda: client.get("/console"),
                                                           repeat),
                "GET /console/reports (inbox)": timed(lambda: client.get("/console/reports"),
                                                      repeat),
                "GET /console/position (one pin)": timed(lambda: client.get(
                    "/console/position", params={"lon": "108.4", "lat": "22.8",
                                                 "crs": "gcj02"}), repeat),
            }
    listed = listing.get("count", len(listing.get("stations", listing.get("features", []))))
    print(f"office {city}: {shown} stations on the page ({listed} in the JSON listing), "
          f"{reported} with an open report; table of {count:,} stations")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"median of {repeat} requests")
    print(f"{'request':40} {'wall ms':>9} {'CPU ms':>9}")
    for name, (wall, cpu) in figures.items():
        print(f"{name:40} {wall:9.1f} {cpu:9.1f}")
    peer_cpu = figures["GET /office/stations (JSON, peer)"][1]
    page_cpu = figures["GET /console (page with map data)"][1]
    ratio = page_cpu / peer_cpu if peer_cpu else float("inf")
    verdict = "met" if ratio <= STATIONS_TARGET_RATIO else "NOT met"
    print(f"TARGET stations page CPU / JSON listing CPU = {ratio:.2f} "
          f"(target <= {STATIONS_TARGET_RATIO:g}): {verdict}")


if __name__ == "__main__":
    main()
