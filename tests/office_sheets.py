"""A Nanning union office's station sheet as it comes out of Excel, made in code."""

from __future__ import annotations

import csv
import io

import numpy as np

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
