"""GeoJSON feeds, read back by GDAL (pyogrio)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyogrio
import pytest
from export_checks import assert_round_trip, ground_distance_m, hostile_frame

from stations.export import get_exporter
from stations.model import AMENITY_BY_CODE, TEXT_FIELDS


@pytest.fixture
def frame():
    return hostile_frame()


def _read_back(path) -> pd.DataFrame:
    table = pyogrio.read_dataframe(path)
    return pd.DataFrame({
        "id": table["id"], "name": table["name"],
        "codes": [list(codes) if codes is not None else [] for codes in table["amenities"]],
        "lon": table.geometry.x, "lat": table.geometry.y,
    })


def test_rfc7946_feed_round_trips_through_gdal(frame, tmp_path):
    path = tmp_path / "stations.geojson"
    get_exporter("geojson").write(frame, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in document
    assert pyogrio.read_info(path)["crs"] == "EPSG:4326"
    assert_round_trip(frame, _read_back(path), "wgs84")


def test_every_attribute_and_chinese_labels_are_present(frame, tmp_path):
    path = tmp_path / "stations.geojson"
    get_exporter("geojson").write(frame, path)
    features = {f["id"]: f for f in json.loads(path.read_bytes())["features"]}
    nn1 = features["NN-001"]["properties"]
    assert set(TEXT_FIELDS) <= set(nn1)
    assert nn1["name"] == "民族大道枫林路口工会驿站"
    assert nn1["status_zh"] == "开放"
    assert nn1["amenities_zh"] == [AMENITY_BY_CODE[c].label_zh for c in nn1["amenities"]]
    assert "微波炉" in nn1["amenities_zh"]
    assert features["YY-002"]["properties"]["name"] == "<img src=x onerror=alert(1)>"


def test_coordinates_have_at_most_seven_decimals(frame, tmp_path):
    shifted = frame.copy()
    shifted.geometry = shifted.geometry.translate(1.23456789012e-3, -9.87654321098e-4)
    path = tmp_path / "stations.geojson"
    get_exporter("geojson").write(shifted, path)
    numbers = re.findall(r'"coordinates":\[([^\]]*)\]', path.read_text(encoding="utf-8"))
    decimals = [len(n.split(".")[1]) for pair in numbers for n in pair.split(",") if "." in n]
    assert len(numbers) == len(frame)
    assert max(decimals) == 7


def test_gcj02_feed_says_so_and_is_really_offset(frame, tmp_path):
    path = tmp_path / "stations-gcj02.geojson"
    get_exporter("geojson-gcj02").write(frame, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["coordinate_system"] == "GCJ-02"
    read_back = _read_back(path)
    assert_round_trip(frame, read_back, "gcj02")
    # Taken for WGS84, a GCJ-02 point is hundreds of metres off: the bug the label and the
    # file name guard against.
    stored = frame.set_index("id").loc[read_back["id"]]
    offset = ground_distance_m(read_back["lon"], read_back["lat"], stored.geometry.x.to_numpy(),
                               stored.geometry.y.to_numpy())
    assert offset.min() > 100
