"""KML 2.2: valid against the OGC schema, read back by GDAL's LIBKML driver."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from export_checks import assert_round_trip, hostile_frame
from lxml import etree

from stations.export import get_exporter
from stations.export.kml import KML_NAMESPACE

SCHEMA = Path(__file__).parent / "schemas" / "kml22" / "ogckml22.xsd"
K = {"k": KML_NAMESPACE}


@pytest.fixture
def frame():
    return hostile_frame()


@pytest.fixture
def kml_path(frame, tmp_path):
    path = tmp_path / "stations.kml"
    get_exporter("kml").write(frame, path)
    return path


def test_valid_against_ogc_kml22_schema(kml_path):
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.parse(str(kml_path))
    schema.assertValid(document)


def test_round_trip_through_gdal(frame, kml_path):
    table = pyogrio.read_dataframe(kml_path)
    read_back = pd.DataFrame({
        "id": table["station_id"], "name": table["Name"],
        "codes": [value.split(",") if value else [] for value in table["amenities"].fillna("")],
        "lon": table.geometry.x, "lat": table.geometry.y,
    })
    assert_round_trip(frame, read_back, "wgs84", xml_names=True)
    assert set(table["amenities_zh"].fillna("")) >= {"饮水、微波炉"}


def test_styles_follow_amenities_and_status(kml_path):
    document = etree.parse(str(kml_path))
    styles = {
        p.findtext("k:ExtendedData/k:SchemaData/k:SimpleData[@name='station_id']", namespaces=K):
        p.findtext("k:styleUrl", namespaces=K)
        for p in document.iterfind(".//k:Placemark", namespaces=K)
    }
    assert styles["NN-002"] == "#ebike"      # e-bike charging
    assert styles["NN-001"] == "#meal"       # microwave, no e-bike charging
    assert styles["NN-003"] == "#basic"
    assert styles["NN-004"] == "#closed"     # temporarily closed
    style_ids = {s.get("id") for s in document.iterfind(".//k:Style", namespaces=K)}
    assert {url[1:] for url in styles.values()} <= style_ids


def test_description_is_escaped_html_in_cdata(kml_path):
    raw = kml_path.read_text(encoding="utf-8")
    assert "<![CDATA[<b>&lt;img src=x onerror=alert(1)&gt;</b>" in raw
    assert "<img src=x" not in raw.replace("<![CDATA[", "")
    document = etree.parse(str(kml_path))
    descriptions = [d.text for d in document.iterfind(".//k:description", namespaces=K)]
    assert any("服务设施：饮水、冰箱、微波炉" in d for d in descriptions)
    # The balloon HTML itself parses, with the hostile name as text.
    balloon = etree.fromstring(f"<div>{descriptions[0]}</div>".encode(), etree.HTMLParser())
    assert balloon.findtext(".//b")
