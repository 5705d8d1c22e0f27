"""GPX 1.1: valid against the Topografix schema, read by gpxpy and by GDAL."""

from __future__ import annotations

from pathlib import Path

import gpxpy
import pandas as pd
import pyogrio
import pytest
from export_checks import assert_round_trip, hostile_frame
from lxml import etree

from stations.export import get_exporter
from stations.export.gpx import STATION_NAMESPACE

SCHEMA = Path(__file__).parent / "schemas" / "gpx11" / "gpx.xsd"


@pytest.fixture
def frame():
    return hostile_frame()


@pytest.fixture
def gpx_path(frame, tmp_path):
    path = tmp_path / "stations.gpx"
    get_exporter("gpx").write(frame, path)
    return path


def test_valid_against_gpx11_schema(gpx_path):
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    schema.assertValid(etree.parse(str(gpx_path)))


def _extension(waypoint, tag: str) -> str:
    for element in waypoint.extensions:
        if element.tag == f"{{{STATION_NAMESPACE}}}{tag}":
            return element.text or ""
    raise AssertionError(f"no {tag} extension")


def test_round_trip_through_gpxpy(frame, gpx_path):
    gpx = gpxpy.parse(gpx_path.read_text(encoding="utf-8"))
    assert gpx.version == "1.1"
    read_back = pd.DataFrame({
        "id": [_extension(w, "id") for w in gpx.waypoints],
        "name": [w.name for w in gpx.waypoints],
        "codes": [[c for c in _extension(w, "amenities").split(",") if c] for w in gpx.waypoints],
        "lon": [w.longitude for w in gpx.waypoints],
        "lat": [w.latitude for w in gpx.waypoints],
    })
    assert_round_trip(frame, read_back, "wgs84", xml_names=True)
    first = next(w for w in gpx.waypoints if _extension(w, "id") == "NN-001")
    assert first.symbol == "Drinking Water"
    by_id = {_extension(w, "id"): w.symbol for w in gpx.waypoints}
    assert by_id["XX-001"] == "Restroom"      # a toilet, no drinking water
    assert by_id["XX-002"] == "Building"      # no amenities
    assert first.type == "户外劳动者服务站点"
    assert first.comment == "南宁市青秀区民族大道枫林路口工会驿站旁"
    assert "服务设施：饮水、冰箱、微波炉" in first.description
    assert "电话：0771-12351" in first.description


def test_gdal_reads_the_waypoints(frame, gpx_path):
    table = pyogrio.read_dataframe(gpx_path, layer="waypoints")
    assert len(table) == len(frame)
    assert "月光草坪工会驿站" in set(table["name"])
    assert set(table["sym"]) == {"Drinking Water", "Restroom", "Building"}
