"""Hostile text in every field of the GeoPackage, through every output people open.

Spreadsheet tables must not start any text cell with a formula trigger; XML feeds must carry the
text as text; HTML maps must never contain it as markup; and file names made from the data stay
inside the output folder.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import make_sample_frame
from fastapi.testclient import TestClient
from test_maps_browser import open_offline, wait_until_clustered

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cli import main
from stations.export.tables import FORMULA_TRIGGERS
from stations.geodata import write_stations

PAYLOADS = {
    "name": '=HYPERLINK("http://x.example/","领取补贴")',
    "name_en": "<script>alert('name_en')</script>",
    "address": "+cmd|' /C calc'!A0 </script><img src=x onerror=alert('address')>",
    "operator": "@SUM(1+1)*cmd|' /C calc'!A0",
    "phone": "-2+3\" onmouseover=\"alert('phone')",
    "district": "\t=1+1",
    "source": "\r=2+2",
    "province": "'\"><svg onload=alert('province')>",
    "city": "../../逃逸<b>城</b>",
    "updated_at": "=NOW()",
}
MARKUP = ("<script>alert", "<img src=x", "<svg onload", "<b>城</b>", "onerror=alert(",
          'onmouseover="alert')
COORDINATE_HEADINGS = {"经度", "纬度"}


@pytest.fixture(scope="module")
def hostile_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = make_sample_frame()
    for field, payload in PAYLOADS.items():
        frame[field] = [f"{payload}{i}" if field in ("name", "address") else payload
                        for i in range(len(frame))]
    path = tmp_path_factory.mktemp("hostile") / "stations.gpkg"
    write_stations(frame, path)
    return path


def check_table(data: bytes) -> int:
    """No text cell of a POI table starts a formula; returns how many cells were checked."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    headings, body = rows[0], rows[1:]
    assert len(body) == 6
    checked = 0
    for row in body:
        for heading, cell in zip(headings, row, strict=True):
            if heading in COORDINATE_HEADINGS:
                float(cell)
                continue
            assert not cell.startswith(FORMULA_TRIGGERS), (heading, cell)
            checked += 1
        # Neutralised, not lost: the apostrophe is the only change.
        assert row[headings.index("名称")].removeprefix("'").startswith(PAYLOADS["name"])
    return checked


@pytest.mark.parametrize("fmt", ["csv-gcj02", "csv-bd09"])
def test_exported_tables_start_no_formula(hostile_gpkg, tmp_path, fmt):
    out = tmp_path / f"{fmt}.csv"
    assert main(["export", "--format", fmt, "--data", str(hostile_gpkg),
                 "--output", str(out)]) == 0
    assert check_table(out.read_bytes()) >= 6 * 14


def test_served_tables_start_no_formula(hostile_gpkg):
    app = create_app(ApiSettings(data=hostile_gpkg, reload_interval_s=0))
    with TestClient(app) as client:
        for fmt in ("csv-gcj02", "csv-bd09"):
            response = client.get(f"/feeds/{fmt}")
            assert response.status_code == 200
            check_table(response.content)


@pytest.mark.parametrize("fmt", ["kml", "gpx", "osm"])
def test_xml_feeds_carry_hostile_text_as_text(hostile_gpkg, tmp_path, fmt):
    out = tmp_path / f"feed.{fmt}"
    assert main(["export", "--format", fmt, "--data", str(hostile_gpkg),
                 "--output", str(out)]) == 0
    tree = ET.parse(out)  # well-formed despite <, >, quotes and "]]>"-like text
    tags = {element.tag.rsplit("}", 1)[-1] for element in tree.iter()}
    assert not tags & {"script", "img", "svg", "b"}
    texts = "\n".join(element.text or "" for element in tree.iter()) + "\n".join(
        value for element in tree.iter() for value in element.attrib.values())
    assert PAYLOADS["name"] in texts
    assert "<img src=x onerror=alert('address')>" in texts


def test_maps_escape_every_field_and_stay_in_their_folder(hostile_gpkg, tmp_path, capsys):
    out = tmp_path / "maps"
    assert main(["map", "--data", str(hostile_gpkg), "--out", str(out), "--all",
                 "--no-progress"]) == 0
    written = [Path(line) for line in capsys.readouterr().out.split("\n") if line.strip()]
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 2 and written
    for path in written:
        assert path.resolve().is_relative_to(out.resolve()), path
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents) == []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for markup in MARKUP:
            assert markup not in text, (page.name, markup)


@pytest.mark.browser
def test_station_popup_shows_every_hostile_field_as_text(browser, hostile_gpkg, tmp_path):
    out = tmp_path / "maps"
    assert main(["map", "--data", str(hostile_gpkg), "--out", str(out), "--kind", "stations",
                 "--no-progress"]) == 0
    (page_file,) = [p for p in out.glob("*.html") if p.name != "index.html"]
    opened = open_offline(browser, page_file)
    page = opened.page
    wait_until_clustered(page)
    page.fill(".stations-search input", "HYPERLINK")
    page.locator(".stations-search-hit .hit-name").first.click()
    popup = page.locator(".station-popup")
    popup.wait_for()
    shown = popup.inner_text()
    for field in ("name", "address", "phone", "operator"):
        assert PAYLOADS[field].strip() in shown, field
    assert page.locator("img[src=x]").count() == 0 and page.locator("svg[onload]").count() == 0
    assert page.evaluate("window.__alerts") == []
