"""Time the change review of a re-imported 100,000-row workbook (``stations import --dry-run``).

Builds a synthetic national table (``stations.synth``) as an office workbook would hold it: a
title row, Chinese headings, no id column, BD-09 positions, hours as ``24小时``.  The first
import is stored; then a month later 1% of the stations moved, 1% changed phone, 0.5% are gone
and 0.5% are new.  Timed: reading that workbook, validating it (divisions, hours, made ids),
the change set against the store and the HTML review page.  Peers in the same run: reading
the same workbook with python-calamine alone, and with openpyxl in read-only mode.

    .venv/bin/python benchmarks/bench_import.py [--count 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import openpyxl

from stations.crs import from_wgs84
from stations.geodata import write_stations
from stations.ingest.build import check_sources
from stations.ingest.changes import diff, records_from_frame
from stations.ingest.review import write_review
from stations.ingest.sources import make_spec
from stations.store import open_store
from stations.synth import synthesize_table

HEADINGS = ["序号", "驿站名称", "详细地址", "所在区县", "经度", "纬度", "联系电话", "开放时间",
            "服务设施"]


def write_workbook(path: Path, table, lon, lat) -> None:
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


def timed(label: str, work):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"{label:<58} {seconds:7.2f} s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    table = synthesize_table(args.count, args.seed)
    lon, lat = table["lon"].to_numpy(float), table["lat"].to_numpy(float)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        first = work / "month1.xlsx"
        write_workbook(first, table, *from_wgs84(lon, lat, "bd09"))
        result = check_sources([make_spec(first, "bd09")])
        write_stations(result.stations, work / "stations.gpkg")
        # A month later: moved, changed, gone and new stations.
        n = args.count
        moved = rng.choice(n, n // 100, replace=False)
        lon2 = lon.copy()
        lon2[moved] += 0.002  # about 200 m
        table.loc[rng.choice(n, n // 100, replace=False), "phone"] = "0771-5555555"
        keep = np.ones(n, dtype=bool)
        keep[rng.choice(n, n // 200, replace=False)] = False
        table2 = table[keep].reset_index(drop=True)
        second = work / "month2.xlsx"
        blon, blat = from_wgs84(lon2[keep], lat[keep], "bd09")
        write_workbook(second, table2, blon, blat)
        size = second.stat().st_size / 1e6
        print(f"workbook: {len(table2):,} rows, {size:.1f} MB; machine shared with other jobs")

        def review() -> str:
            checked = check_sources([make_spec(second, "bd09")])
            store = open_store(work / "stations.gpkg")
            try:
                changes = diff(records_from_frame(checked.stations), store.snapshot(),
                               checked.made_ids)
            finally:
                store.close()
            write_review(changes, work / "review.html", "review")
            return changes.summary()

        summary, total = timed("change review (read, validate, diff, review page)", review)
        print(f"  {summary}")

        def calamine() -> int:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(second))
            return len(book.get_sheet_by_index(0).to_python())

        _, peer = timed("peer: python-calamine reading the workbook alone", calamine)

        def openpyxl_read() -> int:
            book = openpyxl.load_workbook(second, read_only=True, data_only=True)
            return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))

        _, peer2 = timed("peer: openpyxl read-only reading the workbook alone", openpyxl_read)
        print(f"change review: {total:.1f} s (target <= 20 s); "
              f"{total / peer:.1f}x a bare calamine read, {total / peer2:.1f}x a bare openpyxl "
              "read")


if __name__ == "__main__":
    main()
