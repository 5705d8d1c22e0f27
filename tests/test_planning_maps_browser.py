"""Planner maps in headless Chromium: district outlines and the district choropleth."""

from __future__ import annotations

import geopandas as gpd
import pytest
from browser import SCREENSHOTS, chromium
from planning_data import at_km, square, two_districts

from stations.maps import save_map
from stations.maps.coverage_map import build_coverage_map
from stations.maps.district_map import CANVAS_FROM, build_district_map
from stations.planning.coverage import Stations, district_coverage
from stations.planning.reach import StraightLineReach
from stations.planning.samples import area_samples

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_choropleth_shows_every_district_outline_offline(tmp_path):
    districts = two_districts()
    lon, lat = at_km(5, 5)
    table = district_coverage(Stations.locate([lon], [lat], districts), districts,
                              StraightLineReach([lon], [lat], 1000))
    path = save_map(build_district_map(table, districts, 1000, place="测试 <b>x</b>"),
                    tmp_path / "districts.html")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                   else r.abort())
        page.goto(path.as_uri())
        page.wait_for_selector("path.leaflet-interactive")
        assert page.locator("path.leaflet-interactive").count() == 2
        fills = page.eval_on_selector_all("path.leaflet-interactive",
                                          "ps => ps.map(p => p.getAttribute('fill'))")
        assert fills == ["#d73027", "#a50026"]  # under 5 % of the area within reach; none
        page.select_option("select.stations-district-metric", "stations")
        fills = page.eval_on_selector_all("path.leaflet-interactive",
                                          "ps => ps.map(p => p.getAttribute('fill'))")
        assert fills == ["#fee08b", "#d73027"]  # one station; none
        page.hover("path.leaflet-interactive >> nth=1")
        assert "乙区" in page.locator(".leaflet-tooltip").inner_text()
        assert "测试 <b>x</b>" in page.locator(".stations-summary").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "planning-districts.png"))
        assert errors == []


def test_city_coverage_map_draws_district_outlines_and_names(tmp_path):
    """Offline (no tiles), the outlines and names still show where things are."""
    districts = two_districts()
    lon, lat = at_km(5, 5)
    stations = gpd.GeoDataFrame({"id": ["S1"]}, geometry=gpd.points_from_xy([lon], [lat]),
                                crs="EPSG:4326")
    fmap = build_coverage_map(stations, radii_m=(1000,), districts=districts, place="测试")
    path = save_map(fmap, tmp_path / "city.html")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                   else r.abort())
        page.goto(path.as_uri())
        page.wait_for_selector(".stations-district-label")
        dashed = page.eval_on_selector_all(
            "path", "ps => ps.filter(p => p.getAttribute('stroke-dasharray') === '5 3').length")
        assert dashed == 2
        labels = page.locator(".stations-district-label").all_inner_texts()
        assert sorted(labels) == ["乙区", "甲区"]
        # 乙区 has no station: the whole district is study area, so the summary's study area
        # is both squares (about 200 km²), not the station's own neighbourhood.
        assert "200" in page.locator(".stations-summary").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "planning-city-outlines.png"))


def test_thousands_of_districts_are_drawn_on_a_canvas_with_tooltips(tmp_path):
    side = 18  # 324 one-kilometre squares
    assert side * side > CANVAS_FROM
    districts = gpd.GeoDataFrame(
        {"code": [f"{110000 + i}" for i in range(side * side)],
         "name": [f"格{i}" for i in range(side * side)], "level": "district",
         "province": "北京市", "city": "北京市"},
        geometry=[square(i % side, i // side, 1) for i in range(side * side)],
        crs="EPSG:4326")
    lon, lat = at_km(9, 9)
    table = district_coverage(Stations.locate([lon], [lat], districts), districts,
                              StraightLineReach([lon], [lat], 1000),
                              samples=area_samples(districts, per_district=16))
    path = save_map(build_district_map(table, districts, 1000), tmp_path / "many.html")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 700})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-overlay-pane canvas")
        assert page.locator("path.leaflet-interactive").count() == 0
        page.mouse.move(450, 350)
        page.mouse.move(452, 352)
        assert "格" in page.locator(".leaflet-tooltip").last.inner_text(timeout=5000)
        assert errors == []
