"""Time the change review of a re-imported 100,000-row workbook (``stations import --dry-run``).

Builds a synthetic national table (``stations.synth``) as an office workbook would hold it: a
title row, Chinese headings, no id column, BD-09 positions, hours as ``24小时``.  The first
import is applied through the store as ``stations import`` does.  A month later 1% of the
stations moved about 200 m, 1% changed phone, 0.5% are gone and 0.5% are new (other names,
100 m from a station that stays).  Timed: reading that workbook, validating it (divisions,
hours, made ids), the change set against the store and the HTML review page.  The change set
must count exactly what was made (the script exits 1 otherwise).  Peers in the same run:
reading the same workbook with python-calamine alone, and with openpyxl in read-only mode.

    .venv/bin/python benchmarks/bench_import.py [--count 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import openpyxl
import pandas as pd
from scipy.spatial import cKDTree

from stations.crs import from_wgs84
from stations.geodata import station_frame, write_stations
from stations.index import chord_for_distance, unit_vectors
from stations.ingest.build import check_sources
from stations.ingest.changes import ChangeSet, apply_changes, diff
from stations.ingest.review import write_review
from stations.ingest.sources import make_spec
from stations.store import open_store
from stations.synth import synthesize_table

HEADINGS = ["序号", "驿站名称", "详细地址", "所在区县", "经度", "纬度", "联系电话", "开放时间",
            "服务设施"]
TARGET_S = 20.0
NEW_OFFSET_DEG = 0.0009  # about 100 m north of the station a new one opens beside
CLEAR_M = 20.0  # a new station is at least this far from every other one
T = TypeVar("T")


def write_workbook(path: Path, table: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("全国")
    sheet.append(["全国工会驿站一览表（合成数据）"])
    sheet.append(HEADINGS)
    hours = np.where(table["opening_hours"].to_numpy() == "24/7", "24小时",
                     table["opening_hours"].to_numpy())
    for i, (name, address, district, phone, amenities) in enumerate(zip(
            table["name"], table["address"], table["district"], table["phone"],
            table["amenities"], strict=True)):
        sheet.append([i + 1, name, address, district, round(float(lon[i]), 7),
                      round(float(lat[i]), 7), phone, hours[i], amenities.replace(";", "、")])
    sheet.append(["合计"])
    workbook.save(path)


def next_month(table: pd.DataFrame, rng: np.random.Generator
               ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The sheet a month later, and the change set it must give."""
    n = len(table)
    later = table.copy()
    moved = rng.choice(n, n // 100, replace=False)
    later.loc[moved, "lon"] += 0.002  # about 200 m east
    phoned = rng.choice(n, n // 100, replace=False)
    later.loc[phoned, "phone"] = "0771-5555555"
    gone = np.zeros(n, dtype=bool)
    gone[rng.choice(n, n // 200, replace=False)] = True
    kept = later[~gone]
    new = new_stations(kept, table, n // 200, rng)
    changed = np.zeros(n, dtype=bool)
    changed[moved] = changed[phoned] = True
    is_moved = np.zeros(n, dtype=bool)
    is_moved[moved] = True
    expected = {"added": len(new), "changed": int((changed & ~gone).sum()),
                "moved": int((is_moved & ~gone).sum()), "missing": int(gone.sum()),
                "unchanged": int((~changed & ~gone).sum())}
    return pd.concat([kept, new], ignore_index=True), expected


def new_stations(kept: pd.DataFrame, before: pd.DataFrame, count: int,
                 rng: np.random.Generator) -> pd.DataFrame:
    """``count`` new stations, each 100 m north of one that stays, under a name no station
    has, and clear of every station of either month."""
    beside = kept.iloc[rng.choice(len(kept), 3 * count, replace=False)].copy()
    beside["lat"] += NEW_OFFSET_DEG
    every = pd.concat([kept, before])
    tree = cKDTree(unit_vectors(every["lon"], every["lat"]))
    nearest, _ = tree.query(unit_vectors(beside["lon"], beside["lat"]))
    beside = beside[nearest > chord_for_distance(CLEAR_M)].iloc[:count].copy()
    if len(beside) < count:
        raise RuntimeError("not enough room for the new stations")
    beside["name"] = [f"{district}新建第{k}号工会驿站"
                      for k, district in enumerate(beside["district"], start=1)]
    return beside


def timed(label: str, work: Callable[[], T]) -> tuple[T, float, float]:
    """``work()``, printing and returning its wall-clock and CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:<56} {seconds:7.2f} s  (CPU {cpu_seconds:6.2f} s)")
    return result, seconds, cpu_seconds


def bd09_workbook(path: Path, table: pd.DataFrame) -> None:
    write_workbook(path, table, *from_wgs84(table["lon"].to_numpy(float),
                                            table["lat"].to_numpy(float), "bd09"))


def counts(changes: ChangeSet) -> dict[str, int]:
    return {"added": len(changes.added), "changed": len(changes.changed),
            "moved": len(changes.moved), "missing": len(changes.missing),
            "unchanged": changes.unchanged}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    table = synthesize_table(args.count, args.seed)
    later, expected = next_month(table, rng)
    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"({os.cpu_count()} cores, shared with other jobs)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        first, second = work / "month1.xlsx", work / "month2.xlsx"
        bd09_workbook(first, table)
        bd09_workbook(second, later)
        data = work / "stations.gpkg"
        write_stations(station_frame({}, [], []), data)

        def first_import() -> int:
            checked = check_sources([make_spec(first, "bd09")])
            store = open_store(data)
            try:
                changes = diff(checked.stations, store.snapshot(), checked.made_ids)
                apply_changes(store, changes, missing=None, who="bench",
                              at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
            finally:
                store.close()
            return checked.rows_rejected

        rejected, _, _ = timed("first import, applied (not the target)", first_import)
        size = second.stat().st_size / 1e6
        print(f"workbook: {len(later):,} rows, {size:.1f} MB")

        def review() -> tuple[ChangeSet, int]:
            checked = check_sources([make_spec(second, "bd09")])
            store = open_store(data)
            try:
                changes = diff(checked.stations, store.snapshot(), checked.made_ids)
            finally:
                store.close()
            changes.lines()
            write_review(changes, work / "review.html", "review")
            return changes, checked.rows_rejected

        (changes, rejected_later), total, cpu = timed(
            "change review (read, validate, diff, review page)", review)
        page = (work / "review.html").stat().st_size / 1e6
        print(f"  {changes.summary()}; review page {page:.2f} MB")

        def calamine() -> int:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(second))
            return len(book.get_sheet_by_index(0).to_python())

        _, peer, peer_cpu = timed("peer: python-calamine reading the workbook alone", calamine)

        def openpyxl_read() -> int:
            book = openpyxl.load_workbook(second, read_only=True, data_only=True)
            return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))

        _, peer2, _ = timed("peer: openpyxl read-only reading the workbook alone", openpyxl_read)
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"change review: {total:.1f} s wall, {cpu:.1f} s CPU (target <= {TARGET_S:g} s wall); "
          f"{total / peer:.1f}x a bare calamine read ({cpu / peer_cpu:.1f}x in CPU), "
          f"{total / peer2:.1f}x a bare openpyxl read")
    got = counts(changes)
    print(f"change set: {got}; made: {expected}; rows rejected: {rejected} then "
          f"{rejected_later}")
    if got != expected or rejected or rejected_later:
        print("FAIL: the change set does not count what was made", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
