"""What the rider page's question costs, beside the plain nearest query, in one run.

    .venv/bin/python benchmarks/bench_riders.py            # 150,000 stations, about a minute
    .venv/bin/python benchmarks/bench_riders.py --quick    # smaller, for a smoke run

On a synthetic national table (``stations.synth``), in process, single queries as the event
loop runs them (no OpenMP team), p50/p99 of the full GeoJSON answer for:

1. the peer: k=5 nearest, no filter (what ``bench_api.py`` reports as "service");
2. the old page default: k=8, ``open_now=true``;
3. the rider page now: k=8 within 20 km, ``open_state=open,unknown``;
4. nothing within reach: the same with a 50 m radius, so most answers carry
   ``nearestBeyondReach`` (a second search without the radius);

and the load time of the table with and without the hours in words (``hours_zh``/``hours_en``,
worked out once per distinct expression).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_api import percentiles_us, query_points, write_synthetic
from threadpoolctl import threadpool_limits

from stations import service as service_module
from stations.service import NearestOptions, StationService

SATURDAY_NIGHT = dt.datetime(2024, 6, 15, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def time_answers(service: StationService, points: np.ndarray, options: NearestOptions
                 ) -> tuple[str, float]:
    """Percentiles of single answers, and the share of answers that offer a station beyond."""
    times: list[int] = []
    beyond = 0
    with threadpool_limits(1, user_api="openmp"):
        for lon, lat in points[:500]:  # warm up: masks and subset trees are built once
            service.find_nearest(lon, lat, options)
        for lon, lat in points:
            start = time.perf_counter_ns()
            body = service.find_nearest(lon, lat, options)
            times.append(time.perf_counter_ns() - start)
            beyond += b'"nearestBeyondReach"' in body
    return percentiles_us(times), beyond / len(points)


def load_seconds(path: Path, rounds: int = 3) -> tuple[float, float]:
    """Best load time with and without the hours in words, taken in turns (the machine is
    shared: turns spread its load over both)."""
    words = service_module._hours_in_words
    best = {True: np.inf, False: np.inf}
    for _ in range(rounds):
        for with_words in (True, False):
            if not with_words:
                service_module._hours_in_words = lambda _h, _r: b""  # type: ignore[assignment]
            try:
                start = time.perf_counter()
                StationService.load(path)
                best[with_words] = min(best[with_words], time.perf_counter() - start)
            finally:
                service_module._hours_in_words = words
    return best[True], best[False]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="small and short, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.count, args.queries = 20_000, 2000
    with tempfile.TemporaryDirectory(prefix="bench-riders-") as tmp:
        path = Path(tmp) / "national.gpkg"
        write_synthetic(args.count, 1, path)
        service = StationService.load(path)
        points = query_points(service, args.queries, seed=5)
        counts = np.unique(service.hours.states(SATURDAY_NIGHT), return_counts=True)
        shares = ", ".join(f"{({1: 'open', 0: 'closed', -1: 'unknown'})[int(s)]} "
                           f"{100 * n / service.count:.0f}%" for s, n in zip(*counts, strict=True))
        print(f"{service.count:,} stations; on a Saturday night: {shares}")
        print(f"{len(points):,} single queries, full GeoJSON answers, in process")
        cases = [
            ("peer: k=5, no filter", NearestOptions(k=5)),
            ("old page: k=8, open_now", NearestOptions(k=8, open_now=True, at=SATURDAY_NIGHT)),
            ("rider page: k=8, 20 km, open/unknown",
             NearestOptions(k=8, radius_m=20_000, open_state=("open", "unknown"),
                            at=SATURDAY_NIGHT)),
            ("nothing within reach: 50 m radius",
             NearestOptions(k=8, radius_m=50, open_state=("open", "unknown"),
                            at=SATURDAY_NIGHT)),
        ]
        for label, options in cases:
            figures, beyond = time_answers(service, points, options)
            print(f"  {label:38s} {figures}   nearestBeyondReach in {100 * beyond:.0f}%")
        with_words, without_words = load_seconds(path)
        print(f"load: {with_words:.2f} s with hours in words, {without_words:.2f} s without "
              "(best of 3, in turns)")


if __name__ == "__main__":
    main()
