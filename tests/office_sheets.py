"""A Nanning union office's station sheet as it comes out of Excel, made in code."""

from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl

from stations.crs import from_wgs84
from stations.index import haversine_m

HEADINGS = ["驿站名称", "详细地址", "所在区县", "经度", "纬度", "联系电话", "开放时间", "服务设施"]
HOURS = ["24小时", "全天", "8：00—18：00", "周一至周五 9:00-17:00", "有人就开"]


def true_positions(count: int) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 positions spread over Nanning, at least ~300 m apart."""
    i = np.arange(count)
    return 108.28 + (i % 6) * 0.012, 22.78 + (i // 6) * 0.009


def nanning_rows(crs: str, count: int = 30) -> list[list[str]]:
    lon, lat = true_positions(count)
    shown_lon, shown_lat = from_wgs84(lon, lat, crs)
    rows = []
    for i in range(count):
        rows.append([f"青秀区第{i + 1}工会驿站", f"广西壮族自治区南宁市青秀区民族大道{i + 1}号",
                     "青秀区", f"{shown_lon[i]:.7f}", f"{shown_lat[i]:.7f}", "0771-12351",
                     HOURS[i % len(HOURS)], "饮水、微波炉，空调/手机充电 无线网络"])
    return rows


def excel_csv(path, rows: list[list[str]]) -> None:
    """A CSV as Excel on Chinese Windows saves it: GB18030, CRLF, every row as wide."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode("gb18030"))


def check_positions(stations, count: int) -> None:
    lon, lat = true_positions(count)
    by_name = stations.set_index("name")
    for i in range(count):
        point = by_name.loc[f"青秀区第{i + 1}工会驿站"].geometry
        assert haversine_m(point.x, point.y, lon[i], lat[i]) < 0.5


def office_csv(path) -> None:
    """30 good stations in BD-09 under a title row, a blank row among them, three bad rows
    (rows 35-37: a word for a longitude, no name, swapped columns) and notes at the bottom."""
    bad = [["坏驿站甲", "南宁市青秀区某路", "青秀区", "东经", "22.8", "", "24小时", ""],
           ["", "南宁市青秀区某路2号", "青秀区", "108.3", "22.8", "", "", ""],
           ["坏驿站丙", "南宁市青秀区某路3号", "青秀区", "22.8", "108.3", "", "", ""]]
    width = len(HEADINGS)
    rows = [["南宁市工会驿站一览表"] + [""] * (width - 1), [""] * width, HEADINGS,
            *nanning_rows("bd09")[:15], [""] * width, *nanning_rows("bd09")[15:], *bad,
            ["合计：33个"] + [""] * (width - 1), ["填表人：张三"] + [""] * (width - 1)]
    excel_csv(path, rows)


def office_workbook(path) -> None:
    """Twelve GCJ-02 stations on two district sheets (title rows, the district merged down,
    both numbers in one cell, ticked amenity columns) and a sheet of notes."""
    workbook = openpyxl.Workbook()
    rows = nanning_rows("gcj02", 12)
    for number, district in enumerate(("青秀区", "兴宁区")):
        sheet = workbook.active if number == 0 else workbook.create_sheet()
        sheet.title = district
        sheet.append([f"{district}工会驿站一览表"])
        sheet.merge_cells("A1:I1")
        sheet.append(["序号", "站点名称", "位置", "辖区", "坐标", "电话", "服务时间", "微波炉",
                      "空调"])
        part = rows[number * 6:(number + 1) * 6]
        for i, row in enumerate(part, start=1):
            position = f"{row[4]}，{row[3]}" if i % 2 else f"{row[3]},{row[4]}"
            sheet.append([i, row[0], f"南宁市民族大道{i}号", district if i == 1 else None,
                          position, row[5],
                          row[6], "√" if i % 2 else "", "是"])
        sheet.merge_cells(f"D3:D{2 + len(part)}")
        sheet.append(["备注：坐标取自高德地图"])
    notes = workbook.create_sheet("说明")
    notes.append(["填表说明"])
    notes.append(["坐标取自高德地图"])
    workbook.save(path)
