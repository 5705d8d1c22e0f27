"""stations planning-report: one printable page per city, checked as text and in Chromium."""

from __future__ import annotations

import json

import pytest
import shapely
from conftest import make_sample_frame

from stations.cli import main
from stations.geodata import write_stations

# Two districts of the sample's Nanning: one around its stations, one east of it with none.
DISTRICTS = [("450199", "站<b>多</b>区", (108.30, 22.75, 108.42, 22.83)),
             ("450198", "无站区", (108.42, 22.75, 108.52, 22.83))]


@pytest.fixture
def report_inputs(tmp_path, sample_gpkg):
    features = [{"type": "Feature", "properties": {"code": code, "name": name, "city": "南宁市"},
                 "geometry": shapely.geometry.mapping(shapely.box(*box))}
                for code, name, box in DISTRICTS]
    boundaries = tmp_path / "districts.geojson"
    boundaries.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                          encoding="utf-8")
    demand = tmp_path / "demand.csv"
    demand.write_text("lon,lat,weight\n108.47,22.79,40\n108.46,22.80,30\n108.51,22.76,10\n"
                      "108.396,22.817,5\n",
                      encoding="utf-8")
    # The previous data version: NN-003 did not exist yet and NN-002 stood 300 m further south.
    previous = make_sample_frame()
    previous = previous[previous["id"] != "NN-003"].copy()
    moved = previous["id"] == "NN-002"
    previous.loc[moved, "geometry"] = shapely.Point(108.39, 22.7673)
    write_stations(previous, tmp_path / "previous.gpkg")
    out = tmp_path / "report.html"
    code = main(["planning-report", "--data", str(sample_gpkg), "--area", "南宁市",
                 "--boundaries", str(boundaries), "--demand", str(demand), "--sites", "2",
                 "--reach", "1500", "--grid", "1000", "--previous",
                 str(tmp_path / "previous.gpkg"), "-o", str(out)])
    assert code == 0
    return out


def test_report_has_the_districts_sites_and_changes(report_inputs):
    page = report_inputs.read_text(encoding="utf-8")
    assert "站&lt;b&gt;多&lt;/b&gt;区" in page and "<b>多</b>" not in page
    assert "<script" not in page and "http" not in page.split("</head>")[1]
    # The district with no station is flagged; the demand there is what the sites go to.
    assert '<tr class="none">\n<td>无站区</td>' in page
    assert "新增 added: 1 (NN-003)" in page
    assert "NN-002 (300 m)" in page


@pytest.mark.browser
def test_report_opens_and_prints_in_chromium(report_inputs):
    from browser import chromium

    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(report_inputs.as_uri())
        assert page.locator("#districts tbody tr").count() == 2
        assert page.locator("#sites tbody tr").count() == 2
        assert page.locator("#map path").count() == 2
        assert page.locator("#map circle").count() >= 4 + 2  # stations and numbered sites
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
        assert errors == []
