"""OpenStreetMap XML for JOSM: read back by GDAL's OSM driver and by lxml."""

from __future__ import annotations

import re

import pandas as pd
import pyogrio
import pytest
from export_checks import assert_round_trip, codes_from_labels, hostile_frame
from lxml import etree

from stations.export import get_exporter
from stations.export.osm import DESCRIPTION_PREFIX


@pytest.fixture
def frame():
    return hostile_frame()


@pytest.fixture
def osm_path(frame, tmp_path):
    path = tmp_path / "stations.osm"
    get_exporter("osm").write(frame, path)
    return path


def _tags(node) -> dict[str, str]:
    return {tag.get("k"): tag.get("v") for tag in node.iterfind("tag")}


def _other_tags(text: str | None) -> dict[str, str]:
    """GDAL's ``other_tags`` column: ``"key"=>"value",...`` with backslash escapes."""
    pairs = re.findall(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"', text or "")
    return {re.sub(r"\\(.)", r"\1", k): re.sub(r"\\(.)", r"\1", v) for k, v in pairs}


def test_gdal_reads_every_station_back(frame, osm_path):
    points = pyogrio.read_dataframe(osm_path, layer="points")
    tags = [_other_tags(text) for text in points["other_tags"]]
    read_back = pd.DataFrame({
        "id": points["ref"],
        "name": points["name"],
        "codes": [codes_from_labels(t.get("description", "").removeprefix(DESCRIPTION_PREFIX))
                  for t in tags],
        "lon": points.geometry.x, "lat": points.geometry.y,
    })
    assert_round_trip(frame, read_back, "wgs84", xml_names=True)
    assert (points["osm_id"].astype(int) < 0).all()


def test_upload_is_blocked_and_ids_are_new(osm_path):
    root = etree.parse(str(osm_path)).getroot()
    assert root.tag == "osm"
    assert root.get("version") == "0.6"
    assert root.get("upload") == "false"
    ids = [int(node.get("id")) for node in root.iterfind("node")]
    assert all(i < 0 for i in ids)
    assert len(set(ids)) == len(ids)


def test_phones_in_international_form(frame, tmp_path):
    frame.loc[frame["id"] == "NN-002", "phone"] = "0771-5551234、138 0013 8000"
    get_exporter("osm").write(frame, path := tmp_path / "stations.osm")
    nodes = {_tags(n)["ref"]: _tags(n) for n in etree.parse(str(path)).iterfind("node")}
    assert nodes["NN-002"]["phone"] == "+86 771 5551234;+86 138 0013 8000"
    assert nodes["NN-001"]["phone"] == "0771-12351"  # a hotline cannot be dialled from abroad


def test_tagging(osm_path):
    nodes = {_tags(n)["ref"]: _tags(n) for n in etree.parse(str(osm_path)).iterfind("node")}
    nn1 = nodes["NN-001"]
    assert nn1["amenity"] == "social_facility"
    assert nn1["social_facility"] == "outreach"
    assert nn1["social_facility:for"] == "workers"
    assert nn1["name"] == nn1["name:zh"] == "民族大道枫林路口工会驿站"
    assert nn1["name:en"] == "Minzu Avenue Fenglin Road Station"
    assert nn1["opening_hours"] == "24/7"
    assert nn1["operator"] == "南宁市建设工会"
    assert nn1["phone"] == "0771-12351"
    assert nn1["addr:city"] == "南宁市"
    assert nn1["addr:province"] == "广西壮族自治区"
    assert nn1["check_date"] == "2024-06-10"
    assert (nn1["drinking_water"], nn1["microwave"], nn1["device_charging"]) == ("yes",) * 3
    assert "toilets" not in nn1 and "name:en" not in nodes["NN-002"]
    assert nodes["NN-003"]["toilets"] == "yes"
    assert nodes["NN-002"]["charging_station"] == "yes"
    # A closed station keeps its tags under the disused: lifecycle prefix.
    assert "amenity" not in nodes["XX-002"]
    assert nodes["XX-002"]["disused:amenity"] == "social_facility"
    assert nodes["NN-004"]["note"] == "暂停开放"
    assert "description" not in nodes["XX-002"]  # no amenities
