"""The compact station table a station map carries.

One folium Marker per station does not scale (150,000 stations: 74 s and 118 MB of HTML), so
the station map ships the table once, column by column, and the page makes markers and
popups itself.  Coordinates are running sums of integer micro-degrees (about 0.1 m); the
GCJ-02 and BD-09 positions for the Amap and Baidu navigation links are computed here with
:mod:`stations.crs` and shipped as small offsets; amenities are one bitmask per station;
repetitive text columns are stored once per distinct value.  The JSON is gzipped and
base64-encoded; the browser unpacks it with ``DecompressionStream``.
"""

from __future__ import annotations

import base64
import gzip
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd

from ..crs import wgs84_to_bd09, wgs84_to_gcj02
from ..hours import hours_for_riders
from ..model import AMENITIES, STATUS_LABELS_ZH, Status

COORDINATE_SCALE = 1_000_000
# Optional column: open problem reports per station (stations.reports); marked on the map.
OPEN_REPORTS_COLUMN = "open_reports"
POPUP_TEXT_FIELDS = ("id", "name", "name_en", "address", "phone", "operator")

STATUS_COLOURS = {
    Status.OPEN: "#2e7d32",
    Status.TEMPORARILY_CLOSED: "#ef6c00",
    Status.CLOSED: "#757575",
}
UNKNOWN_STATUS = {"code": "", "label": "状态未知 Unknown", "color": "#9e9e9e"}


def status_legend() -> list[dict[str, str]]:
    """The statuses in the order of their codes in the payload; the last one is 'unknown'."""
    known = [{"code": s.value, "label": f"{STATUS_LABELS_ZH[s]} {s.value.replace('_', ' ')}",
              "color": STATUS_COLOURS[s]} for s in Status]
    return [*known, UNKNOWN_STATUS]


def amenity_legend() -> list[dict[str, object]]:
    """The amenity vocabulary with the bit each amenity has in the payload's mask."""
    return [{"code": a.code, "label_zh": a.label_zh, "label_en": a.label_en, "icon": a.icon,
             "bit": bit} for bit, a in enumerate(AMENITIES)]


def _micro(values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    return np.round(np.asarray(values, dtype=np.float64) * COORDINATE_SCALE).astype(np.int64)


def _running(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.diff(values, prepend=0)


def _text_column(values: pd.Series) -> object:
    """A plain list, or distinct values plus codes when that is much shorter."""
    codes, levels = pd.factorize(values.astype(str), sort=False)
    if len(levels) * 2 > len(values):
        return values.astype(str).tolist()
    return {"levels": levels.tolist(), "codes": codes}


@lru_cache(maxsize=4096)
def hours_in_words(expression: str, recorded: str) -> str:
    """Opening hours as people say them, Chinese first (每天 05:00–23:00 / Daily 05:00–23:00)."""
    return f"{hours_for_riders(expression, recorded, 'zh')} / " \
        f"{hours_for_riders(expression, recorded, 'en')}"


def station_payload(stations: gpd.GeoDataFrame) -> dict[str, object]:
    """The station table as the page's decoder expects it (see ``station_layer.js``)."""
    lon = stations.geometry.x.to_numpy()
    lat = stations.geometry.y.to_numpy()
    wgs_lon, wgs_lat = _micro(lon), _micro(lat)
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    bd_lon, bd_lat = wgs84_to_bd09(lon, lat)
    mask = np.zeros(len(stations), dtype=np.int64)
    for bit, amenity in enumerate(AMENITIES):
        mask |= stations[amenity.column].to_numpy(dtype=bool).astype(np.int64) << bit
    status_codes = {s["code"]: code for code, s in enumerate(status_legend())}
    unknown = len(status_codes) - 1
    status = stations["status"].astype(str).map(status_codes).fillna(unknown).astype(np.int64)
    reports = (stations[OPEN_REPORTS_COLUMN].to_numpy(dtype=np.int64)
               if OPEN_REPORTS_COLUMN in stations else np.zeros(len(stations), dtype=np.int64))
    reported = np.flatnonzero(reports > 0)
    return {
        "count": len(stations),
        "scale": COORDINATE_SCALE,
        "lon": _running(wgs_lon),
        "lat": _running(wgs_lat),
        "gcj_dlon": (_micro(gcj_lon) - wgs_lon),
        "gcj_dlat": (_micro(gcj_lat) - wgs_lat),
        "bd_dlon": (_micro(bd_lon) - wgs_lon),
        "bd_dlat": (_micro(bd_lat) - wgs_lat),
        "mask": mask,
        "status": status.to_numpy(),
        "reports": np.column_stack([reported, reports[reported]]),  # [station index, count]
        "text": {**{field: _text_column(stations[field]) for field in POPUP_TEXT_FIELDS},
                 "hours": _text_column(pd.Series(list(map(
                     hours_in_words, stations["opening_hours"], stations["opening_hours_text"]))))},
    }


def encode_payload(payload: dict[str, object]) -> str:
    """Gzipped JSON as base64 text: safe inside a script element, and small."""
    raw = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    # Level 3: most of the size gain of level 6 at a quarter of the time on 150,000 stations.
    return base64.b64encode(gzip.compress(raw, compresslevel=3, mtime=0)).decode("ascii")


def decode_payload(encoded: str) -> dict[str, object]:
    """The inverse of :func:`encode_payload`, for tests and tools that inspect a map."""
    return orjson.loads(gzip.decompress(base64.b64decode(encoded)))
