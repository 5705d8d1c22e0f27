"""Small station source tables written as real files, for the import and validation tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from stations.ingest.sources import SourceTable, make_spec, read_source

# One valid row as a Nanning union office writes it (Chinese headings, GCJ-02 coordinates).
GOOD_ROW: dict[str, str] = {
    "编号": "NN-101",
    "驿站名称": "民族大道枫林路口工会驿站",
    "详细地址": "民族大道与枫林路交叉口",
    "城市": "南宁市",
    "所在区县": "青秀区",
    "经度": "108.3960",
    "纬度": "22.8170",
    "服务设施": "饮水、微波炉、空调",
    "开放时间": "24/7",
    "联系电话": "0771-12351",
    "状态": "开放",
}


def row(**changes: str) -> dict[str, str]:
    """GOOD_ROW with some cells changed; keys are the Chinese headings."""
    return {**GOOD_ROW, **changes}


def rows_with_ids(count: int, start: int = 1, step_deg: float = 0.01) -> list[dict[str, str]]:
    """``count`` valid rows with distinct ids, names and positions (about 1 km apart)."""
    return [
        row(编号=f"NN-{start + i:03d}", 驿站名称=f"测试工会驿站{start + i}号",
            经度=f"{108.30 + i * step_deg:.4f}")
        for i in range(count)
    ]


def csv_text(rows: Sequence[dict[str, str]]) -> str:
    headings: list[str] = []
    for r in rows:
        headings += [h for h in r if h not in headings]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headings, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, rows: Sequence[dict[str, str]], encoding: str = "utf-8") -> Path:
    path.write_bytes(csv_text(rows).encode(encoding))
    return path


def read_csv_rows(path: Path, rows: Sequence[dict[str, str]], crs: str = "gcj02",
                  encoding: str = "utf-8") -> SourceTable:
    """Write ``rows`` to ``path`` and read them back as a source table."""
    write_csv(path, rows, encoding)
    return read_source(make_spec(path, crs, label=path.name))
