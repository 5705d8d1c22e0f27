"""Shared checks for the feed tests: a station table with hostile text, and the round trip."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from conftest import make_sample_frame

from stations.crs import to_wgs84
from stations.geodata import station_frame
from stations.model import AMENITIES, AMENITY_LABEL_INDEX, TEXT_FIELDS, normalise_label

# Names a spreadsheet would run as formulas, markup, control characters, and stations at the
# edges of China (Kashgar, Mohe, Sanya) where the offsets differ most.
EXTRA_STATIONS = [
    ("XX-001", '=HYPERLINK("http://evil.example","点我")', 75.9900, 39.4700, ("toilet",), "open"),
    ("XX-002", "+1 中山路驿站", 122.5300, 52.9700, (), "closed"),
    ("XX-003", "-2 三亚湾驿站 & <b>粗体</b>]]>", 109.5100, 18.2500,
     ("wifi", "ebike_charging", "legal_aid"), "temporarily_closed"),
    ("XX-004", "@SUM(A1)\x0b控制字符", 116.3975, 39.9087, tuple(a.code for a in AMENITIES), "open"),
    ("XX-005", "\t制表符开头的驿站", 121.4737, 31.2304, ("microwave",), "open"),
]


def hostile_frame() -> gpd.GeoDataFrame:
    """The six shared sample stations plus :data:`EXTRA_STATIONS`."""
    extra = station_frame(
        {
            "id": [row[0] for row in EXTRA_STATIONS],
            "name": [row[1] for row in EXTRA_STATIONS],
            "address": [f"测试地址{i}号" for i in range(len(EXTRA_STATIONS))],
            "city": "测试市",
            "phone": "-12351",
            "opening_hours": "24/7",
            "status": [row[5] for row in EXTRA_STATIONS],
            **{a.column: [a.code in row[4] for row in EXTRA_STATIONS] for a in AMENITIES},
        },
        [row[2] for row in EXTRA_STATIONS],
        [row[3] for row in EXTRA_STATIONS],
    )
    combined = pd.concat([make_sample_frame(), extra], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=extra.crs)


def expected_codes(frame: gpd.GeoDataFrame) -> dict[str, set[str]]:
    return {
        row["id"]: {a.code for a in AMENITIES if row[a.column]}
        for _, row in frame.iterrows()
    }


def codes_from_labels(text: str, separator: str = "、") -> set[str]:
    """Amenity codes from a list of Chinese labels, through the vocabulary's own index."""
    return {AMENITY_LABEL_INDEX[normalise_label(label)] for label in text.split(separator) if label}


def ground_distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine distance in metres."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


def assert_round_trip(frame: gpd.GeoDataFrame, read_back: pd.DataFrame, crs: str,
                      xml_names: bool = False) -> None:
    """``read_back`` (columns id, name, codes, lon, lat in ``crs``) matches ``frame``.

    Every station comes back once, with its name, its amenities and a position within 0.5 m
    of the stored WGS84 position after converting back.  ``xml_names``: XML formats cannot
    hold control characters, so those are compared without them.
    """
    assert sorted(read_back["id"]) == sorted(frame["id"])
    got = read_back.set_index("id")
    want = frame.set_index("id")
    for station_id, row in want.iterrows():
        name = row["name"]
        if xml_names:
            name = "".join(ch for ch in name if ch in "\t\n\r" or ord(ch) >= 0x20)
        assert got.loc[station_id, "name"] == name, station_id
    want_codes = expected_codes(frame)
    for station_id, codes in got["codes"].items():
        assert set(codes) == want_codes[station_id], station_id
    lon, lat = to_wgs84(got["lon"].to_numpy(float), got["lat"].to_numpy(float), crs)
    ids = list(got.index)
    distance = ground_distance_m(lon, lat, want.loc[ids].geometry.x.to_numpy(),
                                 want.loc[ids].geometry.y.to_numpy())
    assert distance.max() < 0.5, dict(zip(ids, distance, strict=True))


__all__ = ["TEXT_FIELDS", "assert_round_trip", "codes_from_labels", "expected_codes",
           "ground_distance_m", "hostile_frame"]
